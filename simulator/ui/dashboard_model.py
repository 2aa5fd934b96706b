"""The dashboard's model side: planner levers, the model they re-run, its figures, loading.

Planners move three levers (shelter places, early-warning coverage, cash assistance), set each
region's shelter capacity, and see the shelter gap change, by region (:func:`gap_by_region`):
each move re-runs the scenario with the same seed (common random numbers, so the difference is
the lever's doing) on inputs loaded once by :func:`load` and held by whoever shows the page.
Who owns what:

- this module: :class:`Levers`, :class:`DashboardModel`, :func:`rerun`, the four figures
  (matplotlib ``Figure`` objects outside pyplot) and :func:`load`. It imports neither solara nor
  ``mesa.visualization``, so it works and is tested without the ``viz`` extra's server;
- :mod:`simulator.ui.viz`: the page (solara components and Mesa's controls), built on this;
- :mod:`simulator.ui.dashboard`: showing the page in Jupyter and serving it for
  ``climdisp dashboard``.

Imports run one way: dashboard -> viz -> dashboard_model.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import xarray as xr

from simulator.inputs.config import apply_overrides, load_scenario
from simulator.inputs.load import Inputs, load_inputs
from simulator.inputs.schema import Scenario
from simulator.inputs.units import cf_units
from simulator.model import DisplacementModel
from simulator.outputs import plots
from simulator.outputs.analysis import busiest_region, region_or_total
from simulator.rng import replicate_seeds
from simulator.rules.impacts import behind_defences


@dataclass(frozen=True)
class Levers:
    """The planner levers the dashboard's sliders move (DESIGN.md §4.3 rule 7)."""

    shelter_places_added: int = 0  #: persons, added to every region's shelter capacity
    warning_coverage: float = 0.0  #: share of households early warning reaches
    cash_per_household: float = 0.0  #: one-off transfer added to savings, currency
    #: (region, persons): shelter capacities the planner set, replacing the scenario's
    shelter_capacity: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, scenario: Scenario) -> Levers:
        """The scenario's own lever values (no shelter places added, no capacity changed)."""
        levers = scenario.levers
        return cls(0, levers.warning_coverage, levers.cash_assistance_per_household)

    def shelter_of(self, scenario: Scenario, region: str) -> float:
        """A region's shelter capacity before places are added: as set here, else the scenario's."""
        return float(dict(self.shelter_capacity).get(region, scenario.capacity_of(region)[
            "shelter"]))

    def with_shelter(self, region: str, persons: int) -> Levers:
        """These levers with ``region``'s shelter capacity set to ``persons``."""
        given = {**dict(self.shelter_capacity), region: int(persons)}
        return replace(self, shelter_capacity=tuple(sorted(given.items())))

    def overrides(self, scenario: Scenario, region_names: list[str]) -> list[str]:
        """The levers as ``--set`` overrides of ``scenario``.

        Each region's shelter capacity is the one set here, else its own (default or
        override), plus the places added to every region. Warning coverage and cash are the
        scenario-wide values; per-region overrides in the scenario's ``[levers.regions]`` still
        win where they are set.
        """
        quote = lambda name: f"'{name}'" if '"' in name else f'"{name}"'  # noqa: E731
        shelter = [f'capacity.regions.{quote(name)}.shelter='
                   f'{self.shelter_of(scenario, name) + self.shelter_places_added}'
                   for name in region_names]
        return [*shelter, f"levers.warning_coverage={self.warning_coverage}",
                f"levers.cash_assistance_per_household={self.cash_per_household}"]


class DashboardModel(DisplacementModel):
    """The displacement model with the dashboard's levers applied to a scenario.

    Mesa's ``ModelController`` re-creates the model from these keyword arguments when its Reset
    button is pressed; Step and Play then advance it, and the figures show the run so far. (Not
    ``scenario``: Mesa gives that name to its own scenario objects.)

    Args:
        config: the scenario as loaded (the levers replace its values).
        inputs: the scenario's inputs, loaded once and shared by every run.
        shelter_places_added: persons added to every region's shelter capacity.
        warning_coverage: share of households early warning reaches (default: the scenario's).
        cash_per_household: one-off cash transfer per household (default: the scenario's).
        shelter_capacity: (region, persons) pairs replacing those regions' shelter capacity
            (before ``shelter_places_added``).
        replicate: which seed: 0 is the scenario's, others derive from it as for
            ``climdisp run --replicates``.
    """

    def __init__(self, config: Scenario, inputs: Inputs, shelter_places_added: int = 0,
                 warning_coverage: float | None = None, cash_per_household: float | None = None,
                 replicate: int = 0, shelter_capacity: tuple[tuple[str, int], ...] = ()) -> None:
        own = Levers.of(config)
        self.levers = Levers(
            int(shelter_places_added),
            own.warning_coverage if warning_coverage is None else float(warning_coverage),
            own.cash_per_household if cash_per_household is None else float(cash_per_household),
            tuple((str(name), int(persons)) for name, persons in shelter_capacity))
        self.replicate = int(replicate)
        seed = replicate_seeds(config.seed, self.replicate + 1)[self.replicate]
        config = apply_overrides(config, self.levers.overrides(config, inputs.region_names))
        super().__init__(config, inputs=inputs, seed=seed)
        self.run_seconds = 0.0
        self._snapshot: tuple[int, xr.Dataset] | None = None

    def step(self) -> None:
        """Advance one step; after the last step the model stops (``running`` is False)."""
        if self.step_index < self.config.n_steps:
            super().step()
        self.running = self.step_index < self.config.n_steps

    def run_to_end(self) -> DashboardModel:
        """Run the remaining steps, timing them; return the model."""
        start = time.perf_counter()
        self.run()
        self.running = False
        self.run_seconds = time.perf_counter() - start
        return self

    def snapshot(self) -> xr.Dataset:
        """The results so far (computed once per step, shared by every figure)."""
        if self._snapshot is None or self._snapshot[0] != self.step_index:
            self._snapshot = (self.step_index, self.results())
        return self._snapshot[1]

    def peak_hazard(self) -> xr.DataArray:
        """Peak hazard so far on the population grid (zero behind adequate defences)."""
        hazard, kind = self.inputs.hazard, self.config.hazard.kind
        values = behind_defences(
            hazard.values[:max(self.step_index, 1)].max(axis=0)[hazard.cell_site],
            self.ctx.design)
        name = "peak " + kind.replace("_", " ")
        return self.inputs.on_grid(values, {"units": cf_units(kind), "long_name": name},
                                   combine="max")

    def has_lever(self, name: str) -> bool:
        """Whether lever ``name`` acts here: warnings only for floods and wind (decisions.py)."""
        return name != "warning_coverage" or self.config.hazard.kind in ("flood_depth",
                                                                         "wind_speed")


def rerun(scenario: Scenario, inputs: Inputs, levers: Levers,
          replicate: int = 0) -> DashboardModel:
    """A new :class:`DashboardModel` with ``levers``, run to its last step."""
    return DashboardModel(scenario, inputs, replicate=replicate, **asdict(levers)).run_to_end()


# -- figures (matplotlib Figure objects, no pyplot: safe in a server's threads) ----------------
def _figure(width: float = 6.4, height: float = 4.1):
    return plots.new_figure(width, height, dpi=90)


def hazard_figure(model: DashboardModel):
    """Peak flood depth so far, with persons displaced by home location."""
    fig = _figure(6.4, 4.2)
    plots.hazard_map(model.peak_hazard(), model.snapshot()["displaced_map"], fig.subplots())
    return fig


def states_figure(model: DashboardModel):
    """Persons by state of the mobility continuum over time, all regions."""
    fig = _figure()
    plots.states_over_time(model.snapshot(), fig.subplots())
    return fig


def places_figure(model: DashboardModel, region: str | None = None):
    """Occupancy against capacity of each place type in ``region`` (default: the busiest)."""
    ds = model.snapshot()
    fig = _figure(6.4, 3.5)
    plots.occupancy_vs_capacity(ds, region or busiest_region(ds), fig.subplots())
    return fig


def shelter_gap_figure(model: DashboardModel):
    """Peak persons needing sites (shelter, camp or unsheltered) against capacity, by region."""
    fig = _figure()
    plots.shelter_demand(model.snapshot(), fig.subplots())
    return fig


def gap_by_region(model: DashboardModel) -> list[dict[str, object]]:
    """The shelter gap of the run so far, per region and in total (``TOTAL``).

    Columns: ``shelter_capacity`` (persons, shelter places only, the most open so far),
    ``peak_unmet_shelter`` (persons who sought shelter or camp space there and found none),
    ``unmet_shelter_person_days`` and ``first_unmet`` (the first such day; "" if none).
    """
    ds = model.snapshot()
    step_days = float(ds.attrs.get("step_days", 1))
    times = ds["time"].values
    rows = []
    for name in [*map(str, ds["region"].values), "TOTAL"]:
        unmet = region_or_total(ds["unmet_shelter"], name).values
        first = np.flatnonzero(unmet > 0)
        cap = region_or_total(ds["capacity"].sel(place="shelter").max("time"), name)
        rows.append({"region": name, "shelter_capacity": int(cap),
                     "peak_unmet_shelter": int(unmet.max()),
                     "unmet_shelter_person_days": float(unmet.sum() * step_days),
                     "first_unmet": str(times[first[0]])[:10] if first.size else ""})
    return rows


# -- loading ------------------------------------------------------------------------------------
def load(scenario_path: str | Path,
         overrides: list[str] | tuple[str, ...] = ()) -> tuple[Scenario, Inputs]:
    """Load and check a scenario and its inputs (the caller keeps them for every re-run).

    Args:
        scenario_path: a scenario TOML file.
        overrides: ``dotted.key=value`` strings, as ``--set`` takes them.

    Raises:
        InputError: for a bad scenario or input file.
    """
    scenario = load_scenario(scenario_path, list(overrides))
    return scenario, load_inputs(scenario, scenario_path)

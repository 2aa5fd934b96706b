"""The dashboard's model side: planner levers, the model they re-run, its figures, loading.

Planners move three levers (shelter places, early-warning coverage, cash assistance) and see the
shelter gap change: each move re-runs the scenario with the same seed (common random numbers, so
the difference is the lever's doing) on inputs loaded once by :func:`load` and held by whoever
shows the page. Who owns what:

- this module: :class:`Levers`, :class:`DashboardModel`, :func:`rerun`, the four figures
  (matplotlib ``Figure`` objects outside pyplot) and :func:`load`. It imports neither solara nor
  ``mesa.visualization``, so it works and is tested without the ``viz`` extra's server;
- :mod:`simulator.ui.viz`: the page (solara components in Mesa's ``SolaraViz``), built on this;
- :mod:`simulator.ui.dashboard`: showing the page in Jupyter and serving it for
  ``climdisp dashboard``.

Imports run one way: dashboard -> viz -> dashboard_model.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import xarray as xr

from simulator.inputs.config import apply_overrides, load_scenario
from simulator.inputs.load import Inputs, load_inputs
from simulator.inputs.schema import Scenario
from simulator.inputs.units import cf_units
from simulator.model import DisplacementModel
from simulator.outputs import plots
from simulator.outputs.analysis import busiest_region
from simulator.rng import replicate_seeds


@dataclass(frozen=True)
class Levers:
    """The planner levers the dashboard's sliders move (DESIGN.md §4.3 rule 7)."""

    shelter_places_added: int = 0  #: persons, added to every region's shelter capacity
    warning_coverage: float = 0.0  #: share of households early warning reaches
    cash_per_household: float = 0.0  #: one-off transfer added to savings, currency

    @classmethod
    def of(cls, scenario: Scenario) -> Levers:
        """The scenario's own lever values (no shelter places added)."""
        levers = scenario.levers
        return cls(0, levers.warning_coverage, levers.cash_assistance_per_household)

    def overrides(self, scenario: Scenario, region_names: list[str]) -> list[str]:
        """The levers as ``--set`` overrides of ``scenario``.

        Shelter places are added to each region's own capacity (default or override). Warning
        coverage and cash are the scenario-wide values; per-region overrides in the scenario's
        ``[levers.regions]`` still win where they are set.
        """
        shelter = [f'capacity.regions."{name}".shelter='
                   f'{scenario.capacity_of(name)["shelter"] + self.shelter_places_added}'
                   for name in region_names]
        return [*shelter, f"levers.warning_coverage={self.warning_coverage}",
                f"levers.cash_assistance_per_household={self.cash_per_household}"]


class DashboardModel(DisplacementModel):
    """The displacement model with the dashboard's levers applied to a scenario.

    Mesa's ``SolaraViz`` re-creates the model from these keyword arguments when its Reset button
    is pressed; Step and Play then advance it, and the figures show the run so far. (Not
    ``scenario``: Mesa gives that name to its own scenario objects.)

    Args:
        config: the scenario as loaded (the levers replace its values).
        inputs: the scenario's inputs, loaded once and shared by every run.
        shelter_places_added: persons added to every region's shelter capacity.
        warning_coverage: share of households early warning reaches (default: the scenario's).
        cash_per_household: one-off cash transfer per household (default: the scenario's).
        replicate: which seed: 0 is the scenario's, others derive from it as for
            ``climdisp run --replicates``.
    """

    def __init__(self, config: Scenario, inputs: Inputs, shelter_places_added: int = 0,
                 warning_coverage: float | None = None, cash_per_household: float | None = None,
                 replicate: int = 0) -> None:
        own = Levers.of(config)
        self.levers = Levers(
            int(shelter_places_added),
            own.warning_coverage if warning_coverage is None else float(warning_coverage),
            own.cash_per_household if cash_per_household is None else float(cash_per_household))
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
        values = hazard.values[:max(self.step_index, 1)].max(axis=0)[hazard.cell_site] * \
            self.ctx.cell_open
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

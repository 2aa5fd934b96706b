"""What every step reads and nothing changes during a run: scenario, inputs, levers, hazard kind.

A :class:`Context` is built once by the model; the step functions take ``(world, ctx, t, ...)``,
so each can be run on a hand-made world of a few households.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from simulator.inputs.load import Inputs
from simulator.inputs.schema import Scenario
from simulator.kinds import HazardKind
from simulator.levers import Levers
from simulator.rng import Streams
from simulator.rules.impacts import behind_defences, design_level, in_flooded_part
from simulator.rules.utility import fixed_assets, home_value, income_percentile
from simulator.world.households import lognormal_sigma_from_gini
from simulator.world.ledger import World
from simulator.world.walkers import WalkPlan


class Profiler:
    """Wall time of each phase, exclusive of nested phases (a no-op unless ``enabled``)."""

    def __init__(self, enabled: bool) -> None:
        self.seconds: dict[str, float] | None = {} if enabled else None
        self._stack: list[list] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the body as phase ``name``; time spent in nested phases counts there."""
        if self.seconds is None:
            yield
            return
        frame = [name, time.perf_counter(), 0.0]  # name, start, time spent in nested phases
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            spent = time.perf_counter() - frame[1]
            self.seconds[name] = self.seconds.get(name, 0.0) + spent - frame[2]
            if self._stack:
                self._stack[-1][2] += spent


@dataclass(frozen=True)
class Context:
    """Everything fixed for a run that the steps read.

    Attributes:
        config: the validated scenario.
        inputs: hazard, regions and distances on the populated cells.
        levers: every planner lever as per-region arrays.
        kind: what the hazard's intensity means to a home.
        streams: the run's counter-based random streams.
        curves: depth-damage curve (depths m, ratios) per building class index.
        quintile_edges: income quintile edges of the population (currency per year).
        profiler: phase timing (disabled unless profiling).
        plain_placement: screen every applicant for a place every step, without the exact
            shortcuts of :mod:`simulator.steps.screen` (slower, same results; for the tests).
        dense_hits: write every hit household's flood steps at every step, instead of once per
            run of hits (:meth:`~simulator.world.ledger.World.note_hits`; same results).
        walk: the route network and candidate routes when ``placement.movement = "routes"``
            (:mod:`simulator.steps.walk`); None for direct movement.
        design: per cell, the intensity its flood defences hold (``[defences]`` maps at the
            region's protection standard; without maps, everything when the standard reaches
            the hazard's return period, else nothing; 0 where defences do not apply).
        official_depth: the official hazard map residents are given (``[information]``), per
            open cell; None without one. Never the scenario's own hazard (causality).
        official_fraction: the map's flooded fraction per cell, if it gives one.
        region_has_homes: regions with populated cells, where a mover can find a dwelling.
        adaptation_options: (kind, protection_m, damage_reduction) of each adaptation option.
    """

    config: Scenario
    inputs: Inputs
    levers: Levers
    kind: HazardKind
    streams: Streams
    curves: list[tuple[np.ndarray, np.ndarray]]
    quintile_edges: np.ndarray
    profiler: Profiler = field(default_factory=lambda: Profiler(False))
    plain_placement: bool = False
    dense_hits: bool = False
    walk: WalkPlan | None = None
    design: np.ndarray = field(init=False)  #: per cell, the hazard its defences hold (0: none)
    official_depth: np.ndarray | None = field(init=False)  #: official map per open cell, if any
    official_fraction: np.ndarray | None = field(init=False)  #: its flooded fraction per cell
    region_has_homes: np.ndarray = field(init=False)  #: regions with populated cells
    #: (kind, protection_m, damage_reduction) of each adaptation option, in order
    adaptation_options: list[tuple[str, float, float]] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "design", self._design_levels())
        object.__setattr__(self, "adaptation_options", [  # read at every damaged home
            (o.kind, o.protection_m, o.damage_reduction)
            for _, o in self.config.behaviour.options()])
        object.__setattr__(self, "region_has_homes", np.bincount(
            self.inputs.cell_region, minlength=len(self.inputs.region_names)) > 0)
        info = self.inputs.information
        object.__setattr__(self, "official_depth",
                           None if info is None else behind_defences(info.peak(), self.design))
        object.__setattr__(self, "official_fraction",
                           None if info is None else info.peak_fraction())

    @property
    def information_return_period(self) -> float:
        """Return period (years) households attach to the depths they know of."""
        info = self.config.information
        return info.return_period_years if info else self.config.hazard.return_period_years

    @property
    def lead_steps(self) -> int:
        """Steps between a forecast and the day it forecasts."""
        return int(np.ceil(self.config.warning.lead_time_days / self.config.step_days))

    def intensity(self, t: int) -> np.ndarray:
        """Hazard intensity per cell at step ``t`` (zero where the defences hold it)."""
        return behind_defences(self.inputs.hazard.at(t), self.design)

    def _design_levels(self) -> np.ndarray:
        """Per cell, the intensity its flood defences hold (see ``design``)."""
        n = self.inputs.cell_region.size
        standard = self.levers.protection_return_period_years[self.inputs.cell_region]
        if not self.kind.defences_apply:
            return np.zeros(n)
        if self.inputs.design_maps is not None:
            return design_level(standard, *self.inputs.design_maps)
        # no maps: the run's event has the hazard's return period; the defence holds it or not
        return np.where(standard >= self.config.hazard.return_period_years, np.inf, 0.0)

    def home_depth(self, world: World, ids: np.ndarray, depth: np.ndarray,
                   fraction: np.ndarray | None) -> np.ndarray:
        """Intensity at the homes of ``ids`` from cell ``depth`` and flooded ``fraction``.

        Homes outside the flooded part of their cell stay dry (see :func:`in_flooded_part`).
        """
        cells = world.households.cell[ids]
        d = depth[cells]
        if fraction is None:
            return d
        position = self.streams.uniform("flood_position", 0, ids)
        return np.where(in_flooded_part(position, fraction[cells]), d, 0.0)

    def damage(self, world: World, ids: np.ndarray, intensity: np.ndarray,
               measure: np.ndarray | int | None = None) -> np.ndarray:
        """Damage ratio of the homes of ``ids``, adapted with ``measure``.

        ``measure`` defaults to each household's own (``adapted``: 0 none, 1 + option index);
        pass an option number to price that option for everyone.
        """
        hh = world.households
        measure = hh.adapted[ids] if measure is None else np.broadcast_to(measure, ids.shape)
        return self.kind.damage(intensity, hh.building_class[ids], measure, self.curves,
                                self.adaptation_options)

    def assets_and_home(self, world: World, ids: np.ndarray, income: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Fixed assets and home value of ``ids`` (DYNAMO-M, :mod:`simulator.rules.utility`).

        Assets follow the household's income percentile; the home is worth the population
        table's value where given, else ``house_value_income_ratio`` x the median income, and
        at most the assets.
        """
        pop = self.config.population
        median = pop.income_median_per_year
        pct = income_percentile(income, median, lognormal_sigma_from_gini(pop.income_gini))
        assets = fixed_assets(income, pct, pop.wealth_income_ratio)
        typical = np.full(ids.size, pop.house_value_income_ratio * median)
        hv = world.households.house_value
        if hv is not None:
            own = hv[ids].astype(float)
            typical = np.where(np.isnan(own), typical, own)
        return assets, home_value(typical, assets)

    def renters(self, ids: np.ndarray) -> np.ndarray:
        """Which of ``ids`` rent their home: a fixed draw per household (stream ``tenure``).

        ``population.renter_share`` of households rent; the draw is counter-based, so tenure
        needs no array and a household keeps it for the whole run (also after a move).
        """
        share = self.config.population.renter_share
        if share <= 0:
            return np.zeros(ids.shape, dtype=bool)
        return self.streams.uniform("tenure", 0, ids) < share

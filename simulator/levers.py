"""Planner levers, resolved once at the start into typed per-region arrays.

Every lever follows one pattern: a scenario-wide value, overridden per region by name
(``capacity.default`` / ``capacity.regions.<name>`` for capacities, ``levers.<lever>`` /
``levers.regions.<name>.<lever>`` for the rest). :func:`resolve` checks every region name once
and builds a :class:`Levers` of arrays indexed by region; the steps read only these arrays, so a
misspelt lever is a config error, never a silent default downstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.borders import Borders, resolve_borders
from simulator.errors import InputError
from simulator.inputs.schema import RegionLevers, Scenario
from simulator.states import CAPACITY_PLACES, PLACES

#: Levers with a scenario-wide value and per-region overrides (``levers.regions.<name>``).
PER_REGION = ("warning_coverage", "cash_assistance_per_household", "adaptation_subsidy_share",
              "reconstruction_rate", "reconstruction_homes_per_month",
              "protection_return_period_years", "income_index")


@dataclass(frozen=True)
class Levers:
    """Every planner lever as arrays over regions (index = region).

    Attributes:
        capacity_persons: (region, place) persons each place takes when fully open (the places
            without capacity, ``self_arranged`` and ``unsheltered``, hold 0).
        activation_ramp: share of shelters and camps open in each ramp period (scenario-wide).
        ramp_days: days per ramp period.
        warning_coverage: share of households an issued warning reaches (0-1).
        cash_assistance_per_household: one-off cash added to savings at the start (currency).
        adaptation_subsidy_share: share of the cost of dry-proofing paid by a subsidy (0-1).
        reconstruction_rate: speed of repairs relative to normal (1 = normal; 2 = twice as fast).
        reconstruction_homes_per_month: homes the region's builders can start repairing per
            month (inf = no limit): beyond it the displaced wait in a queue.
        protection_return_period_years: flood defence standard (0 = none).
        income_index: relative income level of the region (drives migration destinations).
        planned_relocation_households_per_year: a national programme's size (households/year).
        borders: countries, borders, pathways and pledges (:mod:`simulator.borders`); pledged
            places are already in ``capacity_persons``.
    """

    capacity_persons: np.ndarray
    activation_ramp: tuple[float, ...]
    ramp_days: int
    warning_coverage: np.ndarray
    cash_assistance_per_household: np.ndarray
    adaptation_subsidy_share: np.ndarray
    reconstruction_rate: np.ndarray
    reconstruction_homes_per_month: np.ndarray
    protection_return_period_years: np.ndarray
    income_index: np.ndarray
    planned_relocation_households_per_year: int
    borders: Borders

    @property
    def warns(self) -> bool:
        """Whether any region has early warning."""
        return bool((self.warning_coverage > 0).any())


def check_region_names(scenario: Scenario, names: list[str], where: Path | str) -> None:
    """Every table keyed by region name must name known regions (one error for the first).

    Raises:
        InputError: naming the field (e.g. ``capacity.regions.Nowhere``) and the known regions.
    """
    composition = scenario.population.composition.regions
    for label, table in (("capacity.regions", scenario.capacity.regions),
                         ("levers.regions", scenario.levers.regions),
                         ("population.composition.regions", composition)):
        unknown = sorted(set(table) - set(names))
        if unknown:
            raise InputError(where, f"{label}.{unknown[0]}: unknown region "
                                    f"(regions: {', '.join(names)})")


def _per_region(scenario: Scenario, names: list[str], name: str) -> np.ndarray:
    wide = getattr(scenario.levers, name)
    out = np.full(len(names), np.inf if wide is None else float(wide))  # None: no limit
    for r, region in enumerate(names):
        override = scenario.levers.regions.get(region, RegionLevers())
        value = getattr(override, name)
        if value is not None:
            out[r] = float(value)
    return out


def capacity_table(scenario: Scenario, names: list[str]) -> np.ndarray:
    """Capacity in persons as a (region, place) array; places without capacity hold 0."""
    table = np.zeros((len(names), len(PLACES)), dtype=np.int64)
    for r, name in enumerate(names):
        caps = scenario.capacity_of(name)
        for p, place in enumerate(CAPACITY_PLACES):
            table[r, p] = int(round(caps[place]))
    return table


def resolve(scenario: Scenario, names: list[str], where: Path | str = "scenario",
            countries: tuple[str, ...] | None = None) -> Levers:
    """Resolve every lever of ``scenario`` for regions ``names`` (checked once, here).

    ``countries``: the country of each region (None: one country).

    Raises:
        InputError: for a region, country or pathway name that is not known.
    """
    check_region_names(scenario, names, where)
    borders = resolve_borders(scenario, names, countries, where)
    return Levers(
        capacity_persons=capacity_table(scenario, names) + borders.pledged,
        activation_ramp=tuple(scenario.capacity.activation_ramp),
        ramp_days=scenario.capacity.ramp_days,
        **{name: _per_region(scenario, names, name) for name in PER_REGION},
        planned_relocation_households_per_year=
        scenario.levers.planned_relocation_households_per_year, borders=borders)

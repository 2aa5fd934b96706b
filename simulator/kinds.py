"""Hazard kinds: what each kind's intensity means to a home, in one table.

A scenario's ``hazard.kind`` decides its units, when a home counts as hit and as clear again,
which intensity a warning forecast must reach, whether flood defences and dry-proofing act on it,
and which damage curve applies. The steps ask a :class:`HazardKind` instead of branching on the
kind's name. Input-side unit conversion (which SI unit a file's values are converted to) lives
in :mod:`simulator.inputs.units` with the readers; :func:`for_scenario` takes the CF unit label
from there, so each kind's unit is written once.

| kind | units | damages homes by | defences | dry-proofing | decisions, warnings |
|---|---|---|---|---|---|
| ``flood_depth`` | m | depth-damage curves by building class (JRC) | yes | yes | yes |
| ``wind_speed`` | m s-1 | Emanuel (2011) wind curve | no | no | yes |
| ``flood_level`` | 1 | none (rates by level, as DFlee) | yes | no | no |
| ``conflict_intensity`` | 1 | none (rates by level, as Flee) | no | no | no |
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.inputs.schema import Scenario
from simulator.inputs.units import cf_units
from simulator.rules.behaviour import adapted_damage_factor, adapted_depth
from simulator.rules.impacts import damage_by_class, wind_damage


@dataclass(frozen=True)
class HazardKind:
    """What one hazard kind means for homes in a scenario.

    Attributes:
        name: the kind (``hazard.kind``).
        units: CF units of its intensity.
        hit_above: intensity above which a home counts as hit (wind: the wind that starts to
            damage homes, since a breeze is no storm; water: any).
        clear_below: intensity below which a home is clear again (water: receded depth).
        warning_threshold: forecast intensity at which a warning is issued.
        defences_apply: flood defences (protection standard) stop it.
        dry_proofing_applies: adapting a home in place lowers its damage.
    """

    name: str
    units: str
    hit_above: float
    clear_below: float
    warning_threshold: float
    defences_apply: bool
    dry_proofing_applies: bool
    wind_threshold_ms: float
    wind_half_ms: float

    def damage(self, intensity: np.ndarray, building_class: np.ndarray, measure: np.ndarray,
               curves: list[tuple[np.ndarray, np.ndarray]],
               options: list[tuple[str, float, float]]) -> np.ndarray:
        """Damage ratio (0-1) of homes at ``intensity``, adapted with ``measure`` (0: none).

        Wind: Emanuel (2011) curve (adapting against water does not stop wind). Water: the
        home's depth-damage curve at the depth its measure leaves (:func:`adapted_depth`),
        times what the measure lets through (:func:`adapted_damage_factor`).
        """
        if self.name == "wind_speed":
            return wind_damage(intensity, self.wind_threshold_ms, self.wind_half_ms)
        if not self.dry_proofing_applies or not np.any(measure):
            return damage_by_class(intensity, building_class, curves)
        depth = adapted_depth(intensity, measure, options)
        return damage_by_class(depth, building_class, curves) * adapted_damage_factor(
            intensity, measure, options)


def for_scenario(scenario: Scenario) -> HazardKind:
    """The :class:`HazardKind` of ``scenario``'s hazard, with its thresholds."""
    kind, wind, warning = scenario.hazard.kind, scenario.impact.wind, scenario.warning
    is_wind = kind == "wind_speed"
    return HazardKind(
        name=kind, units=cf_units(kind),
        hit_above=wind.v_threshold_ms if is_wind else 0.0,
        clear_below=wind.v_threshold_ms if is_wind else scenario.return_.receded_depth_m,
        warning_threshold=warning.forecast_threshold_wind_ms if is_wind
        else warning.forecast_threshold_m,
        defences_apply=kind in ("flood_depth", "flood_level"),
        dry_proofing_applies=kind == "flood_depth",
        wind_threshold_ms=wind.v_threshold_ms, wind_half_ms=wind.v_half_ms)

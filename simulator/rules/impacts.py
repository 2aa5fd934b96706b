"""Impact of hazards on homes: damage ratios, forced displacement, repair time (pure functions).

Every function is vectorised over households and free of I/O and randomness; random values, when
needed, are passed in.
"""

from __future__ import annotations

import numpy as np


def depth_damage(depth_m: np.ndarray, depths_m: np.ndarray, ratios: np.ndarray) -> np.ndarray:
    """Damage ratio (0-1) of a building flooded to ``depth_m``, by a piecewise-linear curve.

    ``ratio = interp(depth_m; depths_m, ratios)``, flat beyond the last point and 0 for depths at
    or below the first. Defaults: JRC global residential curves by continent (Huizinga, de Moel &
    Szewczyk 2017, EUR 28552 EN, doi:10.2760/16510).
    """
    return np.interp(depth_m, depths_m, ratios, left=0.0).astype(np.float32)


def damage_by_class(depth_m: np.ndarray, building_class: np.ndarray,
                    curves: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Damage ratio per household, each through its building class's depth-damage curve."""
    out = np.zeros(depth_m.shape, dtype=np.float32)
    for k, (depths, ratios) in enumerate(curves):
        sel = building_class == k
        if sel.any():
            out[sel] = depth_damage(depth_m[sel], depths, ratios)
    return out


def wind_damage(wind_ms: np.ndarray, v_threshold_ms: float = 25.7,
                v_half_ms: float = 74.7) -> np.ndarray:
    """Damage ratio (0-1) of a building in a gust or sustained wind of ``wind_ms`` (m/s).

    f = v³ / (1 + v³) with v = max(wind − v_threshold, 0) / (v_half − v_threshold): no damage
    below the threshold, half of the value lost at ``v_half`` (Emanuel 2011, Weather Clim. Soc.
    3:261, doi:10.1175/WCAS-D-11-00007.1; the defaults are CLIMADA's tropical-cyclone impact
    function, 25.7 and 74.7 m/s; Eberenz et al. 2021, NHESS 21:393, calibrate v_half by region).
    """
    v = np.maximum(np.asarray(wind_ms, dtype=np.float64) - v_threshold_ms, 0.0) / (
        v_half_ms - v_threshold_ms)
    return (v ** 3 / (1.0 + v ** 3)).astype(np.float32)


def design_level(standard_years: np.ndarray, return_periods: np.ndarray,
                 depths: np.ndarray) -> np.ndarray:
    """Water a defence of standard T years holds at each cell: the T-year depth (m).

    Linear in ln T between the return-period maps, from 0 m at T = 1 year; the largest map's
    depth beyond it; 0 where there is no defence (T = 0). A protection standard is the return
    period of the largest flood the defence withstands (Scussolini et al. 2016, FLOPROS, Nat.
    Hazards Earth Syst. Sci. 16:1049-1061).

    Args:
        standard_years: protection standard per cell (years; 0 = none).
        return_periods: the maps' return periods (years, ascending, > 1).
        depths: the maps' depths, shape (return periods, cells).
    """
    x = np.log(np.concatenate([[1.0], return_periods]))
    y = np.vstack([np.zeros((1, depths.shape[1])), depths])
    t = np.log(np.maximum(standard_years, 1.0))
    k = np.clip(np.searchsorted(x, t, side="right") - 1, 0, x.size - 2)
    w = np.clip((t - x[k]) / (x[k + 1] - x[k]), 0.0, 1.0)
    cells = np.arange(depths.shape[1])
    level = y[k, cells] + w * (y[k + 1, cells] - y[k, cells])
    return np.where(standard_years > 0, level, 0.0)


def behind_defences(intensity: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Hazard behind defences: nothing while it stays at or below the design level, all above.

    A defence holds the events smaller than its standard and fails for larger ones (FLOPROS;
    CLIMADA and GLOFRIS remove the flood below the standard); the failure lets the whole
    event's water in, an all-or-nothing simplification (no partial overtopping).
    """
    return np.where(intensity > design, intensity, 0.0).astype(intensity.dtype, copy=False)


def displaced_by_flood(depth_m: np.ndarray, threshold_m: float = 1.0) -> np.ndarray:
    """Households whose home is flooded at or above ``threshold_m`` (m) are displaced.

    Step impact function of Kam et al. (2021), Environ. Res. Lett. 16 044026 (CLIMADA).
    """
    return depth_m >= threshold_m


def displaced_by_damage(damage_ratio: np.ndarray, threshold: float = 0.55) -> np.ndarray:
    """Households whose home damage ratio reaches ``threshold`` are displaced.

    Damage-based displacement (Meiler et al., IDMC/ETH global displacement risk; threshold 0.55,
    sensitivity range 0.3-0.7).
    """
    return damage_ratio >= threshold


def displacement_draw(eligible: np.ndarray, u: np.ndarray, probability: float) -> np.ndarray:
    """Eligible households leave this step with ``probability`` (per step; 1 = all at once).

    Over T steps of continued exposure the share displaced is ``1 - (1 - p)^T``.
    """
    return eligible & (u < probability)


def repair_days(damage_ratio: np.ndarray, days_total_loss: float, spread: float,
                u: np.ndarray) -> np.ndarray:
    """Days to make a home habitable again once the water has receded.

    ``days = damage_ratio * days_total_loss * (1 + spread * (2u - 1))``: linear in the damage
    ratio (repair time grows with damage, DESIGN.md §4.3 rule 6), with a uniform spread of
    ``+-spread`` across households. ``days_total_loss`` is a planning assumption (default 365 days)
    standing for the region's reconstruction capacity.
    """
    return damage_ratio * days_total_loss * (1.0 + spread * (2.0 * u - 1.0))


def home_losses(added_damage: np.ndarray, home_value: np.ndarray, contents_value_share: float,
                saved_share: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Money lost to a home's added damage: structure, contents lost, contents saved.

    ``structure = Δd × V``; contents are worth ``c × V`` and lose the same ratio, less what the
    household carried to safety: ``contents = Δd × c × V × (1 − s)``, ``saved = Δd × c × V × s``.
    Δd is the damage ratio added to the home (0-1), V the home's value (currency), c the
    contents value as a share of the structure's (Hazus residential occupancies: 0.5; FEMA,
    Hazus Flood Model Technical Manual), and s the share of contents damage avoided by acting
    on a warning: 24 hours' warning of a coming storm can cut the ensuing damage by 30%
    (Global Commission on Adaptation 2019, "Adapt Now: A Global Call for Leadership on Climate
    Resilience", GCA/WRI; we apply it to contents only, what a household can carry or raise,
    and the shortest lead time allowed is one day). The depth-damage ratio is applied to both:
    the JRC residential curves cover a building and its contents together (Huizinga, de Moel &
    Szewczyk 2017, EUR 28552 EN).
    """
    structure = added_damage * home_value
    contents = structure * contents_value_share
    return structure, contents * (1.0 - saved_share), contents * saved_share


def in_flooded_part(position: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """Homes in the flooded part of their cell, given the cell's flooded ``fraction`` (0-1).

    A hazard cell reports one depth and the share of its area under water (ISIMIP ``fldfrc``,
    the CaMa-Flood flooded-area fraction; CLIMADA's ``fraction``). Each home has a fixed
    ``position`` u ~ U(0, 1) in its cell's flooding order, so a cell flooded to fraction f floods
    the homes with u < f: the expected share hit is f, and a larger flood of the same cell hits
    a superset of the homes a smaller one hits (the low-lying homes flood first).
    """
    return position < fraction


def level_rate(level: np.ndarray, rates: tuple[float, ...]) -> np.ndarray:
    """Displacement rate per day at a hazard ``level``: ``rates[level]``, linear in between.

    Flee's flood-driven spawning takes ``displaced_per_flood_day[level]`` at integer flood
    levels (DFlee, Groen et al.); conflict-driven spawning scales its daily count with the
    conflict intensity (0-1), which two levels ``(0, count)`` reproduce. Levels above the last
    take the last rate.
    """
    return np.interp(level, np.arange(len(rates), dtype=float), np.asarray(rates, dtype=float))


def take_persons(group: np.ndarray, size: np.ndarray, u: np.ndarray,
                 target: np.ndarray) -> np.ndarray:
    """Households leaving so that each group loses about ``target[group]`` persons.

    Households leave in the order of their uniform draw ``u`` within their group while the
    persons gone before them plus half their own size stay within the target, so whole
    households leave and the count is unbiased to within half a household.

    Args:
        group: group index per household (0..len(target)-1).
        size: persons per household.
        u: a uniform draw per household (its place in the queue).
        target: persons to displace per group.

    Returns:
        A boolean mask over the households.
    """
    order = np.lexsort((u, group))
    g, s = group[order], size[order].astype(np.float64)
    before = np.cumsum(s) - s
    before -= before[np.searchsorted(g, g)]  # persons before, within the household's group
    out = np.zeros(group.size, dtype=bool)
    out[order] = before + s / 2 <= np.asarray(target, dtype=float)[g]
    return out


def take_in_order(size: np.ndarray, target: float) -> int:
    """How many households, taken in the given order, leave to displace about ``target`` persons.

    The rule of :func:`take_persons` for one queue already in order: a household leaves while the
    persons gone before it plus half its own stay within ``target``, so whole households leave
    and the count is unbiased to within half a household. The first household that fails ends
    the queue (every later one has more persons before it).

    Args:
        size: persons per household, in queue order.
        target: persons to displace.
    """
    s = np.asarray(size, dtype=np.float64)
    before = np.cumsum(s) - s
    return int(np.searchsorted(before + s / 2 > target, True))


def conflict_spawn_rates(population: np.ndarray, intensity: np.ndarray,
                         candidates: np.ndarray) -> np.ndarray:
    """Weight per candidate person that makes spawning pick locations as Flee's validation runs do.

    Flee spawns each new agent at a location drawn with weight w_r = P_r · c_r, the location's
    population times its conflict intensity × decay (Flee, spawning.py
    ``refresh_spawn_weights`` and flee.py ``pick_spawn_locations``). Spread over the n_r
    candidate persons of location r, each person weighs ρ_r = w_r / n_r, so a household of s
    persons weighs s · ρ_r and, sampled in proportion to weight, locations come in proportion
    to w_r. Locations without candidates weigh 0.

    Args:
        population: (region,) Flee's location population P_r (persons).
        intensity: (region,) conflict intensity × decay c_r (0 outside conflict zones).
        candidates: (region,) persons who can leave there n_r.

    Returns:
        ρ_r per region (per person).
    """
    return np.where(candidates > 0, population * intensity / np.maximum(candidates, 1), 0.0)


def envelope_slots(x: np.ndarray, mass: np.ndarray, per_slot: np.ndarray,
                   slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (group, slot) under points ``x`` of groups laid end to end, ``slots × per_slot`` long.

    The proposal of rejection sampling (von Neumann 1951, "Various techniques used in
    connection with random digits", NBS Applied Mathematics Series 12, 36–38): group g is a
    run of ``slots[g]`` slots of envelope height ``per_slot[g]``, its ``mass = slots ×
    per_slot``; a point ``x`` uniform on [0, Σ mass) falls in group g with probability ∝ its
    mass and on each of its slots alike. Accepting a slot's household with probability
    weight / per_slot then samples households in proportion to their weight.

    Returns:
        The group and the slot within it of every point.
    """
    end = np.cumsum(mass)
    group = np.minimum(np.searchsorted(end, x, side="right"), mass.size - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slot = np.floor((x - (end[group] - mass[group])) / per_slot[group])
    slot = np.clip(np.nan_to_num(slot), 0, np.maximum(slots[group] - 1, 0)).astype(np.int64)
    return group, slot

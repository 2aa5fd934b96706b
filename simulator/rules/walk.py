"""Flee's walk: which route a displaced person takes from where it is, and how far it gets a day.

Each rule is written from Flee's public source (Flee 3.1, ``flee/moving.py``, ``flee/flee.py``,
``flee/scoring.py``, ``flee/SimulationSettings.py``; Groen 2016, "Simulating refugee movements:
where would you go?", Procedia Computer Science 80, 2251-2255; Suleimenova, Bell & Groen 2017,
"A generalized simulation development approach for predicting refugee destinations", Scientific
Reports 7, 13377), cited function by function. The functions are pure: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np


def capacity_multiplier(occupants: np.ndarray, capacity: np.ndarray,
                        buffer: float) -> np.ndarray:
    """How much a location's fill lowers the weight of routes ending there (0 to 1).

    m = 1 where capacity < 1 (no capacity: towns) or occupants <= b·C; 0 where occupants >= C;
    else 1 − (occupants − b·C) / (C·(1 − b)), with b the capacity buffer (``capacity_buffer``)
    and C the capacity in persons (Flee, moving.py, ``getCapMultiplier``).
    """
    occ = np.asarray(occupants, dtype=float)
    cap = np.asarray(capacity, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = 1.0 - (occ - buffer * cap) / (cap * (1.0 - buffer))
    m = np.where(occ >= cap, 0.0, np.clip(np.nan_to_num(between, nan=0.0), 0.0, 1.0))
    return np.where((cap < 1) | (occ <= buffer * cap), 1.0, m)


def location_score(camp: np.ndarray, foreign: np.ndarray, conflict: np.ndarray,
                   camp_weight: float, foreign_weight: float,
                   conflict_weight: float) -> np.ndarray:
    """Attraction of a location: s = F^foreign · K^camp · W^conflict (dimensionless).

    F = ``foreign_weight`` for a location outside the home country (the first location's,
    Flee's InputGeography.StoreInputGeographyInEcosystem), K = ``camp_weight`` for a camp, and
    W = ``conflict_weight`` raised to the conflict exponent (intensity × decay, 0 where there
    is no conflict) (Flee, scoring.py, ``updateLocationScore``).
    """
    score = np.where(foreign, foreign_weight, 1.0) * np.where(camp, camp_weight, 1.0)
    return score * np.where(conflict > 0, float(conflict_weight) ** conflict, 1.0)


def conflict_decay(days_since: np.ndarray, decay: tuple[float, ...],
                   interval_days: int) -> np.ndarray:
    """Multiplier of a conflict's intensity ``days_since`` it began (1 without a decay list).

    decay[min(⌊days / interval⌋, len − 1)] (Flee, SimulationSettings.py, ``get_conflict_decay``;
    ``conflict_spawn_decay``, Flee 3.1's interval is 30 days).
    """
    days = np.asarray(days_since)
    if not decay:
        return np.ones(days.shape)
    k = np.minimum(np.maximum(days, 0) // interval_days, len(decay) - 1).astype(np.int64)
    return np.asarray(decay, dtype=float)[k]


def route_weight(end_score: np.ndarray, km: np.ndarray, end_capacity_multiplier: np.ndarray,
                 softening_km: float, weight_softening: float, distance_power: float,
                 weight_power: float) -> np.ndarray:
    """Weight of a route of ``km`` ending at a location of score s and capacity multiplier m.

    w = ((σ_w + s) / (σ_d + km)^p · m)^q, with σ_w = ``weight_softening``, σ_d = ``softening``
    (km), p = ``distance_power``, q = ``weight_power`` (Flee, moving.py,
    ``calculateLinkWeight``: the "core formula").
    """
    base = (weight_softening + end_score) / (softening_km + km) ** distance_power
    return (base * end_capacity_multiplier) ** weight_power


def move_chance(base: np.ndarray, persons: np.ndarray, pop_base: float,
                scale_factor: float) -> np.ndarray:
    """Daily chance of setting off: c · (max(pop, capacity) / base)^f.

    c is the location's move chance, f = ``movechance_pop_scale_factor`` (0 by default: c
    unchanged), base = ``movechance_pop_base`` (Flee, flee.py, ``Person.evolve``).
    """
    if scale_factor == 0:
        return np.asarray(base, dtype=float)
    return base * (np.maximum(persons, 1e-9) / pop_base) ** scale_factor


def flood_rules(chance: np.ndarray, level: np.ndarray, move_chances: tuple[float, ...],
                location_weights: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """DFlee's flood rules: move chance and score multiplier of a flooded location by level.

    Where the flood level k = ⌊level⌋ is above 0 the move chance becomes ``move_chances[k]``
    (it replaces the location's) and the score is multiplied by ``location_weights[k]``; levels
    beyond the lists take their last value; unflooded locations keep their chance and a
    multiplier of 1 (Flee master, moving.py, ``calculateMoveChance`` and ``getEndPointScore``,
    ``FloodMovechances`` and ``FloodLocWeights``).

    Returns:
        (move chance, score multiplier) per location.
    """
    k = np.floor(np.maximum(level, 0)).astype(np.int64)
    flooded = k > 0
    weight = np.ones(level.shape)
    if move_chances:
        table = np.asarray(move_chances, dtype=float)
        chance = np.where(flooded, table[np.minimum(k, table.size - 1)], chance)
    if location_weights:
        table = np.asarray(location_weights, dtype=float)
        weight = np.where(flooded, table[np.minimum(k, table.size - 1)], 1.0)
    return chance, weight


def forced_on(recent: np.ndarray, moved_km: np.ndarray, max_speed: float) -> np.ndarray:
    """Whether a person who arrived at a town today must go on (``avoid_short_stints``).

    Forced when (r + d / v) / 2 < 0.5: it travelled less than a full day's distance over the
    last two days (r the recent travel index, d km moved today, v = ``max_move_speed``; Flee,
    flee.py, ``Person.finish_travel``, "Flee 2.0 Changeset 1, factor 2").
    """
    return (recent + moved_km / max_speed) / 2.0 < 0.5


def recent_travel(recent: np.ndarray, moved_km: np.ndarray, max_speed: float) -> np.ndarray:
    """The recent travel index after a day: (r + d / v) / 2.

    r the index before, d the km moved that day, v = ``max_move_speed`` (Flee, flee.py,
    ``Ecosystem.evolve``).
    """
    return (recent + moved_km / max_speed) / 2.0


def candidate_routes(n: int, start: np.ndarray, end: np.ndarray, km: np.ndarray,
                     awareness: int, marker: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every route a person at each location weighs, as Flee enumerates them.

    From origin o, each link o→a is a route [a] of its length, unless a is a marker; while the
    awareness level exceeds the links taken (markers do not count), each link a→b to a
    location not yet on the route extends it by one, with the summed length (Flee, moving.py,
    ``calculateLinkWeight`` and ``selectRoute``). With awareness 0 Flee picks a link at
    random: the routes are the single links, weighed equally by the caller.

    Args:
        n: number of locations.
        start: (link,) start of each directed link (both directions of a route listed).
        end: (link,) its end.
        km: (link,) its length.
        awareness: ``awareness_level``.
        marker: (n,) marker locations.

    Returns:
        origin (route,), nodes (route, L) and links (route, L) padded with -1, km (route,),
        sorted by origin.
    """
    out_links = [np.flatnonzero(start == o) for o in range(n)]
    routes: list[tuple[int, tuple[int, ...], tuple[int, ...], float]] = []

    def extend(origin: int, path: tuple[int, ...], links: tuple[int, ...], link: int,
               prior: float, step: int) -> None:
        a = int(end[link])
        dist = prior + float(km[link])
        if not marker[a]:
            routes.append((origin, path + (a,), links + (link,), dist))
        else:
            step -= 1
        if awareness > step:
            seen = (origin, *path)
            for nxt in out_links[a]:
                if int(end[nxt]) not in seen:
                    extend(origin, path + (a,), links + (link,), int(nxt), dist, step + 1)

    for o in range(n):
        for link in out_links[o]:
            if awareness == 0:
                routes.append((o, (int(end[link]),), (int(link),), float(km[link])))
            else:
                extend(o, (), (), int(link), 0.0, 1)
    width = max((len(r[1]) for r in routes), default=1)
    nodes = np.full((len(routes), width), -1, dtype=np.int32)
    links = np.full((len(routes), width), -1, dtype=np.int64)
    for i, r in enumerate(routes):
        nodes[i, :len(r[1])] = r[1]
        links[i, :len(r[2])] = r[2]
    origin = np.array([r[0] for r in routes], dtype=np.int64)
    dist = np.array([r[3] for r in routes], dtype=float)
    return origin, nodes, links, dist


def pick(segment_start: np.ndarray, weights: np.ndarray, allowed: np.ndarray,
         origin: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Route index for each chooser at ``origin`` with uniform draw ``u``: P ∝ weight.

    Routes are sorted by origin; location o's are ``segment_start[o]`` to
    ``segment_start[o + 1]``. Routes not ``allowed`` (a closed link: Flee removes it) are never
    taken; where every allowed route of o weighs 0 they are equally likely, as Flee's
    ``normalizeWeights`` (moving.py); -1 where o has none (Flee: no move).
    """
    n_routes = np.diff(segment_start)
    seg = np.repeat(np.arange(n_routes.size), n_routes)
    weights = np.where(allowed, weights, 0.0)
    total = np.bincount(seg, weights, n_routes.size)
    n_allowed = np.bincount(seg, allowed.astype(float), n_routes.size)
    w = np.where(total[seg] > 0, weights / np.where(total[seg] > 0, total[seg], 1.0),
                 allowed / np.maximum(n_allowed[seg], 1))
    cum = np.cumsum(w)
    before = np.concatenate([[0.0], cum])[segment_start[:-1]]
    inside = cum - before[seg]
    inside[segment_start[1:][n_routes > 0] - 1] = 1.0  # each segment ends at exactly 1
    key = seg + inside
    lo, hi = segment_start[origin], segment_start[origin + 1]
    idx = np.searchsorted(key, origin + u, side="right")
    idx = np.minimum(np.maximum(idx, lo), hi - 1)
    return np.where(n_allowed[origin] > 0, idx, -1)

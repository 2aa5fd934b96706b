"""Permanent moves: where movers can go, the dwelling they find there, and the move itself.

Used by the decision step (proactive migration and planned relocation) and by the return step
(households who settle where they stayed after repeated shocks). A mover makes a new home in a
populated cell of its destination, drawn in proportion to the persons living there (the
housing stock a newcomer can find), and becomes a resident there (:meth:`World.move_home`).
What movers expect of a destination comes from the same information as their home's risk:
floods lived through there and the official map, never the scenario's future.
"""

from __future__ import annotations

import numpy as np

from simulator.rules.pathways import OPEN
from simulator.rules.placement import admit
from simulator.states import HOME, Move
from simulator.steps.context import Context
from simulator.steps.cross import (
    PLANNED,
    RELOCATION,
    due_moves,
    policy_now,
    record_crossings,
    route_movers,
    settle_moves,
)
from simulator.world.ledger import World

DAYS_PER_YEAR = 365.25


def known_cell_depth(world: World, ctx: Context) -> tuple[np.ndarray, np.ndarray | None]:
    """Depth per cell that residents know of now, and its flooded fraction (None: all of it).

    The worst of the official map (``[information]``) and the worst flood each cell has lived
    through so far (DESIGN.md §4.3 rule 3, causality).
    """
    depth, fraction = world.experienced, world.experienced_fraction
    if ctx.official_depth is not None:
        depth = np.maximum(depth, ctx.official_depth)
        if ctx.official_fraction is not None:
            fraction = (ctx.official_fraction if fraction is None
                        else np.maximum(fraction, ctx.official_fraction))
    return depth, fraction


def destination_risk(world: World, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """What a newcomer to each region expects of a dwelling there, from what is known now.

    Returns ``flooded`` (region,): the share of dwellings (persons-weighted cells, times the
    flooded part of each cell) where a known flood reaches homes; and ``ratio`` (region,
    building class): the mean damage ratio of those flooded dwellings. A dwelling is drawn in
    proportion to the persons living in each cell (:func:`choose_dwelling`), so these are the
    expectations over that draw.
    """
    depth, fraction = known_cell_depth(world, ctx)
    region, n_regions = ctx.inputs.cell_region, world.persons.shape[0]
    hit = depth > ctx.kind.hit_above
    weight = world.cell_persons * hit * (1.0 if fraction is None else fraction)
    flooded_w = np.bincount(region, weight, n_regions)
    flooded = flooded_w / np.maximum(np.bincount(region, world.cell_persons, n_regions), 1)
    ratio = np.zeros((n_regions, len(ctx.curves)))
    never = np.zeros(depth.size, dtype=np.uint8)
    for k in range(len(ctx.curves)):  # a loop over building classes, never over households
        dmg = ctx.kind.damage(depth, np.full(depth.size, k), never, ctx.curves,
                              ctx.adaptation_options)
        ratio[:, k] = np.bincount(region, weight * dmg, n_regions) / np.maximum(flooded_w, 1e-12)
    return flooded, ratio


def choose_dwelling(world: World, ctx: Context, t: int, ids: np.ndarray,
                    region: np.ndarray) -> np.ndarray:
    """A populated cell of ``region`` for each of ``ids``, in proportion to persons living there.

    Regions where nobody lives have no dwelling to offer: callers never send movers there.
    """
    cells = np.empty(ids.size, dtype=world.households.cell.dtype)
    u = ctx.streams.uniform("dwelling", t, ids)
    cell_region = ctx.inputs.cell_region
    for r in np.unique(region):  # a loop over destination regions
        mine = region == r
        in_r = np.flatnonzero(cell_region == r)
        cum = np.cumsum(world.cell_persons[in_r], dtype=float)
        pick = np.searchsorted(cum, u[mine] * cum[-1], side="right")
        cells[mine] = in_r[np.minimum(pick, in_r.size - 1)]
    return cells


def move(world: World, ctx: Context, t: int, ids: np.ndarray, to: np.ndarray,
         cause: Move) -> None:
    """``ids`` make a new home in region ``to`` for ``cause``; recorded in ``relocations``."""
    if ids.size == 0:
        return
    hh = world.households
    origin = hh.region[ids].astype(np.int64)
    world.recorder.relocations.add(t, (origin, to, int(cause)), hh.size[ids])
    index = ctx.levers.income_index  # income follows the destination's income level
    hh.income[ids] = (hh.income[ids] * index[to] / index[origin]).astype(np.float32)
    world.move_home(ids, to, choose_dwelling(world, ctx, t, ids, to))


def relocate(world: World, ctx: Context, t: int, ids: np.ndarray, dest: np.ndarray,
             cost: np.ndarray, inflow: np.ndarray, cause: Move) -> np.ndarray:
    """Move ``ids`` to ``dest`` within each destination's yearly inflow cap; return the movers.

    The cap is ``relocation_inflow_cap_share`` of the destination's current residents,
    in-movers included (DYNAMO-M's ``max_admin_growth`` of 10 % a year, Tierolf et al. 2023),
    per decision interval. ``inflow`` holds the persons already admitted per destination at
    this decision step and is updated. Movers pay ``cost`` from their savings (what savings
    cannot cover is borrowed; the loan is not tracked); a programme pays for its households.
    """
    hh, b = world.households, ctx.config.behaviour
    if ids.size == 0:
        return ids
    years = b.decision_interval_days / DAYS_PER_YEAR
    cap = np.floor(b.relocation_inflow_cap_share * years * world.persons.sum(axis=1))
    ok = admit(dest, hh.size[ids], ctx.streams.uniform("relocate", t, ids),
               np.zeros(ids.size), inflow.astype(np.int64), cap.astype(np.int64), 1.0)
    movers, to = ids[ok], dest[ok].astype(np.int64)
    inflow += np.bincount(to, hh.size[movers], cap.size)
    if cause != Move.PLANNED:
        hh.savings[movers] = np.maximum(hh.savings[movers] - cost[ok], 0.0).astype(np.float32)
    world.flow(hh.region[movers], to, hh.size[movers])
    move(world, ctx, t, movers, to, cause)
    return movers


def planned_relocation(world: World, ctx: Context, t: int, ids: np.ndarray, dest: np.ndarray,
                       expected_damage: np.ndarray, inflow: np.ndarray,
                       moved: np.ndarray) -> None:
    """A funded programme moves the most exposed households still at home (cost paid).

    ``moved``: households that moved on their own at this decision (not candidates).
    """
    n = ctx.levers.planned_relocation_households_per_year
    if n == 0:
        return
    years = ctx.config.behaviour.decision_interval_days / DAYS_PER_YEAR
    still = (np.isin(world.households.state[ids], HOME) & ~np.isin(ids, moved)
             & (expected_damage > 0) & (dest >= 0))
    bd = ctx.levers.borders
    if bd.international:  # abroad only across an open border or a planned-relocation pathway
        a = bd.country_of_region[world.households.region[ids]]
        c = bd.country_of_region[np.maximum(dest, 0)]
        agreed = (bd.quota[bd.kind == PLANNED].sum(axis=0) > 0)[a, c]
        still &= (a == c) | (policy_now(ctx, t)[a, c] == OPEN) | agreed
    cand = np.flatnonzero(still)
    top = cand[np.argsort(-expected_damage[cand], kind="stable")[:int(round(n * years))]]
    go, to, cost, route = route_movers(world, ctx, t, ids[top], dest[top], np.zeros(top.size),
                                       Move.PLANNED)
    origin = world.households.region[go].copy()
    done = relocate(world, ctx, t, go, to, cost, inflow, Move.PLANNED)
    settle_moves(world, ctx, t, go, origin, to, route, done)


def arrive(world: World, ctx: Context, t: int) -> None:
    """Households whose approved application is due move now, across the border.

    They pay their migration cost then (a programme pays for its households), are not held to
    the destination's inflow cap (the quota was the cap), and are counted in ``cross_border``
    by their pathway; those not at home then (displaced meanwhile) lapse.
    """
    ids, dest, cost, route, cause = due_moves(world, ctx, t)
    if ids.size == 0:
        return
    hh = world.households
    origin = hh.region[ids].astype(np.int64)
    own = cause != Move.PLANNED
    hh.savings[ids[own]] = np.maximum(hh.savings[ids[own]] - cost[own], 0.0).astype(np.float32)
    world.flow(origin, dest, hh.size[ids])
    for c in np.unique(cause):  # a loop over causes
        mine = cause == c
        move(world, ctx, t, ids[mine], dest[mine], Move(int(c)))
    record_crossings(world, ctx, t, ids, origin, dest, route, RELOCATION)

"""Step 4, impact and displace: homes are hit; households beyond the threshold are displaced.

By ``impact.method``: ``depth_threshold`` (depth ≥ 1 m, Kam et al. 2021) or ``damage_ratio``
(damage ≥ 0.55 from the kind's damage curve, Meiler et al.), each with a displacement
probability; ``level_rate`` (a share or number of residents leaves per day by hazard level, as
Flee's flood- and conflict-driven spawning) or ``prescribed`` (a daily series of persons, as
Flee's validation runs). The newly displaced go straight down the place cascade; evacuees who are
displaced keep the place they already have.
"""

from __future__ import annotations

import numpy as np

from simulator.rules.behaviour import adapted_depth
from simulator.rules.impacts import (
    displaced_by_damage,
    displaced_by_flood,
    displacement_draw,
    home_losses,
    level_rate,
    take_persons,
)
from simulator.states import DEPTH_BANDS, HOME, NO_STEP, STAY_REASONS, State
from simulator.steps.context import Context
from simulator.steps.place import seek
from simulator.steps.spawn import spawn_prescribed
from simulator.world.ledger import World

#: Hazard kinds whose intensity at home endangers life (depth of water, wind speed).
DANGER_KINDS = ("flood_depth", "wind_speed")


def displace(world: World, ctx: Context, t: int, depth: np.ndarray, owed: float) -> float:
    """Damage homes hit at step ``t`` and displace households; return prescribed persons owed.

    Args:
        world: the households and counters.
        ctx: the run's context.
        t: the step.
        depth: hazard intensity per cell this step.
        owed: prescribed persons not yet displaced in earlier steps (``prescribed`` only).
    """
    hh, imp, kind = world.households, ctx.config.impact, ctx.kind
    fraction = ctx.inputs.hazard.fraction_at(t)
    cells = np.flatnonzero(depth > kind.hit_above)
    cell_wide = fraction is None and kind.name not in DANGER_KINDS and not ctx.dense_hits
    if imp.method == "prescribed" and cell_wide:  # every resident of a hit cell is hit
        world.note_hits(cells, t)
        _clear_repairs(world, ctx, depth)
        leave, owed = _prescribed(world, ctx, t, cells, depth, None, owed)
        if leave.size:
            force_out(world, ctx, t, leave)
        return owed
    world.flush_hits(cells)
    ids = world.households_in(cells)
    d = ctx.home_depth(world, ids, depth, fraction)
    hit = d > kind.hit_above
    ids, d = ids[hit], d[hit]
    earlier = hh.last_flood_step[ids] < world.event_start[hh.cell[ids]]  # an earlier event's
    hh.prior_flood_step[ids[earlier]] = hh.last_flood_step[ids[earlier]]
    hh.last_flood_step[ids] = t
    state = hh.state[ids]
    if kind.name in DANGER_KINDS:  # life-safety exposure: at home when the water came
        home = np.isin(state, HOME) & (d >= kind.warning_threshold)
        np.add.at(world.recorder.exposed_at_home[t], hh.region[ids[home]], hh.size[ids[home]])
    away = state == State.DISPLACED
    hh.due_step[ids[away & (d >= kind.clear_below)]] = NO_STEP
    can_leave = np.isin(state, HOME) | (state == State.EVACUATED)
    if imp.method == "prescribed":
        leave, owed = _prescribed(world, ctx, t, cells, depth, fraction, owed)
    elif imp.method == "level_rate":
        cand = ids[can_leave]
        leave = cand[_level_rate(world, ctx, t, cand, d[can_leave])]
    else:
        dmg = ctx.damage(world, ids, d)  # this step's damage decides displacement
        # a home lived in before this event was repaired since: its damage starts afresh
        hh.damage[ids[earlier & np.isin(state, HOME)]] = 0.0
        book_damage(world, ctx, t, ids, dmg)
        beyond = (displaced_by_flood(_floor_depth(world, ctx, ids, d), imp.depth_threshold_m)
                  if imp.method == "depth_threshold"
                  else displaced_by_damage(dmg, imp.damage_threshold))
        cand = ids[beyond & can_leave]
        leave = cand[displacement_draw(np.ones(cand.size, bool),
                                       ctx.streams.uniform("displace", t, cand),
                                       imp.displacement_probability)]
    if leave.size:
        force_out(world, ctx, t, leave)
    if kind.name == "flood_depth" and imp.method in ("damage_ratio", "depth_threshold"):
        _audit(world, ctx, t, depth, ids, d, cand, leave)
    return owed


def book_damage(world: World, ctx: Context, t: int, ids: np.ndarray, dmg: np.ndarray) -> None:
    """Raise the homes of ``ids`` to damage ``dmg`` where it is worse; record what that costs.

    The worst damage since a home was last repaired sets its repairs (float16), so each
    event's worst damage is counted once in ``home_losses``. Evacuees hit while away saved
    part of their contents (:func:`~simulator.rules.impacts.home_losses`).
    """
    hh, rec = world.households, world.recorder
    old = hh.damage[ids]
    hh.damage[ids] = np.maximum(old, dmg)
    added = hh.damage[ids].astype(np.float64) - old
    hit = added > 0
    if not hit.any():
        return
    ids, added = ids[hit], added[hit]
    home = ctx.assets_and_home(world, ids, hh.income[ids].astype(np.float64))[1]
    saved_share = np.where(hh.state[ids] == State.EVACUATED,
                           ctx.config.warning.contents_saved_share, 0.0)
    structure, contents, saved = home_losses(added, home, ctx.config.impact.contents_value_share,
                                             saved_share)
    region, n = hh.region[ids], rec.home_losses.shape[1]
    rec.home_losses[t, :, 0] += np.bincount(region, structure, n)
    rec.home_losses[t, :, 1] += np.bincount(region, contents, n)
    rec.contents_saved[t] += np.bincount(region, saved, n)


def _audit(world: World, ctx: Context, t: int, depth: np.ndarray, hit: np.ndarray,
           d: np.ndarray, beyond: np.ndarray, leave: np.ndarray) -> None:
    """Count who stayed home in a wet cell at step ``t``, by the cell's depth band and why.

    Reasons, first that applies: the defences held (the cell is dry only behind them); the
    home is outside the flooded part of its cell; its adaptation kept it below the
    displacement threshold; it was below the threshold anyway; the displacement draw.
    """
    hh, imp = world.households, ctx.config.impact
    raw = ctx.inputs.hazard.at(t)
    ids = world.households_in(np.flatnonzero(raw > 0))
    ids = ids[np.isin(hh.state[ids], HOME)]
    if ids.size == 0:
        return
    cell = hh.cell[ids]
    reason = np.full(ids.size, STAY_REASONS.index("dry_part"))
    reason[depth[cell] <= 0] = STAY_REASONS.index("defences")
    order = np.argsort(hit, kind="stable")
    pos = np.minimum(np.searchsorted(hit[order], ids), max(hit.size - 1, 0))
    is_hit = (hit[order][pos] == ids) if hit.size else np.zeros(ids.size, dtype=bool)
    h_ids, h_d = ids[is_hit], d[order[pos[is_hit]]]
    if imp.method == "depth_threshold":
        bare = displaced_by_flood(h_d, imp.depth_threshold_m)
    else:
        bare = displaced_by_damage(ctx.damage(world, h_ids, h_d, 0), imp.damage_threshold)
    r = np.where(bare, STAY_REASONS.index("adaptation"), STAY_REASONS.index("below_threshold"))
    r[np.isin(h_ids, beyond)] = STAY_REASONS.index("chance")
    reason[is_hit] = r
    band = np.searchsorted(DEPTH_BANDS, raw[cell], side="right") - 1
    np.add.at(world.recorder.stayed_home, (hh.region[ids], band, reason), hh.size[ids])


def _floor_depth(world: World, ctx: Context, ids: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Water depth inside the homes of ``ids``: what dry-proofing or a raised floor leaves."""
    if not ctx.kind.dry_proofing_applies:
        return d
    return adapted_depth(d, world.households.adapted[ids], ctx.adaptation_options)


def force_out(world: World, ctx: Context, t: int, leave: np.ndarray) -> None:
    """``leave`` (at home or evacuated) are forcibly displaced at step ``t``."""
    hh, rec = world.households, world.recorder
    np.add.at(rec.newly_displaced[t], hh.region[leave], hh.size[leave])
    np.add.at(world.displaced_by_cell, hh.cell[leave], hh.size[leave])
    was_evacuated = hh.state[leave] == State.EVACUATED
    left_home = hh.since_step[leave].copy()
    fresh = leave[~was_evacuated]  # evacuees keep the place they already have
    np.add.at(rec.internal_displacements[t], hh.region[fresh], hh.size[fresh])
    # an evacuee's episode began when it left home: keeps its shelter-seeking draw and length
    world.set_state(leave[was_evacuated], State.DISPLACED, since=left_home[was_evacuated])
    world.leave_home(fresh, State.DISPLACED)
    hh.due_step[leave] = NO_STEP
    hh.shocks[leave] = np.minimum(hh.shocks[leave].astype(np.int64) + 1, 255)
    seek(world, ctx, fresh, t, newly=True)


def _prescribed(world: World, ctx: Context, t: int, cells: np.ndarray, depth: np.ndarray,
                fraction: np.ndarray | None, owed: float) -> tuple[np.ndarray, float]:
    """This step's prescribed persons and those still owed leave ``cells``; the new remainder.

    The remainder is signed: an overshoot of part of a household is paid back later, and what
    nobody at home could fill is owed to later steps.
    """
    target = ctx.inputs.prescribed[t] + owed
    leave = spawn_prescribed(world, ctx, t, cells, depth, fraction, target)
    return leave, target - float(world.households.size[leave].sum())


def _clear_repairs(world: World, ctx: Context, depth: np.ndarray) -> None:
    """The displaced whose home is hit again wait for it to clear before repairs (cell-wide).

    As the one-by-one path: a displaced household whose home's intensity is above the kind's
    ``hit_above`` and at least ``clear_below`` has no repair date; found among those away.
    """
    hh, kind = world.households, ctx.kind
    if not world.repairs_dated and not ctx.plain_placement:
        return  # nobody has a repair date yet
    watched = world.watched_ids  # a sleeper has no repair date (recover._sleep)
    away = watched[hh.due_step[watched] != NO_STEP]  # evacuees have none
    away = away[hh.state[away] == State.DISPLACED]
    d = depth[hh.cell[away]]
    hh.due_step[away[(d > kind.hit_above) & (d >= kind.clear_below)]] = NO_STEP


def _level_rate(world: World, ctx: Context, t: int, cand: np.ndarray,
                level: np.ndarray) -> np.ndarray:
    """Which of ``cand`` (at hazard ``level``) leave under a daily rate.

    Each day a share of the residents of a location (or a number of persons) leaves, by hazard
    level, as Flee's flood- and conflict-driven spawning.
    """
    hh, imp, days = world.households, ctx.config.impact, ctx.config.step_days
    u = ctx.streams.uniform("displace", t, cand)
    rate = level_rate(level, imp.displaced_per_day_by_level)
    if imp.rate_unit == "share":
        return u < 1.0 - (1.0 - rate) ** days
    cells, group = np.unique(hh.cell[cand], return_inverse=True)
    target = np.zeros(cells.size)
    target[group] = rate * days  # one level per cell
    return take_persons(group, hh.size[cand], u, target)

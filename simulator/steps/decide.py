"""Step 2, decide (every ``decision_interval_days``): stay, adapt in place, or migrate.

Households at home weigh staying, dry-proofing their home and migrating to their best reachable
region by subjective expected utility with perceived flood risk (DYNAMO-M; the rules are in
:mod:`simulator.rules.behaviour`). Those who want to move but cannot afford it are ``trapped``;
a share of the rest relocate within each destination's yearly inflow cap; a planned-relocation
programme moves the most exposed. Slow-onset stress (drought, heat) lowers income first.
"""

from __future__ import annotations

import numpy as np

from simulator.rules.behaviour import (
    annualised_cost,
    can_afford_adaptation,
    discount_sum,
    eu_migrate,
    eu_stay,
    livelihood_loss,
    migration_cost,
    risk_perception,
)
from simulator.rules.placement import admit
from simulator.states import HOME, NO_STEP, State
from simulator.steps.context import Context
from simulator.world.ledger import World

DAYS_PER_YEAR = 365.25


def decision_step(ctx: Context, t: int) -> bool:
    """Whether households decide at step ``t`` (every ``decision_interval_days``, from step 0)."""
    b, step_days = ctx.config.behaviour, ctx.config.step_days
    return b.enabled and (t * step_days) % b.decision_interval_days < step_days


def years_since_flood(world: World, ctx: Context, ids: np.ndarray, t: int) -> np.ndarray:
    """Years since each household's home was last flooded (the initial value if not in the run)."""
    hh, cfg = world.households, ctx.config
    last = hh.last_flood_step[ids]
    elapsed = (t - last) * cfg.step_days / DAYS_PER_YEAR
    before = cfg.behaviour.initial_years_since_flood + t * cfg.step_days / DAYS_PER_YEAR
    return np.where(last == NO_STEP, before, elapsed)


CHUNK = 1 << 16  #: households evaluated at once, so temporaries stay bounded at any size


def decide(world: World, ctx: Context, t: int) -> None:
    """Stay, adapt or migrate by subjective expected utility; trap, adapt and relocate.

    Households are evaluated and updated chunk by chunk (one household's choice reads only its
    own state), so no full-length temporaries exist; movers and the most exposed households,
    few by nature, are collected for the relocation steps that follow.
    """
    hh, b = world.households, ctx.config.behaviour
    kind = np.int32 if len(hh) < 2**31 else np.int64  # no full-length int64 temporary
    ids = np.concatenate([(s + np.flatnonzero(np.isin(hh.state[s:s + CHUNK], HOME))).astype(kind)
                          for s in range(0, len(hh), CHUNK)] or [np.empty(0, kind)])
    if ids.size == 0:
        return
    years = b.decision_interval_days / DAYS_PER_YEAR
    share = 1.0 - (1.0 - b.migration_intention_share_per_year) ** years
    programme = int(round(ctx.levers.planned_relocation_households_per_year * years))
    worst = _worst_stress(ctx, t)
    world.recorder.livelihood_loss[t] = 0.0
    movers, pool = [], []
    for i in range(0, ids.size, CHUNK):
        part = ids[i:i + CHUNK]
        loss = _stress_loss(world, ctx, t, part, worst)
        adapt, trapped, wants_able, dest, cost_m, exposure = _evaluate(world, ctx, t, part, loss)
        go = _draw(ctx, t, part, wants_able, share)
        hh.adapted[part[adapt]] = 1
        new_state = hh.state[part].copy()
        released = (new_state == State.TRAPPED) & ~trapped  # no longer wants to, or now can
        new_state[released] = world.home_state(part[released])
        new_state[adapt] = State.ADAPTED
        new_state[trapped] = State.TRAPPED
        changed = new_state != hh.state[part]
        world.set_state(part[changed], new_state[changed])
        movers.append((part[go], dest[go], cost_m[go]))
        if programme:  # this chunk's candidates: its top (programme + movers), ties included
            ok = (exposure > 0) & (dest >= 0)
            k = programme + int(go.sum())
            if ok.sum() > k:
                ok &= exposure >= np.partition(exposure[ok], ok.sum() - k)[ok.sum() - k]
            pool.append((part[ok], dest[ok], exposure[ok]))
    inflow = np.zeros(world.persons.shape[0])  # persons admitted per destination this decision
    _relocate(world, ctx, t, *(np.concatenate(x) for x in zip(*movers)), inflow, paid=False)
    if programme:
        _planned_relocation(world, ctx, t, *(np.concatenate(x) for x in zip(*pool)), inflow)


def _evaluate(world: World, ctx: Context, t: int, ids: np.ndarray, loss: np.ndarray) -> tuple:
    """Expected utilities and gates for one chunk of households at home.

    Returns compact arrays: adapt now, trapped, wants to and can migrate, best destination,
    migration cost there, and expected yearly damage (for the planned-relocation programme).
    """
    hh, cfg = world.households, ctx.config
    b = cfg.behaviour
    home = hh.region[ids].astype(np.int64)
    design = known_depth(world, ctx, ids, t)
    p_obj = np.where(design > ctx.kind.hit_above, 1.0 / ctx.information_return_period, 0.0)
    p = np.minimum(1.0, risk_perception(years_since_flood(world, ctx, ids, t)) * p_obj)
    base_income = hh.income[ids].astype(float)
    value = base_income * cfg.population.house_value_income_ratio
    if hh.house_value is not None:  # a table's values where it gives them
        own = hh.house_value[ids].astype(float)
        value = np.where(np.isnan(own), value, own)
    income = base_income * (1.0 - loss)
    adapted = hh.adapted[ids] == 1
    dmg_adapted = ctx.damage(world, ids, design, np.ones(ids.size, dtype=bool)) * value
    dmg_now = ctx.damage(world, ids, design) * value
    floor = b.subsistence_share * income
    s = discount_sum(b.horizon_years, b.discount_rate)
    eu_s = eu_stay(income, p, dmg_now, 0.0, s, floor)
    subsidy = ctx.levers.adaptation_subsidy_share[home]
    cost_a = annualised_cost(b.adaptation_cost * (1 - subsidy), b.discount_rate, b.horizon_years)
    can_adapt = ~adapted & can_afford_adaptation(cost_a, income, b.adaptation_max_income_share)
    eu_a = np.where(can_adapt, eu_stay(income, p, dmg_adapted, cost_a, s, floor), -np.inf)
    dest, eu_m, cost_m = _best_destination(ctx, home, base_income, floor, s)
    wants = eu_m > np.maximum(eu_s, eu_a)  # flood risk or lost livelihood at home
    # a capability gate, not a preference: older members or members with disabilities make
    # moving dearer (trapped populations, Foresight 2011; Black et al. 2013, Nature Clim.
    # Change 3:448; the factor is an assumption), so the household may want to but cannot
    groups = hh.group_persons(ids)
    cost_m = cost_m * np.where((groups[:, 2] > 0) | (groups[:, 4] > 0),
                               b.mobility_cost_factor_older_or_disabled, 1.0)
    able = hh.savings[ids] >= cost_m
    if b.max_household_size_to_migrate is not None:
        able &= hh.size[ids] <= b.max_household_size_to_migrate
    return (~wants & (eu_a > eu_s), wants & ~able, wants & able, dest.astype(np.int16),
            cost_m.astype(np.float32), (p_obj * dmg_now).astype(np.float32))


def known_depth(world: World, ctx: Context, ids: np.ndarray, t: int) -> np.ndarray:
    """The design depth households ``ids`` know of at step ``t``: nothing from the future.

    The worst of the official map they were given (``[information]``) and the worst flood their
    cell has lived through up to ``t`` (``World.remember``). Forecasts act through warnings and
    evacuation, not through these long-term decisions. Two scenarios identical up to day D
    therefore decide identically up to day D (DESIGN.md §4.3 rule 3, causality).
    """
    known = ctx.home_depth(world, ids, world.experienced, world.experienced_fraction)
    if ctx.official_depth is not None:
        known = np.maximum(known, ctx.home_depth(world, ids, ctx.official_depth,
                                                 ctx.official_fraction))
    return known


def _worst_stress(ctx: Context, t: int) -> np.ndarray | None:
    """Worst slow-onset stress per cell since the last decision (None without a stress grid)."""
    stress = ctx.inputs.stress
    if stress is None:
        return None
    cfg = ctx.config
    n = max(1, cfg.behaviour.decision_interval_days // cfg.step_days)
    return stress.values[max(0, t - n):t + 1].max(axis=0)[stress.cell_site]


def _stress_loss(world: World, ctx: Context, t: int, ids: np.ndarray,
                 worst_cell: np.ndarray | None) -> np.ndarray:
    """Income share of ``ids`` lost to slow-onset stress since the last decision; savings pay."""
    if worst_cell is None:
        return np.zeros(ids.size, dtype=np.float32)
    cfg, hh = ctx.config, world.households
    worst = worst_cell[hh.cell[ids]]
    s = cfg.stress
    loss = livelihood_loss(worst, s.threshold, s.loss_per_unit, s.max_loss).astype(np.float32)
    years = cfg.behaviour.decision_interval_days / DAYS_PER_YEAR
    lost = (loss * hh.income[ids] * years).astype(np.float32)
    hh.savings[ids] = np.maximum(hh.savings[ids] - lost, 0.0)
    world.recorder.livelihood_loss[t] += np.bincount(hh.region[ids], lost, world.persons.shape[0])
    return loss


def _draw(ctx: Context, t: int, ids: np.ndarray, mask: np.ndarray,
          share: float) -> np.ndarray:
    out = np.zeros(ids.size, dtype=bool)
    out[mask] = ctx.streams.uniform("decide", t, ids[mask]) < share
    return out


def _best_destination(ctx: Context, home: np.ndarray, income: np.ndarray,
                      floor: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best destination region per household by expected utility of migrating there."""
    dist = ctx.inputs.distance_km
    index = ctx.levers.income_index
    reach = (dist <= ctx.config.placement.max_distance_km) & ~np.eye(dist.shape[0], dtype=bool)
    best = np.full(home.size, -1)
    best_eu = np.full(home.size, -np.inf)
    best_cost = np.full(home.size, np.inf)
    for j in range(dist.shape[0]):  # a loop over regions, never over households
        ok = reach[home, j]
        cost = migration_cost(dist[home, j], ctx.config.behaviour.migration_cost_max)
        eu = np.where(ok, eu_migrate(income * index[j] / index[home], cost, s, floor), -np.inf)
        better = eu > best_eu
        best[better], best_eu[better], best_cost[better] = j, eu[better], cost[better]
    return best, best_eu, best_cost


def _relocate(world: World, ctx: Context, t: int, ids: np.ndarray, dest: np.ndarray,
              cost: np.ndarray, inflow: np.ndarray, paid: bool) -> np.ndarray:
    """Move ``ids`` permanently to ``dest`` within each destination's yearly inflow cap.

    ``inflow`` holds the persons already admitted per destination at this decision step and is
    updated; ``paid``: the move costs the household nothing (a programme pays).
    """
    hh, b = world.households, ctx.config.behaviour
    if ids.size == 0:
        return ids
    years = b.decision_interval_days / DAYS_PER_YEAR
    cap = np.floor(b.relocation_inflow_cap_share * years * world.persons.sum(axis=1))
    ok = admit(dest, hh.size[ids], ctx.streams.uniform("relocate", t, ids),
               np.zeros(ids.size), inflow.astype(np.int64), cap.astype(np.int64), 1.0)
    movers, to = ids[ok], dest[ok]
    inflow += np.bincount(to, hh.size[movers], cap.size)
    if not paid:
        hh.savings[movers] -= cost[ok].astype(np.float32)
    world.flow(hh.region[movers], to, hh.size[movers])
    np.add.at(world.recorder.relocations[t], hh.region[movers], hh.size[movers])
    world.relocate(movers, to)
    return movers


def _planned_relocation(world: World, ctx: Context, t: int, ids: np.ndarray, dest: np.ndarray,
                        expected_damage: np.ndarray, inflow: np.ndarray) -> None:
    """A funded programme moves the most exposed households still at home (cost paid)."""
    n = ctx.levers.planned_relocation_households_per_year
    if n == 0:
        return
    years = ctx.config.behaviour.decision_interval_days / DAYS_PER_YEAR
    still = np.isin(world.households.state[ids], HOME) & (expected_damage > 0) & (dest >= 0)
    cand = np.flatnonzero(still)
    top = cand[np.argsort(-expected_damage[cand], kind="stable")[:int(round(n * years))]]
    _relocate(world, ctx, t, ids[top], dest[top], np.zeros(top.size), inflow, paid=True)

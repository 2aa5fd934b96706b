"""Step 2, decide (every ``decision_interval_days``): stay, adapt in place, or migrate.

Households at home weigh staying, dry-proofing their home and migrating to their best reachable
region by subjective expected utility with perceived flood risk (DYNAMO-M; the rules are in
:mod:`simulator.rules.utility` and :mod:`simulator.rules.behaviour`). Those who want to move but
cannot pay for it are ``trapped``; a share of the rest relocate within each destination's yearly
inflow cap and become its residents (:mod:`simulator.steps.relocate`); a planned-relocation
programme moves the most exposed. Slow-onset stress (drought, heat) lowers income first.
Households know only the past and the official map (:func:`known_depth`).
"""

from __future__ import annotations

import numpy as np

from simulator.rules.behaviour import livelihood_loss, migration_cost, risk_perception
from simulator.rules.pathways import OPEN, irregular_utility
from simulator.rules.utility import (
    annuity,
    can_finance,
    expected_utility,
    log_utility,
    npv,
)
from simulator.states import HOME, NO_STEP, Move, State
from simulator.steps.context import Context
from simulator.steps.cross import (
    destination_terms,
    policy_now,
    route_movers,
    settle_moves,
    stranded,
)
from simulator.steps.relocate import (
    DAYS_PER_YEAR,
    destination_risk,
    planned_relocation,
    relocate,
)
from simulator.world.ledger import World


def decision_step(ctx: Context, t: int) -> bool:
    """Whether households decide at step ``t`` (every ``decision_interval_days``, from step 0)."""
    b, step_days = ctx.config.behaviour, ctx.config.step_days
    return b.enabled and (t * step_days) % b.decision_interval_days < step_days


def years_since_flood(world: World, ctx: Context, ids: np.ndarray, t: int,
                      last: np.ndarray | None = None) -> np.ndarray:
    """Years since each household's home was last flooded (the initial value if not in the run).

    ``last`` overrides the step of the last flood (default: ``last_flood_step``).
    """
    hh, cfg = world.households, ctx.config
    last = hh.last_flood_step[ids] if last is None else last
    elapsed = (t - last) * cfg.step_days / DAYS_PER_YEAR
    before = cfg.behaviour.initial_years_since_flood + t * cfg.step_days / DAYS_PER_YEAR
    return np.where(last == NO_STEP, before, elapsed)


CHUNK = 1 << 16  #: households evaluated at once, so temporaries stay bounded at any size


def at_home(world: World) -> np.ndarray:
    """Ids of the households at home.

    Built block by block in int32 below 2**31 households: no full-length int64 temporary.
    """
    hh = world.households
    kind = np.int32 if len(hh) < 2**31 else np.int64
    return np.concatenate([(s + np.flatnonzero(np.isin(hh.state[s:s + CHUNK], HOME))).astype(
        kind) for s in range(0, len(hh), CHUNK)] or [np.empty(0, kind)])


def deciding(world: World) -> np.ndarray:
    """Ids of the households at home that may decide (not waiting to move abroad)."""
    ids = at_home(world)
    if world.crossings is not None and world.crossings.wait_ids.size:
        ids = ids[~np.isin(ids, world.crossings.wait_ids)]  # approved, waiting to move
    return ids


def decide(world: World, ctx: Context, t: int) -> None:
    """Stay, adapt or migrate by subjective expected utility; trap, adapt and relocate.

    Households are evaluated and updated chunk by chunk (one household's choice reads only its
    own state), so no full-length temporaries exist; movers and the most exposed households,
    few by nature, are collected for the relocation steps that follow.
    """
    hh, b = world.households, ctx.config.behaviour
    ids = deciding(world)
    if ids.size == 0:
        return
    years = b.decision_interval_days / DAYS_PER_YEAR
    share = 1.0 - (1.0 - b.migration_intention_share_per_year) ** years
    programme = int(round(ctx.levers.planned_relocation_households_per_year * years))
    worst = _worst_stress(ctx, t)
    risk = destination_risk(world, ctx)
    world.recorder.livelihood_loss[t] = 0.0
    movers, pool = [], []
    for i in range(0, ids.size, CHUNK):
        part = ids[i:i + CHUNK]
        loss = _stress_loss(world, ctx, t, part, worst)
        adapt, trapped, wants_able, dest, cost_m, exposure, option, abroad = _evaluate(
            world, ctx, t, part, loss, risk)
        if abroad is not None:  # wanted to cross a border and could not (newly so)
            bd, want = ctx.levers.borders, (abroad >= 0) & (hh.state[part] != State.TRAPPED)
            stranded(world, ctx, t, part[want], bd.country_of_region[hh.region[part[want]]],
                     bd.country_of_region[abroad[want]])
        go = _draw(ctx, t, part, wants_able, share)
        hh.adapted[part[adapt]] = option[adapt]
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
    ids_m, dest_m, cost_m = (np.concatenate(x) for x in zip(*movers))
    ids_m, dest_m, cost_m, route = route_movers(world, ctx, t, ids_m, dest_m, cost_m,
                                                Move.PROACTIVE)
    origin = hh.region[ids_m].copy()
    moved = relocate(world, ctx, t, ids_m, dest_m, cost_m, inflow, Move.PROACTIVE)
    settle_moves(world, ctx, t, ids_m, origin, dest_m, route, moved)
    if programme:
        planned_relocation(world, ctx, t, *(np.concatenate(x) for x in zip(*pool)), inflow,
                           moved)


def _evaluate(world: World, ctx: Context, t: int, ids: np.ndarray, loss: np.ndarray,
              risk: tuple[np.ndarray, np.ndarray]) -> tuple:
    """Expected utilities and gates for one chunk of households at home.

    DYNAMO-M's subjective expected utility of the NPV of wealth and income over the horizon
    (:mod:`simulator.rules.utility`), for staying as is, adapting with the best of the
    adaptation options (each paid by a loan within the expenditure cap) and migrating to the
    best reachable region (paid from savings, the rest borrowed within the cap). Returns
    compact arrays: adapt now, trapped, wants to and can migrate, best destination, migration
    cost there, expected yearly damage (for the planned-relocation programme), the best
    adaptation option (1 + its index) and, with borders, the region abroad each household
    wanted and could not reach (-1: none; None with one country).
    """
    hh, b = world.households, ctx.config.behaviour
    home = hh.region[ids].astype(np.int64)
    design = known_depth(world, ctx, ids, t)
    p_obj = np.where(design > ctx.kind.hit_above, 1.0 / ctx.information_return_period, 0.0)
    beta = risk_perception(years_since_flood(world, ctx, ids, t))
    base_income = hh.income[ids].astype(float)
    assets, house = ctx.assets_and_home(world, ids, base_income)
    income = base_income * (1.0 - loss)
    wealth = hh.savings[ids] + assets
    h, r, loan_r, loan_n = b.horizon_years, b.discount_rate, b.loan_interest_rate, b.loan_years
    floor = npv(0.0, b.subsistence_share * income, 0.0, 0.0, h, r, 0)
    dmg_now = ctx.damage(world, ids, design) * house
    u_dry = log_utility(npv(wealth, income, 0.0, 0.0, h, r, 0), floor)
    eu_s = expected_utility(log_utility(npv(wealth, income, dmg_now, 0.0, h, r, 0), floor),
                            beta * p_obj, u_dry)
    eu_a = np.full(ids.size, -np.inf)
    option = np.zeros(ids.size, dtype=np.uint8)
    unadapted = hh.adapted[ids] == 0
    for k, (_, opt) in enumerate(b.options(), start=1):  # a loop over options, not households
        price = opt.cost * (1.0 - ctx.levers.adaptation_subsidy_share[home])
        pay = annuity(price, loan_r, loan_n)  # paid wholly by a loan (DYNAMO-M)
        can = unadapted & can_finance(price, 0.0, income, b.adaptation_max_income_share,
                                      loan_r, loan_n)
        dmg_k = ctx.damage(world, ids, design, k) * house
        eu_k = np.where(can, expected_utility(
            log_utility(npv(wealth, income, dmg_k, pay, h, r, loan_n), floor), beta * p_obj,
            log_utility(npv(wealth, income, 0.0, pay, h, r, loan_n), floor)), -np.inf)
        better = eu_k > eu_a
        eu_a[better], option[better] = eu_k[better], k
    dest, eu_m, cost_m, fee, blocked_eu, blocked_to = _best_destination(
        world, ctx, t, ids, home, wealth, base_income, house, assets, beta, floor, risk)
    wants = eu_m > np.maximum(eu_s, eu_a)  # flood risk or lost livelihood at home
    # the best place is across a border they cannot cross (closed, or no pathway and no
    # irregular fee they can pay), and nowhere they can reach beats staying
    shut_out = ~wants & (blocked_eu > np.maximum(eu_s, eu_a))
    # a capability gate, not a preference: older members or members with disabilities make
    # moving dearer (trapped populations, Foresight 2011; Black et al. 2013, Nature Clim.
    # Change 3:448; the factor is an assumption), so the household may want to but cannot
    # (only for those who want to move: the others' cost and ability are not used)
    groups = hh.group_persons(ids[wants])
    cost_m[wants] *= np.where((groups[:, 2] > 0) | (groups[:, 4] > 0),
                              b.mobility_cost_factor_older_or_disabled, 1.0)
    able = can_finance(cost_m + fee, hh.savings[ids], income, b.adaptation_max_income_share,
                       loan_r, loan_n)
    if b.max_household_size_to_migrate is not None:
        able &= hh.size[ids] <= b.max_household_size_to_migrate
    abroad = None
    if ctx.levers.borders.international:  # who wanted to cross and could not, and where to
        country = ctx.levers.borders.country_of_region
        abroad = np.where(shut_out, blocked_to, -1)
        to = country[np.maximum(dest, 0)]  # cannot pay: stranded unless the border is open
        unable = wants & ~able & (to != country[home]) & (
            policy_now(ctx, t)[country[home], to] != OPEN)
        abroad[unable] = dest[unable]
    return (~wants & (eu_a > eu_s), (wants & ~able) | shut_out, wants & able,
            dest.astype(np.int16), cost_m.astype(np.float32),
            (p_obj * dmg_now).astype(np.float32), option, abroad)


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


def _best_destination(world: World, ctx: Context, t: int, ids: np.ndarray, home: np.ndarray,
                      wealth: np.ndarray, income: np.ndarray, house: np.ndarray,
                      assets: np.ndarray, beta: np.ndarray, floor: np.ndarray,
                      risk: tuple[np.ndarray, np.ndarray],
                      ) -> tuple[np.ndarray, ...]:
    """Best destination region per household by expected utility of migrating there.

    EU_j = q_j EU(flood at j) + (1 - q_j) U(no flood), with the NPV at the destination's income
    level less the migration cost C(d) paid now (DYNAMO-M ``fill_NPVs``) and the share of fixed
    assets lost in selling and buying (``migration_cost_asset_share``), q_j the share of
    dwellings in j a known flood reaches and the flooded dwellings' mean damage ratio for the
    household's building class (:func:`destination_risk`; DYNAMO-M takes destinations as
    flood-safe). Only populated regions within ``placement.max_distance_km`` are reachable.

    Across a border (:func:`~simulator.steps.cross.destination_terms`) a region is reachable
    only by a route open to the household; an irregular route adds its fee to the cost and is
    a lottery: EU = (1 - p) EU_j + p U(home, less the fee) (:func:`irregular_utility`).
    Regions it would prefer but cannot reach across a border are tracked apart.

    Returns the best region (-1: none), its EU, the migration cost, the irregular fee (0
    unless irregular), and the best EU and region among those across a border it cannot
    cross (-inf, -1: none).
    """
    flooded, ratio = risk
    b = ctx.config.behaviour
    h, r = b.horizon_years, b.discount_rate
    dist, index = ctx.inputs.distance_km, ctx.levers.income_index
    reach = ((dist <= ctx.config.placement.max_distance_km) & ~np.eye(dist.shape[0], dtype=bool)
             & (world.persons.sum(axis=1) > 0)[None, :])
    reach_to = np.ascontiguousarray(reach.T)  # row j: which origins reach j
    index_home = index[home]
    p = beta / ctx.information_return_period
    cls = world.households.building_class[ids]
    selling = b.migration_cost_asset_share * assets  # selling and buying home, land, business
    best = np.full(home.size, -1)
    best_eu = np.full(home.size, -np.inf)
    best_cost = np.full(home.size, np.inf)
    best_fee = np.zeros(home.size)
    blocked_eu, blocked_to = np.full(home.size, -np.inf), np.full(home.size, -1)
    bd = ctx.levers.borders
    policy = policy_now(ctx, t) if bd.international else None
    terms = {}  # by destination country: the same for all its regions
    home_npv = None
    fee = np.zeros(home.size)
    for j in range(dist.shape[0]):  # a loop over regions, never over households
        ok = reach_to[j][home]
        if not ok.any():
            continue
        if policy is not None:
            c = int(bd.country_of_region[j])
            if c not in terms:
                terms[c] = destination_terms(world, ctx, ids, home, c, policy)
            passable, fee, irregular = terms[c]
            blocked, ok = ok & ~passable, ok & passable
        cost = migration_cost(dist[:, j], b.migration_cost_max)[home]  # per origin, then theirs
        y = income * index[j] / index_home
        u_dry = log_utility(npv(wealth, y, 0.0, 0.0, h, r, 0) - cost - selling - fee, floor)
        eu = u_dry
        if flooded[j] > 0:
            u_hit = log_utility(npv(wealth, y, ratio[j, cls] * house, 0.0, h, r, 0) - cost
                                - selling, floor)
            eu = flooded[j] * expected_utility(u_hit, p, u_dry) + (1.0 - flooded[j]) * u_dry
        if policy is not None:
            wish = blocked & (eu > blocked_eu)
            blocked_eu[wish], blocked_to[wish] = eu[wish], j
            if irregular.any():
                if home_npv is None:  # staying home, as when sent back (fee aside)
                    home_npv = npv(wealth, income, 0.0, 0.0, h, r, 0)
                u_back = log_utility(home_npv - fee, floor)
                eu = np.where(irregular, irregular_utility(eu, u_back, bd.failure_share), eu)
        eu = np.where(ok, eu, -np.inf)
        better = eu > best_eu
        best[better], best_eu[better], best_cost[better] = j, eu[better], cost[better]
        best_fee[better] = fee[better]
    return best, best_eu, best_cost, best_fee, blocked_eu, blocked_to

"""Step 6, return: evacuees go home when dry; the displaced once their home is repaired.

Evacuees return once their home is dry after the day their warning forecast. A home that stays
wet longer than ``home_lost_after_wet_days`` after its household left is lost: damage 1, and an
evacuee becomes displaced. A displaced household whose home is dry waits for a builder where
the region's reconstruction capacity (homes started per month, a lever) is short — first
displaced, first served — and then gets a repair time (damage × ``repair_days_total_loss`` with
a spread, divided by the region's reconstruction rate, at least ``min_days_away``); when it is
due the household returns, or after repeated shocks settles where it stays with the probability
of :func:`~simulator.rules.behaviour.return_probability` (Entwisle et al. 2020): it leaves its
temporary place and makes a new home in that region (``relocated``, a resident there), if anyone
lives there (a camp-only location has no dwellings; its households return instead).
"""

from __future__ import annotations

import numpy as np

from simulator.rules.behaviour import return_probability
from simulator.rules.impacts import repair_days
from simulator.rules.utility import repair_wait_years
from simulator.states import NO_STEP, WAITING, Move, State
from simulator.steps.context import Context
from simulator.steps.displace import book_damage, force_out
from simulator.steps.record import count_episodes
from simulator.steps.relocate import DAYS_PER_YEAR, move
from simulator.world.ledger import World


def return_home(world: World, ctx: Context, t: int, depth: np.ndarray) -> None:
    """Bring evacuees and repaired displaced households home at step ``t`` (or settle them)."""
    if world.away_ids.size == 0:
        return
    quiet = ctx.inputs.hazard.step_max[t] < ctx.kind.clear_below and ctx.inputs.prescribed is None
    if quiet and t < world.idle_until and not ctx.plain_placement:
        return  # nobody is due before idle_until, and nobody left home since it was set
    world.idle_until = -1
    _return_home(world, ctx, t, depth, quiet)
    if quiet:
        world.idle_until = _idle_until(world)


def _idle_until(world: World) -> int:
    """The first step anyone away could come home if only time passes (-1: any step).

    Evacuees, and displaced households without a repair date (not yet dry, or waiting for a
    builder), may come home or be scheduled at any dry step; otherwise the earliest repair date.
    Leaving home clears it (:meth:`World.leave_home`); it is set only on dry steps, so damage
    at a wet step cannot change a date it relied on.
    """
    hh = world.households
    ids = world.away_ids
    if ids.size == 0:
        return -1
    due = hh.due_step[ids]
    if (due < 0).any() or (hh.state[ids] == State.EVACUATED).any():
        return -1
    return int(due.min())


def _watched(world: World, ctx: Context, t: int, depth: np.ndarray,
             quiet: bool) -> tuple[np.ndarray, bool]:
    """Those away whose state can change at step ``t``: all, or fewer where homes stay wet.

    Where every home cell of a sleeper (:func:`_sleep`) is wet, the sleepers cannot change;
    where every away household's home cell is wet, only a home lost can happen, to households
    away at least ``home_lost_after_wet_days``: a head of the awake, who left home in order.
    Exact for homes that are wet or dry as a whole cell (no flooded fraction), else everyone.

    Returns:
        The households, in the order they left home, and whether they are only that head.
    """
    if _everyone(ctx, t, quiet):
        world.watch.wake_all()
        return world.away_ids, False
    dry = depth < ctx.kind.clear_below
    if (world.watch.sleep_cells & dry).any():
        world.watch.wake_all()
    ids = world.watched_ids
    if (world.watch.away_cells & dry).any():
        return ids, False
    return ids[:_lost_head(world, ctx, t)], True


def _everyone(ctx: Context, t: int, quiet: bool) -> bool:
    """Whether step ``t`` looks at everyone away and nobody sleeps.

    On a quiet step (every home dry), on the plain path (``plain_placement``, which the tests
    compare with), and where homes are wet by a flooded fraction rather than as a whole cell.
    """
    return quiet or ctx.plain_placement or ctx.inputs.hazard.fraction_at(t) is not None


def _lost_head(world: World, ctx: Context, t: int) -> int:
    """How many of the awake (in the order they left home) left long enough ago to lose it."""
    limit = ctx.config.return_.home_lost_after_wet_days
    since = world.watch.awake_since
    if limit is None:
        return 0
    if since is None:
        since = world.households.since_step[world.away_ids]
    step_days = ctx.config.step_days
    k = int(np.ceil(limit / step_days))  # the fewest steps k with k * step_days >= limit
    while k > 0 and (k - 1) * step_days >= limit:
        k -= 1
    while k * step_days < limit:
        k += 1
    return int(np.searchsorted(since, t - k, side="right"))


def _sleep(world: World, ctx: Context, n: int, depth: np.ndarray) -> None:
    """The first ``n`` watched who cannot change while their home is wet sleep.

    Displaced, with their home lost (damage 1) and no repair date, in a wet home cell: a
    lost home is not lost again, the repairs wait for a dry home, and only the impact step
    could give them a repair date, and then only none (:func:`_watched` wakes them when a
    cell of theirs dries).
    """
    hh = world.households
    ids = world.watched_ids[:n]
    asleep = ((hh.state[ids] == State.DISPLACED) & (hh.damage[ids] >= 1.0)
              & (hh.due_step[ids] == NO_STEP) & (depth[hh.cell[ids]] >= ctx.kind.clear_below))
    world.watch.put_to_sleep(hh, world.away_ids, n, asleep)


def _return_home(world: World, ctx: Context, t: int, depth: np.ndarray, quiet: bool) -> None:
    ids, head = _watched(world, ctx, t, depth, quiet)
    _step_return(world, ctx, t, depth, quiet, ids)
    if _everyone(ctx, t, quiet):
        return
    _sleep(world, ctx, _lost_head(world, ctx, t) if head else world.watched_ids.size, depth)


def _step_return(world: World, ctx: Context, t: int, depth: np.ndarray, quiet: bool,
                 ids: np.ndarray) -> None:
    """Return, settle or lose the homes of ``ids`` (away, in the order they left home)."""
    hh = world.households
    if quiet:  # nowhere wet: all homes dry
        dry = np.ones(ids.size, dtype=bool)
    else:
        dry = ctx.home_depth(world, ids, depth, ctx.inputs.hazard.fraction_at(t)) \
            < ctx.kind.clear_below
    _lose_wet_homes(world, ctx, t, ids[~dry])
    evac = hh.state[ids] == State.EVACUATED
    evac_back = ids[evac & dry & (t > hh.warned_step[ids] + ctx.lead_steps)] if evac.any() \
        else ids[:0]
    disp_dry = dry & ~evac
    due_step = hh.due_step[ids]
    ready = disp_dry & (due_step < 0)
    _queue_repairs(world, ctx, t, ids[ready])
    due_step[ready] = hh.due_step[ids[ready]]  # as scheduled now
    due = ids[disp_dry & (due_step >= 0) & (due_step <= t)]
    if due.size == 0 and evac_back.size == 0:
        return  # nobody comes home or settles
    settle = ctx.streams.uniform("settle", t, due) >= return_probability(
        hh.shocks[due], ctx.config.return_.repeated_shock_penalty)
    settle &= ctx.region_has_homes[hh.stay_region[due]]  # a dwelling to settle in
    back = np.concatenate([evac_back, due[~settle]])
    stay = due[settle]
    world.vacate(back)
    world.vacate(stay)
    world.flow(hh.stay_region[back], hh.region[back], hh.size[back])
    rec = world.recorder
    np.add.at(rec.returns[t], hh.region[due[~settle]], hh.size[due[~settle]])
    np.add.at(rec.settled[t], hh.region[stay], hh.size[stay])
    # displacement episodes ending now, by return or by settling
    count_episodes(rec.durations, rec.durations_by_tenure, world, ctx, due, t)
    world.come_home(evac_back, world.home_state(evac_back))
    world.come_home(due[~settle], State.RETURNED)
    world.end_away(np.concatenate([back, stay]))
    move(world, ctx, t, stay, hh.stay_region[stay].astype(np.int64), Move.SETTLED)


def _lose_wet_homes(world: World, ctx: Context, t: int, wet: np.ndarray) -> None:
    """Homes of ``wet`` (away, home still wet) wet for too long since they left are lost."""
    limit = ctx.config.return_.home_lost_after_wet_days
    if limit is None or wet.size == 0:
        return
    hh = world.households
    lost = wet[(t - hh.since_step[wet]) * ctx.config.step_days >= limit]
    if lost.size == 0:
        return
    whole = lost[hh.damage[lost] < 1.0]  # a home lost already costs nothing more
    book_damage(world, ctx, t, whole, np.ones(whole.size, dtype=np.float32))
    evacuees = lost[hh.state[lost] == State.EVACUATED]
    if evacuees.size:  # an evacuee whose home is lost is displaced
        force_out(world, ctx, t, evacuees)


def _queue_repairs(world: World, ctx: Context, t: int, ready: np.ndarray) -> None:
    """Start the repairs of ``ready`` (displaced, home dry, not started) as builders allow.

    Each step a region's builders can start ``reconstruction_homes_per_month`` × step_days /
    30.44 homes (a fraction carries to the next step; idle capacity does not accumulate).
    Households wait (``due_step`` = WAITING) in order of when they were displaced, owners
    before renters: landlords repair rental homes after owners repair their own, so rental
    housing recovers more slowly (Peacock, Van Zandt, Zhang & Highfield 2014, J. Am. Plann.
    Assoc. 80:356-371; Lee & Van Zandt 2019, J. Plann. Lit. 34:156-170, review renters' longer
    displacement). Without renters (``population.renter_share`` 0) the order is by time alone.
    """
    if ready.size == 0:
        return
    world.repairs_dated = True
    hh, levers = world.households, ctx.levers
    limit = levers.reconstruction_homes_per_month
    free = ~np.isfinite(limit[hh.region[ready]])
    _schedule_repairs(world, ctx, t, ready[free])
    ready = ready[~free]
    if ready.size == 0:
        return
    per_step = limit * ctx.config.step_days / (365.25 / 12)
    world.repair_budget = np.where(np.isfinite(per_step),
                                   np.minimum(world.repair_budget, 1.0) + per_step, 0.0)
    order = np.lexsort((ready, hh.since_step[ready], ctx.renters(ready), hh.region[ready]))
    ready = ready[order]
    region = hh.region[ready].astype(np.int64)
    rank = np.arange(ready.size) - np.searchsorted(region, region)  # place in its region's queue
    start = rank < np.floor(world.repair_budget[region])
    np.subtract.at(world.repair_budget, region[start], 1.0)
    hh.due_step[ready[~start]] = WAITING
    _schedule_repairs(world, ctx, t, ready[start])


def _funding_days(world: World, ctx: Context, ids: np.ndarray, share: float) -> np.ndarray:
    """Days ``ids`` need to fund their repairs (:func:`repair_wait_years`).

    Owners pay from their savings (spent), a loan and their income. A rented home is repaired
    by its landlord, taken as an owner of the median income with the typical savings (an
    assumption: landlords are not modelled), so a renter's own poverty does not hold up the
    repair, and the landlord's money is not tracked from one repair to the next.
    """
    hh, b, pop = world.households, ctx.config.behaviour, ctx.config.population
    renter = ctx.renters(ids)
    income = np.where(renter, pop.income_median_per_year, hh.income[ids].astype(float))
    cost = hh.damage[ids].astype(float) * ctx.assets_and_home(world, ids, income)[1]
    savings = np.where(renter, pop.savings_income_ratio * income, hh.savings[ids].astype(float))
    wait = repair_wait_years(cost, savings, income, b.adaptation_max_income_share,
                             b.loan_interest_rate, b.loan_years, share)
    owners = ids[~renter]
    hh.savings[owners] = np.maximum(savings[~renter] - cost[~renter], 0.0).astype(np.float32)
    return wait * DAYS_PER_YEAR


def _schedule_repairs(world: World, ctx: Context, t: int, ids: np.ndarray) -> None:
    """Give ``ids`` (displaced, home dry, no repair date yet) the step they can return."""
    if ids.size == 0:
        return
    hh, ret, step_days = world.households, ctx.config.return_, ctx.config.step_days
    days = repair_days(hh.damage[ids], ret.repair_days_total_loss, ret.repair_time_spread,
                       ctx.streams.uniform("return", t, ids))
    days = days / ctx.levers.reconstruction_rate[hh.region[ids]]
    if ret.repair_income_share is not None:  # the money first: savings, a loan, then saving
        days = days + _funding_days(world, ctx, ids, ret.repair_income_share)
    days = np.maximum(days, ret.min_days_away - (t - hh.since_step[ids]) * step_days)
    due = t + np.ceil(days / step_days)
    hh.due_step[ids] = np.minimum(due, ctx.config.n_steps + 1)  # past the end: never

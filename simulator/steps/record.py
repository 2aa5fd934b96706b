"""Step 7, record: copy this step's counters into the preallocated result arrays.

The counters are exact already (kept on every transition by the :class:`World`); recording costs
the regions and the households away from home, never a recount of everyone.
"""

from __future__ import annotations

import numpy as np

from simulator.states import NO_PLACE, Place, State
from simulator.steps.context import Context
from simulator.steps.relocate import DAYS_PER_YEAR
from simulator.world.ledger import World
from simulator.world.tally import count

#: Protracted displacement is reported beyond these lengths (days): 3, 6 and 12 months.
PROTRACTED_DAYS = (90, 180, 365)


def record(world: World, ctx: Context, t: int, depth: np.ndarray) -> None:
    """Store the end-of-step stocks of step ``t``; flows were added during the step."""
    hh, rec = world.households, world.recorder
    n_regions = world.persons.shape[0]
    seeks_places = bool({"shelter", "camp"} & set(ctx.config.placement.cascade))
    unmet = world.occupancy[:, Place.UNSHELTERED] if seeks_places else 0
    rec.record(t, world.persons, world.occupancy, world.capacity, unmet)
    rec.persons_by_group[t] = world.persons_by_group
    rec.unsheltered_by_group[t] = world.unsheltered_by_group
    away = world.away_ids
    rec.income_forgone_away[t] = income_forgone(world, ctx, n_regions)
    for j, limit in enumerate(PROTRACTED_DAYS):
        rec.protracted[t, :, j] = world.protracted(t, limit, ctx.config.step_days)
    if ctx.inputs.hazard.step_max[t] > 0:
        np.maximum.at(rec.hazard_max[t], ctx.inputs.cell_region, depth)
    going = None
    if world.walkers is not None:  # on a link, counted where it starts
        going = away[world.walkers.link[away] >= 0]
    elif hh.arrive_step is not None:  # on the way to the place they hold
        going = on_their_way(world, ctx, t)
    if going is not None:
        count(rec.in_transit[t], hh.stay_region[going], hh.place[going], hh.size[going], +1)


def income_forgone(world: World, ctx: Context, n_regions: int) -> np.ndarray:
    """Income forgone this step by those away, by home region (currency).

    The sum over :attr:`World.away_ids` in its order, as ``np.bincount`` adds: while
    households only join it (at its end) and incomes do not change, the sums of the last step
    go on with the newcomers (``np.add.at`` adds in order too), the same floating-point sums.
    """
    hh, away = world.households, world.away_ids
    years = ctx.config.step_days / DAYS_PER_YEAR
    kept = world.forgone
    if (kept is None or kept[0] != world.away_epoch or ctx.inputs.income_growth is not None
            or ctx.plain_placement):
        sums = np.bincount(hh.region[away], hh.income[away].astype(np.float64) * years,
                           n_regions).astype(np.float64)  # (integer zeros if none is away)
    else:
        sums, new = kept[2], away[kept[1]:]
        np.add.at(sums, hh.region[new], hh.income[new].astype(np.float64) * years)
    world.forgone = (world.away_epoch, away.size, sums)
    return sums.copy()


def on_their_way(world: World, ctx: Context, t: int) -> np.ndarray:
    """Those away whose ``arrive_step`` is after ``t`` (direct movement).

    Found among those on their way at the last record step and those given a place since
    (:attr:`World.going`), not among everyone away (``plain_placement``: among everyone).
    """
    hh, away = world.households, world.away_ids
    if ctx.plain_placement:
        going = away[hh.arrive_step[away] > t]
    else:
        maybe = np.unique(np.concatenate([world.going, *world.placed_since]))
        going = maybe[(hh.arrive_step[maybe] > t) & (hh.place[maybe] != NO_PLACE)]
    world.going, world.placed_since = going, []
    return going


def count_episodes(by_region: np.ndarray, by_tenure: np.ndarray, world: World, ctx: Context,
                   ids: np.ndarray, t: int) -> None:
    """Add the persons of ``ids``' displacement episodes, by their length at step ``t``.

    To ``by_region`` (as ``durations``: home region x steps) and ``by_tenure`` (as
    ``durations_by_tenure``: owner or renter x steps).
    """
    hh = world.households
    steps, size = t - hh.since_step[ids], hh.size[ids]
    np.add.at(by_region, (hh.region[ids], steps), size)
    np.add.at(by_tenure, (ctx.renters(ids).astype(np.int64), steps), size)


def open_durations(world: World, ctx: Context, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Persons by length so far (steps) of displacement episodes still open at ``t``.

    Returns:
        By region (as ``durations``) and by tenure (as ``durations_by_tenure``).
    """
    hh, ids, rec = world.households, world.away_ids, world.recorder
    by_region, by_tenure = np.zeros_like(rec.durations), np.zeros_like(rec.durations_by_tenure)
    count_episodes(by_region, by_tenure, world, ctx, ids[hh.state[ids] == State.DISPLACED], t)
    return by_region, by_tenure

"""Step 7, record: copy this step's counters into the preallocated result arrays.

The counters are exact already (kept on every transition by the :class:`World`); recording costs
the regions and the households away from home, never a recount of everyone.
"""

from __future__ import annotations

import numpy as np

from simulator.states import Place, State
from simulator.steps.context import Context
from simulator.steps.relocate import DAYS_PER_YEAR
from simulator.world.ledger import World, count

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
    years = ctx.config.step_days / DAYS_PER_YEAR
    rec.income_forgone_away[t] = np.bincount(
        hh.region[away], hh.income[away].astype(np.float64) * years, n_regions)
    for j, limit in enumerate(PROTRACTED_DAYS):
        rec.protracted[t, :, j] = world.protracted(t, limit, ctx.config.step_days)
    if ctx.inputs.hazard.step_max[t] > 0:
        np.maximum.at(rec.hazard_max[t], ctx.inputs.cell_region, depth)
    going = None
    if world.walkers is not None:  # on a link, counted where it starts
        going = away[world.walkers.link[away] >= 0]
    elif hh.arrive_step is not None:  # on the way to the place they hold
        going = away[hh.arrive_step[away] > t]
    if going is not None:
        count(rec.in_transit[t], hh.stay_region[going], hh.place[going], hh.size[going], +1)


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

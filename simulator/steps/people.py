"""People change over the decades: incomes grow, and some move for reasons other than the hazard.

Incomes grow by the region's (or country's) share for the year at the first step of each new
calendar year (``people.income_growth_file``: e.g. SSP GDP-per-capita growth). A share of the
households at home moves every year for other reasons (work, family, study): background
migration, to a region of their own country chosen by a gravity model, so that the moves a
climate scenario adds can be measured against it. Both read only the present.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from simulator.rules.behaviour import background_weights
from simulator.rules.placement import choose_destination
from simulator.states import Move
from simulator.steps.context import Context
from simulator.steps.decide import CHUNK, deciding
from simulator.steps.relocate import DAYS_PER_YEAR, move
from simulator.world.ledger import World


def year_starts(ctx: Context, t: int) -> int | None:
    """The calendar year that starts at step ``t`` (None if ``t`` is not its first step)."""
    cfg = ctx.config
    if t == 0:
        return None
    day = cfg.start_date + dt.timedelta(days=t * cfg.step_days)
    before = cfg.start_date + dt.timedelta(days=(t - 1) * cfg.step_days)
    return day.year if day.year != before.year else None


def growth_now(ctx: Context, growth: tuple[np.ndarray, np.ndarray] | None,
               t: int) -> tuple[int, np.ndarray] | None:
    """The year starting at step ``t`` and its per-region row of a yearly growth table.

    None when there is no table or ``t`` starts no new calendar year.
    """
    year = year_starts(ctx, t) if growth is not None else None
    if year is None:
        return None
    years, table = growth
    return year, table[int(np.searchsorted(years, year))]


def grow_incomes(world: World, ctx: Context, t: int) -> None:
    """Multiply every household's income by 1 + its region's growth for the year starting now."""
    now = growth_now(ctx, ctx.inputs.income_growth, t)
    if now is None:
        return
    factor = (1.0 + now[1]).astype(np.float32)
    hh = world.households
    hh.income *= factor[hh.region]


def background_moves(world: World, ctx: Context, t: int) -> None:
    """A share of the households at home moves for reasons other than the hazard.

    Each household at home moves with probability 1 - (1 - m)^(interval in years), m =
    ``people.background_migration_per_year`` (stream ``background``), to a region of its own
    country drawn with weights P_j^a / d_ij^b (:func:`background_weights`, stream
    ``background_destination``); it becomes a resident there (``relocations`` cause
    ``background``) without a cost in the model (its reasons lie outside it).
    """
    p = ctx.config.people
    if p.background_migration_per_year <= 0:
        return
    hh = world.households
    years = ctx.config.behaviour.decision_interval_days / DAYS_PER_YEAR
    share = 1.0 - (1.0 - p.background_migration_per_year) ** years
    ids = deciding(world)
    ids = np.concatenate([part[ctx.streams.uniform("background", t, part) < share]
                          for part in np.split(ids, range(CHUNK, ids.size, CHUNK))])
    if ids.size == 0:
        return
    country = ctx.levers.borders.country_of_region
    w = background_weights(world.persons.sum(axis=1).astype(float), ctx.inputs.distance_km,
                           country, p.background_population_exponent,
                           p.background_distance_exponent,
                           ctx.config.placement.max_distance_km)
    origin = hh.region[ids].astype(np.int64)
    dest = choose_destination(origin, w, ctx.streams.uniform("background_destination", t, ids))
    go = dest >= 0
    ids, origin, dest = ids[go], origin[go], dest[go]
    world.flow(origin, dest, hh.size[ids])
    move(world, ctx, t, ids, dest, Move.BACKGROUND)

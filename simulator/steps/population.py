"""Population growth: persons born into, or leaving, households at home once a year.

At the first step of each new calendar year, region r's residents change by its share g_r for
the year (``people.population_growth_file``, e.g. SSP population projections): P_r grows to
P_r (1 + g_r) in expectation (:mod:`simulator.rules.demography`).

- g_r > 0, **births**: every household at home gains Binomial(size, p_r) newborns (age 0-4; a
  girl with probability 1 / 2.05), p_r = g_r P_r / (persons at home in r).
- g_r < 0, **deaths and net emigration**: every household at home loses Binomial(size - 1,
  q_r) members, q_r = |g_r| P_r / (persons at home in r beyond one per household), each one a
  member other than the head drawn with equal chance (a member with a disability with the
  household's share); a household never falls below one person and never disappears.

Households keep their ids and no array grows: the arrays stay compact, memory stays flat in the
number of years, and draws keyed by (seed, year, household id) make reruns bit-identical and
keep common random numbers between scenarios. Households away (evacuated or displaced) keep
their size while away; the rate of those at home makes up for them (``person_rate``). Sizes
are capped at 255 persons (uint8). Births and deaths are recorded by home region.
"""

from __future__ import annotations

import numpy as np

from simulator.rules.demography import (
    GIRL_SHARE_AT_BIRTH,
    binomial_draws,
    person_rate,
    pick_member,
)
from simulator.states import AT_HOME_STATES
from simulator.steps.context import Context
from simulator.steps.decide import CHUNK, at_home
from simulator.steps.people import growth_now
from simulator.world.ledger import World

#: Column of the head in ``Households.members`` by head type (male, female 18-59); an older
#: head (type 2) is a woman 60+ (column 3) when the household has one, else a man 60+ (7).
HEAD_COLUMN = (6, 2)
#: Pseudo-steps of the ``deaths`` streams per year: the j-th leaver of a household draws at
#: year * DRAWS_PER_YEAR + j (a household has at most 254 leavers).
DRAWS_PER_YEAR = 256
MAX_SIZE = 255  #: persons a household can hold (``size`` is uint8)


def grow_population(world: World, ctx: Context, t: int) -> None:
    """Births and deaths for the year starting at step ``t`` (module docstring)."""
    now = growth_now(ctx, ctx.inputs.population_growth, t)
    if now is None:
        return
    year, g = now
    hh = world.households
    ids = at_home(world)
    n_regions = world.persons.shape[0]
    home_persons = world.persons[:, list(AT_HOME_STATES)].sum(axis=1)
    homes = np.bincount(hh.region[ids], minlength=n_regions)
    residents = world.persons.sum(axis=1)
    p_birth = person_rate(np.maximum(g, 0.0), residents, home_persons)
    p_loss = person_rate(np.maximum(-g, 0.0), residents, home_persons - homes)
    for part in np.split(ids, range(CHUNK, ids.size, CHUNK)):
        _change(world, ctx, t, year, part.astype(np.int64), p_birth, p_loss)


def _change(world: World, ctx: Context, t: int, year: int, ids: np.ndarray,
            p_birth: np.ndarray, p_loss: np.ndarray) -> None:
    """Draw and apply the year's births and losses of households ``ids`` (all at home)."""
    hh = world.households
    region, size = hh.region[ids], hh.size[ids].astype(np.int64)
    u = ctx.streams.uniform("births", year, ids)
    born = np.minimum(binomial_draws(size, p_birth[region], u), MAX_SIZE - size)
    lost = binomial_draws(size - 1, p_loss[region], u)  # one of the two is 0 in every region
    n_regions = world.persons.shape[0]
    world.recorder.births[t] += np.bincount(region, born, n_regions).astype(np.int64)
    world.recorder.deaths[t] += np.bincount(region, lost, n_regions).astype(np.int64)
    change = (born > 0) | (lost > 0)
    if not change.any():
        return
    ids, born, lost = ids[change], born[change], lost[change]
    members, disabled = hh.members[ids].astype(np.int64), hh.disabled[ids].astype(np.int64)
    girls = binomial_draws(born, GIRL_SHARE_AT_BIRTH, ctx.streams.uniform("births_sex", year,
                                                                          ids))
    members[:, 0] += girls
    members[:, 4] += born - girls
    _remove(members, disabled, hh.head_type[ids], lost, ids, year, ctx)
    world.resize(ids, members.astype(np.uint8), disabled.astype(np.uint8))


def _remove(members: np.ndarray, disabled: np.ndarray, head_type: np.ndarray,
            lost: np.ndarray, ids: np.ndarray, year: int, ctx: Context) -> None:
    """Take ``lost`` members (not the head) out of each household's ``members``, in place."""
    rows = np.arange(ids.size)
    older = np.where(members[:, 3] > 0, 3, 7)
    head = np.where(head_type == 2, older, np.choose(np.minimum(head_type, 1), HEAD_COLUMN))
    for j in range(int(lost.max(initial=0))):  # a loop over the j-th leaver, not households
        r = rows[lost > j]
        can = members[r].copy()
        can[np.arange(r.size), head[r]] = np.maximum(can[np.arange(r.size), head[r]] - 1, 0)
        step = year * DRAWS_PER_YEAR + j
        col = pick_member(can, ctx.streams.uniform("deaths", step, ids[r]))
        ok = col >= 0
        r, col = r[ok], col[ok]
        size = members[r].sum(axis=1)
        was_disabled = ctx.streams.uniform("deaths_disability", step, ids[r]) * size < \
            disabled[r]
        members[r, col] -= 1
        disabled[r] -= was_disabled

"""Step 5, place: displaced and evacuated households go down the place cascade.

The cascade (``placement.cascade``, default host → rental → shelter → camp): host with kin in
the household's tie region; rental if its income allows; public shelter and camps only for those
who seek them (Hazus shares by income quintile), the others arrange their own
(``self_arranged``); each place first in the home region, then in another chosen by gravity
weights; admission by :func:`~simulator.rules.placement.admit` (random priority, Flee's soft cap,
never over capacity); whoever is left is ``unsheltered`` and looks again in later steps.
Whoever seeks a place in a region and is not admitted there is counted in ``turned_away``
(also under the soft cap, when the place is not yet full).
"""

from __future__ import annotations

import numpy as np

from simulator.rules.behaviour import income_quintile, seeks_public_shelter
from simulator.rules.placement import gravity_weights
from simulator.states import CAPACITY_PLACES, RAMPED, Place, State
from simulator.steps.context import Context
from simulator.steps.cross import permit_displaced, settle_displaced
from simulator.steps.screen import admit_drawn, destinations
from simulator.steps.walk import set_off, walk
from simulator.world.ledger import World


def place_unsheltered(world: World, ctx: Context, t: int) -> None:
    """Open this step's places; the unsheltered from earlier steps look for a place again."""
    residents = world.persons.sum(axis=1)
    displaced = world.persons[:, State.DISPLACED] / np.maximum(residents, 1)
    world.places.open(t, displaced, world.occupancy, _closed_sites(world, ctx, t))
    _leave_closed_places(world, ctx, t)
    if ctx.walk is not None:  # placement.movement = "routes": everyone away walks
        walk(world, ctx, t)
        return
    hh = world.households
    ids = world.away_ids[hh.place[world.away_ids] == Place.UNSHELTERED]
    ids = ids[hh.since_step[ids] < t]  # the newly displaced were placed this step
    cascade = [Place[p.upper()] for p in ctx.config.placement.cascade]
    if ids.size and (world.capacity[:, cascade] > world.occupancy[:, cascade]).any():
        seek(world, ctx, ids, t, newly=False)


def _closed_sites(world: World, ctx: Context, t: int) -> np.ndarray | None:
    """(region, place) persons of point sites whose location is flooded at step ``t``."""
    sites = ctx.inputs.sites
    if sites is None:
        return None
    shut = ctx.intensity(t)[sites.cell] >= ctx.config.capacity.site_closes_above_m
    closed = np.zeros_like(world.places.full)
    np.add.at(closed, (sites.region[shut], sites.place[shut]), sites.places[shut])
    return closed


def _leave_closed_places(world: World, ctx: Context, t: int) -> None:
    """Where a closed site leaves fewer places than occupants, the excess leave and look again.

    Whole households leave, in random order, until the rest fit (stream ``evict``).
    """
    over = world.occupancy[:, :len(CAPACITY_PLACES)] - world.capacity[:, :len(CAPACITY_PLACES)]
    if not (over > 0).any():
        return
    hh = world.households
    ids = world.away_ids
    leave = []
    for r, p in zip(*np.nonzero(over > 0)):
        here = ids[(hh.stay_region[ids] == r) & (hh.place[ids] == p)]
        here = here[np.argsort(ctx.streams.uniform("evict", t, here), kind="stable")]
        persons = np.cumsum(hh.size[here].astype(np.int64))
        leave.append(here[:int(np.searchsorted(persons, over[r, p])) + 1])
    seek(world, ctx, np.concatenate(leave), t, newly=False)


def seek(world: World, ctx: Context, ids: np.ndarray, t: int, newly: bool) -> None:
    """Place ``ids`` down the cascade (``newly``: they just left home, else they look again)."""
    with ctx.profiler.phase("place"):
        _seek(world, ctx, ids, t, newly)


def _seek(world: World, ctx: Context, ids: np.ndarray, t: int, newly: bool) -> None:
    hh, cfg = world.households, ctx.config.placement
    if ids.size == 0:
        return
    if ctx.walk is not None:
        _set_off(world, ctx, ids, t, newly)
        return
    home, size = hh.region[ids].astype(np.int64), hh.size[ids]
    # the unsheltered at home who stay so are left where they are counted (their vacating and
    # occupying would cancel; no admission reads the unsheltered's occupancy)
    out = np.zeros(ids.size, dtype=bool)
    if newly:
        world.places.start_response(t)  # the response starts at the first departure anywhere
    else:
        if not ctx.plain_placement:
            out = (hh.place[ids] == Place.UNSHELTERED) & (hh.stay_region[ids] == home)
        world.vacate(ids[~out])
    region = home.copy()
    place = np.full(ids.size, Place.UNSHELTERED, dtype=np.uint8)
    pending = np.ones(ids.size, dtype=bool)
    # one draw per household and displacement episode; the unsheltered drew it already and
    # seek (or the cascade has no public shelter, where it is not used)
    seeker = out.copy()
    seeker[~out] = _seekers(world, ctx, ids[~out])
    for k, name in enumerate(cfg.cascade):
        p = Place[name.upper()]
        if p in RAMPED:  # Hazus: households not seeking public shelter arrange their own
            own = pending & ~seeker
            region[own], place[own], pending[own] = home[own], Place.SELF_ARRANGED, False
        eligible = pending.copy()
        if p == Place.RENTAL:
            eligible &= hh.income[ids] >= cfg.rental_min_income_per_year
        _admit_place(world, ctx, ids, size, t, k, p, eligible, home, region, place, pending,
                     newly)
    moved = newly | (place != Place.UNSHELTERED)
    world.vacate(ids[out & moved])
    tail = ((place == Place.UNSHELTERED) & ~out) | (place == Place.SELF_ARRANGED)
    world.occupy(region[tail], place[tail], size[tail])
    world.flow(home[moved], region[moved], size[moved])
    change = ~out | moved
    world.stay(ids[change], region[change], place[change])


def _set_off(world: World, ctx: Context, ids: np.ndarray, t: int, newly: bool) -> None:
    """Routes movement: ``ids`` start walking from home (``newly``) or from where they stay.

    Only those who seek public shelter walk (the same draw as the cascade's); the others
    arrange their own at home.
    """
    if newly:
        world.places.start_response(t)
    else:
        world.vacate(ids)
    set_off(world, ctx, ids, _seekers(world, ctx, ids), t, newly)


def _seekers(world: World, ctx: Context, ids: np.ndarray) -> np.ndarray:
    """Whether each of ``ids`` seeks public shelter (Hazus shares by income quintile).

    One draw per household and displacement episode: stream ``shelter_seeking`` keyed by the
    step it left home.
    """
    hh = world.households
    return seeks_public_shelter(
        income_quintile(hh.income[ids], ctx.quintile_edges),
        ctx.streams.uniform("shelter_seeking", hh.since_step[ids], ids),
        ctx.config.placement.shelter_seeking_by_income_quintile)


def _admit_place(world: World, ctx: Context, ids: np.ndarray, size: np.ndarray, t: int, k: int,
                 p: int, eligible: np.ndarray, home: np.ndarray, region: np.ndarray,
                 place: np.ndarray, pending: np.ndarray, newly: bool = False) -> None:
    """Admit ``eligible`` households still ``pending`` to place ``p`` (cascade position ``k``).

    Host places are sought in the tie region only; other places in the home region, then in
    another region chosen by gravity weights over free places. A region in another country is
    open to them only by a route across the border
    (:func:`~simulator.steps.cross.permit_displaced`).
    """
    hh, cfg = world.households, ctx.config.placement
    cap, occ = world.capacity[:, p], world.occupancy[:, p]
    international = ctx.levers.borders.international
    attempts = ("ties",) if p == Place.HOST else ("home", "away")
    for attempt in attempts:
        sel = np.flatnonzero(eligible & pending)
        if sel.size == 0:
            return
        key = (t * 16 + k) * 2 + (attempt == "away")
        has_room = cap > occ  # this attempt's (admissions of the last one are counted in occ)
        if attempt == "away":
            if not has_room.any():
                return
            w = gravity_weights(ctx.inputs.distance_km, (cap - occ).astype(float),
                                cfg.distance_exponent, cfg.max_distance_km)
            dest = destinations(ctx, home[sel], w,
                                ctx.streams.uniform("destination", key, ids[sel]))
            sel, dest = _keep(dest >= 0, sel, dest)
        elif attempt == "home":  # every applicant is turned away here but the admitted
            dest, persons = home[sel], size[sel]
            world.turn_away(dest, p, persons)
            if not has_room.any():
                return
            sel, dest, persons = _keep(has_room[dest], sel, dest, persons)  # full: nobody in
        else:  # in the kin's region
            dest = hh.tie_region[ids[sel]].astype(np.int64)
            room = has_room[dest]  # a full region admits nobody
            if not room.all():
                full = ~room
                world.turn_away(dest[full], p, size[sel[full]])
                if not has_room.any():
                    return
                sel, dest = sel[room], dest[room]
        who = ids[sel]
        if attempt != "home":
            if international:
                permitted, route = permit_displaced(world, ctx, t, who, home[sel], dest, newly)
                sel, dest, route, who = _keep(permitted, sel, dest, route, who)
            persons = size[sel]
            world.turn_away(dest, p, persons)  # all who sought here, less the admitted below
        ok = admit_drawn(ctx, key, who, dest, persons, occ, cap)
        if attempt != "home" and international:
            settle_displaced(world, ctx, t, who, home[sel], dest, route, ok)
        got, there = sel[ok], dest[ok]
        # turned away: every applicant's persons by region, recorded above, less the
        # admitted's (exact sums of integers; the admitted are few)
        world.turn_away(there, p, persons[ok], sign=-1)
        region[got], place[got], pending[got] = there, p, False
        if hh.arrive_step is not None:  # on the way distance / speed days, from this step
            # as Flee: a day's travel arrives that day
            days = ctx.inputs.distance_km[home[got], there] / cfg.travel_speed_km_per_day
            hh.arrive_step[ids[got]] = t + np.maximum(
                np.ceil(days / ctx.config.step_days) - 1, 0)
        world.occupy(there, p, persons[ok])


def _keep(mask: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """``arrays`` where ``mask`` holds (the arrays themselves when it holds everywhere)."""
    if mask.all():
        return arrays
    return tuple(a[mask] for a in arrays)

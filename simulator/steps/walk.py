"""Placement by walking (``placement.movement = "routes"``): Flee's daily walk on the routes.

Displaced households do not pick a camp at once: they set off from home and, every day, walk
the links of ``regions.routes`` as Flee's agents do (flee/flee.py, ``Ecosystem.evolve``):

1. **Evolve**: a household at a location sets off with the location's move chance (conflict
   zones, camps, IDP camps, towns; :class:`~simulator.inputs.schema_routes.MoveChances`). With
   no planned route it plans one over the candidate routes from there, weighted by the
   destination's attraction, the route's length and the destination's fill
   (:mod:`simulator.rules.walk`). It steps onto the route's first link, unless the link is
   closed or the route ends at a camp that is nearly full (Flee's ``take_next_step`` and
   ``check_dest_is_full_camp``): then it forgets the route and stays.
2. **Finish travel**: everyone on a link covers the day's speed (``walk_speed_km_per_day`` on
   the first link when ``start_on_foot``). Who passes the link's end arrives (back at its start
   if the link closed meanwhile); who has moved less than the day's speed evolves again there
   (forced on from a town when ``avoid_short_stints`` finds it travelled too little) and, if it
   sets off, travels again the same day.

Arrivals at a camp are admitted while it has places (random order, stream ``walk_admit``;
capacity is never exceeded: Flee has no hard cap, so an arrival at a full camp here waits at
the camp unsheltered and is admitted when places free). Those in a camp leave it with the camp
move chance, as Flee's. A household on a link is counted unsheltered at the link's start;
crossing a border between countries is counted in ``cross_border`` (open borders only: a
closed border closes its links, as Flee's ``close_border``). On the first day, persons listed
in ``day0_camps`` go straight to those camps (Flee's ``insert_day0``).
"""

from __future__ import annotations

import numpy as np

from simulator.errors import InputError
from simulator.inputs.load import Inputs
from simulator.inputs.regions import read_links, read_location_types, read_names
from simulator.inputs.schema import Scenario
from simulator.inputs.schema_routes import LOCATION_TYPES
from simulator.rules.pathways import OPEN
from simulator.rules.placement import admit
from simulator.rules.walk import (
    candidate_routes,
    capacity_multiplier,
    flood_rules,
    forced_on,
    location_score,
    move_chance,
    pick,
    recent_travel,
    route_weight,
)
from simulator.states import HOME, Place
from simulator.steps.context import Context
from simulator.steps.cross import DISPLACEMENT, policy_now, record_crossings
from simulator.world.ledger import World
from simulator.world.walkers import NO_LINK, WalkPlan

TOWN, CONFLICT_ZONE, CAMP, IDPCAMP, FORWARD, MARKER, FLOOD_ZONE = range(len(LOCATION_TYPES))
MAX_LEGS_A_DAY = 64  #: links one household may finish in a day (Flee: no bound; ends anyway)


def plan_walk(config: Scenario, inputs: Inputs, camp_places: np.ndarray | None) -> WalkPlan:
    """The route network and every candidate route, from ``regions.routes`` and the types.

    A region's ``location_type`` comes from the regions table's optional column; without it
    a region with ``camp_places`` (persons; None: none known) is a camp, the others towns.
    """
    names = inputs.region_names
    n = len(names)
    a, b, km = read_links(config.regions.routes, names)
    keep = a != b  # a route from a place to itself leads nowhere
    a, b, km = a[keep], b[keep], km[keep]
    r = config.placement.routes
    if a.size == 0:
        raise InputError(config.regions.routes, "regions.routes: movement = \"routes\" walks "
                                                "the routes, and this file has none")
    if r.softening_km == 0 and (km == 0).any():
        raise InputError(inputs.source, "placement.routes.softening_km: a route of 0 km needs a "
                                      "softening above 0 (its weight would be infinite)")
    for camp in r.day0_camps:
        if camp not in names:
            raise InputError(inputs.source, f"placement.routes.day0_camps: {camp!r} is not a "
                                          f"region")
    start, end, dist = np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([km, km])
    types = None
    if config.regions.names is not None and config.regions.polygons is None:
        by_id = read_location_types(config.regions.names, LOCATION_TYPES)
        if by_id is not None:
            ids = sorted(read_names(config.regions.names))
            types = np.array([by_id[k] for k in ids], dtype=np.int64)
    if types is None:
        types = np.full(n, TOWN) if camp_places is None else np.where(camp_places > 0, CAMP,
                                                                       TOWN)
    country = np.asarray(inputs.region_country or ("all",) * n)
    origin, nodes, links, rdist = candidate_routes(
        n, start, end, dist, config.placement.routes.awareness_level, types == MARKER)
    key = start * n + end
    order = np.argsort(key, kind="stable")
    return WalkPlan(start=start, end=end, km=dist, link_key=key[order], link_order=order,
                    location_type=types, foreign=country != country[0], origin=origin,
                    nodes=nodes, links=links, dist=rdist,
                    route_end=nodes[np.arange(origin.size), (nodes >= 0).sum(axis=1) - 1],
                    segment_start=np.searchsorted(origin, np.arange(n + 1)),
                    **_closures(config, inputs.source, names, start, end))


def _closures(config: Scenario, source: str, names: list[str], start: np.ndarray,
              end: np.ndarray) -> dict[str, np.ndarray]:
    """``placement.routes.closures`` as (link or region, from, to) rows for the plan.

    Raises:
        InputError: for a name that is not a region, or a link closure between two regions no
            route joins.
    """
    links, camps = [], []
    for k, c in enumerate(config.placement.routes.closures):
        field = f"placement.routes.closures.{k}.names"
        where = []
        for name in c.names:
            if name not in names:
                raise InputError(source, f"{field}: {name!r} is not a region")
            where.append(names.index(name))
        if c.kind == "link":
            hit = np.flatnonzero(((start == where[0]) & (end == where[1]))
                                 | ((start == where[1]) & (end == where[0])))
            if hit.size == 0:
                raise InputError(source, f"{field}: no route joins {c.names[0]!r} and "
                                              f"{c.names[1]!r}")
        elif c.kind == "location":  # every link to and from it (Flee's close_location)
            hit = np.flatnonzero((start == where[0]) | (end == where[0]))
        else:
            hit = np.array(where)
        rows = links if c.kind != "camp" else camps
        rows += [(int(h), a, b) for a, b in c.closed_days for h in hit]
    out = {}
    for name, rows in (("link", links), ("camp", camps)):
        table = np.array(rows, dtype=np.int64).reshape(-1, 3)
        out[f"closed_{name}"], out[f"closed_{name}_from"], out[f"closed_{name}_to"] = table.T
    return out


def set_off(world: World, ctx: Context, ids: np.ndarray, seeker: np.ndarray, t: int,
            newly: bool) -> None:
    """``ids`` start walking: from home when ``newly`` displaced, else from where they stay.

    On the first day the newly displaced may go straight to a day-0 camp; the others (not
    ``newly``) were vacated by the caller (e.g. a closed site). ``seeker``: whether each seeks
    public shelter (the others arrange their own at home).
    """
    hh = world.households
    home = hh.region[ids].astype(np.int64)
    size = hh.size[ids]
    region = home.copy() if newly else hh.stay_region[ids].astype(np.int64)
    region[~seeker] = home[~seeker]
    place = np.where(seeker, Place.UNSHELTERED, Place.SELF_ARRANGED).astype(np.uint8)
    world.walkers.set_off(ids[seeker], newly)
    if newly and t == 0 and ctx.config.placement.routes.day0_camps:
        _day0(world, ctx, ids, seeker, region, place)
    world.occupy(region, place, size)
    if newly:
        world.flow(home, region, size)
    world.stay(ids, region, place)
    if hh.arrive_step is not None:
        hh.arrive_step[ids] = t


def _day0(world: World, ctx: Context, ids: np.ndarray, seeker: np.ndarray, region: np.ndarray,
          place: np.ndarray) -> None:
    """Put the first day's displaced into the ``day0_camps``.

    In random order (stream ``walk_day0``), each camp up to its persons and its places.
    """
    names = ctx.inputs.region_names
    hh = world.households
    order = np.flatnonzero(seeker)
    order = order[np.argsort(ctx.streams.uniform("walk_day0", 0, ids[order]), kind="stable")]
    persons = np.cumsum(hh.size[ids[order]].astype(np.int64))
    taken = 0
    for camp, wanted in ctx.config.placement.routes.day0_camps.items():
        r = names.index(camp)  # checked by plan_walk
        room = int(world.capacity[r, Place.CAMP] - world.occupancy[r, Place.CAMP])
        already = persons[taken - 1] if taken else 0
        until = int(np.searchsorted(persons, already + min(wanted, room), side="right"))
        sel = order[taken:until]
        region[sel], place[sel] = r, Place.CAMP
        taken = until


def track_conflicts(world: World, ctx: Context, t: int) -> None:
    """Record step ``t``'s hazard level per region (its cells' highest) in ``world.conflicts``.

    Flee's conflict zones, for the walk and for conflict-weighted spawning.
    """
    level = np.zeros(len(ctx.inputs.region_names))
    np.maximum.at(level, ctx.inputs.cell_region, ctx.intensity(t))
    world.conflicts.update(t, level)


def walk(world: World, ctx: Context, t: int) -> None:
    """One day of everyone's walk (module docstring)."""
    plan = ctx.walk
    hh, walkers = world.households, world.walkers
    track_conflicts(world, ctx, t)
    ids = world.away_ids
    ids = ids[np.isin(hh.place[ids], (Place.UNSHELTERED, Place.CAMP))]
    if ids.size == 0:
        return
    day = _Day(world, ctx, t, plan)
    waiting = ids[(walkers.link[ids] == NO_LINK) & (hh.place[ids] == Place.UNSHELTERED)]
    day.admit(waiting[day.camp[hh.stay_region[waiting]]], arrival=False)
    km_today = np.zeros(ids.size)  # Flee's distance_moved_this_timestep, by position in ids
    order = np.argsort(ids)
    at = ids[walkers.link[ids] == NO_LINK]
    day.evolve(at, np.zeros(at.size, dtype=bool), 0)
    going = ids[walkers.link[ids] != NO_LINK]
    for it in range(1, MAX_LEGS_A_DAY + 1):
        if going.size == 0:
            break
        going = day.travel(going, km_today, order[np.searchsorted(ids, going, sorter=order)], it)
    walkers.recent[ids] = recent_travel(walkers.recent[ids], km_today,
                                        day.max_speed).astype(np.float32)


def _move(world: World, ids: np.ndarray, region: np.ndarray, place: int) -> None:
    """``ids`` (away) leave where they stay for ``place`` in ``region``: the ledgers follow."""
    if ids.size == 0:
        return
    world.vacate(ids)
    world.occupy(region, place, world.households.size[ids])
    world.stay(ids, region, np.full(ids.size, place, dtype=np.uint8))


class _Day:
    """What one day's walk reads: move chances, route weights and open links, all at ``t``."""

    def __init__(self, world: World, ctx: Context, t: int, plan: WalkPlan) -> None:
        cfg = ctx.config.placement
        r = cfg.routes
        self.world, self.ctx, self.t, self.plan, self.r = world, ctx, t, plan, r
        self.max_speed = cfg.travel_speed_km_per_day or 360.0
        types = plan.location_type.copy()
        types[plan.camps_closed(t)] = TOWN  # Flee's close_camp: a town until it reopens
        imp = ctx.config.impact
        zones = world.conflicts
        conflict = np.zeros(types.size)
        self.conflict = np.zeros(types.size, dtype=bool)
        if ctx.config.hazard.kind == "conflict_intensity":  # floods make no conflict zones
            conflict = zones.intensity(t, imp.conflict_decay, imp.conflict_decay_interval_days)
            self.conflict = zones.zones
        mc = r.move_chance
        base = np.select([self.conflict, types == CAMP, types == IDPCAMP,
                          (types == FORWARD) | (types == MARKER)],
                         [mc.conflict, mc.camp, mc.idpcamp, 1.0], mc.town)
        persons = np.maximum(world.persons[:, HOME].sum(axis=1), world.capacity[:, Place.CAMP])
        self.chance = move_chance(base, persons, r.movechance_pop_base,
                                  r.movechance_pop_scale_factor)
        flood = np.ones(types.size)  # DFlee's flood rules by the level where it floods
        if ctx.config.hazard.kind != "conflict_intensity":
            self.chance, flood = flood_rules(self.chance, zones.now, r.flood_move_chances,
                                             r.flood_location_weights)
        # Flee's towns: towns, and conflict locations before (or after) their conflict; flood
        # zones are not (Flee master's flood_zone type)
        self.town = ~self.conflict & np.isin(types, (TOWN, CONFLICT_ZONE))
        camp = np.isin(types, (CAMP, IDPCAMP))
        self.camp = camp
        self.cap = world.capacity[:, Place.CAMP] * r.capacity_scaling
        # Flee's "capacity < 1: no limit" is for places without capacity, not camps closed today
        self.limited = world.places.full[:, Place.CAMP] >= 1
        self.fill = self._fill()
        score = flood * location_score(camp, plan.foreign, conflict, r.camp_weight,
                                       r.foreign_weight, r.conflict_weight)
        end = plan.route_end
        self.weight = route_weight(score[end], plan.dist, self.fill[end], r.softening_km,
                                   r.weight_softening, cfg.distance_exponent, r.weight_power)
        if r.awareness_level == 0:  # Flee picks a link at random
            self.weight = np.ones(plan.origin.size)
        self.link_open = np.ones(plan.start.size, dtype=bool)
        bd = ctx.levers.borders
        if len(bd.countries) > 1:
            ca, cb = bd.country_of_region[plan.start], bd.country_of_region[plan.end]
            self.link_open = (ca == cb) | (policy_now(ctx, t)[ca, cb] == OPEN)
        self.link_open[plan.links_closed(t)] = False
        lk = plan.links
        self.allowed = np.where(lk >= 0, self.link_open[np.maximum(lk, 0)], True).all(axis=1)

    def evolve(self, ids: np.ndarray, forced: np.ndarray, it: int) -> np.ndarray:
        """``ids`` at a location may set off (Flee's ``Person.evolve``); returns who did."""
        world, ctx, plan, t = self.world, self.ctx, self.plan, self.t
        hh, w = world.households, world.walkers
        if ids.size == 0:
            return ids
        node = hh.stay_region[ids].astype(np.int64)
        chance = np.where(forced & self.town[node], 1.0, self.chance[node])
        go = ctx.streams.uniform("walk_move", t * (MAX_LEGS_A_DAY + 1) + it, ids) < chance
        ids, node = ids[go], node[go]
        fresh = w.next_node(ids) < 0
        if fresh.any():
            u = ctx.streams.uniform("walk_route", t * (MAX_LEGS_A_DAY + 1) + it, ids[fresh])
            p = pick(plan.segment_start, self.weight, self.allowed, node[fresh], u)
            chosen = ids[fresh][p >= 0]
            w.route[chosen] = plan.nodes[p[p >= 0]]
        nxt = w.next_node(ids)
        link = plan.link_between(node, nxt)
        ok = (link != NO_LINK)
        ok[ok] = self.link_open[link[ok]]
        dest = w.destination(ids)
        full = (dest >= 0) & self.camp[np.maximum(dest, 0)] & \
            (self.fill[np.maximum(dest, 0)] < 0.5)
        drop = ~ok | full  # the route is forgotten; they stay
        w.route[ids[drop]] = -1
        ids, node, link = ids[~drop], node[~drop], link[~drop]
        w.advance(ids)
        leaving = ids[hh.place[ids] == Place.CAMP]
        _move(world, leaving, hh.stay_region[leaving].astype(np.int64), Place.UNSHELTERED)
        w.link[ids], w.km[ids] = link, 0.0
        return ids

    def travel(self, ids: np.ndarray, km_today: np.ndarray, where: np.ndarray,
               it: int) -> np.ndarray:
        """``ids`` on a link cover a day's speed (Flee's ``Person.finish_travel``).

        ``where``: their positions in ``km_today``. Returns who set off again today.
        """
        world, ctx, plan, r = self.world, self.ctx, self.plan, self.r
        hh, w = world.households, world.walkers
        link = w.link[ids].astype(np.int64)
        speed = np.where(r.start_on_foot & (w.legs[ids] == 1), r.walk_speed_km_per_day,
                         self.max_speed)
        w.km[ids] += speed.astype(np.float32)
        km_today[where] += speed
        done = w.km[ids] > plan.km[link]
        ids, link, where, speed = ids[done], link[done], where[done], speed[done]
        w.legs[ids] = np.minimum(w.legs[ids], 1) + 1
        km_today[where] += plan.km[link] - w.km[ids]
        w.link[ids] = NO_LINK
        shut = ~self.link_open[link]  # back where they started
        w.route[ids[shut]] = -1
        ids, link, where, speed = ids[~shut], link[~shut], where[~shut], speed[~shut]
        start, end = plan.start[link], plan.end[link]
        _move(world, ids, end, Place.UNSHELTERED)
        world.flow(start, end, hh.size[ids])
        if world.crossings is not None:
            cross = ctx.levers.borders.country_of_region
            k = cross[start] != cross[end]
            record_crossings(world, ctx, self.t, ids[k], start[k], end[k],
                             np.zeros(int(k.sum()), dtype=np.int64), DISPLACEMENT)
        self.admit(ids[self.camp[end]], arrival=True)
        more = km_today[where] < speed
        ids, where = ids[more], where[more]
        forced = np.zeros(ids.size, dtype=bool)
        if r.avoid_short_stints:
            forced = forced_on(w.recent[ids], km_today[where], self.max_speed)
        return self.evolve(ids, forced, it)

    def admit(self, ids: np.ndarray, arrival: bool) -> None:
        """``ids`` at a camp location move into the camp while places last (random order)."""
        if ids.size == 0:
            return
        world, ctx = self.world, self.ctx
        hh = world.households
        u = ctx.streams.uniform("walk_admit", self.t * 2 + arrival, ids)
        region, size = hh.stay_region[ids].astype(np.int64), hh.size[ids].astype(np.int64)
        # in random order within each camp while places last (no soft cap: the route weights
        # hold Flee's)
        ok = admit(region, size, u, u, world.occupancy[:, Place.CAMP],
                   world.capacity[:, Place.CAMP], 1.0)
        _move(world, ids[ok], region[ok], Place.CAMP)
        if arrival:
            world.turn_away(region[~ok], Place.CAMP, size[~ok])
        if hh.arrive_step is not None:
            hh.arrive_step[ids[ok]] = self.t
        self.fill = self._fill()

    def _fill(self) -> np.ndarray:
        """Capacity multiplier of every location from everyone there (Flee's ``numAgents``).

        Everyone at a camp counts: those in it and those waiting there unsheltered (on a link
        they count where it starts, an approximation), against capacity × ``capacity_scaling``.
        """
        occ = self.world.occupancy
        here = occ[:, Place.CAMP] + np.where(self.camp, occ[:, Place.UNSHELTERED], 0)
        fill = capacity_multiplier(here, self.cap, self.ctx.config.placement.soft_cap_start)
        return np.where(self.limited & (self.cap < 1), 0.0, fill)

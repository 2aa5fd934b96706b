"""Moves across borders: which route a household can take, quotas, waiting, and the record.

A household whose destination region lies in another country crosses the border between the
two countries by its policy on that day (:mod:`simulator.rules.pathways`): an open border, a
regular pathway it is eligible for while the pathway's yearly quota lasts (approved moves wait
``processing_days``), or, where the policy is ``quota``, an irregular route whose fee its
savings must pay and which fails with ``irregular.failure_share`` (sent back, fee lost).
Whoever wanted to cross and could not is counted ``stranded_at_border``. Used by the decision
step (proactive moves and planned relocation) and the place step (the displaced seeking a
place abroad); with one country nothing here runs.
"""

from __future__ import annotations

import numpy as np

from simulator.rules.pathways import KINDS, OPEN, QUOTA, eligible, year_of
from simulator.states import HOME, Move, State
from simulator.steps.context import Context
from simulator.world.ledger import World

LABOUR, FAMILY, HUMANITARIAN, PLANNED = range(len(KINDS))
INTERNAL = -1  #: route of a move within a country
UNROUTED = -2  #: a cross-border move no route has taken (yet)
SENT_BACK = -3  #: an irregular crossing that failed: the household stays home
RELOCATION, DISPLACEMENT = 0, 1  #: purposes of a crossing (world.crossings.PURPOSES)


def policy_now(ctx: Context, t: int) -> np.ndarray:
    """(country, country) border policy at step ``t`` (closures applied)."""
    return ctx.levers.borders.policy_at(t * ctx.config.step_days)


def _eligibility(world: World, ctx: Context, ids: np.ndarray, p: int, dest_country: np.ndarray,
                 displaced: bool) -> np.ndarray:
    hh, b = world.households, ctx.levers.borders
    adults = hh.group_persons(ids)[:, 1] if hh.members is not None else hh.size[ids]
    kin = b.country_of_region[hh.tie_region[ids].astype(np.int64)] == dest_country
    return eligible(int(b.kind[p]), adults, hh.income[ids], hh.size[ids], kin,
                    float(b.min_income[p]), float(b.max_size[p]),
                    np.full(ids.size, displaced))


def regular_pathway(world: World, ctx: Context, ids: np.ndarray, a: np.ndarray, b: np.ndarray,
                    kinds: tuple[int, ...]) -> np.ndarray:
    """The first listed pathway of ``kinds`` each household may use from country ``a`` to ``b``.

    Any pathway with a quota on the pair counts, used up or not: what households know when they
    decide. -1: none.
    """
    bd = ctx.levers.borders
    out = np.full(ids.size, -1, np.int64)
    for p in range(len(bd.pathways)):  # a loop over pathways, never over households
        if int(bd.kind[p]) not in kinds:
            continue
        free = (out < 0) & (bd.quota[p, a, b] > 0)
        if free.any():
            ok = _eligibility(world, ctx, ids[free], p, b[free], False)
            out[np.flatnonzero(free)[ok]] = p
    return out


def _use_quota(world: World, ctx: Context, p: int, ids: np.ndarray, order: np.ndarray,
               a: np.ndarray, c: np.ndarray, route: np.ndarray, size: np.ndarray,
               displaced: bool) -> np.ndarray:
    """Give pathway ``p``'s quota left this year to the unrouted households in ``order``.

    In that (random) order, per country pair, the eligible households whose persons still fit
    take it (route ``1 + p``, quota used); returns their positions in ``ids``.
    """
    cr = world.crossings
    cand = order[route[order] == UNROUTED]
    cand = cand[_eligibility(world, ctx, ids[cand], p, c[cand], displaced)]
    key = a[cand] * len(ctx.levers.borders.countries) + c[cand]
    taken = []
    for k in np.unique(key):  # a loop over country pairs
        mine = cand[key == k]
        took = mine[np.cumsum(size[mine]) <= cr.left(p, a[mine[:1]], c[mine[:1]])[0]]
        route[took] = 1 + p
        cr.used[p, a[mine[0]], c[mine[0]]] += size[took].sum()
        taken.append(took)
    return np.concatenate(taken) if taken else np.empty(0, np.int64)


def destination_terms(world: World, ctx: Context, ids: np.ndarray, home: np.ndarray, c: int,
                      policy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How households ``ids`` (home regions ``home``) could reach country ``c`` when deciding.

    Returns ``passable`` (a route exists: internal, open border, a pathway with a quota they
    are eligible for, or an irregular route whose fee their savings cover), ``fee`` (currency,
    the irregular fee for the whole household, else 0) and ``irregular`` (the route is the
    irregular one, so its risk applies). The same for every region of ``c``.
    """
    bd, hh = ctx.levers.borders, world.households
    a = bd.country_of_region[home]
    pol = policy[a, c]
    cross = a != c
    fee = np.zeros(ids.size)
    irregular = np.zeros(ids.size, dtype=bool)
    passable = ~cross | (pol == OPEN)
    quota = cross & (pol == QUOTA)
    if quota.any():
        q = np.flatnonzero(quota)
        cj = np.full(q.size, c)
        regular = regular_pathway(world, ctx, ids[q], a[q], cj, (LABOUR, FAMILY)) >= 0
        passable[q[regular]] = True
        if bd.irregular:
            rest = q[~regular]
            price = bd.irregular_cost * hh.size[ids[rest]]
            pays = hh.savings[ids[rest]] >= price
            passable[rest[pays]], irregular[rest[pays]] = True, True
            fee[rest[pays]] = price[pays]
    return passable, fee, irregular


def _irregular(world: World, ctx: Context, t: int, ids: np.ndarray, cand: np.ndarray,
               a: np.ndarray, c: np.ndarray, size: np.ndarray, route: np.ndarray,
               once: bool) -> np.ndarray:
    """Households at positions ``cand`` (no pathway took them) try the irregular route.

    Those whose savings pay the fee (``irregular_cost`` per person) go; a share
    ``failure_share`` fails (stream ``crossing``): sent back home, the fee lost and counted in
    ``sent_back`` (``once``: at most once per household and step). Sets their routes
    (irregular, or :data:`SENT_BACK`) and returns the positions of those who crossed.
    """
    bd, hh, cr = ctx.levers.borders, world.households, world.crossings
    go = cand[hh.savings[ids[cand]] >= bd.irregular_cost * size[cand]]
    fail = ctx.streams.uniform("crossing", t, ids[go]) < bd.failure_share
    lost = go[fail]
    if once:
        lost = lost[cr.first_time("sent_back", t, ids[lost])]
    hh.savings[ids[lost]] -= (bd.irregular_cost * size[lost]).astype(np.float32)
    np.add.at(cr.sent_back[t], (a[lost], c[lost]), hh.size[ids[lost]])
    route[go[~fail]] = bd.irregular_route
    route[go[fail]] = SENT_BACK
    return go[~fail]


def route_movers(world: World, ctx: Context, t: int, ids: np.ndarray, dest: np.ndarray,
                 cost: np.ndarray, cause: int) -> tuple[np.ndarray, ...]:
    """Send movers across borders by the route open to them now; return those who move now.

    Cross-border movers take, in order: an open border; the first regular pathway of their
    cause (labour mobility and family reunification for proactive moves, planned relocation
    for the programme) they are eligible for with quota left this year, admitted in random
    order (stream ``pathway``) until it is used up, and waiting ``processing_days`` when that
    is more than a step; an irregular route if the policy allows it and their savings pay the
    fee, failing with ``irregular.failure_share`` (stream ``crossing``). The rest are
    ``stranded_at_border`` and, wanting to move and unable to, ``trapped``. A programme's
    households never go irregularly and are not counted stranded.

    Returns ids, destinations, costs and routes (-1 internal) of the movers who go now.
    """
    bd = ctx.levers.borders
    if not bd.international or ids.size == 0:
        return ids, dest, cost, np.full(ids.size, INTERNAL)
    hh, cr, step_days = world.households, world.crossings, ctx.config.step_days
    cr.new_year(year_of(t, step_days))
    policy = policy_now(ctx, t)
    a = bd.country_of_region[hh.region[ids].astype(np.int64)]
    c = bd.country_of_region[dest.astype(np.int64)]
    route = np.where(a == c, INTERNAL, UNROUTED)
    route[(route == UNROUTED) & (policy[a, c] == OPEN)] = 0
    kinds = (PLANNED,) if cause == Move.PLANNED else (LABOUR, FAMILY)
    todo = np.flatnonzero((route == UNROUTED) & (policy[a, c] == QUOTA))
    order = todo[np.argsort(ctx.streams.uniform("pathway", t, ids[todo]), kind="stable")]
    size = hh.size[ids].astype(float)
    for p in range(len(bd.pathways)):  # quota used in random order, pathway by pathway
        if int(bd.kind[p]) in kinds and order.size:
            took = _use_quota(world, ctx, p, ids, order, a, c, route, size, False)
            np.add.at(cr.approved[t], (a[took], c[took], np.full(took.size, p)),
                      hh.size[ids[took]])
    wait = np.flatnonzero(route > 0)
    wait = wait[bd.processing_days[route[wait] - 1] >= step_days]
    if wait.size:
        due = t + bd.processing_days[route[wait] - 1] // step_days
        cr.wait(ids[wait], dest[wait], route[wait], due, cause, cost[wait])
    rest = np.flatnonzero(route == UNROUTED)
    cost = cost.astype(float)
    if rest.size and cause != Move.PLANNED and bd.irregular:
        rest = rest[policy[a[rest], c[rest]] == QUOTA]
        went = _irregular(world, ctx, t, ids, rest, a, c, size, route, once=False)
        cost[went] += bd.irregular_cost * size[went]  # paid with the move (relocate takes it)
    stuck = np.flatnonzero(route == UNROUTED)
    if stuck.size and cause != Move.PLANNED:
        stranded(world, ctx, t, ids[stuck], a[stuck], c[stuck])
        world.set_state(ids[stuck], State.TRAPPED)
    now = route >= INTERNAL  # internal, open border, a pathway, or irregular and arrived
    now[wait] = False
    return ids[now], dest[now], cost[now], route[now]


def stranded(world: World, ctx: Context, t: int, ids: np.ndarray, a: np.ndarray,
             c: np.ndarray) -> None:
    """Count households ``ids`` who wanted to cross from ``a`` to ``c`` and could not."""
    if ids.size:
        groups = world.households.group_persons(ids)
        for g in range(groups.shape[1]):
            np.add.at(world.crossings.stranded_by_group[t], (a, c, np.full(ids.size, g)),
                      groups[:, g])


def settle_moves(world: World, ctx: Context, t: int, ids: np.ndarray, origin: np.ndarray,
                 dest: np.ndarray, route: np.ndarray, moved: np.ndarray) -> None:
    """After the inflow caps: count the crossings of ``moved``, give back unused quota.

    ``moved`` made their new homes (``cross_border`` purpose ``relocation``); routed households
    the destination's inflow cap kept out give their pathway quota back.
    """
    if not ctx.levers.borders.international or ids.size == 0:
        return
    went = np.isin(ids, moved)
    record_crossings(world, ctx, t, ids[went], origin[went], dest[went], route[went],
                     RELOCATION)
    refund(world, ctx, ids[~went], origin[~went], dest[~went], route[~went])


def record_crossings(world: World, ctx: Context, t: int, ids: np.ndarray, origin: np.ndarray,
                     dest: np.ndarray, route: np.ndarray, purpose: int) -> None:
    """Count households ``ids`` crossing from region ``origin`` to ``dest`` by ``route``."""
    bd, cr, hh = ctx.levers.borders, world.crossings, world.households
    cross = route >= 0
    if not cross.any():
        return
    ids, route = ids[cross], route[cross]
    a = bd.country_of_region[origin[cross].astype(np.int64)]
    c = bd.country_of_region[dest[cross].astype(np.int64)]
    np.add.at(cr.crossed[t], (a, c, route, np.full(ids.size, purpose)), hh.size[ids])
    irr = route == bd.irregular_route
    if irr.any():
        groups = hh.group_persons(ids[irr])
        for g in range(groups.shape[1]):
            np.add.at(cr.irregular_by_group[t], (a[irr], c[irr], np.full(irr.sum(), g)),
                      groups[:, g])


def refund(world: World, ctx: Context, ids: np.ndarray, origin: np.ndarray, dest: np.ndarray,
           route: np.ndarray) -> None:
    """Give back the quota of pathway-routed households that did not move after all."""
    bd = ctx.levers.borders
    pw = (route > 0) & (route < bd.irregular_route)
    if pw.any():
        a = bd.country_of_region[origin[pw].astype(np.int64)]
        c = bd.country_of_region[dest[pw].astype(np.int64)]
        np.add.at(world.crossings.used, (route[pw] - 1, a, c),
                  -world.households.size[ids[pw]].astype(float))


def due_moves(world: World, ctx: Context, t: int) -> tuple[np.ndarray, ...]:
    """Approved applications due now whose households are at home (the rest lapse).

    Returns ids, destinations, costs, routes and causes of those who move now.
    """
    cr = world.crossings
    if cr is None or cr.wait_ids.size == 0:
        return (np.empty(0, np.int64),) * 5
    ids, dest, route, cause, cost = cr.take_due(t)
    hh, bd = world.households, ctx.levers.borders
    home = np.isin(hh.state[ids], HOME)
    a = bd.country_of_region[hh.region[ids[~home]].astype(np.int64)]
    c = bd.country_of_region[dest[~home]]
    np.add.at(cr.lapsed[t], (a, c), hh.size[ids[~home]])
    return ids[home], dest[home], cost[home], route[home], cause[home]


def permit_displaced(world: World, ctx: Context, t: int, ids: np.ndarray, home: np.ndarray,
                     dest: np.ndarray, newly: bool) -> tuple[np.ndarray, np.ndarray]:
    """Which displaced households may seek a place in region ``dest``, and by which route.

    Within their country, and across an open border: yes. Across a ``quota`` border: through
    a humanitarian pathway they are eligible for with quota left this year (used up in random
    order, stream ``pathway``; :func:`settle_displaced` gives back what admission does not
    take), else irregularly if their savings pay the fee, failing with ``failure_share``
    (stream ``crossing``; sent back, the fee lost, once per step). Across a closed border, or
    with neither: no, and they are counted ``stranded_at_border`` once per step when they have
    just been displaced (``newly``). Returns the mask of permitted households and their
    routes (-1 internal).
    """
    bd = ctx.levers.borders
    route = np.full(ids.size, INTERNAL)
    if not bd.international or ids.size == 0:
        return np.ones(ids.size, dtype=bool), route
    hh, cr = world.households, world.crossings
    cr.new_year(year_of(t, ctx.config.step_days))
    policy = policy_now(ctx, t)
    a, c = bd.country_of_region[home], bd.country_of_region[dest]
    cross = a != c
    route[cross] = UNROUTED
    route[cross & (policy[a, c] == OPEN)] = 0
    todo = np.flatnonzero((route == UNROUTED) & (policy[a, c] == QUOTA))
    todo = todo[np.argsort(ctx.streams.uniform("pathway", t, ids[todo]), kind="stable")]
    size = hh.size[ids].astype(float)
    for p in np.flatnonzero(bd.kind == HUMANITARIAN):  # a loop over pathways
        _use_quota(world, ctx, int(p), ids, todo, a, c, route, size, True)
    rest = todo[route[todo] == UNROUTED]
    if rest.size and bd.irregular:
        _irregular(world, ctx, t, ids, rest, a, c, size, route, once=True)
    if newly:
        stuck = np.flatnonzero(route == UNROUTED)
        stuck = stuck[cr.first_time("stranded", t, ids[stuck])]
        stranded(world, ctx, t, ids[stuck], a[stuck], c[stuck])
    return route >= INTERNAL, route


def settle_displaced(world: World, ctx: Context, t: int, ids: np.ndarray, home: np.ndarray,
                     dest: np.ndarray, route: np.ndarray, admitted: np.ndarray) -> None:
    """After admission: count and charge the crossings, give back unused quota.

    The admitted are counted in ``cross_border`` (and irregular crossers by group) and pay
    the irregular fee on arrival at their place; the pathway quota of those not admitted goes
    back.
    """
    bd = ctx.levers.borders
    if not bd.international or ids.size == 0:
        return
    hh = world.households
    irr = admitted & (route == bd.irregular_route)
    hh.savings[ids[irr]] -= (bd.irregular_cost * hh.size[ids[irr]]).astype(np.float32)
    pw = admitted & (route > 0) & ~irr  # a humanitarian pathway: approved on admission
    a = bd.country_of_region[home[pw]]
    np.add.at(world.crossings.approved[t], (a, bd.country_of_region[dest[pw]], route[pw] - 1),
              hh.size[ids[pw]])
    record_crossings(world, ctx, t, ids[admitted], home[admitted], dest[admitted],
                     route[admitted], DISPLACEMENT)
    refund(world, ctx, ids[~admitted], home[~admitted], dest[~admitted], route[~admitted])

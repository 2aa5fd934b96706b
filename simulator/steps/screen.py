"""Placement's exact shortcuts for a long queue and a few free places (issue 21).

At 10^6 households some 4 x 10^4 unsheltered households look again for a place every step,
while the places near their soft cap have room for a few persons. Screening all of them with
:func:`~simulator.rules.placement.admit` (two draws each, a sort by priority, the soft cap)
costs far more than the places it fills. :func:`admit_drawn` makes the same admissions, draw
for draw, at a cost that follows the few who can get in:

* **Who fits and can be a candidate**: at a destination at or above its soft-cap level
  (``soft_start x capacity``) nobody is admitted outright; an applicant is admitted only if it
  is a candidate, ``u_accept < p``, where the soft-cap probability ``p`` is never above
  ``q = (capacity - occupancy) / band`` (its value for the first applicant in the band), and
  only if its persons fit the room. The admission draws of the applicants that fit are made
  first; if none is below ``q``, nobody gets in there and no other draw is needed.
* **The head of the queue**: otherwise an applicant with ``m`` persons ranked ahead of it has a
  soft-cap probability of at most ``q exp(-m / band)``. Cutting each destination's priority
  order into slices bounds ``m`` from below for every applicant, so only the few whose
  admission draw is below their bound can be candidates, nearly all near the front. ``admit``
  is given the head of the order up to the last of them: each applicant's fate depends only on
  those ranked before it, so ``admit`` decides the head exactly as when screening everyone, and
  nobody after the head is a candidate.

Destinations below their soft-cap level are screened in full. :func:`destinations` draws
gravity destinations as :func:`~simulator.rules.placement.choose_destination` does, without
its applicants x destinations temporaries. ``Context``'s ``plain_placement`` switches both off
(the tests compare the two paths).
"""

from __future__ import annotations

import numpy as np

from simulator.rules.placement import admit, choose_destination
from simulator.steps.context import Context

#: A potential candidate's bound ``q`` is widened by this relative margin (floating point).
Q_MARGIN = 1e-9
#: Slices of a destination's priority order that bound the persons ahead of an applicant
#: (speed only: exact at any number).
SLICES = 64
#: Up to this many regions destinations are counted column by column, else searched per origin.
FEW_DESTINATIONS = 16
#: Relative margin on a bound through ``exp`` (which may be off by an ulp or two).
TAIL_MARGIN = 1e-6


def admit_drawn(ctx: Context, key: int, ids: np.ndarray, dest: np.ndarray,
                persons: np.ndarray, occupancy: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Which applicants ``ids`` to ``dest`` are admitted: ``admit`` with their draws of ``key``.

    The draws are streams ``placement`` (priority) and ``admission`` (soft cap) at ``key``,
    made only where they can change the result (see the module docstring).

    Returns:
        Boolean mask over ``ids``, equal to screening everyone.
    """
    soft, streams = ctx.config.placement.soft_cap_start, ctx.streams
    if ctx.plain_placement:
        return admit(dest, persons, streams.uniform("placement", key, ids),
                     streams.uniform("admission", key, ids), occupancy, capacity, soft)
    q = _candidate_bound(occupancy, capacity, soft)
    ok = np.zeros(ids.size, dtype=bool)
    rest = None  # the applicants still in question (None: all)
    banded = ~np.isnan(q)
    if not banded.all() and not banded[dest].all():  # below the soft-cap level: screen all
        whole = np.flatnonzero(~banded[dest])
        ok[whole] = admit(dest[whole], persons[whole],
                          streams.uniform("placement", key, ids[whole]),
                          streams.uniform("admission", key, ids[whole]), occupancy, capacity,
                          soft)
        rest = np.flatnonzero(banded[dest])
        ids, dest, persons = ids[rest], dest[rest], persons[rest]
    fits = np.flatnonzero(persons <= (capacity - occupancy)[dest])
    u_accept = None
    if 2 * fits.size > ids.size:  # most fit: draw for everyone at once
        u_accept = streams.uniform("admission", key, ids)
        hopeful = u_accept[fits] < q[dest[fits]]
    else:
        hopeful = streams.uniform("admission", key, ids[fits]) < q[dest[fits]]
    live = np.zeros(capacity.size, dtype=bool)
    live[dest[fits[hopeful]]] = True
    if not live.any():  # nobody can be admitted: all are turned away
        return ok
    alive = live[dest]
    if not alive.all():
        keep = np.flatnonzero(alive)
        rest = keep if rest is None else rest[keep]
        ids, dest, persons = ids[keep], dest[keep], persons[keep]
        u_accept = None if u_accept is None else u_accept[keep]
    if u_accept is None:
        u_accept = streams.uniform("admission", key, ids)
    got = _admit_head(dest, persons.astype(np.int64), streams.uniform("placement", key, ids),
                      u_accept, occupancy, capacity, soft, q)
    if rest is None:
        return got
    ok[rest] = got
    return ok


def _candidate_bound(occupancy: np.ndarray, capacity: np.ndarray, soft: float) -> np.ndarray:
    """Per destination, a bound on every applicant's soft-cap probability (NaN: none applies).

    At or above the soft-cap level ``p = (capacity - o0) / band * exp(-m / band) <= q`` with
    ``q = (capacity - o0) / band`` (:func:`~simulator.rules.placement.soft_cap_probability`),
    widened by :data:`Q_MARGIN`. Below that level (applicants admitted outright) or without a
    band, NaN.
    """
    cap, occ = capacity.astype(float), occupancy.astype(float)
    band = (1.0 - soft) * cap
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (cap - np.maximum(occ, soft * cap)) / band
    banded = (soft * cap - occ <= 0.0) & (band > 0)  # admit's soft_room is 0 there
    return np.where(banded, q * (1.0 + Q_MARGIN) + Q_MARGIN, np.nan)


def _admit_head(dest: np.ndarray, persons: np.ndarray, u_priority: np.ndarray,
                u_accept: np.ndarray, occupancy: np.ndarray, capacity: np.ndarray,
                soft: float, q: np.ndarray) -> np.ndarray:
    """``admit`` over the head of each destination's priority order (module docstring).

    Every destination in ``dest`` is at or above its soft-cap level (``q`` not NaN). Each
    destination's priorities are cut into :data:`SLICES` equal slices; an applicant in slice
    ``s`` has at least the persons of slices ``< s`` ahead of it (``m``), so a soft-cap
    probability of at most ``q exp(-m / band)``. Only an applicant whose admission draw is
    below that bound can be a candidate; the head ends with the last of them. ``admit``
    decides the head exactly as it decides everyone, since each applicant's fate depends only
    on those ranked before it, and nobody after the head is a candidate.
    """
    n_dest = capacity.size
    twice = 2.0 * dest
    key = twice + u_priority  # admit's sort key: destination, then priority
    # key - 2 dest is exact (Sterbenz) and orders like key: a lower slice is ranked before
    part = np.minimum((key - twice) * SLICES, SLICES - 1).astype(np.int64)
    part += dest * SLICES
    per_slice = np.bincount(part, persons, n_dest * SLICES).reshape(n_dest, SLICES)
    ahead = np.cumsum(per_slice, axis=1) - per_slice  # persons of the lower slices
    band = (1.0 - soft) * capacity.astype(float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bound = q[:, None] * np.exp(-ahead / band[:, None]) * (1.0 + TAIL_MARGIN)
    bound = bound.ravel()[part]
    hopeful = np.flatnonzero(u_accept < bound)
    last = np.full(n_dest, -np.inf)
    np.maximum.at(last, dest[hopeful], key[hopeful])  # the last who may be a candidate
    take = np.flatnonzero(key <= last[dest])
    out = np.zeros(dest.size, dtype=bool)
    out[take] = admit(dest[take], persons[take], u_priority[take], u_accept[take], occupancy,
                      capacity, soft)
    return out


def destinations(ctx: Context, origin: np.ndarray, weights: np.ndarray,
                 u: np.ndarray) -> np.ndarray:
    """A destination per applicant from its origin's row of ``weights`` (-1 if none).

    The same as :func:`~simulator.rules.placement.choose_destination` (the first destination
    whose cumulative weight exceeds ``u`` x the row's total) without its applicants x
    destinations temporaries: for a few destinations the count of cumulative weights at or
    below the target is added up one destination at a time; for many, each origin's row is
    searched (binary search) by its applicants.
    """
    if ctx.plain_placement:
        return choose_destination(origin, weights, u)
    cum = np.cumsum(weights, axis=1)  # non-decreasing: the weights are not negative
    total = cum[:, -1]
    target = u * total[origin]
    n_dest = weights.shape[1]
    if n_dest <= FEW_DESTINATIONS:  # count the destinations at or below, one column at a time
        dest = np.zeros(origin.size, dtype=np.int8)
        for column in np.ascontiguousarray(cum.T):  # np.take from a contiguous row: 2x faster
            dest += np.take(column, origin) <= target
        return np.where(total[origin] > 0, np.minimum(dest, n_dest - 1), -1).astype(np.int64)
    order = np.argsort(origin, kind="stable")
    bounds = np.searchsorted(origin[order], np.arange(weights.shape[0] + 1))
    dest = np.full(origin.size, -1, dtype=np.int64)
    for i in np.flatnonzero((np.diff(bounds) > 0) & (total > 0)):
        rows = order[bounds[i]:bounds[i + 1]]
        dest[rows] = np.searchsorted(cum[i], target[rows], side="right")
    return np.where(dest >= 0, np.minimum(dest, n_dest - 1), -1)

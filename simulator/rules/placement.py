"""Placement of displaced households into capacity-limited places (pure, vectorised functions).

Admission never loops over households: applicants get random priorities, are sorted by
(destination, priority), and each one's position within its destination decides (DESIGN.md §7).
"""

from __future__ import annotations

import numpy as np


def group_cumsum_before(keys_sorted: np.ndarray, values_sorted: np.ndarray) -> np.ndarray:
    """For rows sorted by key: the sum of ``values`` of earlier rows with the same key."""
    if keys_sorted.size == 0:
        return np.zeros(0, dtype=values_sorted.dtype)
    total = np.cumsum(values_sorted) - values_sorted
    new_group = np.empty(keys_sorted.size, dtype=bool)
    new_group[0] = True
    np.not_equal(keys_sorted[1:], keys_sorted[:-1], out=new_group[1:])
    first = np.flatnonzero(new_group)[np.cumsum(new_group) - 1]
    return total - total[first]


def soft_cap_probability(offered_persons: np.ndarray, occupancy: np.ndarray,
                         capacity: np.ndarray, soft_start: float) -> np.ndarray:
    """Admission probability of an applicant under Flee's soft capacity cap.

    A place admits everyone below ``soft_start * capacity`` persons; above that, the admission
    probability falls linearly with occupancy ``o`` as ``p(o) = (capacity - o) / B`` with band
    ``B = (1 - soft_start) * capacity``, reaching 0 at capacity (Flee's soft cap, Suleimenova et al.
    2017, Sci. Rep. 7:13377; Groen et al. 2020). With applicants entering the band one after
    another and occupancy rising by the persons admitted, the expected occupancy after ``m``
    persons have been offered to the band solves ``do/dm = p(o)``:
    ``o(m) = capacity - (capacity - o0) exp(-m / B)``, so the applicant after ``m`` offered persons
    is admitted with probability ``p = (capacity - o0) / B * exp(-m / B)``.

    Args:
        offered_persons: persons offered to the band before this applicant (per applicant).
        occupancy: band-entry occupancy ``o0 = max(occupancy, soft_start * capacity)``.
        capacity: capacity of the applicant's destination (persons).
        soft_start: share of capacity where throttling begins (0-1]; 1 disables the soft cap.
    """
    band = (1.0 - soft_start) * capacity
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (capacity - occupancy) / band * np.exp(-offered_persons / band)
    return np.where(band > 0, np.clip(p, 0.0, 1.0), 1.0)


def _admit_all(dest: np.ndarray, persons: np.ndarray, u_priority: np.ndarray,
               u_accept: np.ndarray, occupancy: np.ndarray, capacity: np.ndarray,
               soft_start: float) -> tuple[np.ndarray, np.ndarray]:
    """Screen every applicant (see :func:`admit`); also return candidate persons per destination."""
    # by destination, then priority: u < 1 rounds to at most 2*dest + 1 < 2*(dest + 1), so the
    # destinations never mix; ties keep input order
    order = np.argsort(2.0 * dest + u_priority, kind="stable")
    d, p = dest[order], persons[order].astype(np.int64)
    cap, occ = capacity[d].astype(float), occupancy[d].astype(float)
    before = group_cumsum_before(d, p)
    soft_room = np.maximum(soft_start * cap - occ, 0.0)
    outright = before + p <= soft_room
    band_entry = np.maximum(occ, soft_start * cap)
    offered = np.maximum(before - soft_room, 0.0)
    prob = soft_cap_probability(offered, band_entry, cap, soft_start)
    candidate = outright | (u_accept[order] < prob)
    cand_persons = np.where(candidate, p, 0)
    taken = group_cumsum_before(d, cand_persons) + p
    ok = candidate & (taken <= capacity[d] - occupancy[d])
    out = np.zeros(dest.size, dtype=bool)
    out[order] = ok
    return out, np.bincount(d, cand_persons, capacity.size)


def admit(dest: np.ndarray, persons: np.ndarray, u_priority: np.ndarray, u_accept: np.ndarray,
          occupancy: np.ndarray, capacity: np.ndarray, soft_start: float,
          screen_factor: float = 4.0) -> np.ndarray:
    """Which applicants a capacity-limited place admits; never beyond capacity.

    Applicants are ranked by ``u_priority`` within their destination. Those whose persons fit
    below the soft-cap level are admitted; beyond it each is admitted with the soft-cap
    probability (:func:`soft_cap_probability`) against ``u_accept``; a hard cap keeps the
    persons of all candidates so far within ``capacity - occupancy``, so once the candidates
    overfill the room nobody further down the ranking can get in.

    That makes a shortcut exact: each destination first screens only its highest-priority
    applicants (``u_priority`` below a threshold sized to ``screen_factor`` times its free room
    plus soft-cap band); a destination whose room those candidates did not overfill is screened
    again in full. The result equals screening everyone (tested), at a cost that grows with
    the free places instead of the queue, e.g. when 10^5 unsheltered households look again for
    a few freed places.

    Args:
        dest: destination index per applicant (into ``occupancy``/``capacity``).
        persons: persons per applicant household.
        u_priority: uniform draw per applicant ranking it within its destination.
        u_accept: uniform draw per applicant for the soft-cap admission.
        occupancy: persons per destination now.
        capacity: persons each destination can take.
        soft_start: soft-cap start as a share of capacity.
        screen_factor: size of the first screening relative to room plus band (speed only).

    Returns:
        Boolean mask over applicants (in the order given).
    """
    room = (capacity - occupancy).astype(float)
    offered = np.bincount(dest, persons, capacity.size)
    need = screen_factor * (room + (1.0 - soft_start) * capacity + persons.max(initial=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(offered > 0, np.minimum(need / offered, 1.0), 1.0)
    first = np.flatnonzero(u_priority < tau[dest])
    if first.size == dest.size:
        return _admit_all(dest, persons, u_priority, u_accept, occupancy, capacity, soft_start)[0]
    out = np.zeros(dest.size, dtype=bool)
    out[first], cand = _admit_all(dest[first], persons[first], u_priority[first],
                                  u_accept[first], occupancy, capacity, soft_start)
    redo = (cand <= room) & (tau < 1.0)
    again = np.flatnonzero(redo[dest])
    if again.size:
        out[again] = _admit_all(dest[again], persons[again], u_priority[again], u_accept[again],
                                occupancy, capacity, soft_start)[0]
    return out


def gravity_weights(distance_km: np.ndarray, free_persons: np.ndarray, exponent: float,
                    max_km: float) -> np.ndarray:
    """Weights of destination regions j for people from region i: ``free_j / d_ij^exponent``.

    A gravity model (Zipf 1946, Am. Sociol. Rev. 11:677; the distance-weighted destination choice
    of Flee): attraction is the free capacity of the place type sought (persons), deterrence a
    power of distance. Regions beyond ``max_km``, with no free capacity, or the origin itself get
    weight 0.

    Returns:
        (origin, destination) weight matrix.
    """
    with np.errstate(divide="ignore"):
        w = free_persons[None, :] / np.maximum(distance_km, 1.0) ** exponent
    w = np.where((distance_km <= max_km) & (free_persons[None, :] > 0), w, 0.0)
    np.fill_diagonal(w, 0.0)
    return w


def choose_destination(origin: np.ndarray, weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw a destination per applicant from its origin's row of ``weights`` (-1 if none).

    Inverse-CDF sampling: destination = first j with ``cumsum(w_i)[j] > u * sum(w_i)``.
    """
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1]
    target = u * total[origin]
    dest = (cum[origin] <= target[:, None]).sum(axis=1)
    return np.where(total[origin] > 0, np.minimum(dest, weights.shape[1] - 1), -1)


def host_places(full: np.ndarray, displaced_share: np.ndarray, loss: float) -> np.ndarray:
    """Host places a region still offers: floor(H × (1 − loss × d)), persons.

    ``d`` is the share of the region's residents who are displaced themselves: a flooded
    household cannot take in another. ``loss`` = 1 makes host capacity fall in proportion (the
    default); 0 keeps it static, as before issue 15. The proportional form is this model's
    assumption; the direction (host communities hit by the same event host less) follows
    IFRC's guidance on host-family support (IFRC 2012, Assisting host families and
    communities after crises and natural disaster, Geneva).
    """
    share = np.clip(1.0 - loss * np.asarray(displaced_share, dtype=float), 0.0, 1.0)
    return np.floor(np.round(full * share, 6)).astype(np.int64)

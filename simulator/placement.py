"""Placement of displaced households into capacity-limited places (pure, vectorised functions).

Admission never loops over households: applicants get random priorities, are sorted by
(destination, priority), and each one's position within its destination decides (DESIGN.md §7).
"""

from __future__ import annotations

import numpy as np


def group_cumsum_before(keys_sorted: np.ndarray, values_sorted: np.ndarray) -> np.ndarray:
    """For rows sorted by key: the sum of ``values`` of earlier rows with the same key."""
    total = np.cumsum(values_sorted) - values_sorted
    first = np.searchsorted(keys_sorted, keys_sorted, side="left")
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


def admit(dest: np.ndarray, persons: np.ndarray, u_priority: np.ndarray, u_accept: np.ndarray,
          occupancy: np.ndarray, capacity: np.ndarray, soft_start: float) -> np.ndarray:
    """Which applicants a capacity-limited place admits; never beyond capacity.

    Applicants are ranked by ``u_priority`` within their destination. Those whose persons fit
    below the soft-cap level are admitted; beyond it each is admitted with the soft-cap
    probability (:func:`soft_cap_probability`) against ``u_accept``; finally a hard cap keeps
    the admitted persons within ``capacity - occupancy``.

    Args:
        dest: destination index per applicant (into ``occupancy``/``capacity``).
        persons: persons per applicant household.
        u_priority: uniform draw per applicant ranking it within its destination.
        u_accept: uniform draw per applicant for the soft-cap admission.
        occupancy: persons per destination now.
        capacity: persons each destination can take.
        soft_start: soft-cap start as a share of capacity.

    Returns:
        Boolean mask over applicants (in the order given).
    """
    order = np.lexsort((u_priority, dest))
    d, p = dest[order], persons[order].astype(np.int64)
    cap, occ = capacity[d].astype(float), occupancy[d].astype(float)
    before = group_cumsum_before(d, p)
    soft_room = np.maximum(soft_start * cap - occ, 0.0)
    outright = before + p <= soft_room
    band_entry = np.maximum(occ, soft_start * cap)
    offered = np.maximum(before - soft_room, 0.0)
    prob = soft_cap_probability(offered, band_entry, cap, soft_start)
    candidate = outright | (u_accept[order] < prob)
    taken = group_cumsum_before(d, np.where(candidate, p, 0)) + p
    ok = candidate & (taken <= capacity[d] - occupancy[d])
    out = np.zeros(dest.size, dtype=bool)
    out[order] = ok
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

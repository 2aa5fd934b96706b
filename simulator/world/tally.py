"""Exact person counts in (row, column) tables, added with bincounts, never a Python loop."""

from __future__ import annotations

import numpy as np

from simulator.states import GROUPS
from simulator.world.households import GROUP_OF_MEMBER, Households

#: Households whose group persons are added up at once: about 30 bytes of temporaries each.
GROUP_BLOCK = 1 << 18
#: Rows added by one bincount: bounded temporaries at any size.
COUNT_BLOCK = 1 << 21
#: :data:`GROUP_OF_MEMBER` as integers, for sums of many households' members.
_GROUP_OF_MEMBER = GROUP_OF_MEMBER.astype(np.int64)
_DISABLED = GROUPS.index("persons_with_disabilities")
#: Keys are added up run by run when there are fewer runs than households / RUNS_FACTOR.
RUNS_FACTOR = 16


def count(table: np.ndarray, rows: np.ndarray, cols: np.ndarray | int, persons: np.ndarray,
          sign: int) -> None:
    """Add ``sign * persons`` to ``table[rows, cols]`` (a bincount, not a Python loop)."""
    n_rows, n_cols = table.shape
    cols = np.broadcast_to(cols, rows.shape)
    for s in range(0, rows.size, COUNT_BLOCK):
        flat = rows[s:s + COUNT_BLOCK].astype(np.int64) * n_cols + cols[s:s + COUNT_BLOCK]
        table += sign * np.bincount(flat, weights=persons[s:s + COUNT_BLOCK],
                                    minlength=n_rows * n_cols).reshape(
            n_rows, n_cols).astype(np.int64)


def count_groups(table: np.ndarray, households: Households, ids: np.ndarray | slice,
                 sign: int) -> None:
    """Add ``sign`` times the group persons of ``ids`` to ``table[region, state, group]``."""
    hh = households
    n_regions, n_states, n_groups = table.shape
    if isinstance(ids, np.ndarray) and ids.size > GROUP_BLOCK:  # bounded temporaries
        for start in range(0, ids.size, GROUP_BLOCK):
            count_groups(table, hh, ids[start:start + GROUP_BLOCK], sign)
        return
    key = hh.region[ids].astype(np.int64) * n_states + hh.state[ids]
    sums = group_sums(hh.members[ids], hh.disabled[ids], key, n_regions * n_states)
    table += sign * sums.reshape(table.shape)


def count_all_groups(table: np.ndarray, households: Households) -> None:
    """Add everyone's group persons to ``table``, in blocks of households (bounded memory)."""
    n = len(households)
    for start in range(0, n, GROUP_BLOCK):
        count_groups(table, households, slice(start, min(n, start + GROUP_BLOCK)), +1)


def group_sums(members: np.ndarray, disabled: np.ndarray, key: np.ndarray,
               n_keys: int) -> np.ndarray:
    """Group persons of households added up by ``key`` (one per household): (n_keys, groups).

    ``members`` and ``disabled`` are the households' rows of :class:`Households`' arrays. The
    members of each sex and age band are added up by key first, then mapped to groups by
    :data:`GROUP_OF_MEMBER`: the same integers as adding up :meth:`Households.group_persons`,
    without its (households, groups) temporaries. Households come sorted by cell, so keys often
    come in long runs (everyone at home in a region): then each run is added up at once.
    """
    by_member = np.zeros((n_keys, members.shape[1]), dtype=np.int64)
    by_disabled = np.zeros(n_keys, dtype=np.int64)
    if key.size == 0:
        return by_member @ _GROUP_OF_MEMBER
    starts = np.flatnonzero(key[1:] != key[:-1]) + 1
    if starts.size * RUNS_FACTOR < key.size:  # long runs of one key: add up each run
        starts = np.concatenate([[0], starts])
        np.add.at(by_member, key[starts], np.add.reduceat(members, starts, axis=0,
                                                          dtype=np.int64))
        np.add.at(by_disabled, key[starts], np.add.reduceat(disabled, starts, dtype=np.int64))
    else:
        for j in range(members.shape[1]):
            by_member[:, j] = np.bincount(key, members[:, j], n_keys)
        by_disabled[:] = np.bincount(key, disabled, n_keys)
    sums = by_member @ _GROUP_OF_MEMBER
    sums[:, _DISABLED] = by_disabled
    return sums

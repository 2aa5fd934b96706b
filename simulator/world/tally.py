"""Exact person counts in (row, column) tables, added with bincounts, never a Python loop."""

from __future__ import annotations

import numpy as np

from simulator.world.households import Households

#: Households whose group persons are computed at once: about 100 bytes of temporaries each.
GROUP_BLOCK = 1 << 18
#: Rows added by one bincount: bounded temporaries at any size.
COUNT_BLOCK = 1 << 21


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


def count_groups(table: np.ndarray, households: Households, ids: np.ndarray,
                 sign: int) -> None:
    """Add ``sign`` times the group persons of ``ids`` to ``table[region, state, group]``."""
    hh = households
    n_regions, n_states, n_groups = table.shape
    for start in range(0, ids.size, GROUP_BLOCK):  # bounded temporaries at any size
        part = ids[start:start + GROUP_BLOCK]
        groups = hh.group_persons(part)
        first = (hh.region[part].astype(np.int64) * n_states + hh.state[part]) * n_groups
        flat = (first[:, None] + np.arange(n_groups)).ravel()  # one bincount, every group
        table += sign * np.bincount(flat, groups.ravel(), table.size).reshape(
            table.shape).astype(np.int64)


def count_all_groups(table: np.ndarray, households: Households) -> None:
    """Add everyone's group persons to ``table``, in blocks of ids (no full id range)."""
    n = len(households)
    for start in range(0, n, GROUP_BLOCK):
        count_groups(table, households, np.arange(start, min(n, start + GROUP_BLOCK)), +1)

"""Which households away the return step looks at: the awake, and the sleepers it leaves out.

A sleeper is a displaced household that cannot change while its home cell stays wet (its home
lost, no repair date: :func:`~simulator.steps.recover._sleep` decides). It is left out of the
awake until :meth:`Watch.wake_all`, when a cell of a sleeper dries, so a step's return costs
the households that can come home or lose one, not everyone away (issue 21).
"""

from __future__ import annotations

import numpy as np

from simulator.world.households import Households


class Watch:
    """The awake among those away, and the cells of sleepers and of everyone who left home.

    Args:
        n_cells: grid cells (for the cell masks).
    """

    def __init__(self, n_cells: int) -> None:
        #: the awake, a subsequence of ``World.away_ids`` (None: all of them) and their
        #: since_step, non-decreasing as in ``away_ids`` (each joins it when it leaves home)
        self.awake_ids: np.ndarray | None = None
        self.awake_since: np.ndarray | None = None
        #: cells where a sleeper's home is (it may wake when one dries)
        self.sleep_cells = np.zeros(n_cells, dtype=bool)
        #: cells where the home of anyone who left home since the start is (a superset of the
        #: homes of those away)
        self.away_cells = np.zeros(n_cells, dtype=bool)

    def joined(self, households: Households, ids: np.ndarray) -> None:
        """``ids`` left home (and joined the end of the active set)."""
        self.away_cells[households.cell[ids]] = True
        if self.awake_ids is not None:
            self.awake_ids = np.concatenate([self.awake_ids, ids])
            self.awake_since = np.concatenate([self.awake_since, households.since_step[ids]])

    def left(self, ids: np.ndarray) -> None:
        """``ids`` left the active set (home again, or settled)."""
        if self.awake_ids is not None:
            keep = ~np.isin(self.awake_ids, ids, kind="table")
            self.awake_ids, self.awake_since = self.awake_ids[keep], self.awake_since[keep]

    def wake_all(self) -> None:
        """Every away household is awake again."""
        self.awake_ids = self.awake_since = None
        self.sleep_cells[:] = False

    def put_to_sleep(self, households: Households, away_ids: np.ndarray, n: int,
                     asleep: np.ndarray) -> None:
        """The households ``asleep`` (a mask) of the first ``n`` awake sleep."""
        if self.awake_ids is None:
            self.awake_ids = away_ids
            self.awake_since = households.since_step[away_ids]
        if not asleep.any():
            return
        head = self.awake_ids[:n]
        self.sleep_cells[households.cell[head[asleep]]] = True
        keep = np.concatenate([~asleep, np.ones(self.awake_ids.size - n, dtype=bool)])
        self.awake_ids, self.awake_since = self.awake_ids[keep], self.awake_since[keep]

"""The recount behind ``World.verify``: a mixin of :class:`~simulator.world.ledger.World`.

Every counter the World keeps on transitions is recounted from the household arrays and
compared; the bookkeeping of the shortcuts (sleepers, those on their way) is checked against
its definition.
"""

from __future__ import annotations

import numpy as np

from simulator.errors import InvariantError
from simulator.states import AWAY_STATES, CAPACITY_PLACES, NO_PLACE, NO_STEP, State
from simulator.world.tally import count, count_all_groups


class Recount:
    """``verify``, mixed into :class:`~simulator.world.ledger.World` (whose counters it reads)."""

    def _going(self) -> list[str]:
        """Whether ``going`` and ``placed_since`` hold everyone on their way."""
        hh = self.households
        if hh.arrive_step is None or self.walkers is not None:
            return []
        away = self.away_ids
        on_way = away[hh.arrive_step[away] > self.step]
        if np.isin(on_way, np.concatenate([self.going, *self.placed_since])).all():
            return []
        return ["a household on its way to a place is not among those that may be (going)"]

    def _sleepers(self) -> list[str]:
        """What is wrong with the awake and the sleepers (:class:`~simulator.world.watch.Watch`)."""
        hh, away = self.households, self.away_ids
        if not self.repairs_dated and (hh.due_step[away] != NO_STEP).any():
            return ["a repair date before repairs_dated"]
        if not (np.diff(hh.since_step[away].astype(np.int64)) >= 0).all():
            return ["since_step decreases along the active set"]
        if not self.watch.away_cells[hh.cell[away]].all():
            return ["an away household's home cell is not in away_cells"]
        if self.watch.awake_ids is None:
            return []
        awake = np.isin(away, self.watch.awake_ids)
        asleep = away[~awake]
        if not (np.array_equal(away[awake], self.watch.awake_ids)
                and np.array_equal(hh.since_step[self.watch.awake_ids], self.watch.awake_since)):
            return ["the awake are not a subsequence of the active set with their since_step"]
        if not ((hh.state[asleep] == State.DISPLACED).all() and (hh.damage[asleep] >= 1).all()
                and (hh.due_step[asleep] == NO_STEP).all()
                and self.watch.sleep_cells[hh.cell[asleep]].all()):
            return ["a sleeper is not displaced with its home lost and no repair date"]
        return []

    def verify(self) -> None:
        """Recount persons and occupancy from the households; raise InvariantError on mismatch.

        Persons by region and state (and group), by home cell, occupancy, the unsheltered and
        displaced counters, capacity never exceeded, the active set, the sleepers and those on their
        way (LASER's per-step check that aggregates equal a count over agents).
        """
        hh = self.households
        persons = np.zeros_like(self.persons)
        count(persons, hh.region, hh.state, hh.size, +1)
        away = hh.place != NO_PLACE
        occupancy = np.zeros_like(self.occupancy)
        count(occupancy, hh.stay_region[away], hh.place[away], hh.size[away], +1)
        found = []
        if int(persons.sum()) != self.total_persons:
            found.append(f"persons {int(persons.sum())} != {self.total_persons}")
        if not np.array_equal(persons, self.persons):
            found.append("persons counters differ from a recount")
        by_group = np.zeros_like(self.persons_by_group)
        count_all_groups(by_group, hh)
        if not np.array_equal(by_group, self.persons_by_group):
            found.append("persons_by_group counters differ from a recount")
        if not np.array_equal(np.bincount(hh.cell, hh.size, self.cell_persons.size),
                              self.cell_persons):
            found.append("persons by home cell differ from a recount")
        if not np.array_equal(occupancy, self.occupancy):
            found.append("occupancy counters differ from a recount")
        recount = (np.zeros_like(self.unsheltered_by_group), np.zeros_like(self.displaced_since),
                   np.zeros_like(self.displaced_now_by_cell))
        self._track(np.flatnonzero(away), +1, recount)
        if not (np.array_equal(recount[0], self.unsheltered_by_group)
                and np.array_equal(recount[1], self.displaced_since)
                and np.array_equal(recount[2], self.displaced_now_by_cell)):
            found.append("unsheltered or displaced counters differ from a recount")
        n_cap = len(CAPACITY_PLACES)
        if (occupancy[:, :n_cap] > self.capacity[:, :n_cap]).any():
            found.append("occupancy exceeds capacity")
        if not np.array_equal(away, np.isin(hh.state, AWAY_STATES)):
            found.append("households away without a place (or the reverse)")
        if not np.array_equal(np.sort(self.away_ids), np.flatnonzero(away)):
            found.append("the active set differs from the households away")
        found += self._sleepers() + self._going()
        if found:
            raise InvariantError(f"step {self.step}: " + "; ".join(found))

"""The World: households, the places they stay, and exact counters kept on every transition.

This is the only code that changes a household's state, place or region. Each method keeps the
counters (persons by region and state, persons by group, occupancy by region and place) exact by
updating them for the households that change, never by recounting everyone; :meth:`World.verify`
recounts and compares (LASER's per-step check that aggregates equal a count over agents).
"""

from __future__ import annotations

import numpy as np

from simulator.states import (
    GROUPS,
    NO_PLACE,
    NO_STEP,
    PLACES,
    STATE_NAMES,
    Place,
    State,
)
from simulator.world.checks import Recount
from simulator.world.conflicts import ConflictZones
from simulator.world.crossings import Crossings
from simulator.world.households import Households, cell_slices, households_in_cells
from simulator.world.places import Places
from simulator.world.recorder import Recorder
from simulator.world.tally import count, count_all_groups, count_groups, group_sums
from simulator.world.walkers import Walkers
from simulator.world.watch import Watch


def advance_events(event_start: np.ndarray, intensity: np.ndarray, t: int) -> bool:
    """Update ``event_start`` (per cell, first step of its wet spell) with step ``t``'s hazard.

    A cell turning wet starts an event at ``t``; a dry cell ends its event (NO_STEP). Returns
    whether any cell is wet.
    """
    wet = intensity > 0
    event_start[wet & (event_start == NO_STEP)] = t
    event_start[~wet] = NO_STEP
    return bool(wet.any())


class World(Recount):
    """Household arrays, their places and the exact counters over them.

    Args:
        households: the synthesised households (sorted by cell).
        n_regions: number of regions.
        n_cells: number of populated cells.
        places: capacities and their ramp.
        n_steps: steps in the run (sizes the recorder).
    """

    def __init__(self, households: Households, n_regions: int, n_cells: int, places: Places,
                 n_steps: int) -> None:
        hh = self.households = households
        self.places = places
        self.step = 0  #: the step being run; transitions are stamped with it
        self.cell_start = cell_slices(hh.cell, n_cells)  #: households by their first home cell
        #: households that made a new home during the run (no longer in their cell_start slice)
        self.moved = np.empty(0, dtype=np.int64)
        self._is_moved: np.ndarray | None = None  # mask of moved, made at the first move
        #: persons whose home is in each cell (dwellings a newcomer can find there)
        self.cell_persons = np.bincount(hh.cell, hh.size, n_cells).astype(np.int64)
        self.persons = np.zeros((n_regions, len(STATE_NAMES)), dtype=np.int64)
        count(self.persons, hh.region, hh.state, hh.size, +1)
        self.total_persons = int(self.persons.sum())
        self.persons_by_group = np.zeros((n_regions, len(STATE_NAMES), len(GROUPS)), dtype=np.int64)
        count_all_groups(self.persons_by_group, self.households)
        self.occupancy = np.zeros((n_regions, len(PLACES)), dtype=np.int64)
        self.away_ids = np.empty(0, dtype=np.int64)  #: displaced or evacuated households
        #: no one away can come home before this step while nothing else happens (-1: unknown;
        #: set by the return step on dry steps, cleared whenever anyone leaves home)
        self.idle_until = -1
        #: times households left the active set (sums kept over it in its order restart then)
        self.away_epoch = 0
        #: the record step's income forgone by those away: (away_epoch, households summed in
        #: the order of away_ids, the sums by home region); None: not kept yet
        self.forgone: tuple[int, int, np.ndarray] | None = None
        #: households that may be on their way to the place they hold (``arrive_step`` after
        #: the step): those on their way at the last record step (sorted), and the ids given a
        #: place since (:meth:`stay`), the only ones whose ``arrive_step`` can have been set
        #: (direct movement only: walkers are counted on their links)
        self.going = np.empty(0, dtype=np.int64)
        self.placed_since: list[np.ndarray] = []
        #: the away households the return step looks at, and the sleepers it leaves out
        self.watch = Watch(n_cells)
        #: persons unsheltered by the region where they stay and group
        self.unsheltered_by_group = np.zeros((n_regions, len(GROUPS)), dtype=np.int64)
        #: persons displaced by home region and the step their displacement began
        self.displaced_since = np.zeros((n_regions, n_steps + 1), dtype=np.int64)
        self.recorder = Recorder(n_steps, n_regions)
        self.displaced_by_cell = np.zeros(n_cells, dtype=np.int64)
        #: persons displaced now by the cell of their home
        self.displaced_now_by_cell = np.zeros(n_cells, dtype=np.int64)
        #: whether anyone has had a repair date or waited for a builder (a due_step other than
        #: NO_STEP) since the start: until then no repair date needs clearing
        self.repairs_dated = False
        #: homes each region's builders can still start this step (a limited reconstruction)
        self.repair_budget = np.zeros(n_regions)
        #: worst intensity (and flooded fraction) each cell has lived through so far
        self.experienced = np.zeros(n_cells, dtype=np.float32)
        self.experienced_fraction: np.ndarray | None = None
        #: per cell, the first step of its current wet spell (the event it is in), or NO_STEP
        self.event_start = np.full(n_cells, NO_STEP, dtype=np.int64)
        self._any_wet = False
        #: per cell, a run of steps in a row when its residents were hit and their flood steps
        #: not yet written (first and last step, its event start; first = NO_STEP: none)
        self.hit_runs = np.full((3, n_cells), NO_STEP, dtype=np.int64)
        self._runs_pending = False
        #: per cell, at least the largest household living there (an envelope for sampling)
        self.cell_max_size = np.zeros(n_cells, dtype=np.int64)
        filled = np.flatnonzero(np.diff(self.cell_start) > 0)
        if filled.size:
            self.cell_max_size[filled] = np.maximum.reduceat(hh.size, self.cell_start[filled])
        #: quotas, waiting applications and border counts (None: one country, no borders)
        self.crossings: Crossings | None = None
        #: where each walking household is (None unless placement.movement = "routes")
        self.walkers: Walkers | None = None
        #: Flee's conflict zones (kept by the walk and by conflict-weighted spawning)
        self.conflicts = ConflictZones(n_regions)

    def track_events(self, t: int, intensity: np.ndarray | None) -> None:
        """Start an event where a cell turns wet at ``t``, end it where it is dry (None: all dry).

        An event is a cell's wet spell, the steps in a row with hazard above zero.
        """
        if intensity is None:
            if self._any_wet:
                self.event_start[:] = NO_STEP
                self._any_wet = False
            return
        self._any_wet = advance_events(self.event_start, intensity, t)

    def remember(self, intensity: np.ndarray, fraction: np.ndarray | None) -> None:
        """Residents remember the worst hazard their cell has had (what a flood teaches)."""
        np.maximum(self.experienced, intensity, out=self.experienced)
        if fraction is not None:
            if self.experienced_fraction is None:
                self.experienced_fraction = np.zeros_like(self.experienced)
            np.maximum(self.experienced_fraction, fraction, out=self.experienced_fraction)

    def note_hits(self, cells: np.ndarray, t: int) -> None:
        """Every resident of ``cells`` (sorted, unique) is hit at step ``t``; written lazily.

        A household hit at ``t`` gets ``last_flood_step = t`` and, when its last flood was
        before the cell's current event began, ``prior_flood_step`` = that last flood. Over a
        run of steps in a row within one event only the first hit can move the prior, so a
        cell's run is kept as (first, last, event start) and written to its residents by
        :meth:`flush_hits`, at the cost of its residents once per run instead of once per step.
        """
        first, last, event = self.hit_runs
        going = ((first[cells] != NO_STEP) & (last[cells] == t - 1)
                 & (event[cells] == self.event_start[cells]))
        new = cells[~going]
        self.flush_hits(new)
        first[new], event[new] = t, self.event_start[new]
        last[cells] = t
        self._runs_pending = self._runs_pending or cells.size > 0

    def flush_hits(self, cells: np.ndarray | None = None) -> None:
        """Write the pending runs of hits of ``cells`` (default: all) to their residents.

        Before anyone reads a flood step or a household's home cell changes.
        """
        if not self._runs_pending:
            return
        first, last, event = self.hit_runs
        cells = np.flatnonzero(first != NO_STEP) if cells is None else (
            cells[first[cells] != NO_STEP])
        if cells.size == 0:
            return
        hh = self.households
        ids = self.households_in(cells)
        cell = hh.cell[ids]
        earlier = ids[hh.last_flood_step[ids] < event[cell]]  # as at the run's first hit
        hh.prior_flood_step[earlier] = hh.last_flood_step[earlier]
        hh.last_flood_step[ids] = last[cell]
        first[cells] = NO_STEP
        self._runs_pending = bool((first != NO_STEP).any())

    @property
    def capacity(self) -> np.ndarray:
        """Persons each (region, place) can take this step."""
        return self.places.capacity

    # -- counters ----------------------------------------------------------------------------
    def _track(self, ids: np.ndarray, sign: int,
               tables: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        """Add ``sign`` times ``ids`` as they are now to the unsheltered and displaced counters.

        Or to ``tables`` (as ``unsheltered_by_group``, ``displaced_since`` and
        ``displaced_now_by_cell``), for a recount.
        """
        hh = self.households
        unsheltered, displaced, by_cell = tables or (
            self.unsheltered_by_group, self.displaced_since, self.displaced_now_by_cell)
        rough = ids[hh.place[ids] == Place.UNSHELTERED]
        if rough.size:
            unsheltered += sign * group_sums(hh.members[rough], hh.disabled[rough],
                                             hh.stay_region[rough].astype(np.int64),
                                             unsheltered.shape[0])
        gone = ids[hh.state[ids] == State.DISPLACED]
        if gone.size:
            count(displaced, hh.region[gone], hh.since_step[gone].astype(np.int64),
                  hh.size[gone], sign)
            persons = sign * hh.size[gone].astype(np.int64)
            if gone.size * 8 < by_cell.size:  # a few: no pass over every cell
                np.add.at(by_cell, hh.cell[gone], persons)
            else:
                by_cell += np.bincount(hh.cell[gone], persons, by_cell.size).astype(np.int64)

    def protracted(self, t: int, days: int, step_days: int) -> np.ndarray:
        """Persons displaced for more than ``days`` at step ``t``, by home region.

        Those displaced at steps ``s`` with ``(t - s) * step_days > days``: ``s < t - days //
        step_days``.
        """
        return self.displaced_since[:, :max(t - days // step_days, 0)].sum(axis=1)

    # -- transitions -------------------------------------------------------------------------
    def set_state(self, ids: np.ndarray, new: State | np.ndarray,
                  since: np.ndarray | None = None) -> None:
        """Move ``ids`` to state ``new`` (scalar or per household), keeping counters exact.

        The state began at this step, or at ``since`` (per household) when given.
        """
        if ids.size == 0:
            return
        self._track(ids, -1)
        self._set_state(ids, new, since)
        self._track(ids, +1)

    def _set_state(self, ids: np.ndarray, new: State | np.ndarray,
                   since: np.ndarray | None = None) -> None:
        hh = self.households
        count(self.persons, hh.region[ids], hh.state[ids], hh.size[ids], -1)
        count_groups(self.persons_by_group, self.households, ids, -1)
        hh.state[ids] = new
        hh.since_step[ids] = self.step if since is None else since
        count(self.persons, hh.region[ids], hh.state[ids], hh.size[ids], +1)
        count_groups(self.persons_by_group, self.households, ids, +1)

    def home_state(self, ids: np.ndarray) -> np.ndarray:
        """State of households back at home: ``adapted`` if their home is adapted, else at home."""
        return np.where(self.households.adapted[ids] > 0, State.ADAPTED, State.AT_HOME)

    def leave_home(self, ids: np.ndarray, state: State) -> None:
        """``ids`` leave home as ``state`` (evacuated or displaced) and join the active set."""
        self.set_state(ids, state)
        self.away_ids = np.concatenate([self.away_ids, ids])
        self.idle_until = -1
        self.watch.joined(self.households, ids)

    @property
    def watched_ids(self) -> np.ndarray:
        """The away households that are awake (:class:`Watch`), in the order of away_ids."""
        awake = self.watch.awake_ids
        return self.away_ids if awake is None else awake

    def stay(self, ids: np.ndarray, region: np.ndarray, place: np.ndarray) -> None:
        """``ids`` (away) now stay at ``place`` in ``region``.

        Their persons are counted there already, by :meth:`occupy` as each was admitted.
        """
        if ids.size == 0:
            return
        hh = self.households
        self._track(ids, -1)
        hh.stay_region[ids], hh.place[ids] = region, place
        self._track(ids, +1)
        if hh.arrive_step is not None and self.walkers is None:  # read by the record step
            self.placed_since.append(ids)

    def occupy(self, region: np.ndarray, place: int | np.ndarray, persons: np.ndarray) -> None:
        """Count ``persons`` into ``place`` of ``region`` before their households are moved."""
        count(self.occupancy, region, place, persons, +1)

    def vacate(self, ids: np.ndarray) -> None:
        """Uncount ``ids`` from the places they stay at (their place is kept until changed)."""
        hh = self.households
        count(self.occupancy, hh.stay_region[ids], hh.place[ids], hh.size[ids], -1)

    def come_home(self, ids: np.ndarray, state: State | np.ndarray) -> None:
        """``ids`` (vacated) are home again in ``state``: no place, home region, no damage."""
        hh = self.households
        self._track(ids, -1)
        self._set_state(ids, state)
        hh.place[ids], hh.stay_region[ids] = NO_PLACE, hh.region[ids]
        hh.damage[ids], hh.due_step[ids] = 0.0, NO_STEP
        self._track(ids, +1)

    def move_home(self, ids: np.ndarray, region: np.ndarray, cell: np.ndarray) -> None:
        """``ids`` (at home, or vacated) make a new home in ``cell`` of ``region``.

        They become its residents as ``relocated``: counted there from now on, at home, with a
        new dwelling that is neither damaged nor dry-proofed; they can be flooded there and
        decide again. Their own flood memory goes with them.
        """
        hh = self.households
        if self._runs_pending:  # the runs of hits of the homes they leave and join
            self.flush_hits(np.unique(np.concatenate([hh.cell[ids], cell])))
        np.maximum.at(self.cell_max_size, cell, hh.size[ids])
        self._track(ids, -1)
        count(self.persons, hh.region[ids], hh.state[ids], hh.size[ids], -1)
        count_groups(self.persons_by_group, self.households, ids, -1)
        self.cell_persons -= np.bincount(hh.cell[ids], hh.size[ids],
                                         self.cell_persons.size).astype(np.int64)
        hh.region[ids], hh.cell[ids], hh.stay_region[ids] = region, cell, region
        hh.state[ids], hh.since_step[ids], hh.place[ids] = State.RELOCATED, self.step, NO_PLACE
        hh.adapted[ids], hh.damage[ids], hh.due_step[ids] = 0, 0.0, NO_STEP
        self.cell_persons += np.bincount(cell, hh.size[ids], self.cell_persons.size).astype(
            np.int64)
        count(self.persons, hh.region[ids], hh.state[ids], hh.size[ids], +1)
        count_groups(self.persons_by_group, self.households, ids, +1)
        self._track(ids, +1)
        self._add_moved(ids)

    def resize(self, ids: np.ndarray, members: np.ndarray, disabled: np.ndarray) -> None:
        """``ids`` (at home) now have ``members`` (births, deaths): their size and every counter.

        ``members`` (len(ids), 8) and ``disabled`` replace theirs; the size is the members' sum.
        Households at home hold no place, so occupancy and the away counters do not change.
        """
        hh = self.households
        old = hh.size[ids].astype(np.int64)
        count(self.persons, hh.region[ids], hh.state[ids], hh.size[ids], -1)
        count_groups(self.persons_by_group, self.households, ids, -1)
        hh.members[ids], hh.disabled[ids] = members, disabled
        hh.size[ids] = members.sum(axis=1)
        count(self.persons, hh.region[ids], hh.state[ids], hh.size[ids], +1)
        count_groups(self.persons_by_group, self.households, ids, +1)
        change = hh.size[ids].astype(np.int64) - old
        np.maximum.at(self.cell_max_size, hh.cell[ids], hh.size[ids])
        self.cell_persons += np.bincount(hh.cell[ids], change, self.cell_persons.size).astype(
            np.int64)
        self.total_persons += int(change.sum())

    def _add_moved(self, ids: np.ndarray) -> None:
        """Add ``ids`` to :attr:`moved`, kept sorted and unique (as ``np.union1d`` would).

        A mask finds the new ones and a stable sort merges two sorted runs in linear time,
        instead of re-sorting every household that ever moved at each move.
        """
        if self._is_moved is None:
            self._is_moved = np.zeros(len(self.households), dtype=bool)
        new = np.unique(ids[~self._is_moved[ids]])
        if new.size == 0:
            return
        self._is_moved[new] = True
        merged = np.concatenate([self.moved, new.astype(np.int64)])
        merged.sort(kind="stable")
        self.moved = merged

    def households_in(self, cells: np.ndarray) -> np.ndarray:
        """Ids of the households whose home is in ``cells`` now (a sorted, unique ``cells``)."""
        ids = households_in_cells(self.cell_start, cells)
        if self.moved.size == 0:
            return ids
        came = self.moved[np.isin(self.households.cell[self.moved], cells)]
        return np.concatenate([ids[~np.isin(ids, self.moved)], came])

    def end_away(self, ids: np.ndarray) -> None:
        """Drop ``ids`` (back home or settled) from the active set."""
        if ids.size:
            self.away_ids = self.away_ids[~np.isin(self.away_ids, ids, kind="table")]
            self.away_epoch += 1
            self.watch.left(ids)

    def flow(self, origin: np.ndarray, dest: np.ndarray, persons: np.ndarray) -> None:
        """Record persons moving from ``origin`` to ``dest`` regions this step (sparse pairs)."""
        self.recorder.flows.add(self.step, (origin, dest), persons)

    def turn_away(self, region: np.ndarray, place: int, persons: np.ndarray,
                  sign: int = 1) -> None:
        """Record persons who sought ``place`` in ``region`` this step and were not admitted.

        ``sign`` -1 takes back persons recorded with the applicants who were then admitted.
        """
        self.recorder.turned_away[self.step, :, place] += sign * np.bincount(
            region, persons, self.recorder.turned_away.shape[1]).astype(np.int64)

"""Prescribed spawning at a cost that follows the leavers, not the residents (issue 21).

Flee's validation runs spawn each day's observed count of new displaced persons at conflict
zones (``impact.method = "prescribed"``). Households leave one after another, each drawn among
the candidates still at home in the hit cells with probability in proportion to its weight
(successive sampling; ``prescribed_weights``: ``"residents"``, every household alike, or
``"conflict"``, persons × :func:`~simulator.rules.impacts.conflict_spawn_rates`), until the
day's persons are reached (:func:`~simulator.rules.impacts.take_in_order`). This is the same
law as an exponential race over every candidate (Efraimidis & Spirakis 2006, Information
Processing Letters 97(5), 181–185), but it is drawn by rejection from the cells' household
slots (:func:`~simulator.rules.impacts.envelope_slots`): draw ``i`` of step ``t`` is streams
``spawn`` and ``spawn_accept`` at counter ``i``, so a day of a few hundred leavers among
millions of residents costs a few hundred draws, and the result does not depend on how the
draws are batched. When nearly every candidate is to leave, or the candidates are nearly used
up (most draws rejected), the queue is finished by an exponential race over the remaining
candidates (stream ``spawn_tail``): the same law again, at the cost of the candidates, and the
one case where when it starts (after how many batches) can change which households leave.

A cell's slots are its households in the ``cell_start`` slice (those who made a new home
elsewhere are rejected) followed by those who moved into it. Candidates are the residents not
displaced, and with a flooded fraction, only those whose home is in the flooded part.
"""

from __future__ import annotations

import numpy as np

from simulator.rules.impacts import conflict_spawn_rates, envelope_slots, take_in_order
from simulator.states import State
from simulator.steps.context import Context
from simulator.steps.walk import track_conflicts
from simulator.world.ledger import World

#: Draws of one batch at least (speed only: results are the same for any batch).
MIN_BATCH = 256
#: Draws allowed per household still wanted before the rest is raced over the candidates.
MAX_TRIES = 64
#: Draws of one batch at most (bounded temporaries: about 40 bytes a draw).
MAX_BATCH = 1 << 18


class _Slots:
    """The household slots of the hit cells, their envelope, and who can leave."""

    def __init__(self, world: World, ctx: Context, cells: np.ndarray, depth: np.ndarray,
                 fraction: np.ndarray | None) -> None:
        self.world, self.ctx, self.cells = world, ctx, cells
        self.depth, self.fraction = depth, fraction
        hh = world.households
        start = world.cell_start
        self.first = start[cells]
        self.in_slice = start[cells + 1] - self.first
        came = np.empty(0, dtype=np.int64)
        if world.moved.size:  # those who made a new home in a hit cell
            came = world.moved[np.isin(hh.cell[world.moved], cells)]
        came = came[np.argsort(hh.cell[came], kind="stable")]
        self.came = came
        per_cell = np.bincount(np.searchsorted(cells, hh.cell[came]), minlength=cells.size)
        self.came_start = np.cumsum(per_cell) - per_cell
        self.slots = self.in_slice + per_cell

    def household(self, group: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """The household id in ``slot`` of hit cell number ``group``."""
        from_slice = slot < self.in_slice[group]
        k = np.where(from_slice, 0, self.came_start[group] + slot - self.in_slice[group])
        tail = self.came[np.minimum(k, max(self.came.size - 1, 0))] if self.came.size else k
        return np.where(from_slice, self.first[group] + slot, tail)

    def can_leave(self, ids: np.ndarray, from_slice: np.ndarray | None = None) -> np.ndarray:
        """Whether ``ids`` live here now, are not displaced and (flooded part) were hit."""
        world, hh = self.world, self.world.households
        ok = hh.state[ids] != State.DISPLACED
        if from_slice is not None and world.moved.size:
            ok &= ~(np.isin(ids, world.moved) & from_slice)  # moved out: not here any more
        if self.fraction is not None:
            d = self.ctx.home_depth(world, ids, self.depth, self.fraction)
            ok &= d > self.ctx.kind.hit_above
        return ok

    def all_candidates(self, groups: np.ndarray) -> np.ndarray:
        """Every household of hit cells ``self.cells[groups]`` that can leave."""
        ids = self.world.households_in(self.cells[groups])
        return ids[self.can_leave(ids)]


def spawn_prescribed(world: World, ctx: Context, t: int, cells: np.ndarray, depth: np.ndarray,
                     fraction: np.ndarray | None, target: float) -> np.ndarray:
    """Households of hit ``cells`` who leave at step ``t`` to displace about ``target`` persons.

    See the module docstring. Returns their ids, sorted.
    """
    hh, imp = world.households, ctx.config.impact
    if cells.size == 0 or target < 0.5:  # below half a person nobody leaves (take_in_order)
        return np.empty(0, dtype=np.int64)
    slots = _Slots(world, ctx, cells, depth, fraction)
    candidates = _candidate_persons(world, slots)  # per hit cell
    size_bound = world.cell_max_size[cells]
    if imp.prescribed_weights == "conflict":  # Flee: locations by population x conflict
        track_conflicts(world, ctx, t)
        region, n_regions = ctx.inputs.cell_region[cells], len(ctx.inputs.region_names)
        rho = conflict_spawn_rates(
            np.bincount(ctx.inputs.cell_region, world.cell_persons, n_regions),
            world.conflicts.intensity(t, imp.conflict_decay, imp.conflict_decay_interval_days),
            np.bincount(region, candidates, n_regions))[region]
        per_slot = rho * size_bound  # a slot's envelope: the largest household's weight
        accepted = float((candidates * rho).sum())
    else:  # every household alike
        rho, per_slot = None, np.ones(cells.size)
        accepted = float(candidates.sum()) / max(world.total_persons / max(len(hh), 1), 1.0)
    mass = np.where(candidates > 0, slots.slots * per_slot, 0.0)
    live = np.flatnonzero(mass > 0)
    total = float(candidates[live].sum())
    if total <= target:  # everyone who can leave does
        return np.sort(slots.all_candidates(live))
    if total - float(size_bound[live].max()) / 2 <= target:  # nearly everyone: race them all
        queue = _race(slots, ctx, t, mass, rho, np.empty(0, dtype=np.int64))
    else:
        queue = _draw_queue(slots, ctx, t, mass, per_slot, rho, target, total,
                            accepted / float(mass.sum()))
    return np.sort(queue[:take_in_order(hh.size[queue], target)])


def _candidate_persons(world: World, slots: _Slots) -> np.ndarray:
    """Persons who can leave per hit cell.

    Residents less the displaced whose home is there, from the counters; with a flooded
    fraction, counted household by household.
    """
    hh, cells = world.households, slots.cells
    if slots.fraction is not None:
        ids = slots.all_candidates(np.arange(cells.size))
        return np.bincount(np.searchsorted(cells, hh.cell[ids]), hh.size[ids], cells.size)
    return world.cell_persons[cells] - world.displaced_now_by_cell[cells]


def _draw_queue(slots: _Slots, ctx: Context, t: int, mass: np.ndarray, per_slot: np.ndarray,
                rho: np.ndarray | None, target: float, candidates: float,
                acceptance: float) -> np.ndarray:
    """Distinct households in the order successive sampling draws them, until ``target``.

    ``candidates``: persons who can leave; ``acceptance``: the expected share of draws accepted
    at first, which, less the share already queued, sizes the batches (speed only).
    """
    hh, streams = slots.world.households, ctx.streams
    total = float(np.cumsum(mass)[-1])  # the end of the last group, as envelope_slots sees it
    mean = slots.world.total_persons / max(len(hh), 1)
    queue = np.empty(0, dtype=np.int64)
    drawn, persons = 0, 0.0
    while True:
        if queue.size and persons - float(hh.size[queue[-1]]) / 2 > target:
            return queue  # the last one drawn no longer leaves: the queue is long enough
        if persons >= candidates:  # everyone who can leave is queued
            return queue
        wanted = (target - persons) / mean + 2  # households still wanted, about
        share = acceptance * max(1.0 - persons / candidates, 1e-9)  # repeats are rejected too
        if drawn > MAX_TRIES * (queue.size + wanted) / share:  # nearly used up
            return np.concatenate([queue, _race(slots, ctx, t, mass, rho, queue)])
        batch = int(min(max(MIN_BATCH, 2 * wanted / share), MAX_BATCH))
        i = np.arange(drawn, drawn + batch, dtype=np.int64)
        drawn += batch
        group, slot = envelope_slots(streams.uniform("spawn", t, i) * total, mass, per_slot,
                                     slots.slots)
        ids = slots.household(group, slot)
        ok = slots.can_leave(ids, slot < slots.in_slice[group])
        if rho is not None:  # a household of s persons against the cell's largest size
            bound = slots.world.cell_max_size[slots.cells[group]]
            ok &= streams.uniform("spawn_accept", t, i) * bound < hh.size[ids]
        ids = ids[ok]
        ids = ids[~np.isin(ids, queue)]
        _, first = np.unique(ids, return_index=True)
        fresh = ids[np.sort(first)]  # drawn twice: its first place
        queue = np.concatenate([queue, fresh])
        persons += float(hh.size[fresh].sum())


def _race(slots: _Slots, ctx: Context, t: int, mass: np.ndarray, rho: np.ndarray | None,
          queue: np.ndarray) -> np.ndarray:
    """The rest of the queue: the candidates not yet drawn, by an exponential race.

    Key −ln(u) / weight (weight: persons × ρ of the cell, or 1), smallest first: the same law
    as going on drawing (Efraimidis & Spirakis 2006).
    """
    hh = slots.world.households
    ids = slots.all_candidates(np.flatnonzero(mass > 0))
    ids = ids[~np.isin(ids, queue)]
    weight = np.ones(ids.size)
    if rho is not None:
        weight = rho[np.searchsorted(slots.cells, hh.cell[ids])] * hh.size[ids]
    u = ctx.streams.uniform("spawn_tail", t, ids)
    key = -np.log(np.maximum(u, 1e-300)) / weight
    return ids[np.lexsort((ids, key))]

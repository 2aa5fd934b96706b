"""Region-pair result tables kept sparse while the run goes: ``flows`` and ``relocations``.

A national case has hundreds of regions, so a dense step x origin x destination table is
r² cells a step (812 regions x 395 steps: 2.1 GB of ``flows``) although people move between few
pairs on any step. A :class:`PairTable` keeps, per step, the pairs used (flat keys into the step's
table) and the persons summed over them; it appends cheaply during the step and consolidates
(unique keys, summed) when the step is recorded or when its pending list grows. The dense table
exists only when asked for, a block of steps at a time (:meth:`PairTable.block`).
"""

from __future__ import annotations

import uuid

import numpy as np

#: Pending entries of one step after which :meth:`PairTable.add` consolidates them early.
PENDING_LIMIT = 1 << 20

#: Distinct destinations (all causes together) one origin region reaches in a step, on average,
#: that the memory estimate allows for each pair table (:func:`pair_bytes`).
DESTINATIONS_PER_STEP = 8

KEY_BYTES = 8  # a flat int64 key per pair used


def pair_bytes(n_steps: int, shape: tuple[int, ...], dtype: np.dtype) -> int:
    """Bytes the memory estimate allows for a :class:`PairTable` of ``n_steps`` x ``shape``.

    Each of the ``shape[0]`` origins reaching :data:`DESTINATIONS_PER_STEP` pairs a step, one
    flat key and one value each, and never more than the dense table; a run whose people spread
    wider than that takes more (at most ``KEY_BYTES + itemsize`` per pair used).
    """
    itemsize = np.dtype(dtype).itemsize
    cells = int(np.prod(shape))
    entries = min(cells, shape[0] * DESTINATIONS_PER_STEP)
    return min(n_steps * entries * (KEY_BYTES + itemsize), n_steps * cells * itemsize)


class PairTable:
    """A sparse ``(n_steps, *shape)`` table of persons, summed per step over the keys used.

    Reads like the dense array it stands for: ``table[t]``, ``table[t, i, j]`` and
    ``np.asarray(table)`` give the dense values (built on demand).
    """

    def __init__(self, n_steps: int, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape = (n_steps, *shape)
        self.dtype = np.dtype(dtype)
        self.token = uuid.uuid4().hex  # names the table's blocks in a lazy (dask) array
        self._cells = int(np.prod(shape))
        self._keys = [np.zeros(0, np.int64)] * n_steps  # sorted, unique flat keys per step
        self._values = [np.zeros(0, self.dtype)] * n_steps
        self._pending: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self._pending_n: dict[int, int] = {}

    @property
    def ndim(self) -> int:
        """Dimensions of the dense table."""
        return len(self.shape)

    @property
    def dense_nbytes(self) -> int:
        """Bytes of the dense table this one stands for."""
        return self.shape[0] * self._cells * self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes held now: the consolidated keys and values and the pending entries."""
        held = sum(k.nbytes + v.nbytes for k, v in zip(self._keys, self._values, strict=True))
        return held + sum(k.nbytes + v.nbytes for parts in self._pending.values()
                          for k, v in parts)

    def add(self, step: int, index: tuple[np.ndarray | int, ...],
            persons: np.ndarray | int) -> None:
        """Add ``persons`` at ``table[step][index]`` (repeated keys add up, as ``np.add.at``)."""
        index = np.broadcast_arrays(*(np.asarray(i, dtype=np.int64) for i in index))
        keys = np.ravel_multi_index(tuple(index), self.shape[1:]).ravel()
        if keys.size == 0:
            return
        values = np.broadcast_to(np.asarray(persons, dtype=np.int64), index[0].shape).ravel()
        self._pending.setdefault(step, []).append((keys, values.copy()))
        self._pending_n[step] = self._pending_n.get(step, 0) + keys.size
        if self._pending_n[step] > PENDING_LIMIT:
            self.consolidate(step)

    def consolidate(self, step: int | None = None) -> None:
        """Merge the pending entries of ``step`` (default: every step) into unique summed keys."""
        for t in [step] if step is not None else list(self._pending):
            parts = self._pending.pop(t, None)
            self._pending_n.pop(t, None)
            if not parts:
                continue
            keys = np.concatenate([self._keys[t], *(k for k, _ in parts)])
            values = np.concatenate([self._values[t].astype(np.int64), *(v for _, v in parts)])
            order = np.argsort(keys, kind="stable")
            keys, values = keys[order], values[order]
            first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            sums = np.add.reduceat(values, first)
            used = sums != 0
            self._keys[t] = keys[first][used]
            self._values[t] = sums[used].astype(self.dtype)

    def block(self, start: int, stop: int) -> np.ndarray:
        """The dense table of steps ``start`` to ``stop`` (exclusive)."""
        self.consolidate()
        out = np.zeros((max(stop - start, 0), self._cells), dtype=self.dtype)
        for i, t in enumerate(range(start, stop)):
            out[i, self._keys[t]] = self._values[t]
        return out.reshape(-1, *self.shape[1:])

    def __getitem__(self, key: object) -> np.ndarray:
        """Basic indexing (integers and slices) of the dense table, built for the steps asked."""
        key = key if isinstance(key, tuple) else (key,)
        when, rest = key[0], key[1:]
        if isinstance(when, slice):
            start, stop, stride = when.indices(self.shape[0])
            if stride != 1:
                return self.block(0, self.shape[0])[(when, *rest)]
            return self.block(start, max(start, stop))[(slice(None), *rest)]
        t = range(self.shape[0])[int(when)]  # negative steps count from the end
        if len(rest) == self.ndim - 1 and all(isinstance(i, int | np.integer) for i in rest):
            return self._value(t, np.ravel_multi_index(rest, self.shape[1:]))  # one cell
        return self.block(t, t + 1)[(0, *rest)]

    def _value(self, step: int, key: int) -> np.generic:
        """One cell of step ``step``'s table, by its flat key (no dense table built)."""
        self.consolidate(step)
        keys = self._keys[step]
        at = int(np.searchsorted(keys, key))
        found = at < keys.size and keys[at] == key
        return self._values[step][at] if found else self.dtype.type(0)

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        """The whole dense table."""
        out = self.block(0, self.shape[0])
        return out if dtype is None else out.astype(dtype)

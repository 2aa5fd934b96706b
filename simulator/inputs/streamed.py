"""A hazard series streamed from disk: a bounded window of steps in memory, whatever the run length.

:class:`StreamedHazard` answers what the model asks of a
:class:`~simulator.inputs.series.HazardSeries` with the same numbers, reading blocks of steps
from the lazily opened file(s) as the run reaches them. It holds at most two blocks (the
current step and the forecast step ``lead`` ahead can straddle a block edge); ``step_max``
(a number per step) and the peaks (a number per site) come from one chunked pass when it is
built. ``values[a:b]`` is a lazy range whose ``max(axis=0)`` is taken block by block (the
worst stress since the last decision, the peak so far on the dashboard).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from simulator.errors import InputError
from simulator.inputs.hazard_checks import check_values
from simulator.inputs.schema import HazardSource, Scenario
from simulator.inputs.series import BLOCK_BYTES, StepSource, ValueStats

#: Blocks a streamed series holds at once.
HELD_BLOCKS = 2
#: Above this size (bytes) of per-step values, ``hazard.stream = "auto"`` streams from disk.
STREAM_ABOVE_BYTES = 256 * 2**20


def streams(cfg: HazardSource, n_steps: int, n_sites: int, has_fraction: bool) -> bool:
    """Whether to stream: ``stream`` if set, else when the per-step array would be large.

    The array is ``n_steps x n_sites`` float32, twice with a flooded fraction; sections without
    a ``stream`` field (stress, information, defences) follow the same "auto" rule.
    """
    choice = getattr(cfg, "stream", "auto")
    if choice != "auto":
        return bool(choice)
    return n_steps * n_sites * 4 * (2 if has_fraction else 1) > STREAM_ABOVE_BYTES


def stream_hazard(source: StepSource, cfg: HazardSource, cell_site: np.ndarray,
                  scenario: Scenario, where: Path, field: str) -> StreamedHazard:
    """The hazard streamed from disk; values are checked over the simulated period only."""
    check_overlap(source.lo, source.hi, scenario, where, field)
    stats = ValueStats()
    series = StreamedHazard(source, cfg.kind, cell_site, stats)
    check_values(stats.summary(), source.factor, cfg, where, field)
    if not np.isfinite(stats.low):
        raise InputError(where, f"{field}.variable: {cfg.variable or 'intensity'!r} holds only "
                                f"missing values (NaN) at the populated cells during the "
                                f"simulated period")
    return series


def check_overlap(lo: np.ndarray, hi: np.ndarray, scenario: Scenario, where: Path,
                  field: str) -> None:
    """Refuse a hazard none of whose samples falls in the simulated period."""
    if not (hi > lo).any():
        raise InputError(where, f"{field}: the hazard's time axis does not overlap the simulated "
                                f"period from {scenario.start_date} ({scenario.n_steps} steps of "
                                f"{scenario.step_days} days)")


class StreamedHazard:
    """Hazard intensity per model step at the sites, read from disk a block of steps at a time.

    Attributes:
        kind: the hazard kind.
        cell_site: (n_cells,) site of each populated cell.
        step_max: (n_steps,) maximum over sites, for skipping quiet steps.
        block_steps: steps per block read from disk.
    """

    def __init__(self, source: StepSource, kind: str, cell_site: np.ndarray,
                 stats: ValueStats | None = None) -> None:
        """Scan the simulated period once, block by block, for ``step_max`` and the peaks.

        Args:
            source: where the samples are and how they map onto steps.
            kind: the hazard kind.
            cell_site: site of each populated cell.
            stats: filled with what the values checks need, if given.
        """
        self.source, self.kind, self.cell_site = source, kind, cell_site
        self.n_steps = source.lo.size
        n_sites = next(iter(source.indexers.values())).size + int(source.pad)
        per_step = 4 * n_sites * (1 if source.frac is None else 2)
        self.block_steps = int(max(1, min(self.n_steps, BLOCK_BYTES // per_step)))
        self._blocks: OrderedDict[int, tuple[np.ndarray, np.ndarray | None]] = OrderedDict()
        self.step_max = np.zeros(self.n_steps, np.float32)
        self._peak = np.full(n_sites, -np.inf, np.float32)
        self._peak_fraction = None if source.frac is None else np.zeros(n_sites, np.float32)
        for k0 in range(0, self.n_steps, self.block_steps):
            k1 = min(self.n_steps, k0 + self.block_steps)
            values, fraction = source.block(k0, k1, stats)
            self.step_max[k0:k1] = values.max(axis=1, initial=0.0)
            self._peak = np.maximum(self._peak, values.max(axis=0))
            if fraction is not None:
                self._peak_fraction = np.maximum(self._peak_fraction, fraction.max(axis=0))

    @property
    def held_bytes(self) -> int:
        """Bytes of per-step values held now (at most ``HELD_BLOCKS`` blocks)."""
        return sum(v.nbytes + (0 if f is None else f.nbytes) for v, f in self._blocks.values())

    def _block(self, i: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Block ``i`` (steps ``i * block_steps ...``), read unless held; the oldest is dropped."""
        if i in self._blocks:
            self._blocks.move_to_end(i)
            return self._blocks[i]
        k0 = i * self.block_steps
        block = self.source.block(k0, min(self.n_steps, k0 + self.block_steps))
        self._blocks[i] = block
        while len(self._blocks) > HELD_BLOCKS:
            self._blocks.popitem(last=False)
        return block

    def row(self, step: int, which: int = 0) -> np.ndarray | None:
        """Step ``step`` at every site: intensity (``which`` 0) or flooded fraction (1)."""
        if not 0 <= step < self.n_steps:
            raise IndexError(f"step {step} outside 0..{self.n_steps - 1}")
        block = self._block(step // self.block_steps)[which]
        return None if block is None else block[step % self.block_steps]

    def at(self, step: int) -> np.ndarray:
        """Intensity at every populated cell during ``step``."""
        return self.row(step)[self.cell_site]

    def fraction_at(self, step: int) -> np.ndarray | None:
        """Share of each populated cell's homes hit during ``step`` (None: all of them)."""
        row = self.row(step, 1)
        return None if row is None else row[self.cell_site]

    def peak(self) -> np.ndarray:
        """The worst intensity over the run at every populated cell (the design event)."""
        return self._peak[self.cell_site]

    def peak_fraction(self) -> np.ndarray | None:
        """The largest share hit over the run at every populated cell (None: all)."""
        return None if self._peak_fraction is None else self._peak_fraction[self.cell_site]

    @property
    def values(self) -> StepRows:
        """Intensity rows: ``values[k]`` a step at every site, ``values[a:b]`` a lazy range."""
        return StepRows(self, 0)

    @property
    def fraction(self) -> StepRows | None:
        """Flooded-fraction rows, like :attr:`values` (None: the whole cell is hit)."""
        return None if self.source.frac is None else StepRows(self, 1)

    def __getstate__(self) -> dict:
        """Pickle without the held blocks (a worker reads its own)."""
        return {**self.__dict__, "_blocks": OrderedDict()}


class StepRows:
    """The rows (steps) of a streamed series, read on demand."""

    def __init__(self, series: StreamedHazard, which: int) -> None:
        self.series, self.which = series, which

    @property
    def shape(self) -> tuple[int, int]:
        """(steps, sites)."""
        return self.series.n_steps, self.series._peak.size

    def __getitem__(self, key: int | slice) -> np.ndarray | StepRange:
        if isinstance(key, slice):
            start, stop, stride = key.indices(self.series.n_steps)
            if stride != 1:
                raise IndexError("a streamed hazard takes step ranges with stride 1 only")
            return StepRange(self, start, max(start, stop))
        return self.series.row(int(key) % self.series.n_steps, self.which)

    def __len__(self) -> int:
        return self.series.n_steps


class StepRange:
    """Steps ``start..stop`` of a streamed series, never held whole: reduce them with ``max``."""

    def __init__(self, rows: StepRows, start: int, stop: int) -> None:
        self.rows, self.start, self.stop = rows, start, stop

    def _blocks(self):
        series, b = self.rows.series, self.rows.series.block_steps
        for i in range(self.start // b, (self.stop - 1) // b + 1 if self.stop > self.start else 0):
            block = series._block(i)[self.rows.which]
            lo, hi = max(self.start - i * b, 0), min(self.stop - i * b, block.shape[0])
            yield block[lo:hi]

    def max(self, axis: int = 0) -> np.ndarray:
        """The maximum over the steps (``axis=0``) at every site, block by block."""
        if axis != 0:
            raise ValueError("a streamed step range reduces over steps only (axis=0)")
        if self.stop <= self.start:
            raise ValueError("maximum of an empty step range")
        out = None
        for part in self._blocks():
            m = part.max(axis=0)
            out = m if out is None else np.maximum(out, m)
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """All the steps as one array (materialises the range; prefer ``max``)."""
        width = self.rows.shape[1]
        parts = list(self._blocks()) or [np.zeros((0, width), np.float32)]
        return np.concatenate(parts).astype(dtype or np.float32, copy=False)

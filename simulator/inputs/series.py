"""Hazard per model step at the sites: held in memory, or streamed from disk a block at a time.

Both series answer the same questions (``at``, ``fraction_at``, ``step_max``, ``peak``,
``peak_fraction``, ``values[k]`` and ``values[a:b].max(axis=0)``) with the same numbers: a
step's value is the maximum of the samples valid during it (:func:`step_rows`, one function for
both), so a streamed run is bit-identical to an in-memory one.

A :class:`StreamedHazard` keeps the file open (lazily, as xarray opened it) and holds at most
two blocks of ``block_steps`` steps: the run reads the current step and the forecast step
``lead`` ahead, which lie in one block or two neighbouring ones. Its ``step_max`` (one number a
step) and peaks (one per site) come from one chunked pass over the simulated period, so memory
does not grow with the number of steps.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from simulator.errors import InputError
from simulator.inputs.schema import HazardSource, Scenario

#: Bytes of per-step values (float32 at the sites, with the flooded fraction) in one block of a
#: streamed series; it holds two blocks.
BLOCK_BYTES = 16 * 2**20
#: Bytes of raw samples (the bounding box of the sites, float64) read from disk at once.
READ_BYTES = 8 * 2**20


def step_windows(sample_days: np.ndarray, valid_days: np.ndarray, step_days: int,
                 n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """For each model step, the range ``[lo, hi)`` of hazard samples valid during it.

    Args:
        sample_days: sample start times in days since the model start, increasing.
        valid_days: how long each sample is valid, in days.
        step_days: model step length in days.
        n_steps: number of model steps.

    Returns:
        ``lo, hi`` integer arrays of length ``n_steps``; ``lo == hi`` means no hazard that step.
    """
    edges = np.arange(n_steps + 1, dtype=float) * step_days
    ends = sample_days + valid_days
    lo = np.searchsorted(ends, edges[:-1], side="right")
    hi = np.searchsorted(sample_days, edges[1:], side="left")
    return lo, np.maximum(hi, lo)


def days_since(times: xr.DataArray, start: np.datetime64, where: Path) -> np.ndarray:
    """Time stamps in days since ``start`` (cftime calendars mapped onto real dates)."""
    index = times.to_index()
    if hasattr(index, "to_datetimeindex"):  # cftime calendars: map onto real dates, on purpose
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                index = index.to_datetimeindex(time_unit="ns")
        except ValueError:
            raise InputError(where, f"hazard: time axis uses the {index.calendar!r} calendar, "
                                    f"whose dates cannot all be mapped to real dates (e.g. "
                                    f"30 February); convert it to a standard calendar") from None
    values = np.asarray(index.values, dtype="datetime64[ns]")
    return (values - start) / np.timedelta64(1, "D")


def sample_days(da: xr.DataArray, cfg: HazardSource, scenario: Scenario,
                 event_date: np.datetime64 | None, where: Path
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample start days since the model start (sorted), their file order, and validity (days)."""
    start = np.datetime64(scenario.start_date, "ns")
    if "time" in da.dims:
        days = days_since(da["time"], start, where)
        order = np.argsort(days, kind="stable")
        days = days[order]
        spacing = float(np.median(np.diff(days))) if days.size > 1 else float(
            cfg.duration_days or scenario.step_days)
        return days, order, np.append(np.diff(days), spacing)
    if cfg.event_date is not None or event_date is None:
        event_date = np.datetime64(cfg.event_date or scenario.start_date, "ns")
    days = np.array([(np.datetime64(event_date, "ns") - start) / np.timedelta64(1, "D")])
    return days, np.array([0]), np.array([float(cfg.duration_days or scenario.step_days)])


def take_sites(da: xr.DataArray, indexers: dict) -> xr.DataArray:
    """The values at the sites: ``da`` with its spatial dimensions replaced by ``site``.

    A grid is read as the bounding box of the sites (one contiguous read, so a lazily opened
    file never loads more than that box) and then indexed in memory.
    """
    if len(indexers) == 1:
        return da.isel(indexers)
    (ydim, iy), (xdim, ix) = ((d, np.asarray(v.values)) for d, v in indexers.items())
    box = da.isel({ydim: slice(iy.min(), iy.max() + 1), xdim: slice(ix.min(), ix.max() + 1)})
    rest = [d for d in da.dims if d not in (ydim, xdim)]
    values = np.asarray(box.transpose(*rest, ydim, xdim).values)
    return xr.DataArray(values[..., iy - iy.min(), ix - ix.min()], dims=(*rest, "site"),
                        coords={d: da[d] for d in rest if d in da.coords}, attrs=da.attrs)


def step_rows(out: np.ndarray, seen: np.ndarray, chunk: np.ndarray, c0: int, lo: np.ndarray,
              hi: np.ndarray) -> None:
    """Fold samples ``c0, c0 + 1, ...`` (``chunk``, NaN already 0) into the steps' maxima.

    ``out[j]`` becomes the maximum of the samples ``[lo[j], hi[j])`` seen so far; ``seen``
    marks the steps that have had one. The maximum of maxima is the maximum, so any chunking
    gives the same bits.
    """
    c1 = c0 + chunk.shape[0]
    for j in np.flatnonzero((hi > lo) & (lo < c1) & (hi > c0)):
        m = chunk[max(lo[j], c0) - c0:min(hi[j], c1) - c0].max(axis=0)
        out[j] = np.maximum(out[j], m) if seen[j] else m
        seen[j] = True


def dense_rows(sites: xr.DataArray, order: np.ndarray, lo: np.ndarray,
               hi: np.ndarray) -> np.ndarray:
    """Step maximum of the samples valid during each step: ``(n_steps, n_sites)`` float32."""
    dims = ("time", "site") if "time" in sites.dims else ("site",)
    data = np.asarray(sites.transpose(*dims).values, dtype=np.float32).reshape(
        -1, sites.sizes["site"])[order]
    values = np.zeros((lo.size, data.shape[1]), dtype=np.float32)
    step_rows(values, np.zeros(lo.size, bool), np.nan_to_num(data, nan=0.0, copy=False), 0,
              lo, hi)
    return values


@dataclass(frozen=True)
class HazardSeries:
    """Hazard intensity per model step at each hazard site holding people, in SI units."""

    values: np.ndarray  #: (n_steps, n_sites) float32
    step_max: np.ndarray  #: (n_steps,) maximum over sites, for skipping quiet steps
    kind: str
    cell_site: np.ndarray  #: (n_cells,) site of each populated cell
    fraction: np.ndarray | None = None  #: (n_steps, n_sites) share of a site's homes hit, or None

    def at(self, step: int) -> np.ndarray:
        """Intensity at every populated cell during ``step``."""
        return self.values[step][self.cell_site]

    def fraction_at(self, step: int) -> np.ndarray | None:
        """Share of each populated cell's homes hit during ``step`` (None: all of them)."""
        return None if self.fraction is None else self.fraction[step][self.cell_site]

    def peak(self) -> np.ndarray:
        """The worst intensity over the run at every populated cell (the design event)."""
        return self.values.max(axis=0)[self.cell_site]

    def peak_fraction(self) -> np.ndarray | None:
        """The largest share hit over the run at every populated cell (None: all)."""
        return None if self.fraction is None else self.fraction.max(axis=0)[self.cell_site]


class ValueStats:
    """What :func:`~simulator.inputs.hazard_checks.check_values` needs, gathered chunk by chunk."""

    def __init__(self) -> None:
        self.infinite, self.low, self.high = False, np.inf, -np.inf

    def add(self, raw: np.ndarray) -> None:
        """Take in a chunk of raw values (file units, NaN where dry)."""
        self.infinite |= bool(np.isinf(raw).any())
        if np.isfinite(raw).any():
            self.low = min(self.low, float(np.nanmin(raw)))
            self.high = max(self.high, float(np.nanmax(raw)))

    def summary(self) -> np.ndarray:
        """Values with the same infinity, minimum and maximum (NaN: none finite)."""
        if not np.isfinite(self.low):
            return np.array([np.inf if self.infinite else np.nan])
        return np.array([self.low, self.high] + ([np.inf] if self.infinite else []))


@dataclass(frozen=True)
class StepSource:
    """Lazily opened samples and how they map onto model steps.

    Attributes:
        da: the hazard variable, lazily opened (time, if any, and space).
        indexers: ``isel`` indexers of the sites (see :func:`take_sites`).
        order: file position of each sample in time order.
        lo: first sample (in time order) of each step's window.
        hi: end of each step's window (``lo == hi``: no hazard).
        factor: to SI units.
        pad: whether to append an all-zero site (cells beyond every point).
        frac: the flooded fraction, lazily opened, on the same grid and times, or None.
        frac_factor: to a share (e.g. 0.01 for percent), or None.
    """

    da: xr.DataArray
    indexers: dict
    order: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    factor: float
    pad: bool
    frac: xr.DataArray | None = None
    frac_factor: float | None = None

    def raw(self, da: xr.DataArray, a: int, b: int, scale: float | None) -> np.ndarray:
        """Values (file units) at the sites of samples ``a..b`` in time order: (b - a, sites)."""
        inverse = None
        if "time" in da.dims:
            idx = self.order[a:b]
            if np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size)):
                da = da.isel(time=slice(int(idx[0]), int(idx[-1]) + 1))
            else:
                uniq = np.sort(idx)
                da, inverse = da.isel(time=uniq), np.searchsorted(uniq, idx)
        sites = take_sites(da, self.indexers)
        if scale is not None:
            sites = sites * scale
        dims = ("time", "site") if "time" in sites.dims else ("site",)
        out = np.asarray(sites.transpose(*dims).values).reshape(-1, sites.sizes["site"])
        return out if inverse is None else out[inverse]

    def block(self, k0: int, k1: int, stats: ValueStats | None = None
              ) -> tuple[np.ndarray, np.ndarray | None]:
        """Steps ``k0..k1``: intensity (SI) and flooded fraction per site, float32."""
        values = self._rows(self.da, None, k0, k1, stats) * np.float32(self.factor)
        fraction = None if self.frac is None else np.clip(
            self._rows(self.frac, self.frac_factor, k0, k1, None), 0, 1)
        if self.pad:
            values = np.concatenate([values, np.zeros((k1 - k0, 1), np.float32)], axis=1)
            if fraction is not None:
                fraction = np.concatenate([fraction, np.zeros((k1 - k0, 1), np.float32)], 1)
        return values, fraction

    def _rows(self, da: xr.DataArray, scale: float | None, k0: int, k1: int,
              stats: ValueStats | None) -> np.ndarray:
        lo, hi = self.lo[k0:k1], self.hi[k0:k1]
        wet = hi > lo
        n_sites = next(iter(self.indexers.values())).size
        box = n_sites if len(self.indexers) == 1 else int(np.prod(
            [np.ptp(np.asarray(v.values)) + 1 for v in self.indexers.values()]))
        out = np.zeros((k1 - k0, n_sites), np.float32)
        if not wet.any():
            return out
        seen = np.zeros(k1 - k0, dtype=bool)
        a, b = int(lo[wet].min()), int(hi[wet].max())
        step = max(1, READ_BYTES // (8 * box))
        for c0 in range(a, b, step):
            raw = self.raw(da, c0, min(b, c0 + step), scale)
            if stats is not None:
                stats.add(raw)
            step_rows(out, seen, np.nan_to_num(np.asarray(raw, np.float32), nan=0.0), c0, lo, hi)
        return out

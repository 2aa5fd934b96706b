"""A hazard given as several files along time (ISIMIP-style yearly or decadal files).

``hazard.file`` may be a glob pattern (``flddph_*.nc``) or a list of files (``["flddph_2030.nc",
"flddph_2031.nc"]``): the files are one time series, joined along ``time`` in the order of their
first time stamp. The join is lazy: each
file stays open as xarray opened it, and a read of some time steps reads only the files that
hold them (an xarray backend array over the files, no Dask), so a streamed run never holds the
whole series. Files must fit together: the same variables and the same grid or points, and time
axes that neither overlap nor leave a gap (a missing year) between one file and the next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

from simulator.errors import InputError

#: Characters that make ``hazard.file`` a pattern rather than one file.
GLOB_CHARS = frozenset("*?[")


def is_pattern(path: Path | tuple[Path, ...]) -> bool:
    """Whether ``path`` is a glob pattern (in its last part) rather than one file or a list."""
    return isinstance(path, Path) and bool(GLOB_CHARS & set(path.name))


def is_series(file: Path | tuple[Path, ...]) -> bool:
    """Whether ``file`` names several files joined along time: a pattern or a list."""
    return isinstance(file, tuple) or is_pattern(file)


def expand(path: Path | tuple[Path, ...]) -> list[Path]:
    """The files a pattern matches, sorted by name; a list's files; ``[path]`` for one path."""
    if isinstance(path, tuple):
        return list(path)
    return sorted(path.parent.glob(path.name)) if is_pattern(path) else [path]


def series_name(file: Path | tuple[Path, ...]) -> str:
    """How errors name the series: the pattern (quoted) or ``the list``."""
    return "the list" if isinstance(file, tuple) else repr(file.name)


class _Joined(BackendArray):
    """Lazy concatenation along ``axis`` of the same variable from several opened files."""

    def __init__(self, parts: list[xr.Variable], axis: int) -> None:
        self.parts, self.axis = parts, axis
        lengths = np.array([p.shape[axis] for p in parts])
        self.ends = np.cumsum(lengths)
        self.starts = self.ends - lengths
        shape = list(parts[0].shape)
        shape[axis] = int(self.ends[-1])
        self.shape = tuple(shape)
        self.dtype = np.result_type(*(p.dtype for p in parts))

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC,
                                                  self._read)

    def _read(self, key: tuple) -> np.ndarray:
        """Read integers and slices (basic indexing), from the files that hold them only."""
        local = list(key)
        k = key[self.axis]
        if isinstance(k, int | np.integer):
            p = int(np.searchsorted(self.ends, k, side="right"))
            local[self.axis] = int(k) - int(self.starts[p])
            return np.asarray(self.parts[p][tuple(local)].values, dtype=self.dtype)
        start, stop, step = k.indices(self.shape[self.axis])
        wanted = np.arange(start, stop, step)
        out_axis = self.axis - sum(isinstance(v, int | np.integer) for v in key[:self.axis])
        pieces = []
        for part, s, e in zip(self.parts, self.starts, self.ends, strict=True):
            sel = np.sort(wanted[(wanted >= s) & (wanted < e)])
            if sel.size:
                local[self.axis] = slice(int(sel[0] - s), int(sel[-1] - s) + 1, abs(step))
                pieces.append(np.asarray(part[tuple(local)].values, dtype=self.dtype))
        if not pieces:
            local[self.axis] = slice(0, 0)
            return np.asarray(self.parts[0][tuple(local)].values, dtype=self.dtype)
        joined = np.concatenate(pieces, axis=out_axis)
        return np.flip(joined, axis=out_axis) if step < 0 else joined


def _days(ds: xr.Dataset, ref) -> np.ndarray:
    """Time stamps of ``ds`` in days since ``ref`` (a date of the same calendar)."""
    return np.asarray((ds.indexes["time"] - ref) / dt.timedelta(days=1), dtype=float)


def _date(ref, days: float) -> str:
    return str(ref + dt.timedelta(days=float(days)))[:10]


def _check_fit(paths: list[Path], sets: list[xr.Dataset], ref, name: str,
               field: str) -> None:
    """Same variables and grid as the first file (in time order); no overlap and no gap."""
    first = sets[0]
    for path, ds in zip(paths[1:], sets[1:], strict=True):
        missing = sorted(set(map(str, first.data_vars)) - set(map(str, ds.data_vars)))
        if missing:
            raise InputError(path, f"{field}: variable {missing[0]!r} is missing (it is in "
                                   f"{paths[0].name}); every file of {name} needs it")
        for dim, size in first.sizes.items():
            same = dim == "time" or (ds.sizes.get(dim) == size and (
                dim not in first.coords or np.array_equal(ds[dim].values, first[dim].values)))
            if not same:
                raise InputError(path, f"{field}: dimension {dim!r} differs from "
                                       f"{paths[0].name}'s; every file of {name} needs "
                                       f"the same grid or points")
    days = [_days(ds, ref) for ds in sets]
    within = [float(np.diff(d).max()) for d in days if d.size > 1]
    between = np.array([b[0] - a[-1] for a, b in zip(days, days[1:])])
    spacing = max(within) if within else float(np.median(between))
    for i in range(1, len(sets)):
        gap, prev = float(between[i - 1]), paths[i - 1].name
        starts, ends = _date(ref, days[i][0]), _date(ref, days[i - 1][-1])
        if gap <= 0:
            raise InputError(paths[i], f"{field}: starts on {starts}, before the previous file "
                                       f"({prev}) ends on {ends}; the files of "
                                       f"{name} must not overlap in time")
        if gap > 1.5 * spacing:
            raise InputError(paths[i], f"{field}: starts on {starts}, {gap:g} days after the "
                                       f"previous file ({prev}) ends on {ends} (samples are "
                                       f"{spacing:g} days apart); a file of {name} "
                                       f"is missing")


def open_many(pattern: Path | tuple[Path, ...], open_one: Callable[[Path], xr.Dataset],
              field: str) -> xr.Dataset:
    """Open the files of ``pattern`` as one dataset joined lazily along time.

    Args:
        pattern: a glob pattern (see :func:`is_pattern`) or a list of files (in any order).
        open_one: opens one file (lazily) as a dataset.
        field: the scenario field named in errors, e.g. ``hazard.file``.

    Raises:
        InputError: no file matches; a file has no time axis, lacks a variable or has another
            grid; files overlap in time or leave a gap.
    """
    paths = expand(pattern)
    if not paths:
        raise InputError(pattern, f"{field}: no file matches the pattern")
    sets = [open_one(p) for p in paths]
    if len(sets) == 1:
        return sets[0]
    for path, ds in zip(paths, sets, strict=True):
        if "time" not in ds.dims:
            raise InputError(path, f"{field}: no 'time' dimension; the files of "
                                   f"{series_name(pattern)} are joined along time")
    ref = sets[0].indexes["time"][0]
    order = np.argsort([_days(ds, ref)[0] for ds in sets], kind="stable")
    paths, sets = [paths[i] for i in order], [sets[i] for i in order]
    _check_fit(paths, sets, ref, series_name(pattern), field)
    first = sets[0]
    joined = {}
    for name, var in first.variables.items():
        if "time" not in var.dims:
            joined[name] = var
        elif name == "time":
            joined[name] = xr.Variable("time", np.concatenate([ds["time"].values for ds in sets]),
                                       attrs=var.attrs)
        else:
            lazy = _Joined([ds.variables[name] for ds in sets], var.dims.index("time"))
            joined[name] = xr.Variable(var.dims, indexing.LazilyIndexedArray(lazy),
                                       attrs=var.attrs)
    coords = {n: joined.pop(n) for n in list(joined) if n in first.coords}
    return xr.Dataset(joined, coords=coords, attrs=first.attrs)

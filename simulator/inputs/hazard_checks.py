"""Checks on a hazard file's contents: complete, unique axes and plausible values.

A bad value here would otherwise pass silently (a repeated time stamp drops a peak; a fill value
of 1e30 displaces everyone), so each is an error naming the file and field.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from simulator.errors import InputError
from simulator.inputs.schema import HazardSource
from simulator.inputs.units import KIND_RANGE, KIND_UNITS

#: Names of the coordinates that locate hazard values in space and time.
AXES = ("lat", "latitude", "y", "lon", "longitude", "x", "time")

def check_coordinates(da: xr.DataArray, path: Path, field: str) -> None:
    """Coordinates must be complete, and an axis must not repeat a value."""
    for name in AXES:
        if name not in da.coords:
            continue
        values = np.asarray(da[name].values)
        missing = np.isnat(values) if values.dtype.kind == "M" else (
            ~np.isfinite(values) if values.dtype.kind in "fiu" else np.zeros(values.shape, bool))
        if missing.any():
            raise InputError(path, f"{field}: coordinate {name!r} has {int(missing.sum())} "
                                   f"missing values (NaN)")
        if name in da.dims and values.ndim == 1:
            unique, counts = np.unique(values, return_counts=True)
            if (counts > 1).any():
                shown = str(unique[counts > 1][0])[:19]
                raise InputError(path, f"{field}: coordinate {name!r} repeats the value "
                                       f"{shown}; each must appear once")

def check_values(values: np.ndarray, factor: float, cfg: HazardSource, where: Path,
                  field: str) -> None:
    """Values at the sites must be finite and within the kind's plausible range (NaN: dry)."""
    name = cfg.variable or "intensity"
    if np.isinf(values).any():
        raise InputError(where, f"{field}.variable: {name!r} holds infinite values")
    if not np.isfinite(values).any():
        return
    low, high = KIND_RANGE[cfg.kind]
    lo, hi = float(np.nanmin(values)) * factor, float(np.nanmax(values)) * factor
    unit = KIND_UNITS[cfg.kind]
    if lo < low or hi > high:
        bad = lo if lo < low else hi
        raise InputError(where, f"{field}.variable: {name!r} reaches {bad:g} {unit}, outside "
                                f"{low:g}..{high:g} {unit} for {cfg.kind} (check units and "
                                f"fill values)")

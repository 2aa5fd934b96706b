"""Hazard grids: open CF NetCDF with xarray, check units, map time onto model steps, sample cells.

A hazard reaches the model as a ``(n_steps, n_cells)`` float32 array in SI units at the populated
cells (the model's locations, DESIGN.md §4.1), plus each step's maximum so that quiet steps cost
nothing. Coordinates may be named lat/lon, latitude/longitude or y/x and run in either direction;
each populated cell takes the value of the nearest hazard cell, and a hazard grid that does not
cover a populated cell is an error.

Time mapping: hazard sample *i* is valid from its time stamp until the next one (the last for the
median spacing); model step *k* covers ``[start + k*step_days, start + (k+1)*step_days)`` and takes
the **maximum** of the samples valid during it (the peak depth is what displaces people). Steps
that no sample covers see no hazard. A single map (no time axis) is an event on ``event_date``
(default: the start date) lasting ``duration_days`` (default: one step).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pint
import xarray as xr

from .errors import InputError
from .schema import HazardConfig, Scenario

Y_NAMES = ("lat", "latitude", "y")
X_NAMES = ("lon", "longitude", "x")
#: The physical quantity each hazard kind must have, and the SI unit the model uses.
KIND_UNITS = {"flood_depth": "m", "drought_index": "dimensionless", "heat_days": "day"}


@lru_cache(maxsize=1)
def _units() -> pint.UnitRegistry:
    return pint.UnitRegistry()


def open_variable(path: Path, variable: str, section: str) -> xr.DataArray:
    """Open ``variable`` of a NetCDF file named by scenario field ``<section>.file``."""
    if not path.is_file():
        raise InputError(path, f"{section}.file: file not found")
    try:
        ds = xr.open_dataset(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input here
        raise InputError(path, f"{section}.file: cannot read as NetCDF "
                               f"({type(exc).__name__})") from None
    if variable not in ds.data_vars:
        have = ", ".join(map(str, ds.data_vars)) or "none"
        raise InputError(path, f"{section}.variable: {variable!r} not in file "
                               f"(variables: {have})")
    return ds[variable]


def spatial_dims(da: xr.DataArray, path: Path, field: str) -> tuple[str, str]:
    """Names of the (y, x) dimensions of ``da``, from the CF-ish names it may use."""
    ydim = next((d for d in Y_NAMES if d in da.dims), None)
    xdim = next((d for d in X_NAMES if d in da.dims), None)
    if ydim is None or xdim is None:
        raise InputError(path, f"{field}: expected dimensions lat/lon, latitude/longitude or y/x, "
                               f"found {list(da.dims)}")
    return ydim, xdim


def si_factor(units: str | None, declared: str | None, kind: str, where: Path,
              field: str) -> float:
    """Factor converting the hazard's values to the SI unit of its ``kind`` (pint)."""
    if units and declared:
        if not np.isclose(si_factor(units, None, kind, where, field),
                          si_factor(declared, None, kind, where, field)):
            raise InputError(where, f"{field}: file says units {units!r} but the scenario "
                                    f"declares {declared!r}; remove hazard.units or fix the file")
    unit = units or declared
    if not unit:
        raise InputError(where, f"{field}: the variable has no 'units' attribute; declare them in "
                                f"the scenario, e.g. {field.split('.')[0]}.units = "
                                f"\"{KIND_UNITS[kind]}\"")
    ureg = _units()
    try:
        return float(ureg.Quantity(1.0, unit).to(KIND_UNITS[kind]).magnitude)
    except pint.errors.UndefinedUnitError:
        raise InputError(where, f"{field}: unknown unit {unit!r}") from None
    except pint.errors.DimensionalityError:
        raise InputError(where, f"{field}: units {unit!r} cannot be converted to "
                                f"{KIND_UNITS[kind]!r} as {kind} needs") from None
    except Exception:  # noqa: BLE001 - pint raises several parser errors for junk
        raise InputError(where, f"{field}: cannot parse unit {unit!r}") from None


def _days_since(times: xr.DataArray, start: np.datetime64, where: Path) -> np.ndarray:
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


@dataclass(frozen=True)
class HazardSeries:
    """Hazard intensity per model step at each populated cell, in SI units (m for depth)."""

    values: np.ndarray  #: (n_steps, n_cells) float32
    step_max: np.ndarray  #: (n_steps,) maximum over cells, for skipping quiet steps
    kind: str

    def at(self, step: int) -> np.ndarray:
        """Intensity at every cell during ``step`` (a read-only view)."""
        return self.values[step]


def _sample_at_cells(da: xr.DataArray, ydim: str, xdim: str, cell_y: np.ndarray,
                     cell_x: np.ndarray, where: Path, field: str) -> xr.DataArray:
    yv, xv = da[ydim].values.astype(float), da[xdim].values.astype(float)
    half_y = abs(np.diff(yv)).max() / 2 if yv.size > 1 else 0.5
    half_x = abs(np.diff(xv)).max() / 2 if xv.size > 1 else 0.5
    outside = ((cell_y < yv.min() - half_y) | (cell_y > yv.max() + half_y)
               | (cell_x < xv.min() - half_x) | (cell_x > xv.max() + half_x))
    if outside.any():
        raise InputError(where, f"{field}: hazard grid ({ydim} {yv.min():g}..{yv.max():g}, "
                                f"{xdim} {xv.min():g}..{xv.max():g}) does not cover the population "
                                f"grid: {int(outside.sum())} populated cells lie outside it")
    da = da.sortby([ydim, xdim])
    return da.sel({ydim: xr.DataArray(cell_y, dims="cell"),
                   xdim: xr.DataArray(cell_x, dims="cell")}, method="nearest")


def return_periods(path: Path, variable: str) -> np.ndarray:
    """The return periods (years) of a hazard given as maps along ``return_period``."""
    da = open_variable(path, variable, "hazard")
    if "return_period" not in da.dims:
        raise InputError(path, "hazard.variable: no 'return_period' dimension; risk needs "
                               "return-period maps (dims return_period, lat, lon)")
    rps = np.asarray(da["return_period"].values, dtype=float)
    if (rps <= 1).any() or len(set(rps.tolist())) != rps.size:
        raise InputError(path, "hazard: return periods must be distinct and > 1 year")
    return np.sort(rps)


def _select_return_period(da: xr.DataArray, value: float | None, where: Path,
                          field: str) -> xr.DataArray:
    if "return_period" not in da.dims:
        if value is not None:
            raise InputError(where, f"{field}.select_return_period: the variable has no "
                                    f"'return_period' dimension")
        return da
    if value is None:
        raise InputError(where, f"{field}: the hazard holds return-period maps; run "
                                f"'climdisp risk' or set {field}.select_return_period")
    rps = np.asarray(da["return_period"].values, dtype=float)
    if not np.isclose(rps, value).any():
        raise InputError(where, f"{field}.select_return_period: {value:g} not in the file "
                                f"(return periods: {', '.join(f'{r:g}' for r in rps)})")
    return da.isel(return_period=int(np.argmin(np.abs(rps - value))))


def load_hazard(scenario: Scenario, cell_y: np.ndarray, cell_x: np.ndarray,
                section: str = "hazard") -> HazardSeries:
    """Read the scenario's hazard and return it per model step at the populated cells.

    Args:
        scenario: the validated scenario.
        cell_y: y coordinate (latitude) of each populated cell, in the hazard grid's system.
        cell_x: x coordinate (longitude) of each populated cell.
        section: the scenario section to read: ``hazard`` or ``stress`` (slow-onset).

    Raises:
        InputError: for a missing file or variable, missing or unknown units, a grid that does not
            cover the population, a hazard that is missing everywhere or outside the period.
    """
    cfg: HazardConfig = getattr(scenario, section)
    where, field = cfg.file, section
    da = open_variable(cfg.file, cfg.variable, field)
    da = _select_return_period(da, getattr(cfg, "select_return_period", None), where, field)
    ydim, xdim = spatial_dims(da, where, f"{field}.variable")
    extra = [d for d in da.dims if d not in (ydim, xdim, "time")]
    if extra:
        raise InputError(where, f"{field}.variable: unexpected dimensions {extra} (expected time, "
                                f"{ydim}, {xdim})")
    factor = si_factor(da.attrs.get("units"), cfg.units, cfg.kind, where, f"{field}.units")
    cells = _sample_at_cells(da, ydim, xdim, cell_y, cell_x, where, field)
    start = np.datetime64(scenario.start_date, "ns")
    if "time" in da.dims:
        days = _days_since(da["time"], start, where)
        order = np.argsort(days, kind="stable")
        days = days[order]
        data = np.asarray(cells.transpose("time", "cell").values, dtype=np.float32)[order]
        spacing = float(np.median(np.diff(days))) if days.size > 1 else float(
            cfg.duration_days or scenario.step_days)
        valid = np.append(np.diff(days), spacing)
    else:
        event = np.datetime64(cfg.event_date or scenario.start_date, "ns")
        days = np.array([(event - start) / np.timedelta64(1, "D")])
        data = np.asarray(cells.values, dtype=np.float32)[None, :]
        valid = np.array([float(cfg.duration_days or scenario.step_days)])
    if not np.isfinite(data).any():
        raise InputError(where, f"{field}.variable: {cfg.variable!r} holds only missing values "
                                f"(NaN) at the populated cells")
    data = np.nan_to_num(data, nan=0.0) * np.float32(factor)
    lo, hi = step_windows(days, valid, scenario.step_days, scenario.n_steps)
    if not (hi > lo).any():
        raise InputError(where, f"{field}: the hazard's time axis does not overlap the simulated "
                                f"period from {scenario.start_date} ({scenario.n_steps} steps of "
                                f"{scenario.step_days} days)")
    values = np.zeros((scenario.n_steps, data.shape[1]), dtype=np.float32)
    for k in np.flatnonzero(hi > lo):
        values[k] = data[lo[k]:hi[k]].max(axis=0)
    return HazardSeries(values=values, step_max=values.max(axis=1, initial=0.0), kind=cfg.kind)

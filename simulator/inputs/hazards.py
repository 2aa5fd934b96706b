"""Hazards: open them (NetCDF, Zarr, GeoTIFF, CLIMADA HDF5), check units, map time onto steps.

A hazard reaches the model as ``(n_steps, n_sites)`` float32 values in SI units at the hazard
locations (*sites*) that hold people, an index from each populated cell to its site, and each
step's maximum so that quiet steps cost nothing (DESIGN.md §4.1): held in memory, or streamed
from disk a block of steps at a time for long runs (``hazard.stream``; :mod:`.streamed`). A
``hazard.file`` pattern or list joins yearly files along time (:mod:`.timefiles`).

Space: a hazard is a regular grid (axes lat/lon, latitude/longitude, or y/x with a CF
``grid_mapping`` or a GeoTIFF's CRS; either direction) or an irregular set of points (CLIMADA
centroids, or a NetCDF ``site`` dimension with lat/lon coordinates). On a grid each populated
cell takes the value of the grid cell containing it, and a grid that does not cover a populated
cell is an error. On points each cell takes the nearest point within ``max_distance_km``
(scipy's cKDTree); farther cells are an error or, if the scenario says so, a warning and no
hazard. Coordinates in another CRS are reprojected with pyproj.

Time: hazard sample *i* is valid from its time stamp until the next one (the last for the median
spacing); model step *k* covers ``[start + k*step_days, start + (k+1)*step_days)`` and takes the
**maximum** of the samples valid during it (the peak depth is what displaces people). Steps
that no sample covers see no hazard. A single map (no time axis) is an event on ``event_date``
(default: the start date, or a CLIMADA event's own date) lasting ``duration_days`` (default: one
step). Maps along ``return_period`` or CLIMADA ``event`` form an event set: a run picks one
(``select_return_period`` or ``event``), ``climdisp risk`` runs them all.

Units: the file's ``units`` attribute, or the scenario's ``units`` for files without one (ISIMIP),
are converted with pint using cf-xarray's CF/UDUNITS registry. A flooded-fraction variable
(ISIMIP ``fldfrc``, CLIMADA ``fraction``) says which share of a cell's households are hit.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import xarray as xr
from pyproj import CRS

from simulator.errors import InputError
from simulator.inputs.geo import crs_of, nearest, reproject
from simulator.inputs.hazard_checks import check_coordinates, check_values
from simulator.inputs.schema import HazardSource, Scenario, file_format
from simulator.inputs.series import (
    HazardSeries,
    StepSource,
    dense_rows,
    sample_days,
    step_windows,
    take_sites,
)
from simulator.inputs.streamed import StreamedHazard, check_overlap, stream_hazard, streams
from simulator.inputs.timefiles import is_series, open_many
from simulator.inputs.units import si_factor
from simulator.inputs.zarrmeta import check_zarr_store

_take = take_sites  # its name before it moved to series.py (main's futures.py imports it)

Y_NAMES = ("lat", "latitude", "y")
X_NAMES = ("lon", "longitude", "x")
SITE_DIMS = ("site", "centroid", "station", "location")


def open_dataset(path: Path, fmt: str, section: str) -> xr.Dataset:
    """Open a hazard file of format ``fmt`` as a dataset (GeoTIFF: one variable ``band_data``)."""
    if is_series(path):
        return open_many(path, lambda one: open_dataset(one, fmt, section), f"{section}.file")
    if not path.exists():
        raise InputError(path, f"{section}.file: file not found")
    try:
        if fmt == "climada":
            from simulator.inputs.climada import read_climada
            return read_climada(path)
        if fmt == "zarr":
            check_zarr_store(path, section)  # before zarr reads anything: no pickle
            with warnings.catch_warnings():  # zarr's own notes (consolidated metadata, ...)
                warnings.simplefilter("ignore")  # would come before our one-line error
                return xr.open_zarr(path)
        if fmt == "geotiff":
            try:
                import rioxarray
            except ImportError:  # pragma: no cover - depends on the environment
                raise InputError(path, f"{section}.file: reading GeoTIFF needs rioxarray; "
                                       f"install the extra: pip install 'climdisp[formats]'"
                                 ) from None
            return rioxarray.open_rasterio(path, masked=True).to_dataset(name="band_data")
        return _open_netcdf(path)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input here
        raise InputError(path, f"{section}.file: cannot read as {fmt} "
                               f"({type(exc).__name__})") from None


def _open_netcdf(path: Path) -> xr.Dataset:
    """A netCDF file through the netCDF4 engine, else whichever engine xarray finds.

    Naming the engine spares xarray loading every installed backend to guess it (rioxarray and
    dask: 1 s of a Flee-scale run's start); netCDF4 is also what xarray would pick first. A
    streamed read keeps no copy of the file (``cache=False``).
    """
    from xarray.backends import NetCDF4BackendEntrypoint

    try:
        return xr.open_dataset(path, cache=False, engine=NetCDF4BackendEntrypoint)
    except Exception:  # noqa: BLE001 - not netCDF4/HDF5 or classic netCDF: let xarray guess
        return xr.open_dataset(path, cache=False)


def open_variable(path: Path, variable: str | None, section: str,
                  fmt: str = "auto") -> tuple[xr.DataArray, xr.Dataset]:
    """Open ``variable`` of the file named by scenario field ``<section>.file``."""
    fmt = file_format(path, fmt)
    ds = open_dataset(path, fmt, section)
    # a GeoTIFF holds one unnamed raster: its variable name is ignored
    variable = "band_data" if fmt == "geotiff" else variable or "intensity"
    if variable not in ds.data_vars:
        have = ", ".join(map(str, ds.data_vars)) or "none"
        raise InputError(path, f"{section}.variable: {variable!r} not in file "
                               f"(variables: {have})")
    if not np.issubdtype(ds[variable].dtype, np.number):
        raise InputError(path, f"{section}.variable: {variable!r} holds {ds[variable].dtype} "
                               f"values; expected numbers")
    check_coordinates(ds[variable], path, f"{section}.file")
    return ds[variable], ds


def spatial_dims(da: xr.DataArray, path: Path, field: str) -> tuple[str, str]:
    """Names of the (y, x) dimensions of ``da``, from the CF-ish names it may use."""
    ydim = next((d for d in Y_NAMES if d in da.dims), None)
    xdim = next((d for d in X_NAMES if d in da.dims), None)
    if ydim is None or xdim is None:
        raise InputError(path, f"{field}: expected dimensions lat/lon, latitude/longitude or y/x, "
                               f"found {list(da.dims)}")
    return ydim, xdim


def axis_nearest(axis: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Index into ``axis`` (either direction) of the value nearest to each of ``v``."""
    order = np.argsort(axis, kind="stable")
    s = axis[order]
    if s.size == 1:
        return np.zeros(v.size, dtype=np.int64)
    i = np.clip(np.searchsorted(s, v), 1, s.size - 1)
    i = i - ((v - s[i - 1]) <= (s[i] - v))
    return order[i]


def _grid_sites(da: xr.DataArray, ydim: str, xdim: str, y: np.ndarray, x: np.ndarray,
                where: Path, field: str) -> tuple[dict, np.ndarray]:
    """``isel`` indexers of the grid cells holding the points, and each point's site."""
    yv, xv = da[ydim].values.astype(float), da[xdim].values.astype(float)
    half_y = abs(np.diff(yv)).max() / 2 if yv.size > 1 else 0.5
    half_x = abs(np.diff(xv)).max() / 2 if xv.size > 1 else 0.5
    if xdim in ("lon", "longitude"):  # longitudes into the grid's own 360° window, so 0..360
        start = xv.min() - half_x      # and -180..180 grids both take any point, and a global
        x = (x - start) % 360.0 + start  # grid wraps around at its seam
    outside = ((y < yv.min() - half_y) | (y > yv.max() + half_y)
               | (x < xv.min() - half_x) | (x > xv.max() + half_x))
    if outside.any():
        raise InputError(where, f"{field}: hazard grid ({ydim} {yv.min():g}..{yv.max():g}, "
                                f"{xdim} {xv.min():g}..{xv.max():g}) does not cover the population "
                                f"grid: {int(outside.sum())} populated cells lie outside it")
    key = axis_nearest(yv, y) * xv.size + axis_nearest(xv, x)
    uniq, cell_site = np.unique(key, return_inverse=True)
    return {ydim: xr.DataArray(uniq // xv.size, dims="site"),
            xdim: xr.DataArray(uniq % xv.size, dims="site")}, cell_site


def _point_sites(da: xr.DataArray, sdim: str, y: np.ndarray, x: np.ndarray, geographic: bool,
                 cfg: HazardSource, where: Path, field: str) -> tuple[dict, np.ndarray]:
    """``isel`` indexers of the nearest points and each cell's site (-1: beyond the limit)."""
    ycoord = next((c for c in Y_NAMES if c in da.coords and da[c].dims == (sdim,)), None)
    xcoord = next((c for c in X_NAMES if c in da.coords and da[c].dims == (sdim,)), None)
    if ycoord is None or xcoord is None:
        raise InputError(where, f"{field}.variable: points along {sdim!r} need lat and lon "
                                f"(or y and x) coordinates on that dimension")
    idx, dist = nearest(da[ycoord].values.astype(float), da[xcoord].values.astype(float), y, x,
                        geographic)
    far = dist > cfg.max_distance_km
    if far.any():
        message = (f"{int(far.sum())} populated cells lie farther than {cfg.max_distance_km:g} km "
                   f"from every hazard location (farthest {dist.max():.1f} km)")
        if cfg.beyond_max_distance == "error":
            raise InputError(where, f"{field}.max_distance_km: {message}; raise it, or set "
                                    f"{field}.beyond_max_distance = \"warn\" to give them no "
                                    f"hazard")
        warnings.warn(f"{where}: {message}; they get no hazard", stacklevel=2)
    uniq, cell_site = np.unique(np.where(far, -1, idx), return_inverse=True)
    if far.any():  # the first unique value is -1: those cells get an all-zero site
        uniq, cell_site = uniq[1:], np.where(far, -1, cell_site - 1)
    return {sdim: xr.DataArray(uniq, dims="site")}, cell_site


def _locate(da: xr.DataArray, ds: xr.Dataset, y: np.ndarray, x: np.ndarray,
            cell_crs: CRS | None, cfg: HazardSource, where: Path,
            field: str) -> tuple[dict, np.ndarray]:
    """Match populated cells (``y``, ``x`` in ``cell_crs``) to the hazard's grid cells or points."""
    crs = crs_of(da, ds, where, f"{field}.file")
    y, x = reproject(y, x, cell_crs, crs, where, f"{field}.file")
    sdim = next((d for d in SITE_DIMS if d in da.dims), None)
    if sdim is not None:
        return _point_sites(da, sdim, y, x, crs is not None and crs.is_geographic, cfg, where,
                            field)
    ydim, xdim = spatial_dims(da, where, f"{field}.variable")
    return _grid_sites(da, ydim, xdim, y, x, where, field)


def _select_event(da: xr.DataArray, cfg: HazardSource, where: Path, field: str,
                  rp: float | None = None) -> tuple[xr.DataArray, np.datetime64 | None]:
    """Pick one map of an event set; returns it and the event's own date, if it has one."""
    rp = rp if rp is not None else getattr(cfg, "select_return_period", None)
    event = getattr(cfg, "event", None)
    if "return_period" in da.dims:
        if rp is None:
            raise InputError(where, f"{field}: the hazard holds return-period maps; run "
                                    f"'climdisp risk' or set {field}.select_return_period")
        rps = np.asarray(da["return_period"].values, dtype=float)
        if not np.isclose(rps, rp).any():
            raise InputError(where, f"{field}.select_return_period: {rp:g} not in the file "
                                    f"(return periods: {', '.join(f'{r:g}' for r in rps)})")
        return da.isel(return_period=int(np.argmin(np.abs(rps - rp)))), None
    if rp is not None:
        raise InputError(where, f"{field}.select_return_period: the variable has no "
                                f"'return_period' dimension")
    if "event" not in da.dims:
        if event is not None:
            raise InputError(where, f"{field}.event: the hazard has no 'event' dimension")
        return da, None
    names = [str(v) for v in da["event"].values]
    if event is None and len(names) > 1:
        raise InputError(where, f"{field}: the file holds {len(names)} events; run 'climdisp "
                                f"risk' or set {field}.event (e.g. {names[0]!r})")
    if event is not None and event not in names:
        raise InputError(where, f"{field}.event: {event!r} not in the file (events: "
                                f"{', '.join(names[:10])}{', ...' if len(names) > 10 else ''})")
    da = da.isel(event=names.index(event) if event is not None else 0)
    date = da["date"].values if "date" in da.coords else None
    if date is not None and not np.issubdtype(np.asarray(date).dtype, np.datetime64):
        raise InputError(where, f"{field}: the event's 'date' coordinate is not a date "
                                f"(dtype {np.asarray(date).dtype}); store dates or drop it")
    return da, None if date is None or np.isnat(date) else date


def load_design_levels(scenario: Scenario, cell_y: np.ndarray, cell_x: np.ndarray,
                       cell_crs: CRS | None) -> tuple[np.ndarray, np.ndarray]:
    """The ``[defences]`` return-period maps at the populated cells: (return periods, depths).

    Depths have shape (return periods, cells), return periods ascending.
    """
    cfg = scenario.defences
    kind, rps, _, _ = event_set(cfg, "defences")
    if kind != "select_return_period":
        raise InputError(cfg.file, "defences.variable: expected return-period maps (dims "
                                   "return_period, lat, lon)")
    maps = [load_hazard(scenario, cell_y, cell_x, cell_crs, "defences", rp).peak()
            for rp in rps]
    return np.asarray(rps, dtype=float), np.stack(maps)


def event_set(cfg: HazardSource, field: str = "hazard"
              ) -> tuple[str, list, np.ndarray | None, np.ndarray]:
    """The events of a hazard event set: the field that selects one, labels, frequencies, RPs.

    Return-period maps give ``("select_return_period", return periods sorted, None, the same
    return periods)``; CLIMADA events give ``("event", names, events per year, return periods)``
    where an event's return period is 1 / the summed frequency of the events whose peak
    intensity is at least its own (the intensity exceedance curve; compared with flood
    protection standards).
    """
    da, _ = open_variable(cfg.file, cfg.variable, "hazard", cfg.format)
    if "event" in da.dims:
        if "frequency" not in da.coords:
            raise InputError(cfg.file, f"{field}: events need a 'frequency' (per year) for risk")
        freq = np.asarray(da["frequency"].values, dtype=float)
        peak = np.nan_to_num(da.max(dim=[d for d in da.dims if d != "event"]).values)
        order = np.argsort(peak, kind="stable")
        at_least = np.cumsum(freq[order][::-1])[::-1]  # frequency of peaks >= each sorted peak
        exceed = at_least[np.searchsorted(peak[order], peak, side="left")]
        return "event", [str(v) for v in da["event"].values], freq, 1.0 / np.maximum(exceed,
                                                                                      1e-12)
    if "return_period" not in da.dims:
        raise InputError(cfg.file, f"{field}.variable: no 'return_period' dimension; risk needs "
                                   "return-period maps (dims return_period, lat, lon) or "
                                   "CLIMADA events with frequencies")
    rps = np.asarray(da["return_period"].values, dtype=float)
    if (rps <= 1).any() or len(set(rps.tolist())) != rps.size:
        raise InputError(cfg.file, f"{field}: return periods must be distinct and > 1 year")
    return "select_return_period", sorted(rps.tolist()), None, np.sort(rps)


def _squeeze_band(da: xr.DataArray, cfg: HazardSource, where: Path, field: str) -> xr.DataArray:
    if "band" not in da.dims:
        return da
    if da.sizes["band"] == 1 or cfg.band is not None:
        band = (cfg.band or 1) - 1
        if band >= da.sizes["band"]:
            raise InputError(where, f"{field}.band: {cfg.band} but the raster has "
                                    f"{da.sizes['band']} band(s)")
        return da.isel(band=band, drop=True)
    raise InputError(where, f"{field}.band: the raster has {da.sizes['band']} bands; choose one")


def _fraction(cfg: HazardSource, da: xr.DataArray, ds: xr.Dataset, where: Path,
              field: str) -> tuple[xr.DataArray | None, float | None]:
    """The flooded fraction (0-1) on ``da``'s grid: ISIMIP ``fldfrc``, or CLIMADA ``fraction``.

    A CLIMADA file's own ``fraction`` is used unless another variable is named. Returns it
    (lazily opened) and the factor to a share (e.g. 0.01 for percent; None: already a share).
    """
    name = getattr(cfg, "fraction_variable", None)
    if name is None and file_format(cfg.file, cfg.format) == "climada" and "fraction" in ds:
        name = "fraction"
    if name is None:
        return None, None
    path = getattr(cfg, "fraction_file", None) or cfg.file
    frac, _ = open_variable(path, name, field, cfg.format)
    frac = _squeeze_band(_select_event(frac, cfg, path, field)[0], cfg, path, field)
    if dict(frac.sizes) != dict(da.sizes) or any(
            not np.array_equal(frac[d].values, da[d].values) for d in da.dims if d in da.coords):
        raise InputError(path, f"{field}.fraction_variable: {name!r} has shape "
                               f"{dict(frac.sizes)} but the hazard has {dict(da.sizes)} (same "
                               f"grid and times needed)")
    if frac.attrs.get("units") not in (None, "", "1", "-", "fraction", "dimensionless"):
        return frac, si_factor(frac.attrs["units"], None, "fraction", path,
                               f"{field}.fraction_variable")  # e.g. percent
    return frac, None


def load_hazard(scenario: Scenario, cell_y: np.ndarray, cell_x: np.ndarray,
                cell_crs: CRS | None, section: str = "hazard",
                return_period: float | None = None) -> HazardSeries | StreamedHazard:
    """Read the scenario's hazard and return it per model step at the populated cells.

    Args:
        scenario: the validated scenario.
        cell_y: y coordinate (latitude) of each populated cell, in ``cell_crs``.
        cell_x: x coordinate (longitude) of each populated cell.
        cell_crs: the cells' coordinate reference system (None: the same as the hazard's).
        section: the scenario section to read: ``hazard``, ``stress`` (slow-onset),
            ``information`` or ``defences``.
        return_period: the map of a return-period set to read (else the section's own
            ``select_return_period``).

    Raises:
        InputError: for a missing file or variable, missing or unknown units, a grid that does not
            cover the population, points too far from it, a hazard that is missing everywhere or
            outside the period, or a fraction on another grid.
    """
    cfg: HazardSource = getattr(scenario, section)
    where, field = cfg.file, section
    da, ds = open_variable(cfg.file, cfg.variable, field, cfg.format)
    da, event_date = _select_event(da, cfg, where, field, return_period)
    da = _squeeze_band(da, cfg, where, field)
    frac, frac_factor = _fraction(cfg, da, ds, where, field)
    indexers, cell_site = _locate(da, ds, cell_y, cell_x, cell_crs, cfg, where, field)
    extra = [d for d in da.dims if d != "time" and d not in indexers]
    if extra:
        raise InputError(where, f"{field}.variable: unexpected dimensions {extra} (expected "
                                f"time and {', '.join(indexers)})")
    factor = si_factor(da.attrs.get("units"), cfg.units, cfg.kind, where, f"{field}.units")
    days, order, valid = sample_days(da, cfg, scenario, event_date, where)
    lo, hi = step_windows(days, valid, scenario.step_days, scenario.n_steps)
    n_sites = next(iter(indexers.values())).size
    pad = bool((cell_site < 0).any())  # cells beyond every point: one all-zero site at the end
    cell_site = np.where(cell_site < 0, n_sites, cell_site).astype(np.int32)
    source = StepSource(da, indexers, order, lo, hi, factor, pad, frac, frac_factor)
    if streams(cfg, scenario.n_steps, n_sites + pad, frac is not None):
        return stream_hazard(source, cfg, cell_site, scenario, where, field)
    sites = take_sites(da, indexers)
    check_values(sites.values, factor, cfg, where, field)
    if not np.isfinite(sites.values).any():
        raise InputError(where, f"{field}.variable: {cfg.variable or 'intensity'!r} holds only "
                                f"missing values (NaN) at the populated cells")
    values = dense_rows(sites, order, lo, hi)
    check_overlap(lo, hi, scenario, where, field)
    values *= np.float32(factor)
    fraction = None
    if frac is not None:
        frac_sites = take_sites(frac, indexers)
        if frac_factor is not None:
            frac_sites = frac_sites * frac_factor
        fraction = np.clip(dense_rows(frac_sites, order, lo, hi), 0, 1)
    if pad:
        values = np.concatenate([values, np.zeros((values.shape[0], 1), np.float32)], axis=1)
        if fraction is not None:
            fraction = np.concatenate([fraction, np.zeros((fraction.shape[0], 1), np.float32)], 1)
    return HazardSeries(values=values, step_max=values.max(axis=1, initial=0.0), kind=cfg.kind,
                        cell_site=cell_site, fraction=fraction)

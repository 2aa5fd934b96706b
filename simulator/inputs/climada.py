"""Read CLIMADA hazard files (HDF5) with h5py, without depending on the climada package.

CLIMADA's ``Hazard.write_hdf5`` stores ``intensity`` and ``fraction`` as CSR sparse matrices of
events x centroids (a group with datasets ``data``, ``indices``, ``indptr`` and attribute
``shape``), one value per event in ``frequency`` (events per year), ``event_id``, ``event_name``
and ``date`` (proleptic Gregorian ordinals), the intensity ``units`` as a string, and the
centroids in a ``centroids`` group with ``lat``/``lon`` (or ``latitude``/``longitude``) in
degrees (CLIMADA's legacy centroid layout, the one h5py can read; see climada_python
``hazard/io.py`` and ``hazard/centroids/centr.py``). An absent or empty ``fraction`` means every
household of a centroid is hit.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import sparse

from simulator.errors import InputError


def _csr(group, n_events: int, n_sites: int, where: Path, name: str) -> np.ndarray | None:
    """A dense (event, centroid) float32 array from a CSR group, or None when it is empty."""
    try:
        shape = tuple(int(s) for s in group.attrs["shape"])
        matrix = sparse.csr_matrix((group["data"][()], group["indices"][()],
                                    group["indptr"][()]), shape=shape)
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(where, f"hazard.file: {name!r} is not a CSR matrix (need data, indices, "
                                f"indptr and a shape attribute): {exc}") from None
    if matrix.shape == (0, 0) or (name == "fraction" and matrix.nnz == 0):
        return None  # CLIMADA's defaults: an empty fraction means the whole centroid is hit
    if matrix.shape != (n_events, n_sites):
        raise InputError(where, f"hazard.file: {name!r} has shape {matrix.shape}, expected "
                                f"(events, centroids) = ({n_events}, {n_sites})")
    return matrix.toarray().astype(np.float32)


def _strings(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.ravel(values)]


def read_climada(path: Path) -> xr.Dataset:
    """Read a CLIMADA hazard HDF5 file into an ``(event, site)`` dataset.

    Returns:
        Dataset with ``intensity`` (attribute ``units``) and, when the file has one, ``fraction``,
        over dims ``event`` (coordinates: event name, ``frequency`` per year, ``date``) and
        ``site`` (coordinates ``lat`` and ``lon`` in degrees).

    Raises:
        InputError: when the file is not HDF5 or lacks the datasets above.
    """
    import h5py

    try:
        fh = h5py.File(path, "r")
    except OSError:
        raise InputError(path, "hazard.file: cannot read as HDF5 (CLIMADA hazard)") from None
    with fh:
        cen = fh.get("centroids")
        keys = next(((a, b) for a, b in (("lat", "lon"), ("latitude", "longitude"))
                     if cen is not None and a in cen and b in cen), None)
        if keys is None:
            raise InputError(path, "hazard.file: no centroids/lat and centroids/lon datasets "
                                   "(CLIMADA's h5py-readable centroid layout); re-save the "
                                   "centroids with lat/lon arrays")
        lat, lon = (np.asarray(cen[k][()], dtype=float).ravel() for k in keys)
        if "intensity" not in fh or "frequency" not in fh:
            raise InputError(path, "hazard.file: a CLIMADA hazard needs 'intensity' and "
                                   "'frequency'")
        freq = np.asarray(fh["frequency"][()], dtype=float).ravel()
        n = freq.size
        intensity = _csr(fh["intensity"], n, lat.size, path, "intensity")
        fraction = _csr(fh["fraction"], n, lat.size, path, "fraction") if "fraction" in fh \
            else None
        names = _strings(fh["event_name"][()]) if "event_name" in fh else [
            str(i) for i in (fh["event_id"][()] if "event_id" in fh else range(1, n + 1))]
        ordinals = np.asarray(fh["date"][()]).ravel() if "date" in fh else np.ones(n)
        units = _strings(fh["units"][()])[0] if "units" in fh else ""
    if len(names) != n or ordinals.size != n or len(set(names)) != n:
        raise InputError(path, "hazard.file: event_name, date and frequency must have one "
                               "distinct entry per event")
    # CLIMADA's default date is ordinal 1 (no date): those events take the scenario's date
    dates = np.array([np.datetime64(dt.date.fromordinal(int(o)), "ns") if o > 1
                      else np.datetime64("NaT", "ns") for o in ordinals])
    coords = {"event": names, "frequency": ("event", freq), "date": ("event", dates),
              "lat": ("site", lat), "lon": ("site", lon)}
    ds = xr.Dataset({"intensity": (("event", "site"), intensity, {"units": units} if units
                                   else {})}, coords=coords)
    if fraction is not None:
        ds["fraction"] = (("event", "site"), fraction, {"units": "1"})
    return ds

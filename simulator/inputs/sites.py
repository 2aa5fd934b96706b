"""Shelter and camp sites given as points: ``capacity.sites_file`` (CSV).

Columns ``lon``, ``lat``, ``places`` (persons) and ``type`` (``shelter`` or ``camp``), one row
per site; an optional ``name``. Each site belongs to the region of its nearest populated
location and sees that location's hazard: it closes while the water there reaches
``capacity.site_closes_above_m`` (its occupants look for another place). Sites add their places
to the region's capacity from ``[capacity]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from simulator.errors import InputError
from simulator.states import Place

SITE_TYPES = {"shelter": Place.SHELTER, "camp": Place.CAMP}


@dataclass(frozen=True)
class Sites:
    """Point sites: populated location, region, place type and places of each."""

    cell: np.ndarray  #: nearest populated location of each site
    region: np.ndarray  #: its region index
    place: np.ndarray  #: Place.SHELTER or Place.CAMP
    places: np.ndarray  #: persons each site takes


def read_sites(path: Path, cell_y: np.ndarray, cell_x: np.ndarray,
               cell_region: np.ndarray) -> Sites:
    """Read ``path`` and place each site at its nearest populated location.

    Raises:
        InputError: for a missing file, a missing column, a type other than shelter or camp,
            or places that are negative or not numbers.
    """
    field = "capacity.sites_file"
    if not path.is_file():
        raise InputError(path, f"{field}: file not found")
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input here
        raise InputError(path, f"{field}: cannot read as CSV ({type(exc).__name__})") from None
    for column in ("lon", "lat", "places", "type"):
        if column not in df.columns:
            raise InputError(path, f"{field}: no column {column!r} (columns: "
                                   f"{', '.join(map(str, df.columns))})")
    kinds = df["type"].astype(str).str.strip().str.lower()
    bad = sorted(set(kinds) - set(SITE_TYPES))
    if bad:
        raise InputError(path, f"{field}: type {bad[0]!r} is not shelter or camp")
    numbers = {c: pd.to_numeric(df[c], errors="coerce").to_numpy(float)
               for c in ("lon", "lat", "places")}
    for column, values in numbers.items():
        if not np.isfinite(values).all() or (column == "places" and (values < 0).any()):
            row = int(np.flatnonzero(~np.isfinite(values) | (values < 0))[0]) + 2
            raise InputError(path, f"{field}: row {row}: {column} must be a number"
                                   + (" >= 0" if column == "places" else ""))
    _, cell = cKDTree(np.column_stack([cell_y, cell_x])).query(
        np.column_stack([numbers["lat"], numbers["lon"]]))
    cell = np.asarray(cell, dtype=np.int64)
    return Sites(cell=cell, region=np.asarray(cell_region)[cell].astype(np.int64),
                 place=np.array([SITE_TYPES[k] for k in kinds], dtype=np.int64),
                 places=np.round(numbers["places"]).astype(np.int64))

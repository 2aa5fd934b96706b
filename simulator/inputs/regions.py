"""Regions: read the region raster and names table, centroids, distances and capacities.

Regions are the admin units planners plan for. Each populated cell belongs to one region; region
centroids are population-weighted and distances between them are great-circle distances (km) for
lat/lon grids, or Euclidean for projected x/y grids in metres.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from simulator.errors import InputError
from simulator.inputs.geo import EARTH_RADIUS_KM


def read_names(path: Path) -> dict[int, str]:
    """Read the regions table (CSV with columns ``id`` and ``name``) into ``{id: name}``."""
    field = "regions.names"
    if not path.is_file():
        raise InputError(path, f"{field}: file not found")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"id", "name"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(path, f"{field}: missing column(s) {sorted(missing)} "
                                   f"(expected a CSV header with id,name)")
        names: dict[int, str] = {}
        for line, row in enumerate(reader, start=2):
            try:
                rid = int(row["id"])
            except (TypeError, ValueError):
                raise InputError(path, f"{field}: line {line}: id {row['id']!r} is not an "
                                       f"integer") from None
            name = (row["name"] or "").strip()
            if not name or rid in names or name in names.values():
                raise InputError(path, f"{field}: line {line}: empty or duplicate id/name "
                                       f"({rid}, {name!r})")
            names[rid] = name
    if not names:
        raise InputError(path, f"{field}: no regions listed")
    return names


def _optional_column(path: Path, column: str) -> list[tuple[int, int, str]] | None:
    """(line, id, stripped value) of every row of the regions table's ``column``.

    None when the table has no such column (its ids were checked by :func:`read_names`).
    """
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if column not in (reader.fieldnames or ()):
            return None
        return [(line, int(row["id"]), (row[column] or "").strip())
                for line, row in enumerate(reader, start=2)]


def read_countries(path: Path) -> dict[int, str] | None:
    """The ``country`` column of the regions table as ``{id: country}`` (None without one).

    Raises:
        InputError: for a row with an empty country (every region then needs one).
    """
    rows = _optional_column(path, "country")
    if rows is None:
        return None
    for line, _, country in rows:
        if not country:
            raise InputError(path, f"regions.names: line {line}: empty country (with a "
                                   f"country column every region needs one)")
    return {rid: country for _, rid, country in rows}


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
                 lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (haversine formula)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def centroids(cell_y: np.ndarray, cell_x: np.ndarray, cell_region: np.ndarray,
              cell_persons: np.ndarray, n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    """Population-weighted centroid (y, x) of each region (unweighted if a region is empty)."""
    w = np.bincount(cell_region, cell_persons, n_regions)
    n = np.bincount(cell_region, None, n_regions)
    weighted = w > 0
    cy = np.where(weighted, np.bincount(cell_region, cell_persons * cell_y, n_regions) / np.where(
        weighted, w, 1), np.bincount(cell_region, cell_y, n_regions) / np.maximum(n, 1))
    cx = np.where(weighted, np.bincount(cell_region, cell_persons * cell_x, n_regions) / np.where(
        weighted, w, 1), np.bincount(cell_region, cell_x, n_regions) / np.maximum(n, 1))
    return cy, cx


def distance_matrix_km(cy: np.ndarray, cx: np.ndarray, geographic: bool) -> np.ndarray:
    """Distances (km) between region centroids: haversine on lat/lon, Euclidean on x/y metres."""
    if geographic:
        return haversine_km(cy[:, None], cx[:, None], cy[None, :], cx[None, :])
    return np.hypot(cy[:, None] - cy[None, :], cx[:, None] - cx[None, :]) / 1000.0


def shortest_paths_km(n: int, a: np.ndarray, b: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Shortest distance (km) between all pairs of ``n`` nodes over two-way links a-b of length d.

    Of repeated links between two nodes the shortest counts; unreachable pairs are inf
    (Dijkstra's algorithm, scipy.sparse.csgraph).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * n + hi
    best = np.full(n * n, np.inf)
    np.minimum.at(best, key, d)
    keep = np.flatnonzero(np.isfinite(best))
    graph = coo_matrix((best[keep], (keep // n, keep % n)), shape=(n, n)).tocsr()
    return dijkstra(graph, directed=False)


def read_links(path: Path, names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The links of a route network (CSV: name1, name2, distance_km) as region indices and km."""
    field = "regions.routes"
    if not path.is_file():
        raise InputError(path, f"{field}: file not found")
    index = {n: i for i, n in enumerate(names)}
    a, b, d = [], [], []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"name1", "name2", "distance_km"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(path, f"{field}: missing column(s) {sorted(missing)} (expected a "
                                   f"CSV header with name1,name2,distance_km)")
        for line, row in enumerate(reader, start=2):
            ends = [index.get((row[k] or "").strip()) for k in ("name1", "name2")]
            try:
                km = float(row["distance_km"])
            except (TypeError, ValueError):
                km = -1.0
            if None in ends or not (km >= 0 and np.isfinite(km)):
                raise InputError(path, f"{field}: line {line}: expected two region names of "
                                       f"regions.names and a distance_km >= 0, got "
                                       f"{row['name1']!r}, {row['name2']!r}, "
                                       f"{row['distance_km']!r}")
            a.append(ends[0])
            b.append(ends[1])
            d.append(km)
    return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), np.array(d, dtype=float)


def route_distances_km(path: Path, names: list[str]) -> np.ndarray:
    """Region-to-region distances (km) along a route network (CSV: name1, name2, distance_km)."""
    return shortest_paths_km(len(names), *read_links(path, names))


def read_location_types(path: Path, types: tuple[str, ...]) -> dict[int, int] | None:
    """The optional ``location_type`` column of the regions table, ``{id: index into types}``.

    Returns None without the column. An empty cell is a town (``types[0]``).

    Raises:
        InputError: for a type not in ``types``.
    """
    rows = _optional_column(path, "location_type")
    if rows is None:
        return None
    out: dict[int, int] = {}
    for line, rid, kind in rows:
        kind = kind.lower() or types[0]
        if kind not in types:
            raise InputError(path, f"regions.names: line {line}: location_type {kind!r} is "
                                   f"not one of {', '.join(types)}")
        out[rid] = types.index(kind)
    return out

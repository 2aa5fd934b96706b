"""Coordinates: reference systems, nearest locations, cell areas and region polygons.

Grids say where they are in one of three ways: lat/lon axis names (WGS 84), a CF ``grid_mapping``
variable (CF-1.8 §5.6, read by pyproj's ``CRS.from_cf``), or a rioxarray ``spatial_ref`` with a
WKT string. Points are matched to the nearest hazard location with a k-d tree (scipy's cKDTree):
on a sphere through 3-D unit vectors, where the chord length is monotone in the great-circle
distance, or in the plane for projected metres.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from simulator.errors import InputError

WGS84 = CRS.from_epsg(4326)
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
GEOGRAPHIC_NAMES = {"lat", "latitude", "lon", "longitude"}


def crs_of(da: xr.DataArray, ds: xr.Dataset | None, where: Path, field: str) -> CRS | None:
    """The coordinate reference system of ``da``, or None when it does not say.

    Lat/lon axis names mean WGS 84; a CF ``grid_mapping`` attribute names a variable whose
    attributes define the CRS; a ``spatial_ref`` coordinate (rioxarray, GDAL) carries WKT.
    """
    name = da.attrs.get("grid_mapping") or da.encoding.get("grid_mapping")
    if name:
        source = ds[name] if ds is not None and name in ds.variables else da.coords.get(name)
        if source is None:
            raise InputError(where, f"{field}: grid_mapping {name!r} names no variable in the "
                                    f"file")
        try:
            return CRS.from_cf(dict(source.attrs))
        except Exception:  # noqa: BLE001 - pyproj raises several errors for a bad mapping
            raise InputError(where, f"{field}: grid_mapping {name!r} is not a valid CF grid "
                                    f"mapping (need grid_mapping_name and its parameters, or "
                                    f"crs_wkt)") from None
    ref = da.coords.get("spatial_ref")
    if ref is not None:
        wkt = ref.attrs.get("crs_wkt") or ref.attrs.get("spatial_ref")
        if wkt:
            try:
                return CRS.from_wkt(wkt)
            except Exception:  # noqa: BLE001 - pyproj raises several errors for bad WKT
                raise InputError(where, f"{field}: spatial_ref holds no valid WKT "
                                        f"coordinate system") from None
    if GEOGRAPHIC_NAMES & set(map(str, da.dims)) or GEOGRAPHIC_NAMES & set(map(str, da.coords)):
        return WGS84
    return None


def reproject(y: np.ndarray, x: np.ndarray, src: CRS | None, dst: CRS | None, where: Path,
              field: str) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``(y, x)`` in ``src`` expressed in ``dst`` (unchanged when they are the same).

    Raises:
        InputError: when exactly one side has no CRS but the other is geographic: a lat/lon grid
            and an x/y grid cannot be compared without knowing the projection.
    """
    if src is None or dst is None or src == dst:
        if (src is None) != (dst is None) and WGS84 in (src, dst):
            raise InputError(where, f"{field}: the grid has x/y axes but no CF grid_mapping, so "
                                    f"it cannot be placed against lat/lon coordinates; add a "
                                    f"grid_mapping variable or use lat/lon axes")
        return y, x
    out_x, out_y = Transformer.from_crs(src, dst, always_xy=True).transform(x, y)
    return np.asarray(out_y, dtype=float), np.asarray(out_x, dtype=float)


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    p, lam = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)])


def nearest(site_y: np.ndarray, site_x: np.ndarray, y: np.ndarray, x: np.ndarray,
            geographic: bool) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest site to each point and its distance in km.

    Geographic coordinates (degrees) use chord distance between unit vectors, converted to the
    great-circle distance d = 2 R asin(c / 2); projected ones (metres) use plane distance.
    """
    if geographic:
        tree = cKDTree(_unit_vectors(site_y, site_x))
        chord, idx = tree.query(_unit_vectors(y, x))
        return idx, 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / 2, 1.0))
    tree = cKDTree(np.column_stack([site_x, site_y]))
    dist, idx = tree.query(np.column_stack([x, y]))
    return idx, dist / 1000.0


def cell_area_km2(ys: np.ndarray, xs: np.ndarray, geographic: bool) -> np.ndarray:
    """Area (km²) of each cell of a regular grid with centres ``ys`` x ``xs`` (ascending).

    On the sphere a cell spanning latitudes φ1..φ2 and Δλ of longitude has area
    R² Δλ (sin φ2 − sin φ1); projected cells are Δx Δy (metres, converted to km²).
    """
    def edges(v: np.ndarray) -> np.ndarray:
        step = np.diff(v).mean() if v.size > 1 else 1.0
        mids = (v[1:] + v[:-1]) / 2
        return np.concatenate([[v[0] - step / 2], mids, [v[-1] + step / 2]])

    ey, ex = edges(ys), edges(xs)
    if geographic:
        band = np.diff(np.sin(np.radians(np.clip(ey, -90, 90))))
        return EARTH_RADIUS_KM ** 2 * np.outer(band, np.radians(np.diff(ex)))
    return np.outer(np.diff(ey), np.diff(ex)) / 1e6


def read_polygons(path: Path, name_property: str) -> tuple[list[str], list]:
    """Region names and shapely geometries from a GeoJSON FeatureCollection (lon/lat, WGS 84).

    Raises:
        InputError: for a file that is not GeoJSON, a feature without the name property or with
            a geometry that is not a (multi)polygon, duplicate names, or a non-WGS 84 ``crs``.
    """
    try:
        import shapely
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(path, "regions.polygons: reading GeoJSON needs shapely; install the "
                               "extra: pip install 'climdisp[formats]'") from None
    if not path.is_file():
        raise InputError(path, "regions.polygons: file not found")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        features = doc["features"]
    except (ValueError, KeyError, TypeError):
        raise InputError(path, "regions.polygons: not a GeoJSON FeatureCollection") from None
    crs = (doc.get("crs") or {}).get("properties", {}).get("name", "")
    if crs and not any(tag in crs for tag in ("4326", "CRS84")):
        raise InputError(path, f"regions.polygons: crs {crs!r}; GeoJSON regions must be in "
                               f"lon/lat WGS 84 (RFC 7946)")
    names, geoms = [], []
    for i, feat in enumerate(features):
        if not isinstance(feat, dict):
            raise InputError(path, f"regions.polygons: feature {i} is not a GeoJSON Feature")
        name = str((feat.get("properties") or {}).get(name_property, "")).strip()
        if not name or name in names:
            raise InputError(path, f"regions.polygons: feature {i}: missing or duplicate "
                                   f"property {name_property!r}")
        try:
            geom = shapely.geometry.shape(feat["geometry"])
        except Exception:  # noqa: BLE001 - shapely raises several errors for bad geometry
            geom = None
        if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(path, f"regions.polygons: feature {i} ({name}): geometry must be a "
                                   f"Polygon or MultiPolygon")
        names.append(name)
        geoms.append(geom)
    if not names:
        raise InputError(path, "regions.polygons: no features")
    return names, geoms


def polygon_index(geoms: list, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Index of the first polygon holding each point, or -1 (shapely's vectorised test).

    A point on a shared edge belongs to the first of the polygons that touch it.
    """
    import shapely

    out = np.full(lat.size, -1, dtype=np.int64)
    for i, geom in enumerate(geoms):
        free = out < 0
        inside = shapely.intersects_xy(geom, lon[free], lat[free])
        out[np.flatnonzero(free)[inside]] = i
    return out


def polygon_countries(path: Path, name_property: str, country_property: str
                      ) -> dict[str, str] | None:
    """``{region name: country}`` from each feature's ``country_property``.

    None when no feature has the property.

    Raises:
        InputError: when some features have the property and others do not.
    """
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    found = {str(f["properties"][name_property]).strip():
             str((f.get("properties") or {}).get(country_property, "")).strip()
             for f in features}
    if not any(found.values()):
        return None
    missing = [n for n, c in found.items() if not c]
    if missing:
        raise InputError(path, f"regions.country_property: feature {missing[0]!r} has no "
                               f"{country_property!r} (with countries every region needs one)")
    return found


"""Load everything a scenario needs from disk, checking it, before the model starts.

This is the I/O edge: the model itself never opens a file. All problems surface here as one-line
:class:`~simulator.errors.InputError`s, before any output is written. Inputs hold only what comes
from files, never a planner lever, so one set of inputs serves every run of a capacity sweep.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr
from pyproj import CRS

from simulator.errors import InputError
from simulator.inputs.futures import (
    FutureMaps,
    read_future_maps,
    read_income_growth,
    read_population_growth,
    sample_events,
)
from simulator.inputs.geo import (
    WGS84,
    cell_area_km2,
    crs_of,
    polygon_countries,
    polygon_index,
    read_polygons,
    reproject,
)
from simulator.inputs.hazards import (
    HazardSeries,
    axis_nearest,
    load_design_levels,
    load_hazard,
    open_variable,
    spatial_dims,
)
from simulator.inputs.observations import Observed, read_observations, read_series
from simulator.inputs.regions import (
    centroids,
    distance_matrix_km,
    read_countries,
    read_names,
    route_distances_km,
)
from simulator.inputs.schema import Scenario
from simulator.inputs.sites import Sites, read_sites
from simulator.inputs.streamed import StreamedHazard
from simulator.inputs.tables import TableRows, read_table
from simulator.inputs.timefiles import expand


@dataclass(frozen=True)
class Inputs:
    """The scenario's inputs, on the populated cells (the model's locations).

    A cell is a populated grid cell, or one row of a household or building table.
    """

    region_names: list[str]
    cell_y: np.ndarray  #: latitude (or y) of each populated cell
    cell_x: np.ndarray  #: longitude (or x)
    cell_region: np.ndarray  #: region index per populated cell
    cell_persons: np.ndarray  #: resident persons per populated cell (float)
    grid_index: np.ndarray  #: flat index of each cell's pixel in the map grid
    grid_shape: tuple[int, int]
    grid_y: np.ndarray  #: map-grid y axis (ascending)
    grid_x: np.ndarray  #: map-grid x axis (ascending)
    geographic: bool  #: True for lat/lon, False for projected x/y
    distance_km: np.ndarray  #: (region, region) centroid distances
    hazard: HazardSeries | StreamedHazard
    stress: HazardSeries | StreamedHazard | None = None  #: slow-onset stress per step and cell
    information: HazardSeries | StreamedHazard | None = None  #: the official hazard map given
    #: return periods and (return period, cell) depths that set defences' design levels
    design_maps: tuple[np.ndarray, np.ndarray] | None = None
    sites: Sites | None = None  #: shelter and camp sites given as points
    table: TableRows | None = None  #: per-cell attributes from a household or building table
    prescribed: np.ndarray | None = None  #: (n_steps,) persons to displace, method "prescribed"
    observed: Observed | None = None  #: observed persons per region and day, to validate against
    file_hashes: dict[str, str] = field(default_factory=dict)
    source: str = "scenario"  #: the scenario file they were loaded for, named in errors
    #: country of each region (``regions.names``' country column); None: one country, ``all``
    region_country: tuple[str, ...] | None = None
    #: return-period maps per period ([futures]); the hazard is drawn from them per seed
    futures: FutureMaps | None = None
    #: (years, (years, regions) income growth per year) from people.income_growth_file
    income_growth: tuple[np.ndarray, np.ndarray] | None = None
    #: (years, (years, regions) population growth per year) from people.population_growth_file
    population_growth: tuple[np.ndarray, np.ndarray] | None = None

    def on_grid(self, values: np.ndarray, attrs: dict[str, str],
                combine: str = "sum") -> xr.DataArray:
        """Per-cell ``values`` on the map grid (0 where nobody lives).

        Table rows can share a map pixel: their values are summed (counts) or, with
        ``combine="max"``, the largest is kept (intensities).
        """
        grid = np.zeros(self.grid_shape, dtype=values.dtype)
        (np.maximum if combine == "max" else np.add).at(grid.ravel(), self.grid_index, values)
        ydim, xdim = ("lat", "lon") if self.geographic else ("y", "x")
        return xr.DataArray(grid, dims=(ydim, xdim), coords={ydim: self.grid_y,
                                                             xdim: self.grid_x}, attrs=attrs)


def sha256(path: Path) -> str:
    """SHA-256 of a file, for provenance in the run manifest (a Zarr store: of its listing)."""
    digest = hashlib.sha256()
    parts = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for part in parts:
        digest.update(str(part.relative_to(path) if path.is_dir() else "").encode())
        with part.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


#: Peak bytes per household while synthesising and running (measured 87 B at 10^6, plus margin).
BYTES_PER_HOUSEHOLD = 100


def available_bytes() -> int:
    """Memory this machine can still give (MemAvailable; else physical memory)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(needed: float, what: str, where: Path | str, field: str) -> None:
    """Refuse, before allocating, work whose memory estimate exceeds what is available.

    Raises:
        InputError: with the estimate and what is available.
    """
    have = available_bytes()
    if needed > have:
        raise InputError(where, f"{field}: {what} would need about {needed / 1e9:,.1f} GB of "
                                f"memory; {have / 1e9:,.1f} GB is available")


def check_households_fit(scenario: Scenario, persons: float, where: Path | str) -> None:
    """Refuse a population whose households would not fit in memory (estimate first)."""
    pop = scenario.population
    households = pop.households or persons / pop.persons_per_household
    check_fits(households * BYTES_PER_HOUSEHOLD, f"{households:,.3g} households",
               where, "population")


@dataclass(frozen=True)
class _Grid:
    """A 2-D grid read from a file, ascending axes, with its coordinate reference system."""

    values: np.ndarray
    ys: np.ndarray
    xs: np.ndarray
    crs: CRS | None
    geographic: bool


def _grid(path: Path, variable: str, section: str) -> _Grid:
    field_name = f"{section}.variable"
    da, ds = open_variable(path, variable, section)
    ydim, xdim = spatial_dims(da, path, field_name)
    if set(da.dims) != {ydim, xdim}:
        raise InputError(path, f"{field_name}: expected a 2-D ({ydim}, {xdim}) grid, "
                               f"found dimensions {list(da.dims)}")
    crs = crs_of(da, ds, path, f"{section}.file")
    check_fits(da.size * 8 * 4, f"a {da.shape[0]:,} x {da.shape[1]:,} grid", path, field_name)
    da = da.sortby([ydim, xdim]).transpose(ydim, xdim)
    return _Grid(np.asarray(da.values), da[ydim].values.astype(float),
                 da[xdim].values.astype(float), crs,
                 crs.is_geographic if crs is not None else ydim != "y")


def _raster_ids(grid: _Grid, names: dict[int, str], where: Path) -> np.ndarray:
    """Region index (-1 outside every region) of each cell of a region-id raster."""
    raw = grid.values
    ids = np.where(np.isfinite(raw), raw, -1).astype(np.int64)
    unknown = sorted(set(np.unique(ids[ids >= 0]).tolist()) - set(names))
    if unknown:
        raise InputError(where, f"regions.names: region id {unknown[0]} appears in the region "
                                f"raster but not in the table")
    lookup = np.full(max(names) + 2, -1, dtype=np.int64)
    for i, rid in enumerate(sorted(names)):
        lookup[rid] = i
    return np.where(ids >= 0, lookup[np.clip(ids, 0, lookup.size - 1)], -1)


class _Regions:
    """The scenario's regions: names, and the region of any point or grid."""

    def __init__(self, scenario: Scenario) -> None:
        cfg = scenario.regions
        if cfg.polygons is not None:
            self.names, self.geoms = read_polygons(cfg.polygons, cfg.name_property)
            self.raster, self.files = None, [cfg.polygons]
            found = polygon_countries(cfg.polygons, cfg.name_property, cfg.country_property)
            self.countries = None if found is None else tuple(found[n] for n in self.names)
            return
        by_id = read_names(cfg.names)
        self.names = [by_id[k] for k in sorted(by_id)]
        found = read_countries(cfg.names)
        self.countries = None if found is None else tuple(found[k] for k in sorted(by_id))
        self.files = [cfg.names]
        self.raster, self.names_file = None, cfg.names
        if cfg.file is not None:
            self.raster = _grid(cfg.file, cfg.variable, "regions")
            self.index = _raster_ids(self.raster, by_id, cfg.names)
            self.files.append(cfg.file)
        self.geoms = None

    def of_points(self, y: np.ndarray, x: np.ndarray, crs: CRS | None,
                  where: Path) -> np.ndarray:
        """Region index of points (-1: in no region): polygon test or nearest raster cell.

        ``where`` is the file the points come from, named in errors.
        """
        if self.raster is None and self.geoms is None:
            raise InputError(self.names_file, "regions.names: with only a names table, the "
                                              "population table needs a region column "
                                              "(population.table.columns.region)")
        if self.raster is None:
            lat, lon = reproject(y, x, crs, WGS84, where, "population.file")
            return polygon_index(self.geoms, lat, lon)
        r = self.raster
        y, x = reproject(y, x, crs, r.crs, where, "population.file")
        half_y = np.abs(np.diff(r.ys)).max() / 2 if r.ys.size > 1 else 0.5
        half_x = np.abs(np.diff(r.xs)).max() / 2 if r.xs.size > 1 else 0.5
        out = self.index[axis_nearest(r.ys, y), axis_nearest(r.xs, x)]
        inside = ((y >= r.ys.min() - half_y) & (y <= r.ys.max() + half_y)
                  & (x >= r.xs.min() - half_x) & (x <= r.xs.max() + half_x))
        return np.where(inside, out, -1)

    def of_grid(self, grid: _Grid, where: Path) -> np.ndarray:
        """Region index of every cell of ``grid`` (the raster must be that same grid)."""
        if self.raster is None:
            yy, xx = np.meshgrid(grid.ys, grid.xs, indexing="ij")
            return self.of_points(yy.ravel(), xx.ravel(), grid.crs, where).reshape(yy.shape)
        r = self.raster
        if r.values.shape != grid.values.shape or not (
                np.allclose(r.ys, grid.ys) and np.allclose(r.xs, grid.xs)):
            raise InputError(where, f"regions.variable: grid {r.values.shape} does not match "
                                    f"the population grid {grid.values.shape} (same cells "
                                    f"needed)")
        return self.index


def region_countries(scenario: Scenario) -> tuple[str, ...] | None:
    """The country of each region (None when the regions table has no country column)."""
    return _Regions(scenario).countries


def region_names(scenario: Scenario) -> list[str]:
    """The scenario's region names, in the order results use (names table or GeoJSON)."""
    return _Regions(scenario).names


def _persons(scenario: Scenario, regions: _Regions) -> tuple[_Grid, np.ndarray, np.ndarray]:
    """The population grid, persons per cell and region per cell (from a file or totals)."""
    cfg = scenario.population
    if cfg.file is None:  # region totals spread evenly over each region's raster cells
        grid, region_grid = regions.raster, regions.index
        unknown = sorted(set(cfg.totals) - set(regions.names))
        if unknown:
            raise InputError("scenario", f"population.totals.{unknown[0]}: unknown region "
                                         f"(regions: {', '.join(regions.names)})")
        cells = np.bincount(region_grid[region_grid >= 0], minlength=len(regions.names))
        per_cell = np.array([cfg.totals.get(n, 0.0) for n in regions.names]) / np.maximum(cells, 1)
        return grid, np.where(region_grid >= 0, per_cell[np.maximum(region_grid, 0)], 0.0), \
            region_grid
    grid = _grid(cfg.file, cfg.variable, "population")
    persons = np.asarray(grid.values, dtype=np.float64)
    if (persons[np.isfinite(persons)] < 0).any():
        raise InputError(cfg.file, "population.variable: negative persons in some cells")
    if np.isinf(persons).any():
        raise InputError(cfg.file, "population.variable: infinite persons in some cells")
    persons = np.nan_to_num(persons, nan=0.0)
    if cfg.quantity == "density_per_km2":
        persons = persons * cell_area_km2(grid.ys, grid.xs, grid.geographic)
    region_grid = regions.of_grid(grid, cfg.file)
    stray = (persons > 0) & (region_grid < 0)
    if stray.any():
        raise InputError(cfg.file, f"population.variable: {int(stray.sum())} populated cells "
                                   f"lie outside every region")
    return grid, persons, region_grid


def _map_grid(y: np.ndarray, x: np.ndarray, pixels: int = 100):
    """A regular map grid of about ``pixels`` per side over points, and each point's pixel."""
    step = max(np.ptp(y), np.ptp(x), 1e-9) / pixels
    gy = np.arange(y.min(), y.max() + step, step)
    gx = np.arange(x.min(), x.max() + step, step)
    iy = np.minimum(((y - y.min()) / step).astype(np.int64), gy.size - 1)
    ix = np.minimum(((x - x.min()) / step).astype(np.int64), gx.size - 1)
    return gy, gx, iy * gx.size + ix


def _named_regions(labels: np.ndarray, names: list[str], where: Path) -> np.ndarray:
    """Region index of each table row from its region name."""
    index = {n: i for i, n in enumerate(names)}
    unknown = [i for i, label in enumerate(labels) if label not in index]
    if unknown:
        raise InputError(where, f"population.table: row {unknown[0] + 2}: region "
                                f"{labels[unknown[0]]!r} is not in regions.names")
    return np.array([index[label] for label in labels], dtype=np.int64)


def _locations(scenario: Scenario, regions: _Regions) -> dict:
    """Populated cells, their regions and persons, the map grid and, for tables, the rows."""
    cfg = scenario.population
    if cfg.table is not None:
        rows = read_table(cfg.table, set(scenario.impact.curves))
        region = regions.of_points(rows.lat, rows.lon, WGS84, cfg.table.file) \
            if rows.region is None else \
            _named_regions(rows.region, regions.names, cfg.table.file)
        if (region < 0).any():
            i = int(np.flatnonzero(region < 0)[0])
            raise InputError(cfg.table.file, f"population.table: {int((region < 0).sum())} rows "
                                             f"lie outside every region (first: row {i + 2}, "
                                             f"lat {rows.lat[i]:g} lon {rows.lon[i]:g})")
        persons = np.where(np.isnan(rows.persons), cfg.persons_per_household, rows.persons)
        gy, gx, pix = _map_grid(rows.lat, rows.lon)
        return dict(cell_y=rows.lat, cell_x=rows.lon, cell_region=region, cell_persons=persons,
                    grid_index=pix, grid_shape=(gy.size, gx.size), grid_y=gy, grid_x=gx,
                    geographic=True, crs=WGS84, table=rows, files=[cfg.table.file])
    grid, persons, region_grid = _persons(scenario, regions)
    flat = np.flatnonzero(persons.ravel() > 0)
    if flat.size == 0:
        raise InputError(cfg.file or scenario.regions.file, "population.variable: no populated "
                                                            "cells")
    iy, ix = np.unravel_index(flat, persons.shape)
    return dict(cell_y=grid.ys[iy], cell_x=grid.xs[ix], cell_region=region_grid.ravel()[flat],
                cell_persons=persons.ravel()[flat], grid_index=flat, grid_shape=persons.shape,
                grid_y=grid.ys, grid_x=grid.xs, geographic=grid.geographic, crs=grid.crs,
                table=None, files=[cfg.file] if cfg.file else [])


def load_inputs(scenario: Scenario, where: str | Path = "scenario") -> Inputs:
    """Read and check the scenario's regions, population and hazard.

    Args:
        scenario: a validated scenario.
        where: the scenario file, named in errors about scenario fields.

    Raises:
        InputError: for any missing or inconsistent input.
    """
    regions = _Regions(scenario)
    names = regions.names
    loc = _locations(scenario, regions)
    check_households_fit(scenario, float(loc["cell_persons"].sum()), where)
    cell_y, cell_x, cell_region = loc["cell_y"], loc["cell_x"], loc["cell_region"]
    cy, cx = centroids(cell_y, cell_x, cell_region, loc["cell_persons"], len(names))
    distance = distance_matrix_km(cy, cx, loc["geographic"]) if scenario.regions.routes is None \
        else route_distances_km(scenario.regions.routes, names)
    futures = None
    if scenario.futures is not None:  # yearly events drawn from return-period maps per period
        futures = read_future_maps(scenario, cell_y, cell_x, loc["crs"])
        hazard = sample_events(futures, scenario, scenario.seed)
    else:
        hazard = load_hazard(scenario, cell_y, cell_x, loc["crs"])
    stress = load_hazard(scenario, cell_y, cell_x, loc["crs"], "stress") if scenario.stress \
        else None
    information = load_hazard(scenario, cell_y, cell_x, loc["crs"], "information") \
        if scenario.information else None
    design_maps = load_design_levels(scenario, cell_y, cell_x, loc["crs"]) \
        if scenario.defences else None
    sites = read_sites(scenario.capacity.sites_file, cell_y, cell_x, cell_region) \
        if scenario.capacity.sites_file else None
    prescribed = None
    if scenario.impact.prescribed_file is not None:
        prescribed = read_series(scenario.impact.prescribed_file, scenario)
    observed = None
    if scenario.observations is not None:
        observed = read_observations(scenario.observations.file, scenario, names)
    growth = None
    if scenario.people.income_growth_file is not None:
        growth = read_income_growth(scenario, names, regions.countries)
    pop_growth = None
    if scenario.people.population_growth_file is not None:
        pop_growth = read_population_growth(scenario, names, regions.countries)
    files = {scenario.hazard.file, *regions.files, *loc["files"]}
    for extra in (scenario.hazard.fraction_file, scenario.regions.routes,
                  scenario.impact.prescribed_file,
                  scenario.observations.file if scenario.observations else None,
                  scenario.stress.file if scenario.stress else None,
                  scenario.information.file if scenario.information else None,
                  scenario.defences.file if scenario.defences else None,
                  scenario.capacity.sites_file, scenario.people.income_growth_file,
                  scenario.people.population_growth_file):
        if extra is not None:
            files.add(extra)
    return Inputs(
        region_names=names, cell_y=cell_y, cell_x=cell_x, cell_region=cell_region,
        cell_persons=loc["cell_persons"], grid_index=loc["grid_index"],
        grid_shape=loc["grid_shape"], grid_y=loc["grid_y"], grid_x=loc["grid_x"],
        geographic=loc["geographic"], distance_km=distance, hazard=hazard, stress=stress,
        information=information, design_maps=design_maps, sites=sites,
        table=loc["table"], prescribed=prescribed, observed=observed,
        file_hashes={str(p): sha256(p) for f in sorted(files, key=str) for p in expand(f)},
        source=str(where), region_country=regions.countries, futures=futures,
        income_growth=growth, population_growth=pop_growth)


def region_map(scenario: Scenario) -> xr.DataArray:
    """Region index of each pixel of the results' maps (``displaced_map``'s grid).

    -1 where nobody lives; the region names are in the ``names`` attribute (index order).
    Reads only the regions and population inputs (no hazard), for drawing region outlines.

    Raises:
        InputError: when those inputs cannot be read (e.g. moved since the run).
    """
    regions = _Regions(scenario)
    loc = _locations(scenario, regions)
    grid = np.full(loc["grid_shape"], -1, dtype=np.int32)
    np.maximum.at(grid.ravel(), loc["grid_index"], loc["cell_region"].astype(np.int32))
    ydim, xdim = ("lat", "lon") if loc["geographic"] else ("y", "x")
    return xr.DataArray(grid, dims=(ydim, xdim),
                        coords={ydim: loc["grid_y"], xdim: loc["grid_x"]},
                        attrs={"long_name": "region index (-1: nobody lives here)",
                               "names": list(regions.names)})

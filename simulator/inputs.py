"""Load everything a scenario needs from disk, checking it, before the model starts.

This is the I/O edge: the model itself never opens a file. All problems surface here as one-line
:class:`~simulator.errors.InputError`s, before any output is written. Inputs hold only what comes
from files, never a planner lever, so one set of inputs serves every run of a capacity sweep.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from .errors import InputError
from .hazards import HazardSeries, load_hazard, open_variable, spatial_dims
from .regions import centroids, check_region_names, distance_matrix_km, read_names
from .schema import Scenario


@dataclass(frozen=True)
class Inputs:
    """The scenario's inputs, on the populated cells (the model's locations)."""

    region_names: list[str]
    cell_y: np.ndarray  #: latitude (or y) of each populated cell
    cell_x: np.ndarray  #: longitude (or x)
    cell_region: np.ndarray  #: region index per populated cell
    cell_persons: np.ndarray  #: resident persons per populated cell (float)
    grid_index: np.ndarray  #: flat index of each populated cell in the population grid
    grid_shape: tuple[int, int]
    grid_y: np.ndarray  #: population-grid y axis (ascending)
    grid_x: np.ndarray  #: population-grid x axis (ascending)
    geographic: bool  #: True for lat/lon, False for projected x/y
    distance_km: np.ndarray  #: (region, region) centroid distances
    hazard: HazardSeries
    stress: HazardSeries | None = None  #: slow-onset stress per step and cell, if any
    file_hashes: dict[str, str] = field(default_factory=dict)

    def on_grid(self, values: np.ndarray, attrs: dict[str, str]) -> xr.DataArray:
        """Per-cell ``values`` placed on the population grid (0 in unpopulated cells)."""
        grid = np.zeros(self.grid_shape, dtype=values.dtype)
        grid.ravel()[self.grid_index] = values
        ydim, xdim = ("lat", "lon") if self.geographic else ("y", "x")
        return xr.DataArray(grid, dims=(ydim, xdim), coords={ydim: self.grid_y,
                                                             xdim: self.grid_x}, attrs=attrs)


def sha256(path: Path) -> str:
    """SHA-256 of a file, for provenance in the run manifest."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _grid(path: Path, variable: str, section: str):
    field_name = f"{section}.variable"
    da = open_variable(path, variable, section)
    ydim, xdim = spatial_dims(da, path, field_name)
    if set(da.dims) != {ydim, xdim}:
        raise InputError(path, f"{field_name}: expected a 2-D ({ydim}, {xdim}) grid, "
                               f"found dimensions {list(da.dims)}")
    da = da.sortby([ydim, xdim]).transpose(ydim, xdim)
    return da, ydim, xdim


def _region_raster(scenario: Scenario, names: dict[int, str], shape, ys, xs) -> np.ndarray:
    cfg = scenario.regions
    da, ydim, xdim = _grid(cfg.file, cfg.variable, "regions")
    if da.shape != shape or not (np.allclose(da[ydim].values, ys)
                                 and np.allclose(da[xdim].values, xs)):
        raise InputError(cfg.file, f"regions.variable: grid {da.shape} does not match the "
                                   f"population grid {shape} (same cells needed)")
    raw = da.values
    ids = np.where(np.isfinite(raw), raw, -1).astype(np.int64)
    unknown = sorted(set(np.unique(ids[ids >= 0]).tolist()) - set(names))
    if unknown:
        raise InputError(cfg.names, f"regions.names: region id {unknown[0]} appears in "
                                    f"{cfg.file.name} but not in the table")
    lookup = {rid: i for i, rid in enumerate(sorted(names))}
    out = np.full(ids.shape, -1, dtype=np.int64)
    for rid, i in lookup.items():
        out[ids == rid] = i
    return out


def _population(scenario: Scenario, region_grid: np.ndarray, names: list[str]):
    cfg = scenario.population
    if cfg.file is not None:
        da, _, _ = _grid(cfg.file, cfg.variable, "population")
        persons = np.asarray(da.values, dtype=np.float64)
        if da.shape != region_grid.shape:
            raise InputError(cfg.file, f"population.variable: grid {da.shape} does not match the "
                                       f"region raster {region_grid.shape}")
        if (persons[np.isfinite(persons)] < 0).any():
            raise InputError(cfg.file, "population.variable: negative persons in some cells")
        persons = np.nan_to_num(persons, nan=0.0)
        stray = (persons > 0) & (region_grid < 0)
        if stray.any():
            raise InputError(cfg.file, f"population.variable: {int(stray.sum())} populated cells "
                                       f"lie outside every region of regions.file")
        return persons
    unknown = sorted(set(cfg.totals) - set(names))
    if unknown:
        raise InputError("scenario", f"population.totals.{unknown[0]}: unknown region "
                                     f"(regions: {', '.join(names)})")
    cells = np.bincount(region_grid[region_grid >= 0], minlength=len(names))
    per_cell = np.array([cfg.totals.get(n, 0.0) for n in names]) / np.maximum(cells, 1)
    return np.where(region_grid >= 0, per_cell[np.maximum(region_grid, 0)], 0.0)


def load_inputs(scenario: Scenario, where: str | Path = "scenario") -> Inputs:
    """Read and check the scenario's regions, population and hazard.

    Args:
        scenario: a validated scenario.
        where: the scenario file, named in errors about scenario fields.

    Raises:
        InputError: for any missing or inconsistent input.
    """
    names_by_id = read_names(scenario.regions.names)
    names = [names_by_id[k] for k in sorted(names_by_id)]
    check_region_names(scenario, names, Path(where))  # levers are the model's; names are ours
    pop_source = scenario.population.file or scenario.regions.file
    var = scenario.population.variable if scenario.population.file else scenario.regions.variable
    section = "population" if scenario.population.file else "regions"
    ref, ydim, xdim = _grid(pop_source, var, section)
    ys, xs = ref[ydim].values.astype(float), ref[xdim].values.astype(float)
    region_grid = _region_raster(scenario, names_by_id, ref.shape, ys, xs)
    persons = _population(scenario, region_grid, names)
    flat = np.flatnonzero(persons.ravel() > 0)
    if flat.size == 0:
        raise InputError(pop_source, "population.variable: no populated cells")
    iy, ix = np.unravel_index(flat, persons.shape)
    cell_y, cell_x = ys[iy], xs[ix]
    cell_region = region_grid.ravel()[flat]
    cell_persons = persons.ravel()[flat]
    geographic = ydim != "y"
    cy, cx = centroids(cell_y, cell_x, cell_region, cell_persons, len(names))
    hazard = load_hazard(scenario, cell_y, cell_x)
    stress = load_hazard(scenario, cell_y, cell_x, "stress") if scenario.stress else None
    files = {scenario.hazard.file, scenario.regions.file, scenario.regions.names, pop_source}
    if scenario.stress:
        files.add(scenario.stress.file)
    return Inputs(
        region_names=names, cell_y=cell_y, cell_x=cell_x, cell_region=cell_region,
        cell_persons=cell_persons, grid_index=flat, grid_shape=persons.shape, grid_y=ys,
        grid_x=xs, geographic=geographic, distance_km=distance_matrix_km(cy, cx, geographic),
        hazard=hazard, stress=stress,
        file_hashes={str(p): sha256(p) for p in sorted(files, key=str)})

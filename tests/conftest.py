"""Test helpers: write small but real scenario folders (NetCDF grids, CSV, TOML) to tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tomli_w
import xarray as xr

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo.toml"

NY, NX, NT = 4, 5, 10
LAT = 10.0 + 0.1 * np.arange(NY)
LON = 20.0 + 0.1 * np.arange(NX)


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def write_case(root: Path, *, depth: np.ndarray | None = None, units: str | None = "m",
               persons: np.ndarray | None = None, region: np.ndarray | None = None,
               names: tuple[str, ...] = ("North", "South"), lat: np.ndarray = LAT,
               lon: np.ndarray = LON, hazard_lat: np.ndarray | None = None,
               hazard_lon: np.ndarray | None = None, scenario: dict | None = None,
               name: str = "case.toml") -> Path:
    """Write a tiny scenario (4 x 5 cells, two regions) and return its TOML path.

    Default hazard: 2 m in cell (0, 0) at every one of 10 daily steps, dry elsewhere.
    Default population: 450 persons per cell (100 households of 4.5 persons).
    """
    root.mkdir(parents=True, exist_ok=True)
    hlat = lat if hazard_lat is None else hazard_lat
    hlon = lon if hazard_lon is None else hazard_lon
    if depth is None:
        depth = np.zeros((NT, hlat.size, hlon.size), dtype=np.float32)
        depth[:, 0, 0] = 2.0
    if persons is None:
        persons = np.full((lat.size, lon.size), 450.0)
    if region is None:
        region = np.where(np.arange(lat.size)[:, None] < lat.size // 2, 1, 0) * np.ones(
            (1, lon.size), dtype=int)
    attrs = {"units": units} if units else {}
    time = np.datetime64("2030-01-01") + np.arange(depth.shape[0]).astype("timedelta64[D]")
    xr.Dataset({"depth": (("time", "lat", "lon"), depth.astype(np.float32), attrs)},
               coords={"time": time, "lat": hlat, "lon": hlon}).to_netcdf(root / "hazard.nc")
    grid = {"lat": lat, "lon": lon}
    xr.Dataset({"population": (("lat", "lon"), persons)}, coords=grid).to_netcdf(root / "pop.nc")
    xr.Dataset({"region_id": (("lat", "lon"), region.astype(np.int16))},
               coords=grid).to_netcdf(root / "regions.nc")
    (root / "regions.csv").write_text("id,name\n" + "".join(
        f"{i},{n}\n" for i, n in enumerate(names)))
    base = {
        "name": "case", "seed": 7, "start_date": "2030-01-01", "step_days": 1, "n_steps": NT,
        "hazard": {"file": "hazard.nc", "variable": "depth", "kind": "flood_depth"},
        "population": {"file": "pop.nc", "variable": "population",
                       "persons_per_household": 4.5},
        "regions": {"file": "regions.nc", "variable": "region_id", "names": "regions.csv"},
        "capacity": {"default": {"host": 0, "shelter": 200, "camp": 0, "rental": 0}},
    }
    text = tomli_w.dumps(_merge(base, scenario or {}))
    text = text.replace('start_date = "2030-01-01"', "start_date = 2030-01-01")
    path = root / name
    path.write_text(text)
    return path


@pytest.fixture
def case(tmp_path: Path):
    """Factory: ``case(**kwargs)`` writes a tiny scenario under tmp_path (see write_case)."""
    counter = iter(range(1000))

    def make(**kwargs) -> Path:
        return write_case(tmp_path / f"case{next(counter)}", **kwargs)

    return make

"""Run folders: written atomically, opened with a clear error when they are not one.

A run folder ``results/<scenario>/<run-id>/`` holds ``results.nc``, ``config.toml`` and
``manifest.json``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import xarray as xr

from simulator.atomic import write_folder
from simulator.errors import InputError
from simulator.inputs.config import dump_toml
from simulator.inputs.schema import Scenario

RESULT_FILES = ("results.nc", "config.toml", "manifest.json")
#: Compression of the results' variables held in memory (all of them up to 64 MB a table).
COMPRESSION = {"zlib": True, "complevel": 4}
#: Compression of lazy variables: region-pair tables of GBs, nearly all zeros. Level 1 without
#: the shuffle filter writes the 21 M-resident case's 4.7 GB of pair tables in 11 s instead of
#: 24 s, into 25 MB instead of 5 MB (benchmarks/README.md).
LAZY_COMPRESSION = {"zlib": True, "complevel": 1, "shuffle": False}


def default_run_dir(scenario: Scenario, seed: int, root: Path = Path("results")) -> Path:
    """``results/<scenario>/<UTC time>-seed<seed>``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return root / scenario.name / f"{stamp}-seed{seed}"


def write_run(ds: xr.Dataset, scenario: Scenario, out: Path, manifest: dict,
              extra: dict[str, bytes] | None = None) -> Path:
    """Write a run folder (results.nc, config.toml, manifest.json, ``extra``) atomically.

    A lazy (dask) variable, such as a large region-pair table, is written one dask chunk to one
    netCDF chunk: each is compressed once, the table never whole in memory (netCDF's own
    chunking would recompress a chunk for every dask chunk it overlaps: 13 times slower). Its
    chunks are compressed with :data:`LAZY_COMPRESSION`, the rest with :data:`COMPRESSION`.
    """
    encoding = {v: _encoding(ds[v]) for v in ds.data_vars}
    return write_folder(out, {
        "results.nc": lambda path: ds.to_netcdf(path, encoding=encoding),
        "config.toml": dump_toml(scenario).encode(),
        "manifest.json": (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(),
        **(extra or {})})


def _encoding(var: xr.DataArray) -> dict:
    """The compression of a variable in results.nc (a lazy one: chunked as its dask array)."""
    if var.chunks is None:
        return dict(COMPRESSION)
    return {**LAZY_COMPRESSION, "chunksizes": tuple(c[0] for c in var.chunks)}


def open_run(run_dir: str | Path) -> xr.Dataset:
    """Open a run folder's results, with a clear error if it is not one."""
    run_dir = Path(run_dir)
    path = run_dir / "results.nc"
    if not run_dir.is_dir():
        raise InputError(run_dir, "RUN_DIR: no such folder")
    if not path.is_file():
        raise InputError(run_dir, "RUN_DIR: not a run folder (no results.nc)")
    try:
        ds = xr.load_dataset(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure means a broken run folder
        raise InputError(path, f"cannot read results ({type(exc).__name__})") from None
    missing = {"persons", "occupancy", "capacity", "flows", "unmet_shelter"} - set(ds.data_vars)
    if missing:
        raise InputError(path, f"not a climdisp results file (missing {sorted(missing)})")
    return ds


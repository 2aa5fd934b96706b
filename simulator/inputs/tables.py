"""Tables of households or buildings (CSV or Parquet) with lon/lat and optional attributes.

Each row is one location of the model. A *households* table gives one household per row; a
*buildings* table gives the persons living in each building, which are then split into
households like a population cell. Optional columns override what synthesis would draw: the
household size (``persons``, households only), ``income`` per year, the home's ``value``,
``building_class`` (a depth-damage curve name) and ``region`` (a region name, instead of finding
it from a raster or polygons). The scenario maps our field names to the file's columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.errors import InputError
from simulator.inputs.schema import HouseholdTable


@dataclass(frozen=True)
class TableRows:
    """The rows of a household or building table, in file order."""

    lat: np.ndarray  #: degrees north
    lon: np.ndarray  #: degrees east
    persons: np.ndarray  #: persons per row (households: the household size)
    income: np.ndarray | None  #: income per year, NaN where synthesis draws it
    value: np.ndarray | None  #: home value (currency), NaN where it follows income
    building_class: np.ndarray | None  #: index into ``class_names``, -1 where drawn
    class_names: list[str]
    kind: str
    region: np.ndarray | None = None  #: region name per row, when the table has that column


def _read(cfg: HouseholdTable) -> pd.DataFrame:
    path, field = cfg.file, "population.table.file"
    if not path.is_file():
        raise InputError(path, f"{field}: file not found")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(path, f"{field}: reading Parquet needs pyarrow; install the extra: "
                               f"pip install 'climdisp[formats]'") from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input here
        raise InputError(path, f"{field}: cannot read as a table ({type(exc).__name__})") from None


def _numbers(df: pd.DataFrame, cfg: HouseholdTable, name: str, required: bool,
             low: float, high: float = np.inf) -> np.ndarray | None:
    """Column ``name`` as floats within [low, high]; None when optional and absent."""
    column, where = cfg.column(name), cfg.file
    if column not in df.columns:
        if required:
            raise InputError(where, f"population.table.columns.{name}: no column {column!r} in "
                                    f"the table (columns: {', '.join(map(str, df.columns))})")
        return None
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    bad = ~((values >= low) & (values <= high))
    if name in ("income", "value"):
        bad &= ~np.isnan(values)  # a blank income is drawn by synthesis
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(where, f"population.table: row {row + 2} column {column!r}: expected "
                                f"a number in {low:g}..{high:g}, got {df[column].iloc[row]!r}")
    return values


def read_table(cfg: HouseholdTable, curves: set[str]) -> TableRows:
    """Read and check a household or building table.

    Args:
        cfg: the scenario's ``population.table``.
        curves: names of the scenario's depth-damage curves (valid building classes).

    Raises:
        InputError: for a missing file or column, a value out of range (naming the row as a
            line of the CSV, header = line 1), or an unknown building class.
    """
    df = _read(cfg)
    if df.empty:
        raise InputError(cfg.file, "population.table.file: the table has no rows")
    lat = _numbers(df, cfg, "lat", True, -90, 90)
    lon = _numbers(df, cfg, "lon", True, -180, 360)
    households = cfg.kind == "households"
    persons = _numbers(df, cfg, "persons", not households, 1 if households else 0,
                       255 if households else np.inf)
    if persons is None:
        persons = np.full(lat.size, np.nan)
    income = _numbers(df, cfg, "income", False, 0)
    value = _numbers(df, cfg, "value", False, 0)
    classes, names = None, []
    column = cfg.column("building_class")
    if column in df.columns:
        blank = df[column].isna().to_numpy()  # a blank class is drawn by synthesis
        labels = df[column].fillna("").astype(str).str.strip().to_numpy()
        names = sorted(set(labels[~blank]))
        unknown = [n for n in names if n not in curves]
        if unknown:
            raise InputError(cfg.file, f"population.table: column {column!r}: building class "
                                       f"{unknown[0]!r} has no curve in impact.curves")
        classes = np.where(blank, -1, np.searchsorted(np.array(names or [""]), labels)).astype(
            np.int16)
    column = cfg.column("region")
    region = df[column].astype(str).str.strip().to_numpy() if column in df.columns else None
    return TableRows(lat=lat, lon=lon, persons=persons, income=income, value=value,
                     building_class=classes,
                     class_names=names, kind=cfg.kind, region=region)

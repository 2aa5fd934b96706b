"""Real-world input formats: Zarr with a CF grid_mapping, ISIMIP without units, CLIMADA HDF5,
GeoTIFF, density grids, household and building tables, GeoJSON regions; and their bad inputs."""

from __future__ import annotations

import csv
import datetime as dt
import json
import pickle

import h5py
import numpy as np
import pytest
import xarray as xr
from pyproj import CRS, Transformer

from simulator.inputs.config import load_scenario
from simulator.inputs.geo import EARTH_RADIUS_KM
from simulator.inputs.load import load_inputs
from simulator.inputs.units import si_factor
from simulator.model import DisplacementModel
from simulator.states import State
from simulator.ui.cli import main

from .conftest import LAT, LON, NT

UTM = CRS.from_epsg(32634)  # UTM zone 34N covers 18-24 E


def at(path, key: str, name: str) -> str:
    """A ``--set`` override naming a file beside the scenario (overrides resolve from the cwd)."""
    return f'{key}="{path.parent / name}"'


def _cell0_wet_only(inputs) -> bool:
    wet = np.flatnonzero(inputs.hazard.at(0) > 0)
    return wet.tolist() == [0] and inputs.cell_y[0] == LAT[0] and inputs.cell_x[0] == LON[0]


def test_zarr_in_utm_with_a_cf_grid_mapping_is_reprojected(case):
    path = case()
    to_utm = Transformer.from_crs(4326, UTM, always_xy=True)
    x0, y0 = to_utm.transform(LON[0], LAT[0])
    xs, ys = x0 - 30_000 + 2_000 * np.arange(40), y0 - 10_000 + 2_000 * np.arange(40)
    ys = ys[::-1]  # y descending, as rasters often are
    depth = np.zeros((NT, ys.size, xs.size), np.float32)
    depth[:, np.argmin(abs(ys - y0)), np.argmin(abs(xs - x0))] = 2.0  # the pixel of cell (0, 0)
    ds = xr.Dataset({"depth": (("time", "y", "x"), depth, {"units": "m",
                                                            "grid_mapping": "crs"}),
                     "crs": ((), 0, UTM.to_cf())},
                    coords={"time": xr.open_dataset(path.parent / "hazard.nc")["time"].values,
                            "y": ys, "x": xs})
    ds.to_zarr(path.parent / "hazard.zarr")
    cfg = load_scenario(path, [at(path, "hazard.file", "hazard.zarr")])
    assert _cell0_wet_only(load_inputs(cfg))


def test_projected_grid_without_grid_mapping_is_a_clear_error(case, tmp_path, capsys):
    path = case()
    xr.Dataset({"depth": (("y", "x"), np.ones((3, 3), np.float32), {"units": "m"})},
               coords={"y": [0.0, 1e3, 2e3], "x": [0.0, 1e3, 2e3]}).to_netcdf(
        path.parent / "xy.nc")
    assert main(["run", str(path), "--out", str(tmp_path / "r"), "--set",
                 at(path, "hazard.file", "xy.nc")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "xy.nc: hazard.file: the grid has x/y axes but no CF " \
                                   "grid_mapping" in err
    assert not (tmp_path / "r").exists()


def test_units_convert_through_the_cf_registry(case):
    assert si_factor("cm", None, "flood_depth", "f", "hazard.units") == pytest.approx(0.01)
    assert si_factor("km/h", None, "wind_speed", "f", "u") == pytest.approx(1 / 3.6)
    assert si_factor("m s-1", None, "wind_speed", "f", "u") == pytest.approx(1.0)  # UDUNITS
    depth = np.zeros((NT, LAT.size, LON.size), np.float32)
    depth[:, 0, 0] = 200.0
    inputs = load_inputs(load_scenario(case(depth=depth, units="cm")))
    assert inputs.hazard.values.max() == pytest.approx(2.0)


def _isimip(path, fraction: float):
    """ISIMIP layout: flddph and fldfrc in two files, neither with a units attribute."""
    src = xr.open_dataset(path.parent / "hazard.nc")
    coords = {"time": src["time"].values, "lat": LAT, "lon": LON}
    frc = np.zeros((NT, LAT.size, LON.size), np.float32)
    frc[:, 0, 0] = fraction
    xr.Dataset({"flddph": (("time", "lat", "lon"), src["depth"].values)}, coords=coords
               ).to_netcdf(path.parent / "flddph.nc")
    xr.Dataset({"fldfrc": (("time", "lat", "lon"), frc)}, coords=coords).to_netcdf(
        path.parent / f"fldfrc{fraction}.nc")
    return [at(path, "hazard.file", "flddph.nc"), 'hazard.variable="flddph"',
            'hazard.fraction_variable="fldfrc"', at(path, "hazard.fraction_file",
                                                    f"fldfrc{fraction}.nc")]


def _displaced_in_cell0(cfg) -> set[int]:
    model = DisplacementModel(cfg)
    model.step()
    hh = model.households
    return set(np.flatnonzero((hh.cell == 0) & (hh.state == State.DISPLACED)).tolist())


def test_isimip_without_units_needs_them_declared(case, tmp_path, capsys):
    path = case()
    sets = _isimip(path, 0.3)
    args = ["run", str(path), "--out", str(tmp_path / "r")] + sum((["--set", s] for s in sets),
                                                                  [])
    assert main(args) == 2
    assert "flddph.nc: hazard.units: the variable has no 'units' attribute; declare them in " \
           "the scenario" in capsys.readouterr().err


def test_flooded_fraction_hits_that_share_and_larger_floods_hit_a_superset(case):
    path = case()
    small = _displaced_in_cell0(load_scenario(path, [*_isimip(path, 0.3), 'hazard.units="m"']))
    large = _displaced_in_cell0(load_scenario(path, [*_isimip(path, 0.6), 'hazard.units="m"']))
    everyone = _displaced_in_cell0(load_scenario(path))
    assert len(everyone) >= 90  # ~100 households in the cell, all under 2 m without fractions
    assert abs(len(small) / len(everyone) - 0.3) < 0.15
    assert abs(len(large) / len(everyone) - 0.6) < 0.15
    assert small < large < everyone


def test_fraction_on_another_grid_is_a_clear_error(case, capsys, tmp_path):
    path = case()
    sets = _isimip(path, 0.3)
    xr.Dataset({"fldfrc": (("lat", "lon"), np.ones((2, 2), np.float32))},
               coords={"lat": LAT[:2], "lon": LON[:2]}).to_netcdf(path.parent / "fldfrc0.3.nc")
    args = ["run", str(path), "--out", str(tmp_path / "r"), "--set", 'hazard.units="m"']
    assert main(args + sum((["--set", s] for s in sets), [])) == 2
    assert "hazard.fraction_variable: 'fldfrc' has shape {'lat': 2, 'lon': 2} but the hazard " \
           "has" in capsys.readouterr().err


def _csr(group, dense: np.ndarray) -> None:
    rows, cols = np.nonzero(dense)
    indptr = np.searchsorted(rows, np.arange(dense.shape[0] + 1))
    group.create_dataset("data", data=dense[rows, cols])
    group.create_dataset("indices", data=cols.astype(np.int32))
    group.create_dataset("indptr", data=indptr.astype(np.int32))
    group.attrs["shape"] = dense.shape


def write_climada(path, intensity: np.ndarray, lat, lon, freq, names, dates, units="m",
                  fraction: np.ndarray | None = None):
    """A CLIMADA hazard HDF5 in the layout Hazard.write_hdf5 writes (legacy centroids)."""
    with h5py.File(path, "w") as f:
        _csr(f.create_group("intensity"), intensity)
        _csr(f.create_group("fraction"), np.zeros((0, 0)) if fraction is None else fraction)
        f.create_dataset("frequency", data=np.asarray(freq, float))
        f.create_dataset("event_id", data=np.arange(1, len(names) + 1))
        f.create_dataset("event_name", data=names, dtype=h5py.string_dtype())
        f.create_dataset("date", data=[d.toordinal() for d in dates])
        f.create_dataset("units", data=[units], dtype=h5py.string_dtype())
        f.create_dataset("haz_type", data=["RF"], dtype=h5py.string_dtype())
        f.create_dataset("centroids/lat", data=np.asarray(lat, float))
        f.create_dataset("centroids/lon", data=np.asarray(lon, float))


@pytest.fixture
def climada_case(case):
    path = case()
    lat, lon = [LAT[0], LAT[-1], LAT[0]], [LON[0], LON[0], LON[-1]]  # three centroids
    intensity = np.array([[0.0, 0.0, 3.0],  # small: only the east corner
                          [2.0, 1.5, 3.0]])  # big: everything near the three corners
    write_climada(path.parent / "haz.h5", intensity, lat, lon, [0.1, 0.02],
                  ["small", "big"], [dt.date(2030, 1, 3), dt.date(2030, 1, 5)])
    return path, [at(path, "hazard.file", "haz.h5"), 'hazard.variable="intensity"',
                  "hazard.max_distance_km=60"]


def test_climada_event_is_placed_on_its_date_at_the_nearest_centroids(climada_case):
    path, sets = climada_case
    cfg = load_scenario(path, [*sets, 'hazard.event="big"'])
    inputs = load_inputs(cfg)
    assert np.flatnonzero(inputs.hazard.step_max > 0).tolist() == [4]  # 2030-01-05
    near = (inputs.cell_y, inputs.cell_x)
    depth = inputs.hazard.at(4)
    for y, x, want in ((LAT[0], LON[0], 2.0), (LAT[-1], LON[0], 1.5), (LAT[0], LON[-1], 3.0)):
        assert depth[(near[0] == y) & (near[1] == x)].tolist() == [want]


def test_climada_centroids_too_far_are_an_error_or_a_warning(climada_case, tmp_path, capsys):
    path, sets = climada_case
    args = ["run", str(path), "--out", str(tmp_path / "r"), "--quiet"] + sum(
        (["--set", s] for s in [*sets, 'hazard.event="big"', "hazard.max_distance_km=15"]), [])
    assert main(args) == 2
    # within 15 km of a centroid: itself and its two axis neighbours 0.1° (11 km) away, not the
    # diagonal one (15.6 km): 3 cells per centroid, so 20 - 9 = 11 cells are too far
    assert "hazard.max_distance_km: 11 populated cells lie farther than 15 km from every " \
           "hazard location" in capsys.readouterr().err
    with pytest.warns(UserWarning, match="they get no hazard"):
        inputs = load_inputs(load_scenario(path, [*sets, 'hazard.event="big"',
                                                  "hazard.max_distance_km=15",
                                                  'hazard.beyond_max_distance="warn"']))
    assert (inputs.hazard.peak() == 0).sum() == 11


def test_climada_event_set_gives_aad_from_event_frequencies(climada_case, tmp_path):
    path, sets = climada_case
    out = tmp_path / "risk"
    assert main(["risk", str(path), "--out", str(out)] + sum((["--set", s] for s in sets),
                                                             [])) == 0
    risk = {r["event"]: float(r["displaced"]) for r in csv.DictReader((out / "risk.csv").open())
            if r["region"] == "TOTAL"}
    aad = {r["region"]: float(r["aad"]) for r in csv.DictReader((out / "aad.csv").open())}
    assert 0 < risk["small"] < risk["big"]
    assert aad["TOTAL"] == pytest.approx(0.1 * risk["small"] + 0.02 * risk["big"])


def test_climada_matrix_of_the_wrong_shape_is_a_clear_error(case, tmp_path, capsys):
    path = case()
    write_climada(path.parent / "haz.h5", np.ones((2, 4)), [10.0] * 3, [20.0] * 3, [0.1, 0.1],
                  ["a", "b"], [dt.date(2030, 1, 1)] * 2)
    assert main(["run", str(path), "--out", str(tmp_path / "r"),
                 "--set", at(path, "hazard.file", "haz.h5"),
                 "--set", 'hazard.variable="intensity"',
                 "--set", 'hazard.event="a"']) == 2
    assert "haz.h5: hazard.file: 'intensity' has shape (2, 4), expected (events, centroids) = " \
           "(2, 3)" in capsys.readouterr().err


def test_geotiff_hazard_through_rioxarray(case):
    rioxarray = pytest.importorskip("rioxarray")
    assert rioxarray
    path = case()
    band = np.zeros((1, LAT.size, LON.size), np.float32)
    band[0, -1, 0] = 150.0  # north-up raster: first row is the northernmost latitude
    da = xr.DataArray(band, dims=("band", "y", "x"),
                      coords={"band": [1], "y": LAT[::-1], "x": LON})
    da.rio.write_crs("EPSG:4326", inplace=True).rio.to_raster(path.parent / "depth.tif")
    cfg = load_scenario(path, [at(path, "hazard.file", "depth.tif"), 'hazard.units="cm"',
                               "hazard.duration_days=3"])
    inputs = load_inputs(cfg)
    assert _cell0_wet_only(inputs) and inputs.hazard.at(0)[0] == pytest.approx(1.5)
    assert (inputs.hazard.step_max > 0).sum() == 3


def test_density_grid_times_cell_area_gives_persons(case):
    cfg = load_scenario(case(), ['population.quantity="density_per_km2"'])
    inputs = load_inputs(cfg)  # 450 persons per km² in 0.1° cells
    lat0 = np.radians(LAT[0] - 0.05)
    lat1 = np.radians(LAT[0] + 0.05)
    area = EARTH_RADIUS_KM ** 2 * np.radians(0.1) * (np.sin(lat1) - np.sin(lat0))
    assert inputs.cell_persons[0] == pytest.approx(450 * area, rel=1e-9)
    assert area == pytest.approx(11.1 * 11.0 * np.cos(np.radians(10)), rel=0.02)


def _table_case(case, rows: list[dict], kind: str, columns: dict, suffix="csv"):
    path = case()
    import pandas as pd

    df = pd.DataFrame(rows)
    file = path.parent / f"homes.{suffix}"
    df.to_parquet(file) if suffix == "parquet" else df.to_csv(file, index=False)
    sets = [at(path, "population.table.file", f"homes.{suffix}"), f'population.table.kind="{kind}"']
    sets += [f'population.table.columns.{k}="{v}"' for k, v in columns.items()]
    text = path.read_text().replace('file = "pop.nc"\n', "")
    path.write_text(text)
    return path, sets


def test_household_table_gives_one_household_per_row_with_its_attributes(case):
    rows = [{"X": LON[i % 5], "Y": LAT[i % 4], "hh_size": 1 + i % 7, "inc": 1000.0 * (i + 1)}
            for i in range(30)]
    path, sets = _table_case(case, rows, "households",
                             {"lon": "X", "lat": "Y", "persons": "hh_size", "income": "inc"})
    model = DisplacementModel(load_scenario(path, sets))
    hh = model.households
    assert len(hh) == 30 and sorted(hh.size.tolist()) == sorted(1 + i % 7 for i in range(30))
    assert sorted(hh.income.tolist()) == [1000.0 * (i + 1) for i in range(30)]
    assert hh.size[hh.income == 1000.0].tolist() == [1]  # attributes stay with their row


def test_building_table_in_parquet_splits_persons_into_households(case):
    pytest.importorskip("pyarrow")
    rows = [{"lon": LON[i], "lat": LAT[0], "persons": 45.0, "cls": "jrc_africa"}
            for i in range(5)]
    path, sets = _table_case(case, rows, "buildings", {"building_class": "cls"}, "parquet")
    model = DisplacementModel(load_scenario(path, sets))
    hh = model.households
    assert len(hh) == 50  # 45 / 4.5 = 10 households per building, exactly
    assert {model.class_names[c] for c in hh.building_class} == {"jrc_africa"}
    ds = model.run()
    assert int(ds["persons"].isel(time=0).sum()) == int(hh.size.sum())
    assert int(ds["displaced_map"].sum()) == int(ds["newly_displaced"].sum()) > 0


@pytest.mark.parametrize("columns, rows, message", [
    ({"lon": "X"}, [{"lon": 20.0, "lat": 10.0}],
     "population.table.columns.lon: no column 'X' in the table (columns: lon, lat)"),
    ({}, [{"lon": 20.0, "lat": 10.0}, {"lon": 20.0, "lat": "north"}],
     "population.table: row 3 column 'lat': expected a number in -90..90, got 'north'"),
    ({}, [{"lon": 20.0, "lat": 10.0}, {"lon": 50.0, "lat": 10.0}],
     "population.table: 1 rows lie outside every region (first: row 3, lat 10 lon 50)"),
])
def test_bad_tables_are_clear_errors(case, tmp_path, capsys, columns, rows, message):
    path, sets = _table_case(case, rows, "households", columns)
    assert main(["run", str(path), "--out", str(tmp_path / "r")] + sum(
        (["--set", s] for s in sets), [])) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "homes.csv" in err


def _geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"NAME_1": name},
         "geometry": {"type": "Polygon", "coordinates": [ring]}} for name, ring in features]}))


def test_geojson_polygons_give_regions_by_name(case):
    path = case()
    box = lambda x0, x1: [[x0, 9.9], [x1, 9.9], [x1, 10.4], [x0, 10.4], [x0, 9.9]]  # noqa: E731
    # the shared edge runs through the cells at 20.2 E: they go to the first feature, West
    _geojson(path.parent / "admin.geojson", [("West", box(19.9, 20.2)),
                                             ("East", box(20.2, 20.5))])
    text = path.read_text().replace('file = "regions.nc"\n', "").replace(
        'names = "regions.csv"\n', 'polygons = "admin.geojson"\nname_property = "NAME_1"\n')
    path.write_text(text)
    ds = DisplacementModel(load_scenario(path)).run()
    residents = ds["persons"].isel(time=0).sum("state")
    assert ds["region"].values.tolist() == ["West", "East"]
    assert residents.values.tolist() == pytest.approx([3 * 4 * 450, 2 * 4 * 450], rel=0.05)
    _geojson(path.parent / "admin.geojson", [("West", box(19.9, 20.2))])
    with pytest.raises(Exception, match="8 populated cells lie outside every region"):
        load_inputs(load_scenario(path))


# --- regressions found in review -----------------------------------------------------------

def test_fraction_in_percent_is_converted(case):
    path = case()
    sets = _isimip(path, 30.0)  # written as 30 with units "%": 30 % of the cell
    with xr.open_dataset(path.parent / "fldfrc30.0.nc") as f:
        frc = f.load()
    frc["fldfrc"].attrs["units"] = "%"
    frc.to_netcdf(path.parent / "fldfrc30.0.nc")
    small = _displaced_in_cell0(load_scenario(path, [*sets, 'hazard.units="m"']))
    everyone = _displaced_in_cell0(load_scenario(path))
    assert abs(len(small) / len(everyone) - 0.3) < 0.15


def test_climada_protection_compares_each_events_own_return_period(case, tmp_path):
    path = case()
    lat, lon = [LAT[0], LAT[-1], LAT[0]], [LON[0], LON[0], LON[-1]]
    intensity = np.array([[3.0, 3.0, 3.0], [4.0, 4.0, 4.0]])  # RP 1/0.12 = 8.3 y and 1/0.02 = 50 y
    write_climada(path.parent / "haz.h5", intensity, lat, lon, [0.1, 0.02], ["small", "big"],
                  [dt.date(1990, 6, 1), dt.date(2004, 9, 1)])  # historical dates, outside the run
    sets = [at(path, "hazard.file", "haz.h5"), 'hazard.variable="intensity"',
            "hazard.max_distance_km=60", "levers.protection_return_period_years=20"]
    out = tmp_path / "risk"
    assert main(["risk", str(path), "--out", str(out)] + sum((["--set", s] for s in sets),
                                                             [])) == 0
    risk = {r["event"]: float(r["displaced"]) for r in csv.DictReader((out / "risk.csv").open())
            if r["region"] == "TOTAL"}
    assert risk["small"] == 0 < risk["big"]  # defences built for 20 years hold only the 8-year


def test_climada_event_without_a_date_happens_on_the_scenario_date(case):
    path = case()
    write_climada(path.parent / "haz.h5", np.full((1, 1), 2.0), [LAT[0]], [LON[0]], [0.1],
                  ["only"], [dt.date(1, 1, 1)])  # CLIMADA's default date: ordinal 1
    cfg = load_scenario(path, [at(path, "hazard.file", "haz.h5"), 'hazard.variable="intensity"',
                               "hazard.max_distance_km=100"])
    assert np.flatnonzero(load_inputs(cfg).hazard.step_max > 0).tolist() == [0]


def test_blank_building_class_is_drawn(case):
    rows = [{"lon": LON[i], "lat": LAT[0], "cls": "jrc_africa" if i else None} for i in range(5)]
    path, sets = _table_case(case, rows, "households", {"building_class": "cls"})
    model = DisplacementModel(load_scenario(path, sets))
    names = [model.class_names[c] for c in model.households.building_class]
    assert names.count("jrc_africa") >= 4 and len(names) == 5


def test_observations_need_daily_steps(case, tmp_path, capsys):
    path = case()
    (path.parent / "obs.csv").write_text("date,North\n2030-01-01,5\n")
    assert main(["run", str(path), "--out", str(tmp_path / "r"), "--set", "step_days=2",
                 "--set", at(path, "observations.file", "obs.csv")]) == 2
    assert "observations: validating against observations needs daily steps" in \
        capsys.readouterr().err


def test_names_only_regions_without_a_region_column_name_the_file(case, tmp_path, capsys):
    rows = [{"lon": LON[0], "lat": LAT[0]}]
    path, sets = _table_case(case, rows, "households", {})
    path.write_text(path.read_text().replace('file = "regions.nc"\n', ""))
    assert main(["run", str(path), "--out", str(tmp_path / "r")] + sum(
        (["--set", s] for s in sets), [])) == 2
    assert "regions.csv: regions.names: with only a names table, the population table needs a " \
           "region column" in capsys.readouterr().err


def test_table_home_values_set_the_damage_households_weigh(case):
    from simulator.steps.decide import _evaluate
    from simulator.steps.relocate import destination_risk

    """A given value replaces the typical home (3 median incomes); the assets cap it (DYNAMO-M)."""
    rows = [{"lon": LON[0], "lat": LAT[0], "persons": 4, "income": 3000.0, "value": v}
            for v in (4500.0, 9000.0, None, 1e6)]
    path, sets = _table_case(case, rows, "households", {})
    model = DisplacementModel(load_scenario(path, sets))
    ids = np.arange(4)
    model.world.remember(model.ctx.intensity(0), None)  # their cell floods on day 0
    expected_damage = _evaluate(model.world, model.ctx, 0, ids, np.zeros(4),
                                destination_risk(model.world, model.ctx))[5]  # exposure
    assets = 3000.0 * (4.14 + 4.19) / 2  # the median income: DYNAMO-M's ratio at percentile 50
    assert expected_damage[0] > 0
    assert expected_damage[1:].tolist() == pytest.approx(
        [2 * expected_damage[0], 2 * expected_damage[0], assets / 4500 * expected_damage[0]])


def test_wind_damage_curve_closed_form():
    from simulator.rules.impacts import wind_damage

    assert wind_damage(np.array([20.0, 25.7, 74.7]))[:2].tolist() == [0.0, 0.0]
    assert float(wind_damage(np.array([74.7]))[0]) == pytest.approx(0.5)  # v_half: half lost
    v = (83.0 - 25.7) / 49.0
    assert float(wind_damage(np.array([83.0]))[0]) == pytest.approx(v ** 3 / (1 + v ** 3),
                                                                     rel=1e-6)


def test_cyclone_wind_in_km_per_hour_displaces_where_the_curve_passes_the_threshold(case):
    wind = np.zeros((NT, LAT.size, LON.size), np.float32)
    wind[0, 0, 0] = 300.0  # km/h = 83.3 m/s: damage 0.62 >= 0.55, everyone leaves
    wind[0, 0, 1] = 250.0  # 69.4 m/s: damage 0.41, nobody leaves
    path = case(depth=wind, units="km/h",
                scenario={"hazard": {"kind": "wind_speed"}, "impact": {"method": "damage_ratio"}})
    model = DisplacementModel(load_scenario(path))
    model.step()
    hh = model.households
    gone = np.flatnonzero(hh.state == State.DISPLACED)
    assert gone.size > 0 and set(hh.cell[gone].tolist()) == {0}
    assert (hh.cell == 0).sum() == gone.size
    assert float(hh.damage[hh.cell == 1].max()) == pytest.approx(0.415, abs=0.01)
    assert model.results()["hazard_max"].attrs["units"] == "m s-1"


def test_wind_needs_the_damage_ratio_method(case, tmp_path, capsys):
    path = case(scenario={"hazard": {"kind": "wind_speed", "units": "m/s"}})
    assert main(["run", str(path), "--out", str(tmp_path / "r")]) == 2
    assert "a wind_speed hazard displaces through the wind damage curve" in \
        capsys.readouterr().err


def test_climada_empty_fraction_of_full_shape_hits_everyone(case):
    path = case()
    args = ([LAT[0]], [LON[0]], [0.1], ["only"], [dt.date(2030, 1, 1)])
    write_climada(path.parent / "a.h5", np.full((1, 1), 2.0), *args)
    write_climada(path.parent / "b.h5", np.full((1, 1), 2.0), *args,
                  fraction=np.zeros((1, 1)))  # TropCyclone's csr_matrix(intensity.shape)
    common = ['hazard.variable="intensity"', "hazard.max_distance_km=100"]
    a = _displaced_in_cell0(load_scenario(path, [at(path, "hazard.file", "a.h5"), *common]))
    b = _displaced_in_cell0(load_scenario(path, [at(path, "hazard.file", "b.h5"), *common]))
    assert a == b and len(a) > 0


def _wind_case(case, background: float):
    wind = np.full((NT, LAT.size, LON.size), background, np.float32)
    wind[0, 0, 0] = 90.0  # m/s: the storm passes cell (0, 0) on day 0, then a breeze
    return case(depth=wind, units="m s-1", scenario={
        "hazard": {"kind": "wind_speed"}, "impact": {"method": "damage_ratio"},
        "return": {"repair_days_total_loss": 2.0},
        "levers": {"protection_return_period_years": 1000.0}})


def test_a_breeze_after_the_storm_does_not_keep_people_away_and_dikes_do_not_stop_wind(case):
    results = {}
    for background in (0.0, 5.0):
        ds = DisplacementModel(load_scenario(_wind_case(case, background))).run()
        results[background] = (int(ds["newly_displaced"].sum()), int(ds["returns"].sum()))
    assert results[0.0] == results[5.0]  # same displaced, all back despite 5 m/s of wind
    assert results[0.0][0] > 0 and results[0.0][1] == results[0.0][0]


def test_global_grid_wraps_at_its_seam(case):
    lon = np.array([-0.4, -0.2, 0.0, 0.2, 0.4])
    glon, glat = np.arange(0.0, 360.0, 0.5), np.array([10.0, 10.5])
    depth = np.zeros((NT, glat.size, glon.size), np.float32)
    depth[:, 0, 0] = 2.0  # the 0° column
    depth[:, 0, -1] = 1.0  # the 359.5° column, across the seam from -0.4°
    inputs = load_inputs(load_scenario(case(depth=depth, lon=lon, hazard_lat=glat,
                                            hazard_lon=glon)))
    row = inputs.cell_y == LAT[0]
    by_lon = dict(zip(np.round(inputs.cell_x[row], 2).tolist(), inputs.hazard.at(0)[row]))
    # -0.4 is 359.6: nearest 359.5; -0.2 .. 0.2 nearest 0; 0.4 nearest 0.5 (dry)
    assert by_lon == {-0.4: 1.0, -0.2: 2.0, 0.0: 2.0, 0.2: 2.0, 0.4: 0.0}


def test_event_set_with_a_non_date_date_is_one_line(case, tmp_path, capsys):
    path = case()
    xr.Dataset({"depth": (("event", "lat", "lon"), np.ones((1, LAT.size, LON.size), np.float32),
                          {"units": "m"})},
               coords={"event": ["e1"], "date": ("event", [20300101]), "lat": LAT, "lon": LON}
               ).to_netcdf(path.parent / "ev.nc")
    assert main(["run", str(path), "--out", str(tmp_path / "r"), "--set",
                 at(path, "hazard.file", "ev.nc")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the event's 'date' coordinate is not a date" in err


class _Touch:
    """Unpickling this creates ``path``: the code a malicious chunk would run."""

    def __init__(self, path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return exec, (f"open({self.path!r}, 'w').close()",)


def _pickle_store(root, layout: str, marker) -> tuple:
    """A hand-written Zarr store whose coordinate ``x`` names pickle or an object dtype.

    Its one chunk is a pickle that creates ``marker``. Returns the store and the field to blame.
    """
    store = root / "evil.zarr"
    chunk = store / "x" / ("c/0" if layout == "v3" else "0")
    chunk.parent.mkdir(parents=True)
    chunk.write_bytes(pickle.dumps(_Touch(marker)))
    if layout == "v3":
        meta = {"zarr_format": 3, "node_type": "array", "shape": [1], "data_type": "float64",
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1]}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": 0.0, "codecs": [{"name": "numcodecs.pickle"}],
                "dimension_names": ["x"]}
        (store / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group"}))
        (store / "x" / "zarr.json").write_text(json.dumps(meta))
        return store, "x/zarr.json: codecs[0] (codec 'numcodecs.pickle')"
    meta = {"zarr_format": 2, "shape": [1], "chunks": [1], "dtype": "|O", "order": "C",
            "fill_value": None, "filters": [{"id": "vlen-utf8"}], "compressor": None}
    if layout == "compressor":
        meta["compressor"] = {"id": "pickle", "protocol": 5}
        field = "compressor (codec 'pickle')"
    elif layout == "filter":  # zarr takes the dtype from the first filter, decodes with all
        meta["filters"].append({"id": "pickle", "protocol": 5})
        field = "filters[1] (codec 'pickle')"
    else:  # an object array, even with a safe object codec
        field = "dtype (object dtype '|O')"
    (store / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    (store / "x" / ".zarray").write_text(json.dumps(meta))
    (store / "x" / ".zattrs").write_text(json.dumps({"_ARRAY_DIMENSIONS": ["x"]}))
    return store, f"x/.zarray: {field}"


@pytest.mark.parametrize("layout", ["compressor", "filter", "object", "v3"])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_zarr_store_naming_pickle_is_refused_before_anything_is_unpickled(
        case, tmp_path, capsys, monkeypatch, layout, command):
    import numcodecs.pickles
    import zarr

    # as with a numcodecs or zarr that still unpickles: only our own check stands in the way
    monkeypatch.setattr(numcodecs.pickles, "ALLOW_UNSAFE_PICKLE_DECODE", True)
    path = case()
    marker = tmp_path / "pwned"
    store, field = _pickle_store(path.parent, layout, marker)
    extra = ["--out", str(tmp_path / "r")] if command == "run" else []
    with zarr.config.set({"array.allow_unsafe_pickle_decode": True}):
        code = main([command, str(path), *extra, "--set", at(path, "hazard.file", "evil.zarr")])
    assert not marker.exists()
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {store}: hazard.file: {field} is refused: the pickle codec and Python-object "
        f"arrays can run code stored in the file when read; write the store with numeric arrays "
        f"(strings fixed-width) and no pickle codec\n")
    assert not (tmp_path / "r").exists()


@pytest.mark.filterwarnings("ignore:Consolidated metadata")
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_a_numeric_zarr_store_with_pickle_only_in_its_attributes_is_read(case, zarr_format):
    path = case()
    ds = xr.open_dataset(path.parent / "hazard.nc").load()
    ds.attrs["codec"] = {"id": "pickle", "name": "pickle"}  # attributes are never decoded
    ds["depth"].attrs["dtype"] = "|O"
    ds.to_zarr(path.parent / "hazard.zarr", zarr_format=zarr_format)
    cfg = load_scenario(path, [at(path, "hazard.file", "hazard.zarr")])
    assert _cell0_wet_only(load_inputs(cfg))

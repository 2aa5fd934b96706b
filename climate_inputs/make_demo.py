"""Make the bundled demo inputs in ``climate_inputs/demo/`` (synthetic, physically plausible).

A 120 x 100 grid of 0.01 degree cells (about 1.1 km) placed at 0-1.2 E, 0-1 N so that nobody
mistakes it for a real place: a coast to the south, a river running north to south through a
valley that widens towards a delta, a port city at the river mouth and towns along the river.

Flood depth is the river stage above bankfull minus the height above the nearest drainage (HAND),
the same reasoning as HAND-based inundation mapping (Nobre et al. 2011, J. Hydrol. 404:13-29):
a flood wave travels downstream over a 120-day season (main peak about day 32-41, a smaller second
peak about day 80), and a storm surge floods the coast for about three days around day 62.

Run: ``python climate_inputs/make_demo.py`` (deterministic; rewrites the files in demo/).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

OUT = Path(__file__).parent / "demo"
KM_PER_DEG_LON, KM_PER_DEG_LAT = 111.32, 110.57
REGIONS = [  # name, seed point (x km, y km) for a Voronoi partition
    ("Harbour City", 72, 14), ("Delta West", 35, 16), ("Delta East", 108, 20),
    ("Lower Valley", 64, 40), ("Middle Valley", 56, 66), ("Upper Valley", 52, 96),
    ("West Hills", 16, 62), ("East Hills", 108, 66),
]


def geography():
    """Coordinates, land mask, distance to the river and height above drainage (m)."""
    lon = np.round(np.arange(120) * 0.01 + 0.005, 3)
    lat = np.round(np.arange(100) * 0.01 + 0.005, 3)
    x = lon[None, :] * KM_PER_DEG_LON
    y = lat[:, None] * KM_PER_DEG_LAT
    coast_y = 8.0 + 3.0 * np.sin(x / 15.0)
    land = y > coast_y
    river_x = 50.0 + 10.0 * np.sin(y / 17.0) + 0.15 * (110.0 - y)
    dx = np.abs(x - river_x)
    rng = np.random.default_rng(20261125)
    slope = 0.8 + 0.03 * y                      # m of height per km from the river
    hand = slope * dx + 0.4 * rng.standard_normal(dx.shape).clip(-2, 2)
    hand = np.maximum(hand, 0.0)
    above_coast = np.maximum(y - coast_y, 0.0)
    return lon, lat, x, y, land, dx, hand, above_coast, rng


def flood_depth(y, land, hand, above_coast, n_days=120):
    """Daily flood depth (m): river flood wave on HAND, plus a coastal storm surge."""
    t = np.arange(n_days, dtype=float)[:, None, None]
    amp = 1.6 + 2.6 * (1.0 - y / 110.0)         # stage above bankfull, m, larger downstream
    peak = 30.0 + (110.0 - y) / 10.0            # the wave reaches the delta about 10 days later
    stage = amp * (np.exp(-((t - peak) / 6.0) ** 2) + 0.45 * np.exp(-((t - peak - 48) / 4.0) ** 2))
    river = np.maximum(stage - hand, 0.0)
    surge = 2.6 * np.exp(-((t - 62.0) / 1.2) ** 2)
    coast = np.maximum(surge * np.exp(-above_coast / 4.0) - 0.3 * above_coast, 0.0)
    return np.where(land, np.maximum(river, coast), 0.0).astype(np.float32)


def drought(x, y, land, n_months=24):
    """Monthly drought severity index (0 none, 3 extreme; like -SPI) on the hills in year 2.

    A rain-fed farming drought in the West and East Hills from month 12, peaking about month 17,
    absent in the valley and delta (irrigated, or fed by the river).
    """
    t = np.arange(n_months, dtype=float)[:, None, None]
    hills = np.clip((np.abs(x - 62.0) - 30.0) / 15.0, 0.0, 1.0) * (y > 30.0)
    severity = 2.8 * np.exp(-((t - 17.0) / 3.0) ** 2) * (t >= 12)
    return np.where(land, severity * hills, 0.0).astype(np.float32)


def return_period_maps(y, land, hand, rps=(2, 5, 10, 20, 50, 100)):
    """Peak river flood depth (m) for each return period.

    The stage above bankfull scales as ln(RP / 1.5) / ln(20 / 1.5): zero at the 1.5-year flood,
    where rivers are about bankfull (Leopold, Wolman & Miller 1964), and equal to the demo
    season's river peak at 20 years.
    """
    amp = 1.6 + 2.6 * (1.0 - y / 110.0)
    scale = [np.log(rp / 1.5) / np.log(20 / 1.5) for rp in rps]
    maps = [np.maximum(amp * s - hand, 0.0) for s in scale]
    return np.where(land, np.array(maps), 0.0).astype(np.float32), np.array(rps, dtype=float)


def population(x, y, land, dx, rng):
    """Persons per cell: rural background, river corridor, coastal strip, two cities."""
    cell_km2 = (0.01 * KM_PER_DEG_LON) * (0.01 * KM_PER_DEG_LAT)
    r_city = np.hypot(x - 77.0, y - 15.0)
    r_town = np.hypot(x - 52.0, y - 60.0)
    density = (30.0 * rng.lognormal(0.0, 0.5, (y.size, x.size))
               + 400.0 * np.exp(-dx / 2.0) + 300.0 * np.exp(-np.maximum(y - 8.0, 0) / 3.0)
               + 3000.0 * np.exp(-r_city**2 / 32.0) + 1500.0 * np.exp(-r_town**2 / 12.5))
    return np.where(land, np.round(density * cell_km2), 0.0).astype(np.float32)


def regions(x, y, land):
    """Region id per cell (Voronoi of the region seed points), -1 at sea."""
    seeds = np.array([(sx, sy) for _, sx, sy in REGIONS], dtype=float)
    d2 = (x[None] - seeds[:, 0, None, None]) ** 2 + (y[None] - seeds[:, 1, None, None]) ** 2
    return np.where(land, np.argmin(d2, axis=0), -1).astype(np.int16)


def main() -> None:
    lon, lat, x, y, land, dx, hand, above_coast, rng = geography()
    depth = flood_depth(y, land, hand, above_coast)
    pop = population(x, y, land, dx, rng)
    region = regions(x, y, land)
    dry = drought(x, y, land)
    rp_maps, rps = return_period_maps(y, land, hand)
    OUT.mkdir(exist_ok=True)
    time = np.datetime64("2026-07-01") + np.arange(depth.shape[0]).astype("timedelta64[D]")
    coords = {"lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
              "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})}
    hz = xr.Dataset(
        {"flood_depth": (("time", "lat", "lon"), depth,
                         {"units": "m", "long_name": "flood water depth above ground"})},
        coords={"time": time, **coords},
        attrs={"title": "Synthetic demo river flood and storm surge", "Conventions": "CF-1.8",
               "source": "climate_inputs/make_demo.py"})
    hz = hz.isel(lat=slice(None, None, -1))     # stored north-to-south, as many products are
    hz.to_netcdf(OUT / "flood_depth.nc", encoding={"flood_depth": {
        "dtype": "int16", "scale_factor": 0.01, "_FillValue": -32768, "zlib": True,
        "complevel": 6}, "time": {"units": "days since 2026-07-01", "calendar": "standard"}})
    months = (np.datetime64("2026-07", "M") + np.arange(dry.shape[0])).astype("datetime64[ns]")
    xr.Dataset({"drought_index": (("time", "lat", "lon"), dry,
                                  {"units": "1", "long_name": "drought severity index "
                                   "(0 none, 1 moderate, 2 severe, 3 extreme; like -SPI)"})},
               coords={"time": months, **coords}, attrs={"Conventions": "CF-1.8"}).to_netcdf(
        OUT / "drought.nc", encoding={"drought_index": {"zlib": True, "dtype": "int16",
                                                        "scale_factor": 0.01,
                                                        "_FillValue": -32768}})
    xr.Dataset({"flood_depth": (("return_period", "lat", "lon"), rp_maps,
                                {"units": "m", "long_name": "river flood depth by return period"})},
               coords={"return_period": ("return_period", rps, {"units": "years"}), **coords},
               attrs={"Conventions": "CF-1.8"}).to_netcdf(
        OUT / "flood_return_periods.nc", encoding={"flood_depth": {
            "zlib": True, "dtype": "int16", "scale_factor": 0.01, "_FillValue": -32768}})
    xr.Dataset({"population": (("lat", "lon"), pop,
                               {"units": "persons", "long_name": "resident persons per cell"})},
               coords=coords, attrs={"Conventions": "CF-1.8"}).to_netcdf(
        OUT / "population.nc", encoding={"population": {"zlib": True}})
    xr.Dataset({"region_id": (("lat", "lon"), region,
                              {"long_name": "region id (see regions.csv), -1 outside any region",
                               "flag_missing": -1})},
               coords=coords).to_netcdf(OUT / "regions.nc", encoding={"region_id": {"zlib": True}})
    lines = ["id,name"] + [f"{i},{name}" for i, (name, _, _) in enumerate(REGIONS)]
    (OUT / "regions.csv").write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}: {int(pop.sum()):,} persons, {int((depth.max(0) >= 1).sum())} cells "
          f"flooded >= 1 m at some time, peak depth {depth.max():.2f} m")


if __name__ == "__main__":
    main()

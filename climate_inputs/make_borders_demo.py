"""Make the three-country demo inputs in ``climate_inputs/borders/`` (synthetic, plausible).

Issue 20's regional demo: a 100 x 80 grid of 0.02 degree cells (about 2.2 km, 222 x 177 km)
placed in the open Gulf of Guinea at 0-2 E, 3.6-2 S, hundreds of kilometres from any coast, so
that nobody mistakes it for a real place. A coast runs along the south. Three countries of three
regions each (a Voronoi partition of nine seed points), all three meeting near the middle:

- **Aridia** (north-west): an interior plateau of rain-fed millet and sorghum farms, hit by a
  multi-year drought.
- **Riverland** (south-west): a river that enters from the west and reaches the sea through a
  delta, with a port city beside its mouth; hit by river floods.
- **Haven** (east): hills and a coast, safer and richer, which hosts people from both.

Flood depth is the river stage above bankfull minus the height above the nearest drainage
(HAND), as in HAND-based inundation mapping (Nobre et al. 2011, J. Hydrol. 404:13-29) and in
``make_demo.py``. Heights above the river grow by 1.5 m per km in the upper valley and by 0.5 m
per km near the mouth, and the delta plain around the mouth rises only 0.35 m per km, so a flood
fills a narrow valley upstream and spreads about fifteen kilometres across the delta in the big
flood. Each flood is one wave that rises over about a week and recedes with an e-folding time of
10-15 days, reaching the mouth ten days after it enters. Its stage above bankfull, 2.5 m
upstream to 4.5 m at the mouth for a 20-year flood, scales as ``ln(RP / 1.5) / ln(20 / 1.5)``:
zero at the 1.5-year flood, where rivers are about bankfull (Leopold, Wolman & Miller 1964,
Fluvial Processes in Geomorphology), as in ``make_demo.py``: a 5-year flood in 2028, the big
50-year flood in 2031 (it also recedes more slowly) and a 10-year flood in 2034. Only the
100-day flood seasons are stored, as daily maps that start and end dry: the loader holds a
sample until the next one, so a season that ended wet would stay wet until the next season.

The drought index is like -SPI (McKee, Doesken & Kleist 1993, 8th Conf. on Applied
Climatology, 179-184: 1 moderate, 1.5 severe, 2 extreme drought). A multi-year rainfall deficit,
as in the Sahel droughts of the 1970s and 1980s (Nicholson 2013, ISRN Meteorology 453521),
covers Aridia in 2029-2031 (peaking at 2.4 in the 2030 rainy season), with a smaller one in
2034. It is strongest in the rainy season (June-October), when the rain-fed crops need the
rain, and fades within a few kilometres of Aridia's borders.

Run: ``python climate_inputs/make_borders_demo.py`` (deterministic; rewrites borders/).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

OUT = Path(__file__).parent / "borders"
NX, NY, CELL_DEG, LON0, LAT0 = 100, 80, 0.02, 0.0, -3.6
KM_PER_DEG_LAT = 110.58
KM_PER_DEG_LON = 111.32 * np.cos(np.radians(LAT0 + NY * CELL_DEG / 2))
START = np.datetime64("2027-01-01")
N_YEARS = 10
REGIONS = [  # name, country, seed point (x km east, y km north of the grid's south-west corner)
    ("Stony Uplands", "Aridia", 30, 155), ("Millet Plains", "Aridia", 100, 150),
    ("Dunrock", "Aridia", 65, 112),
    ("River Reach", "Riverland", 25, 65), ("Delta Marshes", "Riverland", 45, 20),
    ("Port Delta", "Riverland", 100, 35),
    ("Green Hills", "Haven", 190, 150), ("Haven City", "Haven", 180, 95),
    ("Haven Coast", "Haven", 190, 35),
]
PERSONS = {"Aridia": 215_000, "Riverland": 225_000, "Haven": 160_000}
TOWNS = [  # x km, y km, peak persons per km2, radius km: market towns, the port, Haven's capital
    (65, 112, 900, 2.5), (25, 158, 300, 1.5), (100, 150, 350, 1.5),  # Aridia
    (100, 15, 2500, 3.0), (30, 64, 600, 2.0), (55, 36, 500, 1.5),     # Riverland
    (180, 95, 2200, 3.5), (190, 35, 800, 2.0), (190, 150, 350, 1.5),  # Haven
]
FLOODS = [  # year, return period (years), day of the year the wave enters, recession (days)
    (2028, 5, 235, 10.0), (2031, 50, 230, 15.0), (2034, 10, 240, 12.0),
]
FLOOD_SEASON_DAYS, BEFORE_DAYS, RISE_DAYS, TRAVEL_DAYS = 100, 20, 6.0, 10.0  # days
DROUGHTS = {2029: 1.6, 2030: 2.4, 2031: 1.8, 2034: 1.3}  # peak rainy-season index per year


def geography():
    """Coordinates (km), land, distance from the river (km), share of its length, HAND (m)."""
    lon = np.round(LON0 + (np.arange(NX) + 0.5) * CELL_DEG, 3)
    lat = np.round(LAT0 + (np.arange(NY) + 0.5) * CELL_DEG, 3)
    x, y = np.meshgrid((lon - LON0) * KM_PER_DEG_LON, (lat - LAT0) * KM_PER_DEG_LAT)
    coast_y = 9.0 + 3.0 * np.sin(x / 18.0) + 2.0 * np.sin(x / 7.0)
    land = y > coast_y
    s = np.linspace(0.0, 1.0, 400)  # the river from the west edge (s = 0) to its mouth (s = 1)
    rx = 92.0 * s + 7.0 * np.sin(3.0 * np.pi * s)
    ry = 78.0 - 70.0 * s ** 1.3 + 5.0 * np.sin(4.0 * np.pi * s)
    d2 = (x[..., None] - rx) ** 2 + (y[..., None] - ry) ** 2
    nearest = np.argmin(d2, axis=-1)
    dist = np.sqrt(np.take_along_axis(d2, nearest[..., None], -1)[..., 0])
    along = s[nearest]
    rng = np.random.default_rng(20261202)
    slope = 1.5 - 1.0 * along ** 2  # m per km from the river: steep valley, flat delta
    fan = 0.6 + 0.35 * np.hypot(x - rx[-1], y - ry[-1])  # the delta plain around the mouth
    hand = np.minimum(slope * dist, fan) + 0.3 * rng.standard_normal(dist.shape).clip(-2, 2)
    hand = np.maximum(hand, 0.0)
    return lon, lat, x, y, land, dist, along, hand, rng


def regions(x, y, land):
    """Region id per cell (Voronoi of the seed points), -1 at sea."""
    seeds = np.array([(sx, sy) for _, _, sx, sy in REGIONS], dtype=float)
    d2 = (x[None] - seeds[:, 0, None, None]) ** 2 + (y[None] - seeds[:, 1, None, None]) ** 2
    return np.where(land, np.argmin(d2, axis=0), -1).astype(np.int16)


def country_mask(region, country):
    """Cells of ``country``'s regions."""
    ids = [i for i, (_, c, _, _) in enumerate(REGIONS) if c == country]
    return np.isin(region, ids)


def population(x, y, land, dist, region, rng):
    """Persons per cell: rural farms, people along the river and the coast, towns and cities.

    Densities are shaped first (persons per km2) and then scaled so that each country has its
    total in ``PERSONS``.
    """
    cell_km2 = (CELL_DEG * KM_PER_DEG_LON) * (CELL_DEG * KM_PER_DEG_LAT)
    density = (12.0 * rng.lognormal(0.0, 0.6, x.shape)
               + 60.0 * np.exp(-dist / 3.0) * (y < 85)                       # the floodplain
               + 40.0 * np.exp(-np.maximum(y - 10.0, 0.0) / 4.0))             # the coast
    for tx, ty, peak, radius in TOWNS:
        density += peak * np.exp(-((x - tx) ** 2 + (y - ty) ** 2) / (2 * radius ** 2))
    persons = np.where(land, density * cell_km2, 0.0)
    for country, total in PERSONS.items():
        mask = country_mask(region, country)
        persons[mask] *= total / persons[mask].sum()
    return np.round(persons).astype(np.float32)


def flood_season(along, hand, region, year, rp, enters_doy, recession_days):
    """Daily flood depth (m) over one flood season, and the days since START of its maps.

    The first and the last map are dry, so the event ends in the model when the season does.
    """
    day0 = (np.datetime64(f"{year}-01-01") - START).astype(int) + enters_doy - BEFORE_DAYS
    t = np.arange(FLOOD_SEASON_DAYS, dtype=float)[:, None, None] - BEFORE_DAYS
    peak_day = TRAVEL_DAYS * along                       # the wave reaches the mouth later
    amp = (2.5 + 2.0 * along) * np.log(rp / 1.5) / np.log(20 / 1.5)  # m above bankfull
    lag = t - peak_day
    wave = np.where(lag < 0, np.exp(-(lag / RISE_DAYS) ** 2), np.exp(-lag / recession_days))
    depth = np.maximum(amp * wave - hand, 0.0) * country_mask(region, "Riverland")
    depth[0] = depth[-1] = 0.0
    return depth.astype(np.float32), day0 + np.arange(FLOOD_SEASON_DAYS)


def drought(x, y, region):
    """Monthly drought index over the ten years: Aridia's droughts, fading past its borders.

    Each drought year's index rises with the rains to its peak in August and recedes with a
    four-month e-folding time, so a deficit carries over the dry season into the next year.
    """
    months = np.arange(12 * N_YEARS)
    series = np.zeros(months.size)
    for year, peak in DROUGHTS.items():
        lag = months - ((year - 2027) * 12 + 7)          # months since that year's August
        series = np.maximum(series, peak * np.where(lag < 0, np.exp(-(lag / 2.5) ** 2),
                                                    np.exp(-lag / 4.0)))
    aridia = country_mask(region, "Aridia")
    iy, ix = np.nonzero(aridia)
    cells = np.stack([x[aridia], y[aridia]], axis=1)
    d_out = np.full(x.shape, np.inf)
    for k in range(0, cells.shape[0], 500):               # distance to the nearest Aridia cell
        chunk = cells[k:k + 500]
        d = np.hypot(x[..., None] - chunk[:, 0], y[..., None] - chunk[:, 1]).min(axis=-1)
        d_out = np.minimum(d_out, d)
    footprint = np.where(aridia, 0.9 + 0.2 * (y - y[iy, ix].min()) / np.ptp(y[iy, ix]),
                         np.exp(-d_out / 3.0))           # stronger to the north
    index = series[:, None, None] * footprint[None] * (region >= 0)
    times = (np.datetime64("2027-01", "M") + months).astype("datetime64[ns]")
    return index.astype(np.float32), times


def coords(lon, lat):
    """CF lat/lon coordinates."""
    return {"lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
            "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})}


def packed():
    """NetCDF encoding: int16 in hundredths, compressed."""
    return {"dtype": "int16", "scale_factor": 0.01, "_FillValue": -32768, "zlib": True,
            "complevel": 6}


def write(lon, lat, region, pop, depth, flood_days, dry, dry_times) -> None:
    """Write the five files and the regions table."""
    xy = coords(lon, lat)
    time = START + flood_days.astype("timedelta64[D]")
    xr.Dataset({"flood_depth": (("time", "lat", "lon"), depth,
                                {"units": "m", "long_name": "flood water depth above ground"})},
               coords={"time": time, **xy},
               attrs={"title": "Synthetic river floods in Riverland (flood seasons only; "
                               "dry between them)", "Conventions": "CF-1.8",
                      "source": "climate_inputs/make_borders_demo.py"}).to_netcdf(
        OUT / "flood_depth.nc", encoding={"flood_depth": packed(), "time": {
            "units": "days since 2027-01-01", "calendar": "standard", "dtype": "int32"}})
    xr.Dataset({"drought_index": (("time", "lat", "lon"), dry,
                                  {"units": "1", "long_name": "drought severity index "
                                   "(0 none, 1 moderate, 2 severe, 3 extreme; like -SPI)"})},
               coords={"time": dry_times, **xy},
               attrs={"Conventions": "CF-1.8", "source": "climate_inputs/make_borders_demo.py"}
               ).to_netcdf(OUT / "drought.nc", encoding={"drought_index": packed()})
    xr.Dataset({"population": (("lat", "lon"), pop,
                               {"units": "persons", "long_name": "resident persons per cell"})},
               coords=xy, attrs={"Conventions": "CF-1.8"}).to_netcdf(
        OUT / "population.nc", encoding={"population": {"zlib": True}})
    xr.Dataset({"region_id": (("lat", "lon"), region,
                              {"long_name": "region id (see regions.csv), -1 outside any region",
                               "flag_missing": -1})},
               coords=xy).to_netcdf(OUT / "regions.nc", encoding={"region_id": {"zlib": True}})
    lines = ["id,name,country"] + [f"{i},{name},{country}"
                                   for i, (name, country, _, _) in enumerate(REGIONS)]
    (OUT / "regions.csv").write_text("\n".join(lines) + "\n")


def main() -> None:
    """Build the geography, the people and the hazards, and write them to ``borders/``."""
    lon, lat, x, y, land, dist, along, hand, rng = geography()
    region = regions(x, y, land)
    pop = population(x, y, land, dist, region, rng)
    seasons = [flood_season(along, hand, region, *flood) for flood in FLOODS]
    depth = np.concatenate([d for d, _ in seasons])
    flood_days = np.concatenate([days for _, days in seasons])
    dry, dry_times = drought(x, y, region)
    OUT.mkdir(exist_ok=True)
    write(lon, lat, region, pop, depth, flood_days, dry, dry_times)
    by_country = {c: int(pop[country_mask(region, c)].sum()) for c in PERSONS}
    print(f"wrote {OUT}: {int(pop.sum()):,} persons {by_country}, "
          f"{int((depth.max(0) >= 1).sum())} cells flooded >= 1 m at some time, "
          f"peak depth {depth.max():.2f} m, peak drought index {dry.max():.2f}")


if __name__ == "__main__":
    main()

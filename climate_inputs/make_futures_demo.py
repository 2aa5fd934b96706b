"""Make the climate-futures inputs in ``climate_inputs/futures/`` (synthetic, for the demo delta).

Return-period flood maps of the demo delta (``make_demo.py``: HAND-based depth, stage above
bankfull scaling as ln(RP / 1.5)) for three future periods (2030, 2050, 2080: the centres of
30-year climates) under two named climate scenarios, ``SSP1-2.6`` and ``SSP5-8.5``, and for a
historical period, 2010 (today's maps: those of ``demo/flood_return_periods.nc``, the
counterfactual without climate change). A warmer climate raises the river's flood stage at
every return period: the stage amplitude is multiplied by 1 + delta, delta = 0.03, 0.05, 0.06
(SSP1-2.6) and 0.05, 0.12, 0.25 (SSP5-8.5) for 2030, 2050 and 2080, an illustrative range for a
large Asian river where today's 100-year flood becomes far more frequent under high emissions
(Hirabayashi et al. 2013, Nature Clim. Change 3:816-821; Dottori et al. 2018, Nature Clim.
Change 8:781-786). The numbers are a synthetic demonstration, not a projection for any place.

Output: ``flood_futures.nc``, variable ``flood_depth`` (m) with dimensions
(scenario, period, return_period, lat, lon); and ``income_growth_ssp1.csv`` /
``income_growth_ssp5.csv`` (region, year, income_growth): yearly growth of household income by
region, 2026-2060, in the spirit of the SSP narratives (O'Neill et al. 2017, Glob. Environ.
Change 42:169-180: SSP1 sustainable, moderate and converging growth; SSP5 fossil-fuelled fast
growth), falling slowly over time; the city grows faster than the hills. Illustrative numbers,
not the SSP database's. And ``population_growth_ssp1.csv`` / ``population_growth_ssp5.csv``
(region, year, population_growth): yearly change of the residents by region in the spirit of
the SSP population projections for a country of South Asia with falling fertility (KC & Lutz
2017, Glob. Environ. Change 42:181-192): SSP1 (rapid fertility decline, education) grows
0.8 % in 2026 and peaks around 2050, shrinking after; SSP5 (the same low fertility in today's
high-fertility countries, more migration to cities) grows 1 % in 2026 and still grows in 2059;
the city grows faster (urbanisation, faster under SSP5), the hills slower. Illustrative numbers,
not the Wittgenstein Centre's. Run: ``python climate_inputs/make_futures_demo.py``
(deterministic).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from make_demo import geography

OUT = Path(__file__).parent / "futures"
RPS = (2, 5, 10, 20, 50, 100)
PERIODS = (2010, 2030, 2050, 2080)
DELTA = {"SSP1-2.6": (0.0, 0.03, 0.05, 0.06), "SSP5-8.5": (0.0, 0.05, 0.12, 0.25)}


def maps(y, land, hand, delta: float) -> np.ndarray:
    """Peak depth (m) per return period with the stage amplitude raised by ``delta``."""
    amp = (1.6 + 2.6 * (1.0 - y / 110.0)) * (1.0 + delta)
    scale = [np.log(rp / 1.5) / np.log(20 / 1.5) for rp in RPS]
    return np.where(land, np.array([np.maximum(amp * s - hand, 0.0) for s in scale]), 0.0)


REGIONS = ("Harbour City", "Delta West", "Delta East", "Lower Valley", "Middle Valley",
           "Upper Valley", "West Hills", "East Hills")
GROWTH = {"ssp1": 0.025, "ssp5": 0.04}  # income growth per year in 2026, before the decline


def income_growth(base: float) -> str:
    """CSV rows region,year,income_growth.

    The base growth, half a point more in the city and less in the hills, falling by 2 % of
    itself each year.
    """
    lines = ["region,year,income_growth"]
    for region in REGIONS:
        bump = 0.005 if region == "Harbour City" else -0.005 if "Hills" in region else 0.0
        lines += [f"{region},{y},{(base + bump) * 0.98 ** (y - 2026):.5f}"
                  for y in range(2026, 2061)]
    return "\n".join(lines) + "\n"


#: Population growth per year in 2026, its fall per year, and the city's extra growth.
POPULATION = {"ssp1": (0.008, 0.0003, 0.005), "ssp5": (0.010, 0.00025, 0.008)}


def population_growth(base: float, fall: float, city: float) -> str:
    """CSV rows region,year,population_growth: ``base`` falling by ``fall`` a year.

    The city grows ``city`` faster, the hills 0.4 points slower.
    """
    lines = ["region,year,population_growth"]
    for region in REGIONS:
        bump = city if region == "Harbour City" else -0.004 if "Hills" in region else 0.0
        lines += [f"{region},{y},{base + bump - fall * (y - 2026):.5f}"
                  for y in range(2026, 2061)]
    return "\n".join(lines) + "\n"


def main() -> None:
    lon, lat, _, y, land, _, hand, _, _ = geography()
    depth = np.array([[maps(y, land, hand, d) for d in DELTA[s]] for s in DELTA],
                     dtype=np.float32)
    OUT.mkdir(exist_ok=True)
    xr.Dataset(
        {"flood_depth": (("scenario", "period", "return_period", "lat", "lon"), depth,
                         {"units": "m", "long_name": "peak river flood depth by return period"})},
        coords={"scenario": list(DELTA), "period": ("period", list(PERIODS), {"units": "year"}),
                "return_period": ("return_period", np.array(RPS, float), {"units": "years"}),
                "lat": ("lat", lat, {"units": "degrees_north"}),
                "lon": ("lon", lon, {"units": "degrees_east"})},
        attrs={"Conventions": "CF-1.8", "title": "synthetic future flood maps of the demo delta"},
    ).to_netcdf(OUT / "flood_futures.nc", encoding={"flood_depth": {
        "zlib": True, "dtype": "int16", "scale_factor": 0.01, "_FillValue": -32768}})
    for name, base in GROWTH.items():
        (OUT / f"income_growth_{name}.csv").write_text(income_growth(base))
    for name, shape in POPULATION.items():
        (OUT / f"population_growth_{name}.csv").write_text(population_growth(*shape))
    print(f"wrote {OUT / 'flood_futures.nc'}: 100-year depth max "
          + ", ".join(f"{s} {depth[k, -1, -1].max():.2f} m" for k, s in enumerate(DELTA)))


if __name__ == "__main__":
    main()

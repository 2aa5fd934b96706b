"""Hazard units: the SI unit each hazard kind must have, and conversion of a file's units to it.

Units are read with pint using cf-xarray's CF/UDUNITS registry, so CF spellings (``m s-1``,
``1``, ``degC``) and UDUNITS names convert; a unit that cannot be converted to the kind's
quantity is an error naming the file and field. Each kind's unit is written here once;
:mod:`simulator.kinds` takes its CF label from :func:`cf_units`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simulator.errors import InputError

#: The physical quantity each hazard kind must have, and the SI unit the model uses.
KIND_UNITS = {"flood_depth": "m", "wind_speed": "m/s", "drought_index": "dimensionless",
              "heat_days": "day", "fraction": "dimensionless", "flood_level": "dimensionless",
              "conflict_intensity": "dimensionless"}


#: Values each kind can plausibly take, in its SI unit: outside is a units or fill-value mistake
#: (the deepest river floods are tens of metres; the strongest gust measured is 113 m/s).
KIND_RANGE = {"flood_depth": (0.0, 100.0), "wind_speed": (0.0, 120.0),
              "drought_index": (-1e3, 1e3), "heat_days": (0.0, 366.0), "fraction": (0.0, 1.0),
              "flood_level": (0.0, 1e6), "conflict_intensity": (0.0, 1e6)}


def cf_units(kind: str) -> str:
    """The CF ``units`` string of a hazard kind's SI unit (``m``, ``m s-1``, ``1``), for labels."""
    return {"dimensionless": "1", "m/s": "m s-1"}.get(KIND_UNITS[kind], KIND_UNITS[kind])


#: Spellings of each kind's own unit, read without pint (its registry takes 0.7 s to build).
SAME_UNITS = {"m": ("m", "meter", "metre", "meters", "metres"),
              "m/s": ("m/s", "m s-1", "m.s-1", "m s^-1"),
              "dimensionless": ("1", "dimensionless", ""), "day": ("day", "days", "d")}


def _units():
    """cf-xarray's pint registry: UDUNITS names and CF spellings (``m s-1``, ``degC``, ``1``)."""
    import logging

    pint_log = logging.getLogger("pint.util")
    level = pint_log.level
    pint_log.setLevel(logging.ERROR)  # cf-xarray redefines a few units on purpose; not news
    try:
        from cf_xarray.units import units
    finally:
        pint_log.setLevel(level)
    return units


def si_factor(units: str | None, declared: str | None, kind: str, where: Path,
              field: str) -> float:
    """Factor converting the hazard's values to the SI unit of its ``kind`` (pint)."""
    if units and declared and not np.isclose(si_factor(units, None, kind, where, field),
                                             si_factor(declared, None, kind, where, field)):
        raise InputError(where, f"{field}: file says units {units!r} but the scenario "
                                    f"declares {declared!r}; remove hazard.units or fix the file")
    unit = units or declared
    if not unit:
        raise InputError(where, f"{field}: the variable has no 'units' attribute; declare them in "
                                f"the scenario, e.g. {field.split('.')[0]}.units = "
                                f"\"{KIND_UNITS[kind]}\"")
    if unit.strip() in SAME_UNITS[KIND_UNITS[kind]]:  # the kind's own unit: nothing to convert
        return 1.0
    import pint

    ureg = _units()
    try:
        return float(ureg.Quantity(1.0, unit).to(KIND_UNITS[kind]).magnitude)
    except pint.errors.UndefinedUnitError:
        raise InputError(where, f"{field}: unknown unit {unit!r}") from None
    except pint.errors.DimensionalityError:
        raise InputError(where, f"{field}: units {unit!r} cannot be converted to "
                                f"{KIND_UNITS[kind]!r} as {kind} needs") from None
    except Exception:  # noqa: BLE001 - pint raises several parser errors for junk
        raise InputError(where, f"{field}: cannot parse unit {unit!r}") from None

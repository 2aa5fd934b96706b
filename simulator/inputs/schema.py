"""The scenario schema: every field, its unit, default and allowed range (pydantic v2).

All models forbid unknown keys and are frozen once validated. Field names carry their units
(``_m``, ``_days``, ``_km``, persons); ``scenarios/README.md`` documents each one.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.inputs.parameters import shipped_table
from simulator.inputs.schema_borders import (
    BorderConfig,
    IrregularConfig,
    PathwayConfig,
    PledgeConfig,
)
from simulator.inputs.schema_futures import FuturesConfig, PeopleConfig
from simulator.inputs.schema_routes import RoutesConfig
from simulator.states import AGE_BANDS

#: Depths (m) at which the JRC global residential depth-damage functions are tabulated.
JRC_DEPTHS_M = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0)

#: JRC residential damage ratios by continent at :data:`JRC_DEPTHS_M` (Huizinga, de Moel &
#: Szewczyk 2017, "Global flood depth-damage functions", EUR 28552 EN, doi:10.2760/16510; the same
#: table CLIMADA ships for its river-flood impact functions).
JRC_RESIDENTIAL = {
    "jrc_africa": (0.0, 0.22, 0.378, 0.531, 0.636, 0.817, 0.903, 0.957, 1.0),
    "jrc_asia": (0.0, 0.327, 0.494, 0.617, 0.721, 0.87, 0.931, 0.984, 1.0),
    "jrc_europe": (0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 0.85, 0.95, 1.0),
    "jrc_north_america": (0.0, 0.443, 0.583, 0.683, 0.784, 0.854, 0.924, 0.959, 1.0),
    "jrc_oceania": (0.0, 0.475, 0.64, 0.715, 0.788, 0.929, 0.967, 0.983, 1.0),
    "jrc_south_america": (0.0, 0.491, 0.711, 0.842, 0.949, 0.984, 1.0, 1.0, 1.0),
}


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors; validated values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


#: Hazard file formats by suffix, for ``format = "auto"``.
FORMATS = {".nc": "netcdf", ".nc4": "netcdf", ".cdf": "netcdf", ".zarr": "zarr",
           ".tif": "geotiff", ".tiff": "geotiff", ".h5": "climada", ".hdf5": "climada"}


def file_format(path: Path | tuple[Path, ...], declared: str) -> str:
    """The reader for ``path``: the declared ``format``, else guessed from the (first) suffix."""
    first = path[0] if isinstance(path, tuple) else path
    return declared if declared != "auto" else FORMATS.get(first.suffix.lower(), "netcdf")


class HazardSource(Strict):
    """A hazard input file: grid or points, any supported format (simulator/hazards.py).

    ``file``: one file, a glob pattern or a list of files joined along time
    (:mod:`simulator.inputs.timefiles`).
    """

    file: Path | tuple[Path, ...]
    variable: str | None = Field(default=None, min_length=1)
    format: Literal["auto", "netcdf", "zarr", "geotiff", "climada"] = "auto"
    units: str | None = None
    event_date: dt.date | None = None
    duration_days: int | None = Field(default=None, gt=0)
    band: int | None = Field(default=None, ge=1)
    max_distance_km: float = Field(default=10.0, gt=0)
    beyond_max_distance: Literal["error", "warn"] = "error"

    @model_validator(mode="after")
    def _files_listed(self) -> HazardSource:
        file = self.file
        if isinstance(file, tuple):  # checked here: a field error would echo the whole list
            if not file:
                raise ValueError("file: a list of files needs at least one file")
            if any(set("*?[") & set(f.name) for f in file):  # timefiles.GLOB_CHARS
                raise ValueError("file: a list names files, not patterns (give one pattern "
                                 "instead)")
            if len(set(file)) < len(file):
                twice = next(f for f in file if file.count(f) > 1)
                raise ValueError(f"file: {twice.name} is listed twice")
        return self

    @model_validator(mode="after")
    def _variable_named(self) -> HazardSource:
        if self.variable is None and file_format(self.file, self.format) in ("netcdf", "zarr"):
            raise ValueError("variable: name the variable to read from a NetCDF or Zarr file")
        return self


class HazardConfig(HazardSource):
    """The hazard that damages homes and displaces people."""

    kind: Literal["flood_depth", "wind_speed", "flood_level", "conflict_intensity"] = \
        "flood_depth"
    return_period_years: float = Field(default=50.0, gt=1.0)
    select_return_period: float | None = Field(default=None, gt=0)
    event: str | None = Field(default=None, min_length=1)
    fraction_variable: str | None = Field(default=None, min_length=1)
    fraction_file: Path | None = None
    #: read the hazard from disk a block of steps at a time: "auto" when the per-step array
    #: (steps x hazard sites x 4 bytes, twice with a fraction) exceeds 256 MiB
    stream: bool | Literal["auto"] = "auto"


class InformationConfig(HazardSource):
    """Official hazard information residents are given: a flood (or wind) map and its return period.

    What a planner publishes (a hazard-zone or flood map), not the scenario's future: households
    weigh it in their decisions from the start (DESIGN.md §4.3 rule 3, causality).
    """

    kind: Literal["flood_depth", "wind_speed"] = "flood_depth"
    return_period_years: float = Field(gt=1.0)
    select_return_period: float | None = Field(default=None, gt=0)


class DefencesConfig(HazardSource):
    """Return-period maps (dims return_period and space) that set each defence's design level.

    A region's defence with standard T years holds water up to the depth of the T-year map at
    each cell (log-linear in the return period between maps) and lets all of it through above.
    """

    kind: Literal["flood_depth", "flood_level"] = "flood_depth"


class StressConfig(HazardSource):
    """Slow-onset stress (drought, heat) that erodes livelihoods (DESIGN.md §4.3 rule 1)."""

    kind: Literal["drought_index", "heat_days"] = "drought_index"
    threshold: float = 1.0
    loss_per_unit: float = Field(default=0.1, ge=0)
    max_loss: float = Field(default=0.5, ge=0, le=1)


def _check_shares(v: dict[str, float] | None) -> dict[str, float] | None:
    if v is None:
        return v
    if set(v) != set(AGE_BANDS):
        raise ValueError(f"give a share for each of {', '.join(AGE_BANDS)}")
    if any(s < 0 for s in v.values()) or abs(sum(v.values()) - 1.0) > 1e-6:
        raise ValueError("shares must be >= 0 and sum to 1")
    return v


class Composition(Strict):
    """Who lives in households: age and sex shares, disability, female-headed households."""

    age_shares: dict[str, float] | None = None
    female_share: float | None = Field(default=None, ge=0, le=1)
    disability_share: float | None = Field(default=None, ge=0, le=1)
    female_headed_share: float | None = Field(default=None, ge=0, le=1)

    @field_validator("age_shares")
    @classmethod
    def _ages(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        return _check_shares(v)


#: Defaults (persons): age structure of lower-middle-income countries (UN World Population
#: Prospects 2022), disability prevalence 15 % (WHO & World Bank 2011, World Report on
#: Disability), a quarter of households female-headed (UN Women 2019, Progress of the World's
#: Women).
DEFAULT_COMPOSITION = Composition(
    age_shares={"age_0_4": 0.11, "age_5_17": 0.26, "age_18_59": 0.55, "age_60_plus": 0.08},
    female_share=0.5, disability_share=0.15, female_headed_share=0.25)


class CompositionConfig(Composition):
    """Scenario-wide composition (unset fields take the defaults) with per-region overrides."""

    regions: dict[str, Composition] = Field(default_factory=dict)

    def for_region(self, name: str) -> Composition:
        """The composition of one region: region override, else scenario value, else default."""
        out = DEFAULT_COMPOSITION.model_dump()
        for layer in (self, self.regions.get(name)):
            if layer is not None:
                out.update({k: v for k, v in layer.model_dump().items()
                            if v is not None and k != "regions"})
        return Composition(**out)


TABLE_COLUMNS = ("lon", "lat", "persons", "income", "value", "building_class", "region")


class HouseholdTable(Strict):
    """A table of households or buildings (CSV or Parquet) with lon/lat in degrees (WGS 84)."""

    file: Path
    kind: Literal["households", "buildings"] = "households"
    columns: dict[str, str] = Field(default_factory=dict)

    @field_validator("columns")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(TABLE_COLUMNS))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r} (fields: {', '.join(TABLE_COLUMNS)})")
        return v

    def column(self, name: str) -> str:
        """The file's column holding our field ``name``."""
        return self.columns.get(name, name)


class PopulationConfig(Strict):
    """Where people live and how households are synthesised."""

    file: Path | None = None
    variable: str = "population"
    quantity: Literal["count", "density_per_km2"] = "count"
    totals: dict[str, float] | None = None
    table: HouseholdTable | None = None
    persons_per_household: float = Field(default=4.5, ge=1.0, le=30.0)
    households: int | None = Field(default=None, gt=0)
    income_median_per_year: float = Field(default=3000.0, gt=0)
    income_gini: float = Field(default=0.38, gt=0, lt=1)
    building_class_shares: dict[str, float] = Field(default_factory=lambda: {"jrc_asia": 1.0})
    ties_home_share: float = Field(default=0.6, ge=0, le=1)
    composition: CompositionConfig = CompositionConfig()
    savings_income_ratio: float = Field(default=0.5, ge=0)
    house_value_income_ratio: float = Field(default=3.0, gt=0)
    renter_share: float = Field(default=0.0, ge=0, le=1)
    wealth_income_ratio: tuple[float, float, float, float, float, float] = Field(
        default=(0.0, 1.06, 4.14, 4.19, 5.24, 6.0))

    @field_validator("wealth_income_ratio")
    @classmethod
    def _ratios_non_negative(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if min(v) < 0:
            raise ValueError("wealth-to-income ratios must be >= 0")
        return v

    @field_validator("totals")
    @classmethod
    def _totals_non_negative(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None:
            for name, persons in v.items():
                if not (persons >= 0 and math.isfinite(persons)):
                    raise ValueError(f"persons for region {name!r} must be a number >= 0")
        return v

    @field_validator("building_class_shares")
    @classmethod
    def _shares_sum_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or any(s < 0 for s in v.values()) or abs(sum(v.values()) - 1.0) > 1e-6:
            raise ValueError("shares must be >= 0 and sum to 1")
        return v


class RegionsConfig(Strict):
    """Regions (admin units): a raster of region ids with a names table, or GeoJSON polygons."""

    file: Path | None = None
    variable: str = "region_id"
    names: Path | None = None
    polygons: Path | None = None
    name_property: str = Field(default="name", min_length=1)
    country_property: str = Field(default="country", min_length=1)
    routes: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> RegionsConfig:
        if (self.names is None) == (self.polygons is None) or (
                self.file is not None and self.names is None):
            raise ValueError("give 'names' (with 'file', a region raster, or alone for a "
                             "population table with a region column) or 'polygons' (GeoJSON)")
        return self


MAX_PERSONS = 1e10  #: more persons than live on Earth: a capacity above it is a typo


class PlaceCapacity(Strict):
    """Capacity in persons of each place type in one region (unset fields take the default)."""

    host: float | None = Field(default=None, ge=0, le=MAX_PERSONS, strict=True)
    shelter: float | None = Field(default=None, ge=0, le=MAX_PERSONS, strict=True)
    camp: float | None = Field(default=None, ge=0, le=MAX_PERSONS, strict=True)
    rental: float | None = Field(default=None, ge=0, le=MAX_PERSONS, strict=True)

    @field_validator("host", "shelter", "camp", "rental")
    @classmethod
    def _whole_persons(cls, v: float | None) -> float | None:
        if v is not None and not (math.isfinite(v) and v == int(v)):
            raise ValueError("a capacity is a whole number of persons")
        return v


class CapacityConfig(Strict):
    """Capacities in persons: a default for every region, overridden per region by name."""

    default: PlaceCapacity = PlaceCapacity(host=0, shelter=0, camp=0, rental=0)
    regions: dict[str, PlaceCapacity] = Field(default_factory=dict)
    activation_ramp: tuple[float, ...] = (1.0,)
    ramp_days: int = Field(default=30, gt=0)
    host_loss_per_displaced_share: float = Field(default=1.0, ge=0, le=1)
    sites_file: Path | None = None
    site_closes_above_m: float = Field(default=0.5, gt=0)

    @field_validator("activation_ramp")
    @classmethod
    def _ramp(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or any(x < 0 or x > 1 for x in v) or any(b < a for a, b in zip(v, v[1:])):
            raise ValueError("shares within 0..1 that never decrease")
        return v


class DepthDamageCurve(Strict):
    """A piecewise-linear depth-damage function: damage ratio (0-1) at flood depths (m)."""

    depths_m: tuple[float, ...]
    damage_ratio: tuple[float, ...]

    @model_validator(mode="after")
    def _check(self) -> DepthDamageCurve:
        d, r = self.depths_m, self.damage_ratio
        if len(d) != len(r) or len(d) < 2:
            raise ValueError("depths_m and damage_ratio need the same length, at least 2")
        if any(b <= a for a, b in zip(d, d[1:])):
            raise ValueError("depths_m must increase strictly")
        if any(x < 0 or x > 1 for x in r) or any(b < a for a, b in zip(r, r[1:])):
            raise ValueError("damage_ratio must be within 0..1 and never decrease")
        return self


def _default_curves() -> dict[str, DepthDamageCurve]:
    return {k: DepthDamageCurve(depths_m=JRC_DEPTHS_M, damage_ratio=v)
            for k, v in JRC_RESIDENTIAL.items()}


class WindCurve(Strict):
    """Emanuel (2011) wind damage curve for ``wind_speed`` hazards (CLIMADA's TC defaults)."""

    v_threshold_ms: float = Field(default=25.7, ge=0)
    v_half_ms: float = Field(default=74.7, gt=0)

    @model_validator(mode="after")
    def _order(self) -> WindCurve:
        if self.v_half_ms <= self.v_threshold_ms:
            raise ValueError("v_half_ms must be above v_threshold_ms")
        return self


class ImpactConfig(Strict):
    """Forced displacement from hazard impact (DESIGN.md §4.3 rule 1)."""

    method: Literal["depth_threshold", "damage_ratio", "level_rate", "prescribed"] = \
        "depth_threshold"
    depth_threshold_m: float = Field(default=1.0, gt=0)
    damage_threshold: float = Field(default=0.55, gt=0, le=1)
    displacement_probability: float = Field(default=1.0, gt=0, le=1)
    contents_value_share: float = Field(default=0.5, ge=0, le=10)
    curves: dict[str, DepthDamageCurve] = Field(default_factory=_default_curves)
    wind: WindCurve = WindCurve()
    displaced_per_day_by_level: tuple[float, ...] = (0.0, 0.1, 0.2, 0.5, 0.9)
    rate_unit: Literal["share", "persons"] = "share"
    prescribed_file: Path | None = None
    prescribed_weights: Literal["residents", "conflict"] = "residents"
    conflict_decay: tuple[Annotated[float, Field(ge=0)], ...] = ()
    conflict_decay_interval_days: int = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _method_inputs(self) -> ImpactConfig:
        rates = self.displaced_per_day_by_level
        if not rates or any(r < 0 for r in rates) or (self.rate_unit == "share"
                                                      and any(r > 1 for r in rates)):
            raise ValueError("displaced_per_day_by_level: one rate >= 0 per hazard level "
                             "(shares at most 1)")
        if (self.method == "prescribed") != (self.prescribed_file is not None):
            raise ValueError("prescribed_file: give it exactly when method = \"prescribed\"")
        return self


class PlacementConfig(Strict):
    """Where displaced households go: the place cascade, capacity caps and destination choice."""

    cascade: tuple[Literal["host", "shelter", "camp", "rental"], ...] = (
        "host", "rental", "shelter", "camp")
    soft_cap_start: float = Field(default=0.9, gt=0, le=1)
    rental_min_income_per_year: float = Field(default=4500.0, ge=0)
    shelter_seeking_by_income_quintile: tuple[float, float, float, float, float] = (
        0.62, 0.42, 0.29, 0.22, 0.13)
    distance_exponent: float = Field(default=2.0, ge=0)
    max_distance_km: float = Field(default=150.0, gt=0)
    travel_speed_km_per_day: float | None = Field(default=None, gt=0)
    movement: Literal["direct", "routes"] = "direct"
    routes: RoutesConfig = RoutesConfig()

    @field_validator("cascade")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("each place type may appear once")
        return v


class ReturnConfig(Strict):
    """Return home after displacement (DESIGN.md §4.3 rule 6)."""

    receded_depth_m: float = Field(default=0.05, gt=0)
    repair_days_total_loss: float = Field(default=365.0, ge=0)
    repair_time_spread: float = Field(default=0.5, ge=0, lt=1)
    min_days_away: float = Field(default=0.0, ge=0)
    repeated_shock_penalty: float = Field(default=0.3, ge=0, le=1)
    home_lost_after_wet_days: float | None = Field(default=90.0, gt=0)
    repair_income_share: float | None = Field(default=None, gt=0, le=1)


class AdaptationOption(Strict):
    """One measure a household can take to adapt its home in place (rule 2).

    ``dry_proofing`` keeps water out below ``protection_m``; ``elevation`` raises the floor by
    ``protection_m``; ``wet_proofing`` cuts the damage by ``damage_reduction`` where the water
    stays below ``protection_m``.
    """

    kind: Literal["dry_proofing", "wet_proofing", "elevation"]
    cost: float = Field(ge=0)
    protection_m: float = Field(ge=0)
    damage_reduction: float = Field(default=0.0, ge=0, le=1)


class BehaviourConfig(Strict):
    """Proactive decisions: risk perception, expected utility, capability gates (rule 2-3)."""

    enabled: bool = True
    decision_interval_days: int = Field(default=365, gt=0)
    horizon_years: int = Field(default=15, gt=0, le=100)
    discount_rate: float = Field(default=0.032, ge=0, lt=1)
    initial_years_since_flood: float = Field(default=10.0, ge=0)
    migration_intention_share_per_year: float = Field(default=0.12, ge=0, le=1)
    migration_cost_max: float = Field(default=3000.0, ge=0)
    migration_cost_asset_share: float = Field(default=0.06, ge=0, le=1)
    adaptation_cost: float = Field(default=3000.0, ge=0)
    adaptation_max_income_share: float = Field(default=0.06, gt=0, le=1)
    loan_interest_rate: float = Field(default=0.04, ge=0, lt=1)
    loan_years: int = Field(default=16, gt=0, le=50)
    adaptation_protection_m: float = Field(default=1.0, ge=0)
    adaptation_options: dict[str, AdaptationOption] | None = None
    subsistence_share: float = Field(default=0.1, gt=0, lt=1)
    relocation_inflow_cap_share: float = Field(default=0.10, ge=0, le=1)
    max_household_size_to_migrate: int | None = Field(default=None, gt=0)
    mobility_cost_factor_older_or_disabled: float = Field(default=1.5, ge=1)

    def options(self) -> list[tuple[str, AdaptationOption]]:
        """The adaptation options, in order (their number is 1 + the index).

        ``adaptation_options`` if given, else dry-proofing alone at ``adaptation_cost`` and
        ``adaptation_protection_m``.
        """
        if self.adaptation_options:
            return list(self.adaptation_options.items())
        return [("dry_proofing", AdaptationOption(kind="dry_proofing", cost=self.adaptation_cost,
                                                  protection_m=self.adaptation_protection_m))]


class WarningConfig(Strict):
    """Early warning and pre-emptive evacuation (DESIGN.md §4.3 rule 4)."""

    lead_time_days: int = Field(default=2, ge=1)
    forecast_threshold_m: float = Field(default=0.5, gt=0)
    forecast_threshold_wind_ms: float = Field(default=33.0, gt=0)
    forecast_error_sd: float = Field(default=0.3, ge=0)
    initial_trust: float = Field(default=0.7, ge=0, le=1)
    trust_gain: float = Field(default=0.1, ge=0, le=1)
    trust_loss: float = Field(default=0.2, ge=0, le=1)
    base_compliance: float = Field(default=0.5, ge=0, le=1)
    evacuation_factor_disability: float = Field(default=0.6, ge=0, le=1)
    contents_saved_share: float = Field(default=0.3, ge=0, le=1)


class RegionLevers(Strict):
    """Per-region overrides of the planner levers (unset fields take the scenario-wide value)."""

    warning_coverage: float | None = Field(default=None, ge=0, le=1)
    cash_assistance_per_household: float | None = Field(default=None, ge=0)
    adaptation_subsidy_share: float | None = Field(default=None, ge=0, le=1)
    reconstruction_rate: float | None = Field(default=None, gt=0)
    reconstruction_homes_per_month: float | None = Field(default=None, gt=0)
    protection_return_period_years: float | None = Field(default=None, ge=0)
    income_index: float | None = Field(default=None, gt=0)


class LeversConfig(Strict):
    """Planner levers (DESIGN.md §4.3 rule 7); capacities are in [capacity]."""

    warning_coverage: float = Field(default=0.0, ge=0, le=1)
    cash_assistance_per_household: float = Field(default=0.0, ge=0)
    adaptation_subsidy_share: float = Field(default=0.0, ge=0, le=1)
    planned_relocation_households_per_year: int = Field(default=0, ge=0)
    reconstruction_rate: float = Field(default=1.0, gt=0)
    reconstruction_homes_per_month: float | None = Field(default=None, gt=0)
    protection_return_period_years: float = Field(default=0.0, ge=0)
    income_index: float = Field(default=1.0, gt=0)
    regions: dict[str, RegionLevers] = Field(default_factory=dict)


class ObservationsConfig(Strict):
    """Observed persons per region and day, to validate a run against (e.g. from Flee data)."""

    file: Path
    place: Literal["host", "shelter", "camp", "rental", "self_arranged", "unsheltered"] = "camp"


class UncertaintyConfig(Strict):
    """Which uncertain parameters an ensemble varies, and their ranges (docs/parameters.md).

    ``parameters`` picks a subset of the table (default: every parameter the scenario sets);
    ``ranges`` replaces the table's ``[low, high]`` by parameter name.
    """

    parameters: tuple[str, ...] | None = Field(default=None, min_length=1)
    ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)

    @field_validator("parameters")
    @classmethod
    def _known_names(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is not None:
            _check_known(v)
            if len(set(v)) != len(v):
                raise ValueError("each parameter may appear once")
        return v

    @field_validator("ranges")
    @classmethod
    def _known_ranges(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        _check_known(v)
        for name, (low, high) in v.items():
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(f"{name}: empty range [{low}, {high}] (need lower < upper)")
        return v


def _check_known(names) -> None:
    table = shipped_table()
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(f"{unknown[0]}: not an uncertain parameter (the table in "
                         f"docs/parameters.md names them)")


class Scenario(Strict):
    """A whole scenario: what to simulate, on which inputs, with which capacities and rules."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)
    description: str = ""
    seed: int = Field(default=0, ge=0, lt=2**63)
    start_date: dt.date
    step_days: int = Field(gt=0, le=366)
    n_steps: int = Field(gt=0, le=100_000)
    hazard: HazardConfig
    stress: StressConfig | None = None
    information: InformationConfig | None = None
    defences: DefencesConfig | None = None
    population: PopulationConfig
    regions: RegionsConfig
    capacity: CapacityConfig = CapacityConfig()
    impact: ImpactConfig = ImpactConfig()
    placement: PlacementConfig = PlacementConfig()
    return_: ReturnConfig = Field(default=ReturnConfig(), alias="return")
    behaviour: BehaviourConfig = BehaviourConfig()
    warning: WarningConfig = WarningConfig()
    levers: LeversConfig = LeversConfig()
    observations: ObservationsConfig | None = None
    uncertainty: UncertaintyConfig | None = None
    futures: FuturesConfig | None = None
    people: PeopleConfig = PeopleConfig()
    borders: tuple[BorderConfig, ...] = ()
    pathways: dict[str, PathwayConfig] = Field(default_factory=dict)
    irregular: IrregularConfig = IrregularConfig()
    pledges: tuple[PledgeConfig, ...] = ()

    @field_validator("borders")
    @classmethod
    def _one_border_per_pair(cls, v: tuple[BorderConfig, ...]) -> tuple[BorderConfig, ...]:
        pairs = [frozenset(b.countries) for b in v]
        for k, pair in enumerate(pairs):
            if pair in pairs[:k]:
                raise ValueError(f"the border between {' and '.join(sorted(pair))} is listed "
                                 "twice")
        return v

    @model_validator(mode="after")
    def _observations_daily(self) -> Scenario:
        if self.observations is not None and self.step_days != 1:
            raise ValueError("observations: validating against observations needs daily steps "
                             "(step_days = 1), as Flee's out.csv and ARD are daily")
        return self

    @model_validator(mode="after")
    def _routes_walk(self) -> Scenario:
        if self.placement.movement != "routes":
            return self
        if self.regions.routes is None:
            raise ValueError("placement.movement: \"routes\" walks the route network; give "
                             "regions.routes")
        if self.placement.cascade != ("camp",):
            raise ValueError("placement.cascade: with movement = \"routes\" households walk "
                             "towards camps, as Flee's agents; set cascade = [\"camp\"]")
        if self.step_days != 1:
            raise ValueError("step_days: movement = \"routes\" walks a day's distance at a "
                             "time; use step_days = 1")
        if any(b.policy == "quota" for b in self.borders):
            raise ValueError("borders: movement = \"routes\" crosses open borders only; a "
                             "\"quota\" border needs movement = \"direct\"")
        return self

    @model_validator(mode="after")
    def _futures_flood(self) -> Scenario:
        if self.futures is not None and self.hazard.kind != "flood_depth":
            raise ValueError("futures: yearly events from return-period maps need "
                             "hazard.kind = \"flood_depth\"")
        return self

    @model_validator(mode="after")
    def _information_kind(self) -> Scenario:
        if self.information is not None and self.information.kind != self.hazard.kind:
            raise ValueError(f"information.kind: {self.information.kind!r} differs from "
                             f"hazard.kind {self.hazard.kind!r}; give a map of the same hazard")
        return self

    @model_validator(mode="after")
    def _hazard_kind_fits(self) -> Scenario:
        if self.hazard.kind == "wind_speed":
            if self.impact.method != "damage_ratio":
                raise ValueError("impact.method: a wind_speed hazard displaces through the wind "
                                 "damage curve; set impact.method = \"damage_ratio\"")
        elif self.hazard.kind != "flood_depth":
            if self.impact.method in ("depth_threshold", "damage_ratio"):
                raise ValueError(f"impact.method: {self.impact.method!r} needs hazard.kind = "
                                 f"\"flood_depth\"; use \"level_rate\" or \"prescribed\"")
            if self.behaviour.enabled or self.levers.warning_coverage > 0 or any(
                    r.warning_coverage for r in self.levers.regions.values()):
                raise ValueError("behaviour.enabled: proactive decisions and warnings price "
                                 "flood depth; set behaviour.enabled = false and "
                                 "levers.warning_coverage = 0 for a flood_level or "
                                 "conflict_intensity hazard")
        return self

    @model_validator(mode="after")
    def _population_source(self) -> Scenario:
        pop = self.population
        if sum(x is not None for x in (pop.file, pop.totals, pop.table)) != 1:
            raise ValueError("population: give exactly one of 'file' (a grid), 'totals' or "
                             "'table'")
        if self.regions.file is None and self.regions.polygons is None and pop.table is None:
            raise ValueError("regions: without a region raster or polygons, give a population "
                             "table with a region column (population.table)")
        if self.regions.polygons is not None and pop.totals is not None:
            raise ValueError("population.totals: region totals need a region raster to spread "
                             "them over; with regions.polygons give a population file or table")
        unknown = set(self.population.building_class_shares) - set(self.impact.curves)
        if unknown:
            raise ValueError(f"population.building_class_shares: no depth-damage curve named "
                             f"{sorted(unknown)} in impact.curves")
        return self

    def capacity_of(self, region: str) -> dict[str, float]:
        """Capacity in persons per place type for ``region`` (default, then override)."""
        base = self.capacity.default.model_dump()
        override = self.capacity.regions.get(region)
        if override is not None:
            base.update({k: v for k, v in override.model_dump().items() if v is not None})
        return {k: float(v or 0.0) for k, v in base.items()}

"""Scenario section for climate futures: the named scenario and how yearly events are drawn.

With ``[futures]`` the hazard file holds return-period maps per period (dimensions ``period``,
``return_period`` and space, optionally ``scenario``); each year of the run draws its flood
events from them (:mod:`simulator.inputs.futures`). ``scenarios/README.md`` documents each
field.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FuturesConfig(BaseModel):
    """A named climate (and socio-economic) scenario and its flood season.

    ``season_start_day``: day of the year (1-366) the flood season starts; events of
    ``event_days`` days start on a day drawn uniformly so that they end within
    ``season_days``. ``hold_period``: keep this period's maps every year (the counterfactual
    without climate change).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    climate_scenario: str = Field(min_length=1, max_length=40)
    socioeconomic_pathway: str | None = Field(default=None, min_length=1, max_length=40)
    season_start_day: int = Field(ge=1, le=366)
    season_days: int = Field(default=90, ge=1, le=366)
    event_days: int = Field(default=10, ge=1, le=366)
    hold_period: int | None = None

    @model_validator(mode="after")
    def _event_fits(self) -> FuturesConfig:
        if self.event_days > self.season_days:
            raise ValueError(f"event_days: {self.event_days} days do not fit in a season of "
                             f"season_days = {self.season_days}")
        return self


class PeopleConfig(BaseModel):
    """How people change over the decades: income and population growth, moves for other reasons.

    ``income_growth_file``: CSV ``region`` (or ``country``), ``year``, ``income_growth`` (share
    per year) for every region (or country) and every year of the run after the first.
    ``population_growth_file``: the same with ``population_growth`` (share of residents per
    year; births, or deaths and net emigration when negative).
    ``background_migration_per_year``: share of households at home moving each year for reasons
    other than the hazard, to a region of their country chosen by a gravity model with
    ``background_population_exponent`` and ``background_distance_exponent``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    income_growth_file: Path | None = None
    population_growth_file: Path | None = None
    background_migration_per_year: float = Field(default=0.0, ge=0, le=0.5)
    background_population_exponent: float = Field(default=1.0, ge=0, le=3)
    background_distance_exponent: float = Field(default=2.0, ge=0, le=4)

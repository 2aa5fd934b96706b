"""Scenario sections for moves across borders: borders, pathways, irregular routes, pledges.

Regions belong to countries (the ``country`` column of ``regions.names``). A cross-border move
needs a listed border between the two countries and goes through it by its policy: ``open``
(anyone crosses), ``quota`` (regular pathways with yearly quotas; without one, an irregular
route at a cost and a risk) or ``closed`` (nobody crosses, as Flee's closures). The rules and
their sources are in :mod:`simulator.rules.pathways`; ``scenarios/README.md`` documents each
field. Names of countries and pathways are checked against the regions table when the levers
are resolved (:mod:`simulator.borders`).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


#: What each kind of regular pathway is for, and its default processing time (days).
PATHWAY_KINDS = {
    "labour_mobility": "proactive migrants with a working-age adult and enough income",
    "family_reunification": "proactive migrants with kin (tie region) in the destination country",
    "humanitarian": "displaced households crossing for a place (temporary protection)",
    "planned_relocation": "households moved by the planned-relocation programme",
}


class Quota(_Strict):
    """A yearly quota of a pathway from one country to another (persons per calendar year)."""

    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)
    persons_per_year: float = Field(ge=0, le=1e10, strict=True)

    @field_validator("persons_per_year", mode="before")
    @classmethod
    def _not_negative(cls, v: object) -> object:
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
            raise ValueError("a quota is a number of persons >= 0")
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


class PathwayConfig(_Strict):
    """A named regular pathway: who may use it, how long it takes, and its quotas.

    ``processing_days``: days from an approved application to the move (0 for humanitarian
    pathways, which admit displaced persons at once). Eligibility: ``min_income_per_year``
    (household income, currency) and ``max_household_size`` (persons); the kind adds its own
    (a working-age adult for labour mobility, kin in the destination country for family
    reunification).
    """

    kind: Literal["labour_mobility", "family_reunification", "humanitarian",
                  "planned_relocation"]
    processing_days: int | None = Field(default=None, ge=0, le=3650)
    min_income_per_year: float = Field(default=0.0, ge=0)
    max_household_size: int | None = Field(default=None, ge=1)
    quotas: tuple[Quota, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _humanitarian_at_once(self) -> PathwayConfig:
        if self.kind == "humanitarian" and self.processing_days:
            raise ValueError("processing_days: a humanitarian pathway admits displaced persons "
                             "at once (temporary protection); leave it out or set 0")
        pairs = [(q.from_, q.to) for q in self.quotas]
        if len(set(pairs)) != len(pairs):
            raise ValueError("quotas: each (from, to) country pair may appear once")
        if any(a == b for a, b in pairs):
            raise ValueError("quotas: from and to name the same country; a pathway crosses a "
                             "border")
        return self


class BorderConfig(_Strict):
    """A border between two countries and its policy.

    ``closed_days``: periods ``[first_day, end_day)`` (days from ``start_date``) when the border
    is closed whatever its policy (Flee's ``closures.csv`` country closures).
    """

    countries: tuple[str, str]
    policy: Literal["open", "quota", "closed"] = "quota"
    closed_days: tuple[tuple[int, int], ...] = ()

    @model_validator(mode="after")
    def _check(self) -> BorderConfig:
        if self.countries[0] == self.countries[1]:
            raise ValueError("countries: a border joins two different countries")
        for a, b in self.closed_days:
            if not 0 <= a < b:
                raise ValueError(f"closed_days: [{a}, {b}] is not a period [first_day, end_day) "
                                 "with 0 <= first_day < end_day")
        return self


class IrregularConfig(_Strict):
    """Irregular crossings where a border's policy is ``quota`` and no pathway takes a household.

    ``cost_per_person``: smugglers' fees and travel (currency per person); ``failure_share``:
    probability that a crossing fails (intercepted and sent back; the fee is lost).
    """

    enabled: bool = True
    cost_per_person: float = Field(default=1000.0, ge=0)
    failure_share: float = Field(default=0.2, ge=0, le=1)


class PledgeConfig(_Strict):
    """A country's pledge to another's displaced: places in one of its regions, and/or quota.

    Pledged places (persons) are added to ``region``'s shelter and camp capacity; pledged quota
    (persons per year) is added to the humanitarian ``pathway`` from ``for`` to ``by``.
    """

    by: str = Field(min_length=1)
    for_: str = Field(alias="for", min_length=1)
    region: str | None = None
    shelter_places: float = Field(default=0.0, ge=0, le=1e10)
    camp_places: float = Field(default=0.0, ge=0, le=1e10)
    quota_persons_per_year: float = Field(default=0.0, ge=0, le=1e10)
    pathway: str | None = None

    @model_validator(mode="after")
    def _check(self) -> PledgeConfig:
        if self.by == self.for_:
            raise ValueError("for: a pledge is made to another country's displaced")
        for name in ("shelter_places", "camp_places"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v == int(v)):
                raise ValueError(f"{name}: a whole number of persons")
        if (self.shelter_places or self.camp_places) and self.region is None:
            raise ValueError("region: pledged places need the region of 'by' that hosts them")
        if self.quota_persons_per_year and self.pathway is None:
            raise ValueError("pathway: pledged quota needs the humanitarian pathway it adds to")
        if not (self.shelter_places or self.camp_places or self.quota_persons_per_year):
            raise ValueError("a pledge offers places (shelter_places, camp_places) or quota "
                             "(quota_persons_per_year)")
        return self

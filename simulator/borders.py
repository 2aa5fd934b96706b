"""Borders, pathways and pledges, resolved once into typed arrays over countries.

The scenario's ``[[borders]]``, ``[pathways.<name>]`` and ``[[pledges]]`` name countries,
regions and pathways by name; :func:`resolve_borders` checks every name once against the
regions table (one line naming the field for the first unknown one) and builds a
:class:`Borders` the steps read. With one country (no ``country`` column) every move is
internal and nothing here is consulted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.errors import InputError
from simulator.inputs.schema import Scenario
from simulator.rules.pathways import KINDS, NO_BORDER, POLICIES, PROCESSING_DAYS, policy_on
from simulator.states import PLACES, Place

ONE_COUNTRY = "all"  #: the country of every region when the regions table names none


@dataclass(frozen=True)
class Borders:
    """Countries, the policy of every border, and the regular pathways with their quotas.

    Attributes:
        countries: country names (index = country).
        country_of_region: (region,) country index.
        policy: (country, country) standing policy code (:mod:`simulator.rules.pathways`).
        closed_from, closed_to, pair_a, pair_b: (closure,) closed periods in days and pairs.
        pathways: pathway names (index = pathway).
        kind: (pathway,) index into :data:`~simulator.rules.pathways.KINDS`.
        processing_days: (pathway,) days from approval to the move.
        min_income: (pathway,) income a household needs (currency per year).
        max_size: (pathway,) largest household (persons; inf = any).
        quota: (pathway, country, country) persons per year from a country to another.
        pledged: (region, place) pledged places added to the region's capacity (persons).
        irregular: irregular crossings allowed where the policy is ``quota``.
        irregular_cost: fee per person of an irregular crossing (currency).
        failure_share: probability that an irregular crossing fails.
    """

    countries: list[str]
    country_of_region: np.ndarray
    policy: np.ndarray
    closed_from: np.ndarray
    closed_to: np.ndarray
    pair_a: np.ndarray
    pair_b: np.ndarray
    pathways: list[str]
    kind: np.ndarray
    processing_days: np.ndarray
    min_income: np.ndarray
    max_size: np.ndarray
    quota: np.ndarray
    pledged: np.ndarray
    irregular: bool
    irregular_cost: float
    failure_share: float

    @property
    def international(self) -> bool:
        """Whether any move can cross a border (more than one country and a border)."""
        return len(self.countries) > 1 and bool((self.policy != NO_BORDER).any())

    def policy_at(self, day: float) -> np.ndarray:
        """(country, country) policy codes on ``day`` (closures applied)."""
        return policy_on(self.policy, self.closed_from, self.closed_to, self.pair_a,
                         self.pair_b, day)

    def routes(self) -> list[str]:
        """Names of the ways a household can cross: open border, each pathway, irregular."""
        return ["open_border", *self.pathways, "irregular"]

    @property
    def irregular_route(self) -> int:
        """Index of the irregular route in :meth:`routes` (pathway ``p`` is ``1 + p``)."""
        return 1 + len(self.pathways)


def _index(names: list[str], name: str, where: Path | str, field: str, what: str) -> int:
    if name not in names:
        plural = {"country": "countries"}.get(what, what + "s")
        raise InputError(where, f"{field}: unknown {what} {name!r} ({plural}: "
                                f"{', '.join(names)})")
    return names.index(name)


def resolve_borders(scenario: Scenario, region_names: list[str],
                    region_country: tuple[str, ...] | None,
                    where: Path | str = "scenario") -> Borders:
    """Check and resolve the scenario's borders, pathways and pledges.

    Raises:
        InputError: an unknown country, pathway or region, a quota or pledge on a pair of
            countries without a border, a pledge's region outside the pledging country, or a
            pledge's quota on a pathway that is not humanitarian.
    """
    countries = [ONE_COUNTRY] if region_country is None else list(dict.fromkeys(region_country))
    country_of_region = np.zeros(len(region_names), np.int64) if region_country is None else \
        np.array([countries.index(c) for c in region_country], np.int64)
    nc = len(countries)
    policy = np.zeros((nc, nc), np.int8)
    closures = []
    for k, b in enumerate(scenario.borders):
        a, c = (_index(countries, n, where, f"borders[{k}].countries", "country")
                for n in b.countries)
        policy[a, c] = policy[c, a] = POLICIES[b.policy]
        closures += [(lo, hi, a, c) for lo, hi in b.closed_days]
    cl = np.array(closures, dtype=np.int64).reshape(-1, 4)
    names = list(scenario.pathways)
    quota = np.zeros((len(names), nc, nc))
    for p, (name, pw) in enumerate(scenario.pathways.items()):
        for q, item in enumerate(pw.quotas):
            field = f"pathways.{name}.quotas[{q}]"
            a = _index(countries, item.from_, where, f"{field}.from", "country")
            c = _index(countries, item.to, where, f"{field}.to", "country")
            if policy[a, c] == NO_BORDER:
                raise InputError(where, f"{field}: no border between {item.from_} and "
                                        f"{item.to} in [[borders]]; a quota needs one")
            quota[p, a, c] = item.persons_per_year
    pledged = np.zeros((len(region_names), len(PLACES)), np.int64)
    for k, pl in enumerate(scenario.pledges):
        field = f"pledges[{k}]"
        by = _index(countries, pl.by, where, f"{field}.by", "country")
        for_ = _index(countries, pl.for_, where, f"{field}.for", "country")
        if policy[for_, by] == NO_BORDER:
            raise InputError(where, f"{field}: no border between {pl.for_} and {pl.by} in "
                                    f"[[borders]]; a pledge needs one")
        if pl.region is not None:
            r = _index(region_names, pl.region, where, f"{field}.region", "region")
            if country_of_region[r] != by:
                raise InputError(where, f"{field}.region: {pl.region!r} is not a region of "
                                        f"{pl.by}")
            pledged[r, Place.SHELTER] += int(pl.shelter_places)
            pledged[r, Place.CAMP] += int(pl.camp_places)
        if pl.quota_persons_per_year:
            p = _index(names, pl.pathway, where, f"{field}.pathway", "pathway")
            if scenario.pathways[pl.pathway].kind != "humanitarian":
                raise InputError(where, f"{field}.pathway: {pl.pathway!r} is a "
                                        f"{scenario.pathways[pl.pathway].kind} pathway; "
                                        f"pledged quota goes to a humanitarian one")
            quota[p, for_, by] += pl.quota_persons_per_year
    pws = list(scenario.pathways.values())
    irr = scenario.irregular
    return Borders(
        countries=countries, country_of_region=country_of_region, policy=policy,
        closed_from=cl[:, 0], closed_to=cl[:, 1], pair_a=cl[:, 2], pair_b=cl[:, 3],
        pathways=names, kind=np.array([KINDS.index(p.kind) for p in pws], np.int64),
        processing_days=np.array([PROCESSING_DAYS[p.kind] if p.processing_days is None
                                  else p.processing_days for p in pws], np.int64),
        min_income=np.array([p.min_income_per_year for p in pws], float),
        max_size=np.array([np.inf if p.max_household_size is None else p.max_household_size
                           for p in pws], float),
        quota=quota, pledged=pledged, irregular=irr.enabled,
        irregular_cost=irr.cost_per_person, failure_share=irr.failure_share)

"""The household population as a struct of numpy arrays (never one Python object each).

Households are stored sorted by cell, so the households of cell ``c`` are the contiguous slice
``cell_start[c]:cell_start[c + 1]`` and a hazard touching a few cells touches a few slices. A
household's id is its index; ids depend only on the population inputs and the seed, never on a
capacity lever, which keeps common random numbers intact.

About 46 bytes per household (see :meth:`Households.nbytes_per_household`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np
from scipy.special import ndtri

from simulator.inputs.load import Inputs
from simulator.inputs.schema import Scenario
from simulator.rng import Streams
from simulator.rules.placement import gravity_weights
from simulator.states import (
    AGE_BANDS,
    GROUPS,
    HEAD_TYPES,
    NO_PLACE,
    NO_STEP,
    PLACES,
    STATE_NAMES,
    State,
)

SYNTH_CHUNK = 1 << 18  # households drawn per block in synthesis (the demo fits in one)


def _group_of_member() -> np.ndarray:
    """(8 member columns, GROUPS): 1 where a member of that sex and age band is in the group.

    Members are females by AGE_BANDS, then males; children are under 18, adults 18-59, older
    persons 60+; the disability column is filled apart.
    """
    bands = {"children": ("age_0_4", "age_5_17"), "adults": ("age_18_59",),
             "older_persons": ("age_60_plus",), "children_under_5": ("age_0_4",)}
    table = np.zeros((2 * len(AGE_BANDS), len(GROUPS)), dtype=np.float32)
    for g, name in enumerate(GROUPS):
        for sex in range(2):
            for b, band in enumerate(AGE_BANDS):
                within = band in bands.get(name, ()) or (name == "women" and sex == 0)
                table[sex * len(AGE_BANDS) + b, g] = within
    return table


#: Which member columns count in which of :data:`GROUPS` (see :func:`_group_of_member`).
GROUP_OF_MEMBER = _group_of_member()


def lognormal_sigma_from_gini(gini: float) -> float:
    """Log-sd of a lognormal income distribution with Gini coefficient ``gini``.

    G = 2 Phi(sigma / sqrt 2) - 1, so sigma = sqrt(2) Phi^-1((G + 1) / 2)
    (Aitchison & Brown 1957, The Lognormal Distribution, CUP).
    """
    return float(np.sqrt(2.0) * ndtri((gini + 1.0) / 2.0))


@dataclass
class Households:
    """Household attributes (one array each, index = household id)."""

    cell: np.ndarray  #: int32, populated-cell index of the home
    region: np.ndarray  #: int16, home region
    size: np.ndarray  #: uint8, persons in the household
    income: np.ndarray  #: float32, income per year (currency units)
    building_class: np.ndarray  #: uint8, index into the scenario's depth-damage curves
    state: np.ndarray  #: uint8, :class:`State`
    place: np.ndarray  #: uint8, :data:`Place` while away from home, else NO_PLACE
    stay_region: np.ndarray  #: int16, region where the household currently stays
    since_step: np.ndarray  #: int16/int32, step the current state (or away episode) began
    damage: np.ndarray  #: float16, home damage ratio 0-1 (worst since the home was repaired)
    due_step: np.ndarray  #: int16/int32, step a displaced household can return, or NO_STEP
    savings: np.ndarray  #: float32, liquid savings (currency units)
    last_flood_step: np.ndarray  #: int16/int32, step the home was last flooded, or NO_STEP
    prior_flood_step: np.ndarray  #: int16/int32, its last flood in an earlier event, or NO_STEP
    trust: np.ndarray  #: float16, trust in warnings 0-1
    tie_region: np.ndarray  #: int16, region where the household has kin (host places)
    adapted: np.ndarray  #: uint8, 0, or 1 + the adaptation option the home has
    shocks: np.ndarray  #: uint8, times displaced so far
    warned_step: np.ndarray  #: int16/int32, step of the latest warning received, or NO_STEP
    members: np.ndarray | None = None  #: uint8 (n, 8): females, then males, by AGE_BANDS
    disabled: np.ndarray | None = None  #: uint8, members with a disability
    head_type: np.ndarray | None = None  #: uint8, :data:`HEAD_TYPES`
    house_value: np.ndarray | None = None  #: float32, home value from a table (NaN: not given)
    arrive_step: np.ndarray | None = None  #: int16/32, step of arrival at the place (travel)

    def group_persons(self, ids: np.ndarray) -> np.ndarray:
        """Persons of each of :data:`GROUPS` in households ``ids``, shape (len(ids), groups).

        One matrix product of the members by :data:`GROUP_OF_MEMBER` (exact: small integers in
        float32), the disabled put in their column.
        """
        groups = (self.members[ids].astype(np.float32) @ GROUP_OF_MEMBER).astype(np.int32)
        groups[:, GROUPS.index("persons_with_disabilities")] = self.disabled[ids]
        return groups

    def __len__(self) -> int:
        return int(self.cell.size)

    def nbytes_per_household(self) -> float:
        """Bytes of array storage per household."""
        arrays = [getattr(self, f.name) for f in fields(self)]
        return sum(a.nbytes for a in arrays if a is not None) / max(len(self), 1)

    def row(self, i: int, region_names: list[str] | None = None,
            class_names: list[str] | None = None) -> dict[str, object]:
        """One household as a readable dict (for inspection in a notebook)."""
        out = {f.name: getattr(self, f.name)[i].item() for f in fields(self)
               if getattr(self, f.name) is not None and getattr(self, f.name).ndim == 1}
        out["id"] = int(i)
        out["state"] = STATE_NAMES[out["state"]]
        out["place"] = None if out["place"] == NO_PLACE else PLACES[out["place"]]
        if region_names:
            out["region"] = region_names[out["region"]]
            out["stay_region"] = region_names[out["stay_region"]]
        if class_names:
            out["building_class"] = class_names[out["building_class"]]
        if self.members is not None:
            out.update({f"{sex}_{band}": int(v) for (sex, band), v in zip(
                [(s, b) for s in ("female", "male") for b in AGE_BANDS], self.members[i])})
            out["head_type"] = HEAD_TYPES[out["head_type"]]
        return out


def synthesise(cell_persons: np.ndarray, cell_region: np.ndarray, persons_per_household: float,
               n_households: int | None, income_median: float, income_gini: float,
               class_shares: np.ndarray, rng: np.random.Generator,
               tie_weights: np.ndarray | None = None, ties_home_share: float = 1.0,
               savings_income_ratio: float = 0.0, initial_trust: float = 0.7,
               step_dtype: type = np.int32, counts: np.ndarray | None = None,
               given: dict[str, np.ndarray] | None = None) -> Households:
    """Synthesise households over populated cells.

    Households per cell: ``persons / persons_per_household`` (rescaled so the total is
    ``n_households`` when given), rounded stochastically. Size: ``1 + Poisson(pph - 1)``, so the
    mean size is ``persons_per_household``. Income: lognormal with the given median and Gini.
    Building class: drawn from ``class_shares``.

    Args:
        cell_persons: persons per populated cell.
        cell_region: region index per populated cell.
        persons_per_household: mean household size (persons).
        n_households: total households wanted, or None to follow the population.
        income_median: median income per year.
        income_gini: Gini coefficient of income.
        class_shares: share of households in each building class (sums to 1).
        rng: the synthesis stream's generator.
        tie_weights: (region, region) weights for the kin region of households whose kin live
            elsewhere (rows: home region); None keeps every household's ties at home.
        ties_home_share: share of households whose kin live in their home region.
        savings_income_ratio: savings as a multiple of yearly income.
        initial_trust: trust in warnings at the start (0-1).
        step_dtype: integer type of the step counters (int16 when the run is short enough,
            see :func:`step_dtype_for`).
        counts: households per cell when known (a household table: one per row); the draws
            that round ``persons / persons_per_household`` are still made, so they stay aligned.
        given: per-cell ``size``, ``income`` or ``building_class`` from a table, replacing the
            drawn value for every household of the cell where it is known (not NaN, not < 0),
            and ``value``, the home's value (kept only when a table gives it).
    """
    expected = cell_persons / persons_per_household
    if n_households is not None:
        expected = expected * (n_households / expected.sum())
    count = np.floor(expected).astype(np.int64)
    count += rng.random(count.size) < (expected - count)
    if counts is not None:
        count = counts.astype(np.int64)
    cell = np.repeat(np.arange(cell_persons.size, dtype=np.int32), count)
    n = cell.size
    # each quantity is drawn in blocks of SYNTH_CHUNK households, so temporaries stay bounded;
    # up to one block the draws are exactly those of a single call
    size = np.empty(n, dtype=np.uint8)
    for s in range(0, n, SYNTH_CHUNK):
        part = rng.poisson(persons_per_household - 1.0, min(SYNTH_CHUNK, n - s))
        size[s:s + part.size] = np.minimum(1 + part, 255)
    sigma = lognormal_sigma_from_gini(income_gini)
    income = np.empty(n, dtype=np.float32)
    for s in range(0, n, SYNTH_CHUNK):
        z = rng.standard_normal(min(SYNTH_CHUNK, n - s))
        income[s:s + z.size] = income_median * np.exp(sigma * z)
    bclass = np.empty(n, dtype=np.uint8)
    edges = np.cumsum(class_shares)[:-1]
    for s in range(0, n, SYNTH_CHUNK):
        u = rng.random(min(SYNTH_CHUNK, n - s))
        bclass[s:s + u.size] = np.searchsorted(edges, u, side="right")
    for name, target in (("size", size), ("income", income), ("building_class", bclass)):
        values = (given or {}).get(name)
        if values is not None:
            known = ~np.isnan(values[cell]) if values.dtype.kind == "f" else values[cell] >= 0
            target[known] = values[cell][known]
    region = cell_region[cell].astype(np.int16)
    ties = region.copy()
    if tie_weights is not None and tie_weights.sum() > 0:
        away = np.concatenate([s + np.flatnonzero(rng.random(min(SYNTH_CHUNK, n - s))
                                                  >= ties_home_share)
                               for s in range(0, n, SYNTH_CHUNK)] or [np.empty(0, int)])
        cum = np.cumsum(tie_weights, axis=1)
        u_all = rng.random(away.size)
        # the first region whose cumulative weight exceeds u x the row's total, searched row by
        # row (no households x regions temporaries: 1.7 GB a block with 800 regions)
        home = region[away]
        order = np.argsort(home, kind="stable")
        bounds = np.searchsorted(home[order], np.arange(cum.shape[0] + 1))
        for r in np.flatnonzero((np.diff(bounds) > 0) & (cum[:, -1] > 0)):
            rows = order[bounds[r]:bounds[r + 1]]
            pick = np.searchsorted(cum[r], u_all[rows] * cum[r, -1], side="right")
            ties[away[rows]] = np.minimum(pick, tie_weights.shape[1] - 1)
    value = (given or {}).get("value")
    return Households(
        house_value=None if value is None else value[cell].astype(np.float32),
        cell=cell, region=region, size=size, income=income,
        building_class=bclass,
        state=np.full(n, State.AT_HOME, dtype=np.uint8),
        place=np.full(n, NO_PLACE, dtype=np.uint8), stay_region=region.copy(),
        since_step=np.zeros(n, dtype=step_dtype), damage=np.zeros(n, dtype=np.float16),
        due_step=np.full(n, NO_STEP, dtype=step_dtype),
        savings=(income * savings_income_ratio).astype(np.float32),
        last_flood_step=np.full(n, NO_STEP, dtype=step_dtype),
        prior_flood_step=np.full(n, NO_STEP, dtype=step_dtype),
        trust=np.full(n, initial_trust, dtype=np.float16), tie_region=ties,
        adapted=np.zeros(n, dtype=np.uint8), shocks=np.zeros(n, dtype=np.uint8),
        warned_step=np.full(n, NO_STEP, dtype=step_dtype))


def step_dtype_for(n_steps: int, step_days: int) -> type:
    """int16 step counters when the whole run spans fewer than 32,767 days, else int32.

    Then no difference of steps, even multiplied by ``step_days``, can overflow int16.
    """
    return np.int16 if n_steps * step_days < np.iinfo(np.int16).max else np.int32


def synthesise_composition(hh: Households, compositions: list, rng: np.random.Generator) -> None:
    """Give every household members by age band and sex, a disability count and a head type.

    The head is an adult (18-59 or 60+, in proportion to those bands); the other members follow
    the region's age shares (multinomial). The head is a woman with the region's female-headed
    share, other members with its female share; each member has a disability with its
    disability share. Sizes stay exactly as synthesised.
    """
    n = len(hh)
    members = np.zeros((n, 8), dtype=np.uint8)
    disabled = np.zeros(n, dtype=np.uint8)
    head = np.zeros(n, dtype=np.uint8)
    # region by region, a block of SYNTH_CHUNK households at a time: bounded temporaries
    for r, idx in region_blocks(hh.region, len(compositions), SYNTH_CHUNK):
        _compose(hh, idx, compositions[r], rng, members, disabled, head)
    hh.members, hh.disabled, hh.head_type = members, disabled, head


def _compose(hh: Households, idx: np.ndarray, comp, rng: np.random.Generator,
             members: np.ndarray, disabled: np.ndarray, head: np.ndarray) -> None:
    """Fill members, disabilities and head type for households ``idx`` of one region."""
    p = np.array([comp.age_shares[b] for b in AGE_BANDS])
    adult_p = p[2:] / p[2:].sum() if p[2:].sum() > 0 else np.array([1.0, 0.0])
    head_band = 2 + (rng.random(idx.size) >= adult_p[0])
    # draws with n = 0 use no random numbers, so only households of two or more draw (the
    # same numbers as drawing for everyone; most of a Flee case's one-person households skip)
    others = hh.size[idx].astype(np.int64) - 1
    block = np.zeros((idx.size, 2 * p.size), dtype=np.uint8)  # females, then males
    some = others > 0
    if some.any():
        rest = rng.multinomial(others[some], p)
        female = np.zeros_like(rest)
        drawn = rest > 0
        female[drawn] = rng.binomial(rest[drawn], comp.female_share)
        block[some, :p.size] = female
        block[some, p.size:] = rest - female
    head_female = rng.random(idx.size) < comp.female_headed_share
    column = head_band + np.where(head_female, 0, p.size)  # the head's own column
    block.reshape(-1)[np.arange(0, block.size, block.shape[1]) + column] += 1  # one per row
    members[idx] = block
    disabled[idx] = rng.binomial(hh.size[idx].astype(np.int64), comp.disability_share)
    head[idx] = np.where(head_band == 3, 2, head_female.astype(np.uint8))


def cell_slices(cell: np.ndarray, n_cells: int) -> np.ndarray:
    """``cell_start`` with households of cell c at ``cell_start[c]:cell_start[c + 1]``."""
    return np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=n_cells))])


def households_in_cells(cell_start: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Ids of all households living in ``cells`` (vectorised concatenation of slices)."""
    return id_ranges(cell_start[cells], cell_start[cells + 1])


def id_ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The integers ``starts[i]`` to ``stops[i] - 1`` of every range, concatenated in order."""
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + offsets


def region_blocks(region: np.ndarray, n_regions: int,
                  block: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(r, ids)``: the households of region ``r`` within each block of ``block`` ids.

    In the order of scanning every block for every region (region by region, then block by
    block, ids increasing, empty ones left out), without that scan, which costs regions x
    households: households are stored by cell, so a region's come in runs, and only the blocks
    its runs overlap are visited.
    """
    n = region.size
    if n == 0:
        return
    change = np.flatnonzero(region[1:] != region[:-1]) + 1
    start, stop = np.concatenate([[0], change]), np.concatenate([change, [n]])
    run_region = region[start]
    by_region = np.argsort(run_region, kind="stable")
    bounds = np.searchsorted(run_region[by_region], np.arange(n_regions + 1))
    for r in range(n_regions):  # a loop over regions and blocks, not households
        runs = by_region[bounds[r]:bounds[r + 1]]  # disjoint, in increasing order
        s, e = start[runs], stop[runs]
        for b in np.unique(id_ranges(s // block, (e - 1) // block + 1)):
            lo, hi = b * block, (b + 1) * block
            i, j = np.searchsorted(e, lo, side="right"), np.searchsorted(s, hi)
            yield r, id_ranges(np.maximum(s[i:j], lo), np.minimum(e[i:j], hi))


def class_names(config: Scenario, inputs: Inputs) -> list[str]:
    """Building classes: the scenario's shares first, then any a household table adds."""
    pop, table = config.population, inputs.table
    return list(pop.building_class_shares) + [
        c for c in (table.class_names if table else []) if c not in pop.building_class_shares]


#: Peak memory per household while a run holds its households (bytes): the state (48 B) and
#: the temporaries of synthesis and of a step. Measured by benchmarks/bench_core.py above the
#: fixed cost: 89 B at 10^6 households, 61 B at 10^7 (benchmarks/README.md); rounded up.
PEAK_BYTES_PER_HOUSEHOLD = 100


def expected_households(config: Scenario, inputs: Inputs) -> int:
    """Households a run will synthesise, counted before it does.

    ``population.households`` when given, a household table's rows, else persons /
    ``persons_per_household``.
    """
    pop = config.population
    if pop.households is not None:
        return int(pop.households)
    if inputs.table is not None and inputs.table.kind == "households":
        return int(inputs.table.persons.size)
    return int(round(float(inputs.cell_persons.sum()) / pop.persons_per_household))


def from_inputs(config: Scenario, inputs: Inputs, streams: Streams, classes: list[str],
                cash: np.ndarray) -> Households:
    """Synthesise a scenario's households from its inputs; the cash lever is added to savings.

    Kin ties follow gravity weights between regions (distance^-2 x population); a household or
    building table gives known attributes per row (see :func:`synthesise`).
    """
    pop, names = config.population, inputs.region_names
    region_persons = np.bincount(inputs.cell_region, inputs.cell_persons, len(names))
    tie_w = gravity_weights(inputs.distance_km, region_persons, 2.0, np.inf)
    hh = synthesise(
        inputs.cell_persons, inputs.cell_region, pop.persons_per_household, pop.households,
        pop.income_median_per_year, pop.income_gini,
        np.array(list(pop.building_class_shares.values())),
        streams.generator("synthesis"), tie_w, pop.ties_home_share,
        pop.savings_income_ratio, config.warning.initial_trust,
        step_dtype_for(config.n_steps, config.step_days),
        *_table_households(config, inputs, classes))
    if config.placement.travel_speed_km_per_day is not None:  # only then: 2-4 B/household
        hh.arrive_step = np.full(len(hh), NO_STEP, dtype=hh.since_step.dtype)
    synthesise_composition(hh, [pop.composition.for_region(n) for n in names],
                           streams.generator("composition"))
    hh.savings += cash[hh.region].astype(np.float32)
    return hh


def _table_households(config: Scenario, inputs: Inputs, classes: list[str]
                      ) -> tuple[np.ndarray | None, dict[str, np.ndarray] | None]:
    """Households per cell and known attributes from a household or building table."""
    table = inputs.table
    if table is None:
        return None, None
    given: dict[str, np.ndarray] = {}
    if table.income is not None:
        given["income"] = table.income
    if table.value is not None:  # a building's value is shared by its households
        given["value"] = table.value if table.kind == "households" else \
            table.value * config.population.persons_per_household / np.maximum(
                table.persons, 1e-9)
    if table.building_class is not None:
        lookup = np.array([classes.index(c) for c in table.class_names])
        given["building_class"] = np.where(table.building_class >= 0,
                                           lookup[table.building_class], -1)
    if table.kind == "buildings":
        return None, given
    given["size"] = table.persons
    return np.ones(table.lat.size, dtype=np.int64), given

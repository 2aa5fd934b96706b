"""Population growth (issue 19): births and deaths once a year from a table by region.

The residents after k years against their closed form P_0 prod(1 + g) within bounds from the
binomial variance, conservation at every step (persons = initial + births - deaths, and region
by region with the moves), bit-identical reruns and common random numbers, zero growth equal to
no file, negative growth down to the one-person floor, the rule's draws against scipy's
binomial, and the one-line error of each bad table.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from simulator import DisplacementModel, load_scenario
from simulator.inputs.load import load_inputs
from simulator.model import memory_estimate
from simulator.rules.demography import (
    GIRL_SHARE_AT_BIRTH,
    binomial_draws,
    person_rate,
    pick_member,
)
from simulator.steps.people import year_starts
from simulator.steps.population import grow_population
from simulator.ui.cli import main
from simulator.world.households import region_blocks
from simulator.world.recorder import pair_table_bytes
from tests.tiny import run_step, tiny

ROOT = Path(__file__).resolve().parents[1]
FUT = ROOT / "scenarios/futures-ssp585.toml"
REGIONS = ("Harbour City", "Delta West", "Delta East", "Lower Valley", "Middle Valley",
           "Upper Valley", "West Hills", "East Hills")
SMALL = ["population.households=3000", "n_steps=522"]  # 2025-2034: nine new years


def growth_csv(path: Path, growth: dict[str, float], years=range(2026, 2061)) -> Path:
    """A population growth table with one constant share per region."""
    rows = ["region,year,population_growth"] + [f"{r},{y},{growth[r]}" for r in growth
                                                 for y in years]
    path.write_text("\n".join(rows) + "\n")
    return path


def grown(n: int, growth: tuple[float, ...], years: int, seed: int = 1, **attrs):
    """A tiny world of ``n`` households per region, grown for ``years`` years one at a time.

    One step per year (``step_days`` 366: every step starts a new calendar year); the world is
    recounted and checked after every year.
    """
    k = len(growth)
    cells = np.repeat(np.arange(k), n).tolist()
    w = tiny(np.zeros((years + 1, k)), cells, list(range(k)), tuple(f"R{i}" for i in range(k)),
             scenario={"step_days": 366, "seed": seed}, **attrs)
    first = w.ctx.config.start_date.year
    table = (np.arange(first + 1, first + years + 1),
             np.tile(np.asarray(growth, float), (years, 1)))
    w.ctx = dataclasses.replace(w.ctx, inputs=dataclasses.replace(w.ctx.inputs,
                                                                  population_growth=table))
    totals = [w.world.persons.sum(axis=1).copy()]
    for t in range(1, years + 1):
        assert year_starts(w.ctx, t) == first + t
        run_step(w, t, grow_population)
        w.world.verify()  # counters, groups and cells against a recount
        totals.append(w.world.persons.sum(axis=1).copy())
    return w, np.array(totals)


def test_residents_follow_the_closed_form_within_binomial_noise():
    growth, years, n = (0.03, -0.02), 6, 50_000  # 200,000 persons per region
    w, totals = grown(n, growth, years)
    rec = w.world.recorder
    for r, g in enumerate(growth):
        expected = totals[0, r] * (1 + g) ** years
        # each year's change is a sum of binomials with variance <= |g| P (p(1 - p) <= p)
        sd = np.sqrt(years * abs(g) * totals[:, r].max()) * max(1 + g, 1) ** years
        assert abs(totals[-1, r] - expected) < 5 * sd, (r, totals[-1, r], expected, sd)
    change = rec.births[1:years + 1] - rec.deaths[1:years + 1]
    assert np.array_equal(totals[1:] - totals[:-1], change)  # initial + births - deaths
    assert rec.deaths[:, 0].sum() == 0 and rec.births[:, 1].sum() == 0
    hh = w.hh
    assert hh.size.min() >= 1 and np.array_equal(hh.members.sum(axis=1), hh.size)


def test_newborns_are_children_under_5_and_girls_one_in_2_05():
    w, totals = grown(50_000, (0.05,), 2)
    born = int(w.world.recorder.births.sum())
    m = w.hh.members.astype(np.int64)
    assert m[:, 0].sum() + m[:, 4].sum() == born  # the tiny world starts with adults only
    girls = m[:, 0].sum()
    sd = np.sqrt(born * GIRL_SHARE_AT_BIRTH * (1 - GIRL_SHARE_AT_BIRTH))
    assert abs(girls - born * GIRL_SHARE_AT_BIRTH) < 5 * sd
    children = w.world.persons_by_group[:, :, 5].sum()  # GROUPS: children_under_5
    assert children == born


def test_losses_stop_at_one_person_and_keep_the_head():
    # half the households alone, half of four (2 women, 2 men 18-59, a male head), everyone
    # with a disability; a loss of 90 % asks more than the members beyond the head: every
    # four loses exactly three
    n = 1000
    size = np.r_[np.ones(n), np.full(n, 4)]
    members = np.r_[np.tile([0, 0, 0, 0, 0, 0, 1, 0], (n, 1)), np.tile([0, 0, 2, 0, 0, 0, 2, 0],
                                                                        (n, 1))]
    w, totals = grown(2 * n, (-0.9,), 1, size=size, members=members, disabled=size)
    assert totals[-1, 0] == 2 * n and w.world.recorder.deaths.sum() == 3 * n
    assert (w.hh.size == 1).all() and (w.hh.members[:, 6] == 1).all()  # the head stays
    assert (w.hh.disabled == 1).all()  # everyone had a disability: so had every leaver


def test_a_regions_draws_do_not_depend_on_another_regions_growth():
    a, _ = grown(5000, (0.04, 0.0), 3, seed=3)
    b, _ = grown(5000, (0.04, -0.05), 3, seed=3)
    first = a.hh.region == 0
    assert np.array_equal(a.hh.members[first], b.hh.members[first])
    assert not np.array_equal(a.hh.members[~first], b.hh.members[~first])


def test_person_rate_and_binomial_draws_closed_forms():
    rate = person_rate(np.array([0.02, 0.5, 0.1]), np.array([1000.0, 1000, 10]),
                       np.array([800.0, 400, 0]))
    assert np.allclose(rate, [0.02 * 1000 / 800, 1.0, 0.0])
    u = (np.arange(200_000) + 0.5) / 200_000  # a uniform grid: the draws are the quantiles
    for n, p in ((4, 0.01), (7, 0.3), (0, 0.5), (3, 1.0)):
        k = binomial_draws(np.full(u.size, n), p, u)
        assert np.allclose(np.bincount(k, minlength=n + 1) / u.size, binom.pmf(np.arange(n + 1),
                                                                               n, p), atol=1e-4)
    col = pick_member(np.array([[0, 2, 0, 1], [0, 0, 0, 0]]), np.array([0.7, 0.3]))
    assert col.tolist() == [3, -1]  # members 0 and 1 in column 1, member 2 in column 3


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The futures demo, small, without a population table, with zero growth and with one."""
    tmp = tmp_path_factory.mktemp("pop")
    zero = growth_csv(tmp / "zero.csv", dict.fromkeys(REGIONS, 0.0))
    mixed = growth_csv(tmp / "mixed.csv", {r: 0.03 if i % 2 else -0.02
                                           for i, r in enumerate(REGIONS)})
    base = tmp / "base.toml"  # the demo without its own population table
    base.write_text(f'extends = "{FUT}"\nunset = ["people.population_growth_file"]\n')
    out = {}
    for name, extra in (("none", []), ("zero", [f"people.population_growth_file={zero}"]),
                        ("mixed", [f"people.population_growth_file={mixed}"]),
                        ("again", [f"people.population_growth_file={mixed}"])):
        model = DisplacementModel(load_scenario(base, [*SMALL, *extra]),
                                  check_invariants=name == "mixed")
        out[name] = model.run()
    return out


def test_conservation_every_step_with_moves_and_floods(runs):
    ds = runs["mixed"]
    residents = ds["persons"].sum("state")
    total = residents.sum("region").values
    change = (ds["births"] - ds["deaths"]).sum("region").values
    assert total[0] == runs["none"]["persons"].isel(time=0).sum()  # no births at step 0
    assert np.array_equal(total, total[0] + np.cumsum(change) - change[0])
    assert change[0] == 0 and ds["births"].sum() > 0 and ds["deaths"].sum() > 0
    moved = ds["relocations"].sum("cause")
    net_in = moved.sum("origin").values - moved.sum("destination").values
    by_region = residents.values[1:] - residents.values[:-1]
    assert np.array_equal(by_region, (ds["births"] - ds["deaths"]).values[1:] + net_in[1:])
    assert ds["newly_displaced"].sum() > 0 and moved.sum() > 0  # floods and moves happened
    groups = ds["persons_by_group"].sel(group=["children", "adults", "older_persons"])
    assert np.array_equal(groups.sum("group").values, ds["persons"].values)
    assert ds.attrs["total_persons"] == total[-1]


def test_reruns_are_bit_identical(runs):
    assert runs["mixed"].identical(runs["again"])


def test_zero_growth_is_no_file(runs):
    none, zero = runs["none"], runs["zero"]
    assert set(zero.data_vars) - set(none.data_vars) == {"births", "deaths"}
    assert zero["births"].sum() == 0 and zero["deaths"].sum() == 0
    for name in none.data_vars:
        assert none[name].identical(zero[name]), name
    assert not none["persons"].identical(runs["mixed"]["persons"])


def _bad(tmp_path, capsys, text: str) -> str:
    table = tmp_path / "g.csv"
    table.write_text(text)
    code = main(["run", str(FUT), "--set", "population.households=3000", "--set", "n_steps=157",
                 "--set", f"people.population_growth_file={table}", "--out", str(tmp_path / "o")])
    assert code == 2 and not (tmp_path / "o").exists()
    return capsys.readouterr().err.replace(str(table), "TABLE")


def _rows(years=(2026, 2027), skip: str = "") -> list[str]:
    return [f"{r},{y},0.01" for r in REGIONS for y in years if f"{r},{y}" != skip]


@pytest.mark.parametrize("text,expected", [
    ("\n".join(["region,year,population_growth", *_rows(skip="Delta East,2027")]),
     "people.population_growth_file: no row for region 'Delta East' in 2027 (every region "
     "needs every year 2026-2027)"),
    ("\n".join(["region,year,population_growth", *_rows(), "Atlantis,2026,0.01"]),
     "people.population_growth_file: line 18: unknown region 'Atlantis'"),
    ("\n".join(["region,year,population_growth", *_rows(), "Delta East,2026,lots"]),
     "people.population_growth_file: line 18: year and population_growth must be numbers"),
    ("\n".join(["region,year,population_growth", *_rows(), "Delta East,2026,nan"]),
     "people.population_growth_file: line 18: year and population_growth must be numbers"),
    ("\n".join(["region,year,population_growth", *_rows(), "Delta East,2026,-1"]),
     "people.population_growth_file: line 18: population_growth -1.0 is not above -1"),
    ("\n".join(["region,year,growth", *_rows()]),
     "people.population_growth_file: expected columns region (or country), year, "
     "population_growth; got ['growth', 'region', 'year']"),
])
def test_bad_population_table_is_one_line(tmp_path, capsys, text, expected):
    assert _bad(tmp_path, capsys, text + "\n") == f"error: TABLE: {expected}\n"


def test_missing_population_table(tmp_path, capsys):
    code = main(["run", str(FUT), "--set", f"people.population_growth_file={tmp_path}/no.csv",
                 "--out", str(tmp_path / "o")])
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path}/no.csv: people.population_growth_file: file not found\n")


def test_a_households_births_are_independent_from_year_to_year():
    one, _ = grown(40_000, (0.05,), 1, seed=5)
    two, _ = grown(40_000, (0.05,), 2, seed=5)  # the same first year: draws keyed by year
    none_first = one.hh.size == 4  # no birth in the first year
    second = (two.hh.size > one.hh.size)[none_first]
    p = 1 - (1 - 0.05) ** 4  # all at home: p_r = g, a household of four has a birth with p
    assert abs(second.mean() - p) < 5 * np.sqrt(p * (1 - p) / second.size)


def test_memory_is_estimated_and_flat_in_years():
    cfg = load_scenario(FUT, SMALL)
    inputs = load_inputs(cfg)
    est = memory_estimate(cfg, inputs)
    model = DisplacementModel(cfg, inputs=inputs)
    arrays = {k: v.nbytes for k, v in vars(model.households).items() if v is not None}
    model.run()
    rec = model.world.recorder
    pairs = pair_table_bytes(cfg.n_steps, len(inputs.region_names))  # sparse: an allowance
    assert est["result_bytes"] == rec.array_bytes() + pairs + model.world.displaced_since.nbytes
    assert rec.flows.nbytes + rec.relocations.nbytes <= pairs
    assert rec.births.sum() > 0  # the demo's own table: births were recorded in rec's arrays
    assert arrays == {k: v.nbytes for k, v in vars(model.households).items() if v is not None}


def test_the_cli_names_the_persons_at_the_start_and_at_the_end(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", str(FUT), "--set", "population.households=3000", "--set", "n_steps=157",
                 "--out", str(out)]) == 0
    ds = xr.open_dataset(out / "results.nc")
    start = int(ds["persons"].isel(time=0).sum())
    end = start + int(ds["births"].sum() - ds["deaths"].sum())
    assert end != start and ds.attrs["total_persons"] == end
    assert (f"households of {start:,} persons, synthesised from the population input's "
            f"1,095,303 persons ({end:,} at the end, with births and deaths)"
            ) in capsys.readouterr().out


@settings(max_examples=150, deadline=None)
@given(n=st.integers(0, 300), n_regions=st.integers(1, 9), block=st.integers(1, 70),
       runs=st.booleans(), seed=st.integers(0, 2**31))
def test_region_blocks_equal_scanning_every_block_for_every_region(n, n_regions, block, runs,
                                                                   seed):
    """Synthesis visits a region's households block by block as a full scan would."""
    rng = np.random.default_rng(seed)
    region = rng.integers(0, n_regions + 1, n).astype(np.int16)  # some beyond the regions
    if runs:  # households stored by cell: runs of one region
        region = np.sort(region)[np.argsort(rng.integers(0, 4, n), kind="stable")]
    scan = [(r, start + np.flatnonzero(region[start:start + block] == r))
            for r in range(n_regions) for start in range(0, n, block)]
    want = [(r, ids) for r, ids in scan if ids.size]
    got = list(region_blocks(region, n_regions, block))
    assert [r for r, _ in got] == [r for r, _ in want]
    assert all(np.array_equal(a, b) and a.dtype == np.int64 for (_, a), (_, b) in zip(got, want))

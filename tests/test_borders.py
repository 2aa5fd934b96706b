"""Countries, borders, pathways, irregular routes and pledges (issue 20).

On the shipped three-country demo (``scenarios/borders.toml``) with paired seeds: each lever
moves the indicators it should, quotas are never exceeded, approved moves wait their
processing time, closures stop every crossing, and the protection counts add up. The rules are
checked against their closed forms; bad input gets one line and exit code 2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator import DisplacementModel, load_scenario
from simulator.rules.pathways import (
    CLOSED,
    NO_BORDER,
    OPEN,
    QUOTA,
    eligible,
    irregular_utility,
    policy_on,
)
from simulator.ui.cli import main
from simulator.world.recorder import pair_table_bytes

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "scenarios"
PERSONS = ["children", "adults", "older_persons"]


def run(name: str = "borders.toml", *overrides: str, check: bool = False):
    cfg = load_scenario(SCEN / name, list(overrides))
    return DisplacementModel(cfg, check_invariants=check).run()


@pytest.fixture(scope="module")
def base():
    return run(check=True)  # every step: conservation and capacity recounted


def total(ds, var="cross_border", **sel):
    return int(ds[var].sel(**sel).sum())


# -- rules ---------------------------------------------------------------------------------------
def test_policy_on_applies_closures_both_ways_only_in_their_period():
    policy = np.array([[NO_BORDER, QUOTA, OPEN], [QUOTA, NO_BORDER, NO_BORDER],
                       [OPEN, NO_BORDER, NO_BORDER]], np.int8)
    args = (np.array([10]), np.array([20]), np.array([0]), np.array([2]))
    assert (policy_on(policy, *args, 9.0) == policy).all()
    shut = policy_on(policy, *args, 10.0)
    assert shut[0, 2] == shut[2, 0] == CLOSED and shut[0, 1] == QUOTA
    assert (policy_on(policy, *args, 20.0) == policy).all()  # [first_day, end_day)


def test_irregular_utility_is_the_lottery_of_arriving_and_being_sent_back():
    assert irregular_utility(np.array([10.0]), np.array([4.0]), 0.25)[0] == 0.75 * 10 + 0.25 * 4
    assert irregular_utility(np.array([10.0]), np.array([4.0]), 0.0)[0] == 10.0


def test_eligibility_by_kind():
    adults, income = np.array([0, 1, 2]), np.array([900.0, 2000.0, 2000.0])
    size, kin, displaced = np.array([3, 3, 9]), np.array([True, False, True]), np.ones(3, bool)
    labour = eligible(0, adults, income, size, kin, 1000.0, 8, displaced)
    assert labour.tolist() == [False, True, False]  # no adult; ok; too large
    family = eligible(1, adults, income, size, kin, 0.0, np.inf, displaced)
    assert family.tolist() == [True, False, True]
    assert eligible(2, adults, income, size, kin, 0.0, np.inf, ~displaced).tolist() == [False] * 3


# -- the demo ------------------------------------------------------------------------------------
def test_countries_label_regions_and_residents_add_up(base):
    assert sorted(set(base["country"].values.tolist())) == ["Aridia", "Haven", "Riverland"]
    by_country = base["residents"].groupby("country").sum()
    assert (by_country.sum("country") == base["residents"].sum("region")).all()
    assert base["residents"].isel(time=-1).sum() == base["residents"].isel(time=0).sum()


def test_yearly_quotas_are_never_exceeded(base):
    cfg = load_scenario(SCEN / "borders.toml")
    year = (np.arange(base.sizes["time"]) * 7 // 365.25).astype(int)
    for name, pw in cfg.pathways.items():
        for q in pw.quotas:
            pick = {"origin_country": q.from_, "destination_country": q.to, "pathway": name}
            per_year = np.bincount(year, base["pathway_approved"].sel(pick).values)
            assert per_year.max() <= q.persons_per_year
    riverland = base["pathway_approved"].sel(origin_country="Riverland", pathway="seasonal_work")
    assert int(riverland.sum()) > 0  # the test is not vacuous: a quota is used

def test_approved_moves_wait_their_processing_time_and_all_arrive_or_lapse(base):
    cfg = load_scenario(SCEN / "borders.toml")
    decisions = np.flatnonzero((np.arange(base.sizes["time"]) * 7) % 365 < 7)
    for name in ("seasonal_work", "family"):
        wait = {"seasonal_work": 120, "family": 270}[name] // cfg.step_days
        moved = base["cross_border"].sel(route=name).sum(
            ["origin_country", "destination_country", "purpose"]).values
        assert set(np.flatnonzero(moved)) <= set(decisions + wait)
        assert moved[:wait].sum() == 0
    approved = total(base, "pathway_approved", pathway=["seasonal_work", "family"])
    crossed = total(base, route=["seasonal_work", "family"])
    assert crossed + total(base, "pathway_lapsed") == approved


def test_protection_counts_add_up(base):
    irregular = total(base, route="irregular")
    assert total(base, "irregular_by_group", group=PERSONS) == irregular > 0
    assert total(base, "stranded_at_border", group=PERSONS) > 0
    assert total(base, "sent_back") > 0
    women = total(base, "irregular_by_group", group="women")
    assert 0 < women < irregular


def test_open_border_has_no_irregular_crossings_and_no_stranded(base):
    pair = {"origin_country": "Riverland", "destination_country": "Aridia"}
    assert total(base, **pair, route="open_border") > 0
    assert total(base, **pair, route="irregular") == 0
    assert total(base, "stranded_at_border", **pair) == 0


def test_more_quota_means_fewer_irregular_crossings_and_less_unmet_shelter(base):
    more = run("borders-more-quota.toml")
    assert total(more, route="irregular") < total(base, route="irregular")
    assert total(more, "stranded_at_border", group=PERSONS) < \
        total(base, "stranded_at_border", group=PERSONS)
    assert int(more["unmet_shelter"].sum()) < int(base["unmet_shelter"].sum())
    assert total(more, route="protection") > total(base, route="protection")


def test_more_camps_at_home_cut_unmet_shelter_not_irregular_crossings(base):
    camps = run("borders-more-camps.toml")
    assert int(camps["unmet_shelter"].sum()) < int(base["unmet_shelter"].sum()) / 5
    assert total(camps, route="irregular") >= 0.9 * total(base, route="irregular")


def test_pledge_adds_places_and_quota(base):
    pledge = run("borders-pledge.toml")
    cap = "capacity"
    full = {"region": "Haven City", "place": "camp"}
    assert float(pledge[cap].sel(full).max()) == float(base[cap].sel(full).max()) + 15000
    assert total(pledge, route="protection") > total(base, route="protection")


def test_a_closed_border_stops_every_crossing_and_strands_who_wanted_to():
    shut = run("borders.toml", "borders.2.policy=closed")
    for a, b in (("Riverland", "Haven"), ("Haven", "Riverland")):
        assert total(shut, origin_country=a, destination_country=b) == 0
    assert total(shut, "stranded_at_border", group=PERSONS, origin_country="Riverland",
                 destination_country="Haven") > 0


def test_a_closed_period_closes_the_border_only_then():
    days = (700, 1500)
    ds = run("borders.toml", f"borders.2.closed_days=[[{days[0]}, {days[1]}]]")
    day = np.arange(ds.sizes["time"]) * 7
    moved = ds["cross_border"].sel(origin_country="Riverland", destination_country="Haven") \
        .sum(["route", "purpose"]).values
    assert moved[(day >= days[0]) & (day < days[1])].sum() == 0
    assert moved[day >= days[1]].sum() > 0


def test_irregular_routes_off_means_none_and_more_stranded(base):
    off = run("borders.toml", "irregular.enabled=false")
    assert total(off, route="irregular") == 0 and total(off, "sent_back") == 0
    assert total(off, "stranded_at_border", group=PERSONS) > \
        total(base, "stranded_at_border", group=PERSONS)


def test_bit_identical_reruns(base):
    again = run(check=False)
    for var in ("cross_border", "stranded_at_border", "persons", "relocations"):
        assert np.array_equal(again[var].values, base[var].values)


# -- bad input -----------------------------------------------------------------------------------
def borders_case(tmp_path: Path, old: str, new: str) -> Path:
    text = (SCEN / "borders.toml").read_text().replace(
        "../climate_inputs/", f"{ROOT}/climate_inputs/")
    assert old in text
    path = tmp_path / "b.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old,new,expected", [
    ('countries = ["Aridia", "Haven"]', 'countries = ["Aridia", "Heaven"]',
     "borders[1].countries: unknown country 'Heaven' (countries: Aridia, Riverland, Haven)"),
    ('{ from = "Aridia", to = "Haven", persons_per_year = 500 },\n  { from = "Riverland"',
     '{ from = "Aridia", to = "Atlantis", persons_per_year = 500 },\n  { from = "Riverland"',
     "pathways.family.quotas[0].to: unknown country 'Atlantis' (countries: Aridia, Riverland, "
     "Haven)"),
    ('countries = ["Aridia", "Riverland"]\npolicy = "open"', 'countries = ["Aridia", "Haven"]\n'
     'policy = "open"', "borders: the border between Aridia and Haven is listed twice"),
    ('persons_per_year = 1000', 'persons_per_year = -5',
     "pathways.seasonal_work.quotas.0.persons_per_year: a quota is a number of persons >= 0 "
     "(got -5)"),
])
def test_bad_borders_input(tmp_path, capsys, old, new, expected):
    path = borders_case(tmp_path, old, new)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"error: {path}: {expected}\n"
    assert not out.exists()


def test_quota_on_a_pair_without_a_border(tmp_path, capsys):
    path = borders_case(tmp_path, '[[borders]]\ncountries = ["Aridia", "Riverland"]\n'
                        'policy = "open"', "")
    path.write_text(path.read_text().replace(
        '{ from = "Aridia", to = "Haven", persons_per_year = 500 },\n]',
        '{ from = "Aridia", to = "Riverland", persons_per_year = 500 },\n]', 1))
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}: pathways.protection.quotas[1]: no border between Aridia and Riverland "
        "in [[borders]]; a quota needs one\n")


def test_pledge_region_outside_the_pledging_country(tmp_path, capsys):
    path = borders_case(tmp_path, "[irregular]", '[[pledges]]\nby = "Haven"\nfor = "Riverland"\n'
                        'region = "Port Delta"\ncamp_places = 100\n\n[irregular]')
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}: pledges[0].region: 'Port Delta' is not a region of Haven\n")


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_failure_share_extremes(share):
    ds = run("borders.toml", f"irregular.failure_share={share}")
    tried = total(ds, route="irregular") + total(ds, "sent_back")
    assert tried > 0
    assert total(ds, "sent_back") == (tried if share == 1.0 else 0)


def test_set_picks_an_item_of_an_array_of_tables_and_names_a_bad_index(tmp_path, capsys):
    cfg = load_scenario(SCEN / "borders.toml", ["borders.2.policy=closed"])
    assert [b.policy for b in cfg.borders] == ["open", "quota", "closed"]
    code = main(["run", str(SCEN / "borders.toml"), "--set", "borders.7.policy=open",
                 "--out", str(tmp_path / "out")])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: --set: borders.7.policy: '7' is not an item of a list of 3 (0 to 2)\n")


def test_a_region_without_a_country(tmp_path, capsys):
    names = tmp_path / "regions.csv"
    rows = (ROOT / "climate_inputs/borders/regions.csv").read_text().splitlines()
    names.write_text("\n".join([*rows[:3], rows[3].rsplit(",", 1)[0] + ",", *rows[4:]]) + "\n")
    path = borders_case(tmp_path, f'names = "{ROOT}/climate_inputs/borders/regions.csv"',
                        f'names = "{names}"')
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"error: {names}: regions.names: line 4: empty country (with a country column every "
        "region needs one)\n")


def test_memory_estimate_counts_the_border_results_exactly():
    import simulator.model as model
    from simulator.inputs.load import load_inputs

    cfg = load_scenario(SCEN / "borders.toml", ["n_steps=120"])
    inputs = load_inputs(cfg)
    est = model.memory_estimate(cfg, inputs)
    world = DisplacementModel(cfg, inputs=inputs).world
    border = sum(a.nbytes for a in vars(world.crossings).values() if isinstance(a, np.ndarray))
    pairs = pair_table_bytes(cfg.n_steps, len(inputs.region_names))  # sparse: an allowance
    assert est["result_bytes"] == world.recorder.array_bytes() + pairs \
        + world.displaced_since.nbytes + border

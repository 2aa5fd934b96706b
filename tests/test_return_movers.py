"""The return and record steps at the cost of those who can change (issue 21): exactly as before.

Displaced households whose home is lost and who have no repair date sleep while their home cell
stays wet (``recover._sleep``); where every away home is wet only those away long enough to lose
their home are looked at; the income forgone goes on from the last step's sums. Each test runs
a case where homes are lost, cells dry and households come home, with these shortcuts and with
``Context.plain_placement`` (everyone away looked at every step), and asks for the same results
and the same households.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator import DisplacementModel, load_scenario
from simulator.interop.flee.convert import import_flee
from simulator.steps import recover

from .conftest import REPO
from .test_streamed_hazard import _multi_year_case
from .test_walk import write
from .tiny import assert_same_runs

#: homes are lost after 5 days wet; repairs take at least 3 days once dry, about 10
RETURNS = ["return.home_lost_after_wet_days=5", "return.min_days_away=3",
           "return.repair_days_total_loss=10"]


def _ending_conflict(tmp_path, days: int = 60, a_ends: int = 20, b_ends: int = 45,
                     km: int = 10, camp: int = 1000000, a_again: int = 1000):
    """Flee case: conflict zones A and B (1000 leave a day) whose conflicts end on a given day.

    A's conflict starts again on day ``a_again``. Both are ``km`` from camp C, of ``camp`` places.
    """
    last = (np.datetime64("2020-01-01") + np.timedelta64(days - 1, "D")).astype(str)
    rows = "".join(f"{d},{int(d < a_ends or d >= a_again)},{int(d < b_ends)}\n"
                   for d in range(days))
    files = {
        "input_csv/locations.csv": "#name,region,country,lat,lon,location_type,conflict_date,"
                                   "population\nA,R,X,1.0,1.0,conflict_zone,0,40000\n"
                                   "B,R,X,1.5,1.0,conflict_zone,0,40000\n"
                                   f"C,R,X,1.2,1.0,camp,,{camp}\n",
        "input_csv/routes.csv": f"#name1,name2,distance\nA,C,{km}\nB,C,{km}\n",
        "input_csv/sim_period.csv": f"StartDate,2020-01-01\nLength,{days}\n",
        "input_csv/conflicts.csv": "#Day,A,B\n" + rows,
        "source_data/data_layout.csv": "total,refugees.csv\nC,c.csv\n",
        "source_data/refugees.csv": f"2020-01-01,0\n{last},{1000 * (days - 1)}\n",
        "source_data/c.csv": f"2020-01-01,0\n{last},{1000 * (days - 1)}\n"}
    path, _ = import_flee(write(tmp_path / "flee", files), tmp_path / "scen")
    return path


def _run(path, overrides, plain: bool, check: bool = False, never_lost: bool = False):
    cfg = load_scenario(path, overrides)
    if never_lost:  # home_lost_after_wet_days unset: homes are never lost
        cfg = cfg.model_copy(update={"return_": cfg.return_.model_copy(
            update={"home_lost_after_wet_days": None})})
    model = DisplacementModel(cfg, check_invariants=check)
    model.ctx = dataclasses.replace(model.ctx, plain_placement=plain)
    return model, model.run()


def _assert_identical(a, b) -> None:
    assert_same_runs(a, b, ("state", "damage", "due_step", "since_step", "place", "region",
                            "income"), "the shortcuts")


def test_lost_homes_that_dry_and_return_alike_with_and_without_shortcuts(tmp_path, monkeypatch):
    """A's homes dry on day 20 and are wet again from day 24 (their repair dates cleared)."""
    path = _ending_conflict(tmp_path, a_again=24)
    heads, sleepers = [], []
    watched, sleep = recover._watched, recover._sleep

    def watching(world, *args):
        ids, head = watched(world, *args)
        heads.append(head)
        sleepers.append(world.away_ids.size - world.watched_ids.size)
        return ids, head

    monkeypatch.setattr(recover, "_watched", watching)
    fast = _run(path, RETURNS, plain=False, check=True)
    monkeypatch.setattr(recover, "_watched", watched)
    plain = _run(path, RETURNS, plain=True)
    _assert_identical(fast, plain)
    ds = fast[1]
    # the shortcuts were taken, and what they skip happened: homes lost, repaired, returns
    assert sum(heads) > 10 and max(sleepers) > 5000 and sleep is recover._sleep
    assert float(ds["home_losses"].sum()) > 0
    assert int(ds["returns"].sum()) > 10000
    assert float(ds["income_forgone_away"].isel(time=-1).sum()) < float(
        ds["income_forgone_away"].max("time").sum())  # fell as households came home


@pytest.mark.parametrize("never_lost", [True, False])
def test_without_home_losses_or_with_the_limit_between_steps_alike(tmp_path, never_lost):
    """No home is ever lost, or the limit (2.5 days) falls between steps."""
    path = _ending_conflict(tmp_path, days=40, a_ends=12, b_ends=30)
    overrides = RETURNS[1:] + ["return.home_lost_after_wet_days=2.5"]
    fast = _run(path, overrides, plain=False, check=True, never_lost=never_lost)
    _assert_identical(fast, _run(path, overrides, plain=True, never_lost=never_lost))
    assert (float(fast[1]["home_losses"].sum()) > 0) != never_lost


def test_the_ones_on_their_way_alike_with_and_without_shortcuts(tmp_path):
    """Days on the way to a camp that fills: the unsheltered are placed later, and travel."""
    path = _ending_conflict(tmp_path, days=40, km=1500, camp=15000)
    fast = _run(path, RETURNS, plain=False, check=True)
    _assert_identical(fast, _run(path, RETURNS, plain=True))
    ds = fast[1]
    assert int(ds["in_transit"].sum()) > 10000
    assert int(ds["occupancy"].sel(place="unsheltered").sum()) > 10000


def test_flood_demo_with_warnings_alike_with_and_without_shortcuts():
    """Evacuees, damage by depth, wet and dry cells at once."""
    overrides = ["population.households=20000", "n_steps=90",
                 "return.home_lost_after_wet_days=4"]
    scenario = REPO / "scenarios" / "demo-early-warning.toml"
    _assert_identical(_run(scenario, overrides, plain=False, check=True),
                      _run(scenario, overrides, plain=True))


def test_flooded_fraction_alike_with_and_without_shortcuts(tmp_path):
    """Homes hit by a flooded fraction of their cell: wet or dry home by home, so no cell sleeps.

    With a fraction, a cell holds wet and dry homes at once; a step that looked only at whole
    cells would keep asleep households whose own home has dried.
    """
    path = _multi_year_case(tmp_path)
    overrides = ["n_steps=400", "return.home_lost_after_wet_days=2", "return.min_days_away=3"]
    fast = _run(path, overrides, plain=False, check=True)
    _assert_identical(fast, _run(path, overrides, plain=True))
    ds = fast[1]
    assert float(ds["home_losses"].sum()) > 0 and int(ds["returns"].sum()) > 0

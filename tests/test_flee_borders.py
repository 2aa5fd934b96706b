"""import-flee maps Flee's countries and country closures onto countries and [[borders]].

Flee's semantics (flee/flee.py ``Ecosystem.enact_border_closures``, called before each day's
moves in runscripts/run.py): a ``country`` row closes every route between the two countries on
``closure_start`` and reopens them on ``closure_end`` (-1: never), so it closes the days
``[closure_start, closure_end)``. A run of an imported case moves nobody across the border on
those days and does afterwards.
"""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.inputs.config import load_scenario
from simulator.interop.flee.borders import closed_periods, country_borders
from simulator.interop.flee.convert import import_flee
from simulator.interop.flee.reader import FleeClosure, read_flee
from simulator.ui.cli import main
from tests.test_flee_cases import FABFLEE

# Two countries: conflict zone T (1000 people, 20 displaced a day) in Homeland, its only camp C
# across the border in Refugia, 10 km away; the border is closed on days 0 to 10.
SMALL = {
    "input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,conflict_date,population
        T,North,Homeland,1.0,2.0,conflict_zone,0,1000
        C,South,Refugia,1.1,2.0,camp,,1000
        """,
    "input_csv/routes.csv": "#name1,name2,distance\nT,C,10\n",
    "input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,15\n",
    "input_csv/closures.csv": """\
        #closure_type,name1,name2,closure_start,closure_end
        country,Homeland,Refugia,0,10
        """,
    "simsetting.yml": """\
        spawn_rules:
          conflict_driven_spawning:
            spawn_mode: "constant"
            displaced_per_conflict_day: 20
        """,
}
CLOSED = 10  # the border reopens on this day


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def closure(start: int, end: int, line: int = 2) -> FleeClosure:
    return FleeClosure("country", "A", "B", start, end, line)


def periods(rows: list[FleeClosure], n: int) -> list[tuple[int, int]]:
    return [(p.first_day, p.end_day) for p in closed_periods(rows, n)]


def test_one_closure_closes_its_start_day_to_the_day_before_its_end():
    assert periods([closure(0, 10)], 30) == [(0, 10)]
    assert periods([closure(4, -1)], 30) == [(4, 30)]  # -1: closed to the end of the run
    assert periods([closure(5, 5)], 30) == []  # reopened on the same day before anyone moves
    assert periods([closure(8, 3)], 30) == [(8, 30)]  # the reopening came first: never undone
    assert periods([closure(30, 40)], 30) == []  # starts after the last day
    assert periods([closure(20, 40)], 30) == [(20, 30)]


def test_overlapping_closures_act_as_flee_events_not_as_a_union():
    # Flee's reopen_border opens the border whichever row closed it: row 2 reopens on day 10
    # though row 1's period runs to 20, and row 1's reopening on day 20 then changes nothing
    assert periods([closure(0, 20), closure(5, 10, 3)], 30) == [(0, 10)]
    got = closed_periods([closure(0, 20), closure(5, 10, 3)], 30)
    assert got[0].source == "closures.csv line 2 closes it, line 3 reopens it: closed on day 0, " \
                            "reopened on day 10"


def flee_days(rows: list[FleeClosure], n: int) -> list[bool]:
    """Whether the border is closed during each day's moves, looping as Flee's run.py does."""
    closed, out = False, []
    for t in range(n):  # e.enact_border_closures(t); e.evolve()
        for c in rows:
            if t == c.start_day:
                closed = True
            if t == c.end_day:
                closed = False
        out.append(closed)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 25), st.integers(-1, 25)), max_size=4),
       st.integers(1, 25))
def test_closed_periods_are_the_days_flee_keeps_the_border_closed(spans, n):
    rows = [closure(a, b, k + 2) for k, (a, b) in enumerate(spans)]
    days = [False] * n
    for lo, hi in periods(rows, n):
        assert 0 <= lo < hi <= n
        days[lo:hi] = [True] * (hi - lo)
    assert days == flee_days(rows, n)


def test_small_case_imports_countries_and_the_border_with_its_closed_days(tmp_path):
    path, notes = import_flee(write(tmp_path / "flee", SMALL), tmp_path / "scen")
    with (tmp_path / "scen" / "regions.csv").open() as fh:
        assert [(r["name"], r["country"]) for r in csv.DictReader(fh)] == [
            ("T", "Homeland"), ("C", "Refugia")]
    [border] = load_scenario(path).borders
    assert (border.countries, border.policy, border.closed_days) == (
        ("Homeland", "Refugia"), "open", ((0, CLOSED),))
    assert "    [0, 10],  # closures.csv line 2: closed on day 0, reopened on day 10\n" \
        in path.read_text()
    assert "border Homeland–Refugia closed on days [0, 10) (closures.csv line 2: closed on " \
           "day 0, reopened on day 10)" in notes
    assert not any("not applied" in n for n in notes)


def test_nobody_crosses_while_the_border_is_closed_and_people_do_after(tmp_path):
    flee = write(tmp_path / "flee", SMALL)
    assert main(["import-flee", str(flee), "--out", str(tmp_path / "scen")]) == 0
    assert main(["run", str(tmp_path / "scen" / "scenario.toml"), "--out",
                 str(tmp_path / "run"), "--quiet"]) == 0
    ds = xr.open_dataset(tmp_path / "run" / "results.nc")
    pair = {"origin_country": "Homeland", "destination_country": "Refugia"}
    crossed = ds["cross_border"].sum(("route", "purpose")).sel(pair).values
    flows = ds["flows"].sel(origin="T", destination="C").values
    assert (crossed[:CLOSED] == 0).all() and (flows[:CLOSED] == 0).all()
    # on the day it reopens the 200 held back and that day's 20 cross; then 20 a day
    assert crossed[CLOSED:].tolist() == flows[CLOSED:].tolist() == [220, 20, 20, 20, 20]
    groups = {"group": ["children", "adults", "older_persons"]}  # they add up to persons
    stranded = ds["stranded_at_border"].sel({**pair, **groups})
    assert stranded.sum("group").values.tolist() == [20] * CLOSED + [0] * 5


def test_closures_that_cannot_apply_are_notes_with_counts_by_type(tmp_path):
    files = dict(SMALL, **{
        "input_csv/locations.csv": SMALL["input_csv/locations.csv"]
        + "        F,West,Farland,1.0,1.5,town,,100\n",
        "input_csv/routes.csv": "#name1,name2,distance\nT,C,10\nT,F,30\n",
        "input_csv/closures.csv": """\
            #closure_type,name1,name2,closure_start,closure_end
            country,Refugia,Farland,0,5
            location,T,,1,2
            camp,C,,1,3
            location,F,,1,2
            country,Homeland,Homeland,2,4
            country,Homeland,Farland,3,-1
            """})
    path, notes = import_flee(write(tmp_path / "flee", files), tmp_path / "scen")
    assert "closures.csv line 2: country closure Refugia–Farland: no route joins Refugia and " \
           "Farland, so Flee closes nothing (it warns 'no link closed'): not applied" in notes
    assert "closures.csv line 6: country closure Homeland–Homeland names one country twice " \
           "(Flee would close every route within Homeland): not applied" in notes
    # the others become the walk's closures, each replayed as Flee does
    assert "location closure T: closed on days [1, 2) in Flee's walk (placement.routes." \
           "closures; the direct trip ignores it)" in notes
    closures = {(c.kind, c.names): c.closed_days
                for c in load_scenario(path).placement.routes.closures}
    assert closures == {("location", ("T",)): ((1, 2),), ("camp", ("C",)): ((1, 3),),
                        ("location", ("F",)): ((1, 2),)}
    borders = {b.countries: b.closed_days for b in load_scenario(path).borders}
    # Refugia and Farland share no route but people pass through Homeland, as in Flee; from
    # day 3 the Homeland-Farland closure cuts the only way
    assert borders == {("Homeland", "Refugia"): (), ("Homeland", "Farland"): ((3, 15),),
                       ("Refugia", "Farland"): ((3, 15),)}


def test_pairs_reachable_only_through_others_close_when_every_way_is_closed(tmp_path):
    # A - B - C in a line and A - D - C around: A and C are cut only while both ways are
    files = dict(SMALL, **{
        "input_csv/locations.csv": """\
            #name,region,country,lat,lon,location_type,conflict_date,population
            a,R,A,1.0,1.0,conflict_zone,0,100
            b,R,B,1.0,2.0,town,,100
            c,R,C,1.0,3.0,camp,,100
            d,R,D,2.0,2.0,town,,100
            """,
        "input_csv/routes.csv": "#name1,name2,distance\na,b,1\nb,c,1\na,d,2\nd,c,2\n",
        "input_csv/closures.csv": "#closure_type,name1,name2,closure_start,closure_end\n"
                                  "country,B,A,0,8\ncountry,C,D,4,12\n"})
    borders, _ = country_borders(read_flee(write(tmp_path / "flee", files)))
    got = {b.countries: [(p.first_day, p.end_day) for p in b.periods] for b in borders}
    assert got[("A", "B")] == [(0, 8)] and got[("C", "D")] == [(4, 12)]
    assert got[("A", "C")] == [(4, 8)]  # both ways closed only on days 4 to 7
    assert got[("B", "D")] == [(4, 8)]  # B-A-D and B-C-D


def test_mali2012_imports_its_countries_and_flee_closed_days(tmp_path):
    name = FABFLEE / "conflict" / "mali2012"
    if not name.is_dir():
        pytest.skip(f"no FabFlee case at {name}")
    path, notes = import_flee(name, tmp_path / "scen")
    with (tmp_path / "scen" / "regions.csv").open() as fh:
        countries = {r["name"]: r["country"] for r in csv.DictReader(fh)}
    assert countries["Kidal"] == "Mali" and countries["Fassala-Mbera"] == "Mauritania"
    assert countries["Mentao"] == "Burkina_Faso" and countries["Abala"] == "Niger"
    borders = {b.countries: (b.policy, b.closed_days) for b in load_scenario(path).borders}
    # closures.csv: country,Mali,Burkina_Faso,0,22 and country,Mali,Niger,0,33
    assert borders == {
        ("Mali", "Mauritania"): ("open", ()), ("Mali", "Burkina_Faso"): ("open", ((0, 22),)),
        ("Mali", "Niger"): ("open", ((0, 33),)),
        # no route of their own: through Mali, cut while Mali's border on the way is closed
        ("Mauritania", "Burkina_Faso"): ("open", ((0, 22),)),
        ("Mauritania", "Niger"): ("open", ((0, 33),)),
        ("Burkina_Faso", "Niger"): ("open", ((0, 33),))}
    assert not any("closure(s) in closures.csv are not applied" in n for n in notes)


def test_mali2012_run_crosses_each_border_only_once_flee_reopens_it(tmp_path):
    name = FABFLEE / "conflict" / "mali2012"
    if not name.is_dir():
        pytest.skip(f"no FabFlee case at {name}")
    path, _ = import_flee(name, tmp_path / "scen")
    assert main(["run", str(path), "--set", "n_steps=35", "--out", str(tmp_path / "run"),
                 "--quiet"]) == 0
    ds = xr.open_dataset(tmp_path / "run" / "results.nc")
    crossed = ds["cross_border"].sum(("route", "purpose")).sel(origin_country="Mali")
    for country, reopens in (("Burkina_Faso", 22), ("Niger", 33)):
        days = crossed.sel(destination_country=country).values
        assert (days[:reopens] == 0).all() and (days[reopens:] > 0).all()
    assert (crossed.sel(destination_country="Mauritania").values > 0).all()  # never closed

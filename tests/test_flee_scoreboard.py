"""The Flee scoreboard (benchmarks/flee_scoreboard.py) scores every case it finds, one row per case
and mode, keeps going past a broken case and measures each run's own peak memory.

Two shared FabFlee cases (dflee_example has observations, dflee_test_small_flooding_revised has
none) and a copy of dflee_example with a damaged locations.csv, run for 2 days. The script runs
as a child process, as a user runs it: its peak-memory figures depend on its own small size.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO
from .test_flee_cases import FABFLEE

SCRIPT = REPO / "benchmarks" / "flee_scoreboard.py"
OBSERVED, UNOBSERVED = "flood/dflee_example", "flood/dflee_test_small_flooding_revised"
PERSONS = {OBSERVED: 3_500, UNOBSERVED: 11_000}  #: residents of locations.csv
BROKEN_LINE = ("broken/input_csv/locations.csv: line 3: column 'lat': expected a number "
               "(degrees), got 'x'")

sys.path.insert(0, str(REPO / "benchmarks"))
import flee_scoreboard  # noqa: E402


def scoreboard(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


@pytest.fixture
def cases(tmp_path) -> Path:
    if not (FABFLEE / OBSERVED).is_dir():
        pytest.skip(f"no FabFlee cases at {FABFLEE}")
    root = tmp_path / "cases"
    for name in (OBSERVED, UNOBSERVED):
        shutil.copytree(FABFLEE / name, root / name)
    shutil.copytree(FABFLEE / OBSERVED, root / "broken")
    loc = root / "broken" / "input_csv" / "locations.csv"
    lines = loc.read_text().splitlines()
    lines[2] = "F1,R,C,x,y,flood_zone,0,1000"  # line 3: no coordinates
    loc.write_text("\n".join(lines) + "\n")
    return root


def test_every_case_and_mode_gets_a_row_and_a_broken_case_stops_nothing(tmp_path, cases):
    out, keep = tmp_path / "board", tmp_path / "keep"
    proc = scoreboard(str(cases), "--days", "2", "--out", str(out), "--keep", str(keep),
                      "--set", "placement.distance_exponent=1.5",
                      "--mode", "direct=", "--mode", "pairs=population.persons_per_household=2")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.with_suffix(".csv").open()))
    assert [(r["case"], r["mode"]) for r in rows] == [
        (c, m) for c in ("broken", OBSERVED, UNOBSERVED) for m in ("direct", "pairs")]
    by = {(r["case"], r["mode"]): r for r in rows}
    for mode in ("direct", "pairs"):
        broken = by["broken", mode]
        assert broken["status"] == f"import failed: {BROKEN_LINE}"
        assert broken["ard"] == broken["households"] == broken["peak_rss_mb"] == ""
        for case in (OBSERVED, UNOBSERVED):
            r = by[case, mode]
            assert r["status"] == "ok" and r["days"] == "2"
            assert int(r["import_notes"]) >= 3 and int(r["run_warnings"]) >= 0
            assert float(r["import_s"]) > 0 and float(r["run_s"]) > 0
            # climdisp's libraries alone are over 100 MB: a figure of the parent's few tens of
            # MB, or a per-child figure lost, would fail here
            assert 100 < float(r["peak_rss_mb"]) < 4000
        # observations: ARD and rescaled ARD from the run's manifest; without: empty
        assert float(by[OBSERVED, mode]["ard"]) >= float(by[OBSERVED, mode]["ard_rescaled"]) >= 0
        assert by[UNOBSERVED, mode]["ard"] == by[UNOBSERVED, mode]["ard_rescaled"] == ""
    # the mode's override reached its run only: households of 2 persons halve the households
    for case in (OBSERVED, UNOBSERVED):
        direct, pairs = by[case, "direct"], by[case, "pairs"]
        assert int(direct["households"]) == int(direct["persons"]) == PERSONS[case]
        assert abs(int(pairs["persons"]) / PERSONS[case] - 1) < 0.02
        assert abs(int(pairs["households"]) * 2 / int(pairs["persons"]) - 1) < 0.05
    # --set reached every run, beside --days (kept run folders hold the resolved scenario)
    configs = sorted(keep.glob("*/run*/config.toml"))
    assert len(configs) == 4
    for config in configs:
        text = config.read_text()
        assert "distance_exponent = 1.5" in text and "n_steps = 2" in text
    # the Markdown table has the same rows, and the broken case's line, pipes and all
    table = out.with_suffix(".md").read_text()
    assert sum(ln.startswith("| ") for ln in table.splitlines()) == 1 + len(rows)
    assert BROKEN_LINE in table
    assert table.splitlines()[0] in proc.stdout


def test_a_failing_run_gives_its_error_line_and_a_case_folder_is_its_own_case(tmp_path):
    if not (FABFLEE / OBSERVED).is_dir():
        pytest.skip(f"no FabFlee cases at {FABFLEE}")
    out = tmp_path / "board"
    proc = scoreboard(str(FABFLEE / OBSERVED), "--days", "1", "--out", str(out),
                      "--mode", "bad=placement.no_such_setting=1")
    assert proc.returncode == 0, proc.stderr
    (row,) = csv.DictReader(out.with_suffix(".csv").open())
    assert row["case"] == "." and row["mode"] == "bad"
    assert row["status"].startswith("run failed: --set: placement.no_such_setting: unknown key")
    assert row["ard"] == "" and row["import_notes"] != ""
    # never over an existing table unless --force
    before = out.with_suffix(".csv").read_text()
    again = scoreboard(str(FABFLEE / OBSERVED), "--out", str(out))
    assert again.returncode == 2 and "--force" in again.stderr
    assert out.with_suffix(".csv").read_text() == before


def test_peak_memory_is_each_childs_own_not_the_largest_so_far():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import flee_scoreboard as s\n"
            "big = [sys.executable, '-c', 'b = b\"x\" * (300 * 2**20)']\n"
            "small = [sys.executable, '-c', 'pass']\n"
            "print(s.run_child(big).peak_rss_mb, s.run_child(small).peak_rss_mb)")
    proc = subprocess.run([sys.executable, "-c", code, str(REPO / "benchmarks")],
                          capture_output=True, text=True, check=True)
    big, small = map(float, proc.stdout.split())
    assert big > 300 and small < 100


@pytest.mark.parametrize("text, expected", [
    ("direct=", ("direct", [])),
    ("routes=placement.movement=routes", ("routes", ["placement.movement=routes"])),
    ("two=a.b=1, c=[1,2]", ("two", ["a.b=1", "c=[1,2]"])),
])
def test_a_mode_is_a_name_and_set_overrides(text, expected):
    assert flee_scoreboard.parse_mode(text) == expected


@pytest.mark.parametrize("text", ["direct", "a b=x=1", "m=nokey"])
def test_a_bad_mode_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected"):
        flee_scoreboard.parse_mode(text)


def test_cases_are_folders_with_input_csv_or_locations_and_not_their_insides(tmp_path):
    for path in ("a/x/input_csv/locations.csv", "a/y/locations.csv", "b/z/input_csv/routes.csv",
                 "c/notes.txt", ".hidden/input_csv/locations.csv"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    found = [p.relative_to(tmp_path).as_posix() for p in flee_scoreboard.find_cases(tmp_path)]
    assert found == ["a/x", "a/y", "b/z"]

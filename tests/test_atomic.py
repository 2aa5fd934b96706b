"""Atomic writes touch nothing but their own temporary sibling, and leave none behind on failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.atomic import write_file, write_folder
from simulator.ui.cli import main


def _fail(path: Path) -> None:
    path.write_text("half")
    raise OSError("disk full")


def test_a_users_folder_named_like_a_temporary_sibling_survives_a_run(case, capsys):
    scenario = case()
    out = scenario.parent / "out"
    mine = scenario.parent / ".out.tmp-mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["run", str(scenario), "--out", str(out), "--set", "n_steps=5"]) == 0
    assert (out / "results.nc").is_file()
    assert (mine / "notes.txt").read_text() == "keep me"
    assert sorted(scenario.parent.glob(".out.tmp-*")) == [mine]


def test_a_failing_folder_write_leaves_no_temporary_folder_and_no_output(tmp_path):
    out = tmp_path / "out"
    mine = tmp_path / ".out.tmp-mine"
    mine.mkdir()
    with pytest.raises(OSError, match="disk full"):
        write_folder(out, {"a.txt": b"a", "b.txt": _fail})
    assert not out.exists()
    assert sorted(tmp_path.iterdir()) == [mine]


def test_a_failing_file_write_leaves_no_temporary_file_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "summary.csv"
    path.write_text("old")
    with pytest.raises(OSError, match="disk full"):
        write_file(path, _fail)
    assert path.read_text() == "old"
    assert sorted(tmp_path.iterdir()) == [path]

"""Results match the committed regression baseline bit for bit (see tests/regression.py).

A deliberate behaviour change refreshes the baseline with ``make baseline`` and reports the
headline before/after printed by it.
"""

from __future__ import annotations

import json

import pytest

from tests import regression


@pytest.fixture(scope="module")
def baseline() -> dict:
    return json.loads(regression.BASELINE.read_text())


@pytest.mark.parametrize("case", sorted(regression.cases()))
def test_case_matches_baseline(case, baseline):
    got = {case: regression.record(regression.cases()[case]())}
    diff = regression.differences({case: baseline[case]}, got)
    assert not diff, "results differ from tests/regression_baseline.json (if intended: make " \
                     "baseline, and report the change):\n" + "\n".join(diff)


def test_baseline_covers_every_case(baseline):
    assert set(baseline) == set(regression.cases())


def test_differences_names_a_moved_indicator_and_variable():
    old = {"c": {"headline": {"x": 1}, "fingerprints": {"v": "a", "w": "b"}}}
    new = {"c": {"headline": {"x": 2}, "fingerprints": {"v": "a", "w": "c"}}}
    assert regression.differences(old, new) == ["c: x 1 -> 2", "c: variables that differ: w"]
    assert regression.differences(old, old) == []

"""Fuzzing the inputs (hypothesis): a run either succeeds with every invariant holding, or stops
with exit code 2 and one line, leaving nothing behind. Never a traceback.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.inputs.config import load_scenario
from simulator.model import DisplacementModel
from simulator.ui.cli import main

from .conftest import NT, write_case

ODD = st.sampled_from([0.0, 0.3, 1.5, 7.0, -0.5, np.nan, np.inf, 1e30, 99.0, 101.0])
CAPACITY = st.one_of(st.integers(-5, 5000), st.sampled_from([2000.5, "2000", True, 1e300]))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(ODD, min_size=3, max_size=3), persons=ODD, capacity=CAPACITY,
       step_days=st.integers(1, 4), threshold=st.sampled_from([0.3, 1.0, 2.0, -1.0]))
def test_perturbed_inputs_run_cleanly_or_fail_in_one_line(tmp_path_factory, capsys, cells,
                                                          persons, capacity, step_days,
                                                          threshold):
    root = tmp_path_factory.mktemp("fuzz")
    depth = np.zeros((NT, 4, 5), np.float32)
    depth[:, 0, 0] = 2.0
    depth[2, 1, 1], depth[5, 2, 2], depth[:, 3, 3] = cells
    population = np.full((4, 5), 450.0)
    population[1, 2] = persons
    path = write_case(root, depth=depth, persons=population, scenario={
        "step_days": step_days, "impact": {"depth_threshold_m": threshold},
        "capacity": {"default": {"shelter": capacity}}})
    out = root / "out"
    code = main(["run", str(path), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    if code == 2:
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert not out.exists() and not list(root.glob(".out.tmp-*"))
        return
    assert code == 0, err
    # a clean run: conservation and capacity hold after every step
    model = DisplacementModel(load_scenario(path), check_invariants=True)
    ds = model.run()
    totals = ds["persons"].sum(["region", "state"])
    assert (totals == totals[0]).all()
    capped = ds["capacity"].sel(place=["host", "shelter", "camp", "rental"])
    assert (ds["occupancy"].sel(place=capped["place"]) <= capped).all()


def test_the_fuzz_strategies_reach_both_outcomes(tmp_path, capsys):
    """The fuzz test is not vacuous: some of its inputs run, some are refused."""
    depth = np.zeros((NT, 4, 5), np.float32)
    depth[:, 0, 0] = 2.0
    ok = write_case(tmp_path / "ok", depth=depth)
    depth[3, 1, 1] = np.inf
    bad = write_case(tmp_path / "bad", depth=depth)
    assert main(["run", str(ok), "--out", str(tmp_path / "o1"), "--quiet"]) == 0
    assert main(["run", str(bad), "--out", str(tmp_path / "o2"), "--quiet"]) == 2
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["run"])  # argparse usage errors exit too, by argparse's convention

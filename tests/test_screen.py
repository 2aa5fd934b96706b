"""Placement's shortcuts (issue 21) give exactly the results of screening every applicant.

The unsheltered look for a place again every step; :mod:`simulator.steps.screen` admits them
drawing and sorting only where an admission is possible, and ``place`` leaves alone those who
stay unsheltered. Each test runs the same thing with the shortcuts on and with
``Context.plain_placement`` (screen everyone, as before) and asks for identical results.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import DisplacementModel, load_scenario
from simulator.interop.flee.convert import import_flee
from simulator.rng import Streams
from simulator.rules.placement import choose_destination
from simulator.steps import screen

from .conftest import REPO
from .test_flee_cases import FABFLEE

#: the demo with a tenth of its places, so that 3x10^4 households queue for them for months
CROWDED = ["population.households=30000", "n_steps=150", "capacity.default.host=120",
           "capacity.default.shelter=90", "capacity.default.rental=60",
           'capacity.regions."Harbour City".host=360',
           'capacity.regions."Harbour City".shelter=450',
           'capacity.regions."Harbour City".camp=300',
           'capacity.regions."Lower Valley".shelter=180',
           'capacity.regions."Lower Valley".camp=150',
           'capacity.regions."Middle Valley".shelter=120']


def _run(scenario: Path, overrides: list[str], plain: bool, check: bool = False):
    model = DisplacementModel(load_scenario(scenario, overrides), check_invariants=check)
    model.ctx = dataclasses.replace(model.ctx, plain_placement=plain)
    return model.run()


def _assert_identical(fast, plain) -> None:
    assert set(fast.data_vars) == set(plain.data_vars)
    differ = [v for v in fast.data_vars if not fast[v].equals(plain[v])]
    assert not differ, f"the shortcuts changed {differ}"


def test_crowded_demo_is_identical_with_and_without_shortcuts(monkeypatch):
    heads = []  # the shortcut that screens a queue's head must have been taken
    head = screen._admit_head
    monkeypatch.setattr(screen, "_admit_head", lambda *a: heads.append(1) or head(*a))
    fast = _run(REPO / "scenarios" / "demo.toml", CROWDED, plain=False, check=True)
    plain = _run(REPO / "scenarios" / "demo.toml", CROWDED, plain=True)
    _assert_identical(fast, plain)
    assert len(heads) > 100
    unsheltered = fast["occupancy"].sel(place="unsheltered").sum("region")
    assert int((unsheltered > 1000).sum()) > 100  # a long queue for over 100 days
    assert int(fast["turned_away"].sum()) > 0


@pytest.mark.parametrize("seed", [42, 7])
def test_demo_variants_are_identical_with_and_without_shortcuts(seed):
    overrides = ["population.households=20000", "n_steps=120", f"seed={seed}"]
    scenario = REPO / "scenarios" / "demo-more-shelter.toml"
    _assert_identical(_run(scenario, overrides, plain=False),
                      _run(scenario, overrides, plain=True))


def test_flee_example_is_identical_with_and_without_shortcuts(tmp_path):
    path, _ = import_flee(REPO / "climate_inputs" / "flee_example", tmp_path / "scen")
    _assert_identical(_run(path, [], plain=False), _run(path, [], plain=True))


def test_a_fabflee_case_is_identical_with_and_without_shortcuts(tmp_path):
    case = FABFLEE / "flood" / "dflee_example"
    if not case.is_dir():
        pytest.skip(f"no FabFlee case at {case}")
    path, _ = import_flee(case, tmp_path / "scen")
    _assert_identical(_run(path, ["n_steps=20"], plain=False),
                      _run(path, ["n_steps=20"], plain=True))


def _ctx(plain: bool, soft: float, seed: int = 3):
    placement = SimpleNamespace(soft_cap_start=soft)
    return SimpleNamespace(plain_placement=plain, streams=Streams(seed),
                           config=SimpleNamespace(placement=placement))


@settings(max_examples=150, deadline=None)
@given(n=st.integers(0, 4000), n_dest=st.integers(1, 6), seed=st.integers(0, 2**31),
       soft=st.sampled_from([0.5, 0.9, 0.99, 1.0]), room=st.integers(0, 60),
       twins=st.booleans())
def test_admission_equals_screening_everyone(n, n_dest, seed, soft, room, twins):
    """Queues at, above and below the soft-cap level, with tied priorities (``twins``)."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(10**6, n, replace=False)
    if twins and n > 1:  # the same household twice draws the same numbers: exact ties
        ids[: n // 4] = ids[n // 4: 2 * (n // 4)]
    dest = rng.integers(0, n_dest, n)
    persons = rng.integers(1, 12, n).astype(np.uint8)
    capacity = rng.integers(50, 3000, n_dest)
    below = rng.random(n_dest) < 0.3  # some destinations below the soft-cap level
    occupancy = np.where(below, capacity // 2, np.maximum(capacity - rng.integers(0, room + 1,
                                                                                  n_dest), 0))
    key = int(rng.integers(0, 10**6))
    got = screen.admit_drawn(_ctx(False, soft), key, ids, dest, persons, occupancy, capacity)
    want = screen.admit_drawn(_ctx(True, soft), key, ids, dest, persons, occupancy, capacity)
    assert np.array_equal(got, want)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(0, 500), n_regions=st.integers(1, 40), seed=st.integers(0, 2**31))
def test_destinations_equal_choose_destination(n, n_regions, seed):
    """Few destinations (counted) and many (searched per origin)."""
    rng = np.random.default_rng(seed)
    weights = rng.random((n_regions, n_regions)) * (rng.random((n_regions, n_regions)) < 0.6)
    weights[rng.random(n_regions) < 0.2] = 0.0  # origins with nowhere to go
    origin, u = rng.integers(0, n_regions, n), rng.random(n)
    u[rng.random(n) < 0.1] = 0.0  # at or below leading zero weights
    cum = np.cumsum(weights, axis=1)
    tie = np.flatnonzero(rng.random(n) < 0.2)  # targets on (or an ulp from) a cumulative weight
    with np.errstate(invalid="ignore"):
        u[tie] = cum[origin[tie], rng.integers(0, n_regions, tie.size)] / cum[origin[tie], -1]
    u = np.nan_to_num(np.minimum(u, np.nextafter(1.0, 0.0)))
    got = screen.destinations(_ctx(False, 0.9), origin, weights, u)
    assert np.array_equal(got, choose_destination(origin, weights, u))

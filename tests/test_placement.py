"""Placement rules: capacity never exceeded, soft cap closed form, gravity destination choice."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.rules.placement import (
    admit,
    choose_destination,
    gravity_weights,
    group_cumsum_before,
    soft_cap_probability,
)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 300), n_dest=st.integers(1, 5), seed=st.integers(0, 2**31),
       soft=st.floats(0.5, 1.0))
def test_admission_never_exceeds_capacity(n, n_dest, seed, soft):
    rng = np.random.default_rng(seed)
    dest = rng.integers(0, n_dest, n)
    persons = rng.integers(1, 12, n)
    capacity = rng.integers(0, 400, n_dest)
    occupancy = (capacity * rng.random(n_dest)).astype(np.int64)
    ok = admit(dest, persons, rng.random(n), rng.random(n), occupancy, capacity, soft)
    admitted = np.bincount(dest[ok], persons[ok], n_dest)
    assert (occupancy + admitted <= capacity).all()


def test_without_soft_cap_admission_is_the_priority_prefix():
    dest = np.zeros(10, dtype=int)
    persons = np.full(10, 3)
    prio = np.linspace(0.9, 0.0, 10)  # applicant 9 has the highest priority (lowest key)
    ok = admit(dest, persons, prio, np.ones(10), np.array([0]), np.array([14]), 1.0)
    assert ok.sum() == 4 and ok[6:].all()  # 4 households x 3 persons = 12 <= 14


def test_soft_cap_matches_closed_form_expected_occupancy():
    """Many 1-person applicants: occupancy approaches cap - (cap - s cap) exp(-m / B)."""
    cap, soft, n = 10_000.0, 0.9, 3_000
    rng = np.random.default_rng(0)
    ok = admit(np.zeros(n, int), np.ones(n, int), rng.random(n), rng.random(n),
               np.array([0]), np.array([cap]), soft)
    band = (1 - soft) * cap
    expected = cap - (cap - soft * cap) * np.exp(-(n - soft * cap) / band) if n > soft * cap \
        else n
    assert ok.sum() == n  # below the soft level everyone is admitted
    n2 = 12_000
    ok2 = admit(np.zeros(n2, int), np.ones(n2, int), rng.random(n2), rng.random(n2),
                np.array([0]), np.array([cap]), soft)
    expected = cap - (cap - soft * cap) * np.exp(-(n2 - soft * cap) / band)
    assert abs(ok2.sum() - expected) < 4 * np.sqrt(band)
    assert ok2.sum() < cap


def test_soft_cap_probability_is_linear_in_occupancy():
    cap = np.array([100.0])
    p = [soft_cap_probability(np.array([0.0]), np.array([o]), cap, 0.9)[0]
         for o in (90.0, 95.0, 100.0)]
    assert np.allclose(p, [1.0, 0.5, 0.0])


def test_group_cumsum_before():
    keys = np.array([0, 0, 0, 2, 2, 5])
    vals = np.array([1, 2, 3, 4, 5, 6])
    assert group_cumsum_before(keys, vals).tolist() == [0, 1, 3, 0, 4, 0]


def test_gravity_weights_and_choice_frequencies():
    dist = np.array([[0, 10, 20, 500], [10, 0, 10, 500], [20, 10, 0, 500], [500, 500, 500, 0.]])
    free = np.array([100.0, 100.0, 300.0, 1000.0])
    w = gravity_weights(dist, free, 2.0, 150.0)
    assert (np.diag(w) == 0).all() and w[0, 3] == 0  # no self, none beyond max distance
    assert np.isclose(w[0, 2] / w[0, 1], (300 / 400) / (100 / 100))
    n = 200_000
    u = np.random.default_rng(1).random(n)
    dest = choose_destination(np.zeros(n, int), w, u)
    freq = np.bincount(dest, minlength=4) / n
    assert np.allclose(freq, w[0] / w[0].sum(), atol=0.005)
    assert (choose_destination(np.array([3]), w, np.array([0.5])) == -1).all()


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 2000), n_dest=st.integers(1, 6), seed=st.integers(0, 2**31),
       soft=st.sampled_from([0.5, 0.9, 1.0]), factor=st.sampled_from([0.05, 0.5, 4.0]))
def test_screening_shortcut_equals_screening_everyone(n, n_dest, seed, soft, factor):
    """The fast path (screen the top of each queue first) is exact, whatever its threshold."""
    from simulator.rules.placement import _admit_all

    rng = np.random.default_rng(seed)
    dest = rng.integers(0, n_dest, n)
    persons = rng.integers(1, 9, n)
    capacity = rng.integers(0, 600, n_dest)
    occupancy = (capacity * rng.random(n_dest) ** 0.3).astype(np.int64)
    up, ua = rng.random(n), rng.random(n)
    fast = admit(dest, persons, up, ua, occupancy, capacity, soft, screen_factor=factor)
    full, _ = _admit_all(dest, persons, up, ua, occupancy, capacity, soft)
    assert np.array_equal(fast, full)


def test_priority_next_to_one_never_mixes_destinations():
    """u = 1 - 2^-53 (a value the streams can return) must not spill into the next place."""
    dest = np.array([2, 1, 2])
    u = np.array([0.0, 1 - 2**-53, 0.0])
    cap = np.array([0, 5, 5])
    ok = admit(dest, np.full(3, 5), u, np.zeros(3), np.zeros(3, int), cap, 1.0)
    admitted = np.bincount(dest[ok], np.full(3, 5)[ok], 3)
    assert (admitted <= cap).all() and admitted[1] == 5

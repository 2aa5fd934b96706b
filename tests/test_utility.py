"""DYNAMO-M's expected utility against its own per-year sums and trapezoid, and closed forms."""

import numpy as np
import pytest

from simulator.rules import utility as ut


def test_npv_closed_form_is_dynamo_m_per_year_sum():
    """sum_t (W + Y - D [t >= 1] - c [t < n_c]) / (1 + r)^t, as DYNAMO-M's loops compute it."""
    w, y, d, c, h, r, n_c = 9000.0, 3000.0, 1200.0, 250.0, 15, 0.032, 16
    loop = sum((w + y - (d if t >= 1 else 0.0) - (c if t < n_c else 0.0)) / (1 + r) ** t
               for t in range(h))
    assert float(ut.npv(w, y, d, c, h, r, n_c)) == pytest.approx(loop, rel=1e-12)
    short = sum((w + y - (c if t < 4 else 0.0)) / (1 + r) ** t for t in range(h))
    assert float(ut.npv(w, y, 0.0, c, h, r, 4)) == pytest.approx(short, rel=1e-12)


def test_annuity_repays_the_principal_at_the_loan_rate():
    pay = float(ut.annuity(np.array(3000.0), 0.04, 16))
    assert sum(pay / 1.04 ** (t + 1) for t in range(16)) == pytest.approx(3000.0)
    assert float(ut.annuity(np.array(1600.0), 0.0, 16)) == 100.0


def test_expected_utility_with_one_event_has_its_closed_form():
    u1, u0, p = np.array([10.0]), np.array([12.0]), np.array([[0.05]])
    eu = ut.expected_utility(u1[None], p, u0)
    closed = 0.05 * 10 + 0.0005 * (10 + 12) + (1 - 0.05 - 0.001) * 12
    assert float(eu[0]) == pytest.approx(closed)
    no_risk = ut.expected_utility(u1[None], np.zeros((1, 1)), u0)
    assert float(no_risk[0]) == pytest.approx(12.0 - 0.001 * 1.0)  # only the 0.001 sliver


def test_one_event_path_equals_the_stacked_trapezoid_bit_for_bit():
    """Households' one-event utilities (1-D) take a shortcut; it must be np.trapezoid exactly."""
    rng = np.random.default_rng(7)
    n = 5000
    u, u0, p = rng.normal(10, 3, n), rng.normal(10, 3, n), rng.random(n) ** 3
    p[::7], p[::11] = 0.0, 1.0  # no known flood; above the perception cap
    u[::13], u0[::17] = -np.inf, -np.inf  # a zero floor: ruin
    with np.errstate(invalid="ignore"):
        fast = ut.expected_utility(u, p, u0)
        stacked = ut.expected_utility(u[None], p[None], u0)
        assert np.array_equal(fast, stacked, equal_nan=True)
        assert np.array_equal(ut.expected_utility(u, 0.01, u0),
                              ut.expected_utility(u[None], np.array([[0.01]]), u0))
    assert np.isnan(fast).any() and not np.isnan(fast[1:7]).any()  # both kinds were exercised


def test_expected_utility_integrates_events_in_any_order_and_caps_perception():
    """Several events, unsorted: the same as DYNAMO-M's sorted trapezoid over [0, 1]."""
    u = np.array([[9.0, 8.0], [7.0, 5.0], [10.0, 9.5]])  # events x households
    p = np.array([[0.1, 0.2], [0.01, 0.05], [0.5, 0.9]])
    u0 = np.array([11.0, 10.0])
    got = ut.expected_utility(u, p, u0)
    for k in range(2):
        order = np.argsort(p[:, k])
        x = np.r_[0.0, p[order, k], p[order, k][-1] + 0.001, 1.0]
        y = np.r_[u[order, k][0], u[order, k], u0[k], u0[k]]
        assert got[k] == pytest.approx(np.trapezoid(y, x))
    capped = ut.expected_utility(np.array([[1.0]]), np.array([[5.0]]), np.array([2.0]))
    assert float(capped[0]) == pytest.approx(0.998 * 1.0 + 0.0005 * 3.0 + 0.001 * 2.0)


def test_expected_utility_falls_with_perceived_risk_and_damage():
    npv0 = ut.npv(5000.0, 3000.0, 0.0, 0.0, 15, 0.032, 0)
    floor = np.full(3, 1.0)
    u0 = ut.log_utility(np.full(3, npv0), floor)
    hit = ut.log_utility(ut.npv(5000.0, 3000.0, np.array([1000.0, 1000.0, 4000.0]), 0.0, 15,
                                0.032, 0), floor)
    eu = ut.expected_utility(hit[None], np.array([[0.01, 0.1, 0.1]]), u0)
    assert eu[0] > eu[1] > eu[2]
    assert float(ut.log_utility(np.array([-5.0]), np.array([2.0]))[0]) == pytest.approx(np.log(2))


def test_can_finance_pays_from_savings_then_a_loan_within_the_cap():
    cap_pay = 0.06 * 3000.0  # 180 a year
    principal = cap_pay / float(ut.annuity(np.array(1.0), 0.04, 16))  # the largest loan
    cost = np.array([500.0 + principal - 1, 500.0 + principal + 1, 400.0])
    ok = ut.can_finance(cost, np.array([500.0, 500.0, 500.0]), np.full(3, 3000.0), 0.06,
                        0.04, 16)
    assert ok.tolist() == [True, False, True]


def test_income_percentile_is_the_lognormal_cdf():
    """The median sits at 0.5; one log-sd above it at Phi(1)."""
    pct = ut.income_percentile(np.array([3000.0, 3000.0 * np.e ** 0.7, 0.0]), 3000.0, 0.7)
    assert pct.tolist() == pytest.approx([0.5, 0.8413447, 0.0])


def test_fixed_assets_follow_dynamo_m_ratios_between_percentiles():
    ratios = (0.0, 1.06, 4.14, 4.19, 5.24, 6.0)
    a = ut.fixed_assets(np.array([1000.0, 1000.0, 2000.0, 8000.0]),
                        np.array([0.1, 0.2, 0.5, 1.0]), ratios)
    assert a.tolist() == pytest.approx([530.0, 1060.0, 2000.0 * 4.165, 48000.0])


def test_home_value_is_capped_by_the_assets():
    """DYNAMO-M: property value = min(wealth, property value); the loss stops growing."""
    v = ut.home_value(np.array([9000.0, 9000.0]), np.array([4000.0, 40000.0]))
    assert v.tolist() == [4000.0, 9000.0]


def test_repair_waits_for_what_savings_and_a_loan_do_not_cover():
    loan = 0.06 * 3000 / float(ut.annuity(np.array(1.0), 0.04, 16))  # the most one can borrow
    wait = ut.repair_wait_years(np.array([6000.0, 6000.0, 1000.0]), np.array([0.0, 1500.0, 0.0]),
                                np.full(3, 3000.0), 0.06, 0.04, 16, 0.3)
    assert wait.tolist() == pytest.approx([(6000 - loan) / 900, (4500 - loan) / 900, 0.0])

"""Behaviour rules against their formulas, closed forms and published values."""

import numpy as np
import pytest

from simulator.rules import behaviour as bh


def test_risk_perception_published_values():
    beta = bh.risk_perception(np.array([0.0, 1.0, 10.0]))
    assert beta[0] == pytest.approx(2.01) and beta[1] == pytest.approx(0.378, abs=1e-3)
    assert beta[2] == pytest.approx(0.01, abs=1e-6) and (np.diff(beta) < 0).all()


def test_discount_sum_and_annuity_closed_forms():
    r, h = 0.032, 15
    assert bh.discount_sum(h, r) == pytest.approx((1 - (1 + r) ** -h) / (1 - 1 / (1 + r)))
    pay = float(bh.annualised_cost(np.array(1000.0), r, h))
    assert sum(pay / (1 + r) ** (t + 1) for t in range(h)) == pytest.approx(1000.0)


def test_migration_cost_logistic_in_distance():
    c = bh.migration_cost(np.array([0.0, 20.0, 1000.0]), 3000.0)
    assert c[0] == pytest.approx(1500.0) and c[1] == pytest.approx(3000 / (1 + np.exp(-1)))
    assert c[2] == pytest.approx(3000.0)


def test_expected_utility_of_staying_falls_with_risk_and_damage():
    w, floor = np.full(3, 3000.0), np.full(3, 300.0)
    eu = bh.eu_stay(w, np.array([0.0, 0.1, 0.1]), np.array([1000.0, 1000.0, 2000.0]), 0.0, 10.0,
                    floor)
    assert eu[0] == pytest.approx(10 * np.log(3000)) and eu[0] > eu[1] > eu[2]
    assert bh.eu_stay(w[:1], np.ones(1), np.array([5000.0]), 0.0, 1.0, floor[:1])[0] == \
        pytest.approx(np.log(300))  # consumption is bounded below by subsistence


def test_migration_pays_only_when_the_gain_beats_the_cost():
    s, floor = 10.0, np.array([100.0])
    stay = bh.eu_stay(np.array([3000.0]), np.zeros(1), np.zeros(1), 0.0, s, floor)
    same = bh.eu_migrate(np.array([3000.0]), np.array([1000.0]), s, floor)
    richer = bh.eu_migrate(np.array([3600.0]), np.array([1000.0]), s, floor)
    assert same < stay < richer


def test_adaptation_gate_and_dry_proofing():
    assert bh.can_afford_adaptation(np.array([180.0, 181.0]), np.array([3000.0, 3000.0])
                                    ).tolist() == [True, False]
    assert bh.adapted_depth(np.array([0.5, 0.99, 1.0, 2.0]), 1.0).tolist() == [0, 0, 1.0, 2.0]


def test_evacuation_probability_rises_with_trust_and_perception():
    p = bh.evacuation_probability(np.array([0.5, 1.0, 1.0]), np.array([0.01, 0.01, 2.01]), 0.5)
    assert p[0] < p[1] < p[2] and p[2] == pytest.approx(1.0)


def test_trust_rises_after_warned_flood_and_falls_after_false_alarm():
    t = bh.update_trust(np.array([0.5, 0.5]), np.array([True, False]), 0.1, 0.2)
    assert t.tolist() == pytest.approx([0.55, 0.4])


def test_hazus_shelter_seeking_shares_by_quintile():
    edges = np.array([1000.0, 2000.0, 3000.0, 4000.0])
    q = bh.income_quintile(np.array([500.0, 1500.0, 4500.0]), edges)
    assert q.tolist() == [0, 1, 4]
    u = np.random.default_rng(0).random(100_000)
    share = bh.seeks_public_shelter(np.zeros(u.size, int), u).mean()
    assert share == pytest.approx(0.62, abs=0.01)


def test_activation_ramp_steps_by_month():
    share = bh.activation_share(np.array([-1, 0, 29, 30, 59, 60, 400]), (0.2, 0.57, 1.0), 30)
    assert share.tolist() == [0.0, 0.2, 0.2, 0.57, 0.57, 1.0, 1.0]


def test_repeated_shocks_lower_the_return_probability():
    assert bh.return_probability(np.array([1, 2, 3]), 0.3).tolist() == pytest.approx(
        [1.0, 0.7, 0.49])


def test_livelihood_loss_is_linear_above_threshold_and_capped():
    loss = bh.livelihood_loss(np.array([0.5, 1.0, 2.0, 10.0]), 1.0, 0.1, 0.5)
    assert loss.tolist() == pytest.approx([0.0, 0.0, 0.1, 0.5])

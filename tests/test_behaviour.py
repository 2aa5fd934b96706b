"""Behaviour rules against their formulas, closed forms and published values."""

import numpy as np
import pytest

from simulator.rules import behaviour as bh


def test_risk_perception_published_values():
    beta = bh.risk_perception(np.array([0.0, 1.0, 10.0]))
    assert beta[0] == pytest.approx(2.01) and beta[1] == pytest.approx(0.378, abs=1e-3)
    assert beta[2] == pytest.approx(0.01, abs=1e-6) and (np.diff(beta) < 0).all()


def test_migration_cost_logistic_in_distance():
    c = bh.migration_cost(np.array([0.0, 20.0, 1000.0]), 3000.0)
    assert c[0] == pytest.approx(1500.0) and c[1] == pytest.approx(3000 / (1 + np.exp(-1)))
    assert c[2] == pytest.approx(3000.0)


def test_dry_proofing_keeps_out_water_below_its_height():
    dry = [("dry_proofing", 1.0, 0.0)]
    assert bh.adapted_depth(np.array([0.5, 0.99, 1.0, 2.0]), np.ones(4), dry).tolist() == [
        0, 0, 1.0, 2.0]
    assert bh.adapted_depth(np.array([0.5, 2.0]), np.zeros(2), dry).tolist() == [0.5, 2.0]


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

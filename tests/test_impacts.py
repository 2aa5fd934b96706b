"""Impact functions against their published points and closed forms."""

import numpy as np

from simulator.inputs.schema import JRC_DEPTHS_M, JRC_RESIDENTIAL
from simulator.rules.impacts import (
    damage_by_class,
    depth_damage,
    displaced_by_damage,
    displaced_by_flood,
    repair_days,
)


def test_jrc_curve_reproduces_its_table_and_interpolates():
    d, r = np.array(JRC_DEPTHS_M), np.array(JRC_RESIDENTIAL["jrc_asia"])
    assert np.allclose(depth_damage(d, d, r), r)
    assert np.isclose(depth_damage(np.array([0.75]), d, r)[0], (0.327 + 0.494) / 2)
    assert depth_damage(np.array([-1.0, 10.0]), d, r).tolist() == [0.0, 1.0]


def test_damage_by_class_uses_each_households_curve():
    curves = [(np.array(JRC_DEPTHS_M), np.array(JRC_RESIDENTIAL[k]))
              for k in ("jrc_europe", "jrc_south_america")]
    out = damage_by_class(np.array([1.0, 1.0]), np.array([0, 1]), curves)
    assert np.allclose(out, [0.4, 0.711])


def test_thresholds_are_inclusive():
    assert displaced_by_flood(np.array([0.99, 1.0, 3.0])).tolist() == [False, True, True]
    assert displaced_by_damage(np.array([0.54, 0.55])).tolist() == [False, True]


def test_repair_days_linear_in_damage_with_symmetric_spread():
    dmg = np.array([0.0, 0.5, 1.0])
    assert np.allclose(repair_days(dmg, 365, 0.5, np.full(3, 0.5)), [0, 182.5, 365])
    assert np.allclose(repair_days(np.ones(2), 100, 0.5, np.array([0.0, 1.0])), [50, 150])

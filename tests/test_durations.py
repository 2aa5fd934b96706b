"""Displacement durations: open episodes are censored, and the shares are Kaplan-Meier estimates."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from simulator.outputs.analysis import duration_indicators, kaplan_meier

#: Four persons: episodes ended after 1 and 3 steps; still open after 2 and 4 steps.
ENDED = np.array([0, 1, 0, 1, 0, 0])
OPEN = np.array([0, 0, 1, 0, 1, 0])


def test_kaplan_meier_closed_form_on_a_hand_made_sample():
    """At risk 4, 4, 3, 2, 1: S = 1, 3/4, 3/4, 3/4 x 1/2, 3/8, then unknown (nobody left)."""
    surv = kaplan_meier(ENDED, OPEN)
    np.testing.assert_allclose(surv[:5], [1, 3 / 4, 3 / 4, 3 / 8, 3 / 8])
    assert np.isnan(surv[5])


def test_kaplan_meier_without_censoring_is_the_plain_share():
    ended = np.array([3, 0, 5, 2, 0, 7])
    expected = [ended[j + 1:].sum() / ended.sum() for j in range(ended.size)]
    np.testing.assert_allclose(kaplan_meier(ended, np.zeros(6)), expected)  # reaches 0: known


def test_kaplan_meier_agrees_with_scipy_on_persons_expanded():
    rng = np.random.default_rng(3)
    ended, still = rng.integers(0, 6, 12), rng.integers(0, 3, 12)
    lengths = np.arange(12) + 0.5  # scipy: survival just after each length
    data = stats.CensoredData(uncensored=np.repeat(lengths, ended),
                              right=np.repeat(lengths, still))
    expected = stats.ecdf(data).sf.evaluate(lengths)
    observed = kaplan_meier(ended, still)
    known = ~np.isnan(observed)
    np.testing.assert_allclose(observed[known], expected[known])


def _durations(ended, still, step_days=60):
    days = ("duration_days", np.arange(ended.size) * step_days)
    hist = xr.DataArray([ended + still], dims=("region", "duration_days"),
                        coords={"region": ["A"], "duration_days": days})
    return xr.Dataset({"displacement_duration": hist,
                       "displacement_duration_open": hist.copy(data=[still])})


def test_duration_table_censors_open_episodes():
    """Steps of 60 days: over 90 days S(60) = 3/4, over 180 days S(180) = 3/8 (a plain share
    counting open episodes as ended says 1/4), over 365 days unknown (the run is 300 days)."""
    row = duration_indicators(_durations(ENDED, OPEN))[0]
    assert row["displaced_persons"] == 4 and row["still_displaced_at_end"] == 2
    assert row["share_over_1_months"] == 1.0  # S(0): the first ends come at 60 days
    assert row["share_over_3_months"] == pytest.approx(3 / 4)
    assert row["share_over_6_months"] == pytest.approx(3 / 8)
    assert np.isnan(row["share_over_12_months"])
    assert row["median_days"] == 180.0


def test_everyone_still_displaced_is_not_a_share_of_zero():
    """Issue 17: all episodes open at 100 days read 'share over 6 months = 0' before."""
    still = np.zeros(6, dtype=int)
    still[2] = 237_080  # 120 days so far
    row = duration_indicators(_durations(np.zeros(6, dtype=int), still))[0]
    assert row["still_displaced_at_end"] == 237_080
    assert row["share_over_3_months"] == 1.0
    assert np.isnan(row["share_over_6_months"]) and np.isnan(row["median_days"])


def test_owners_and_renters_rows_split_the_total_and_are_estimated_alike():
    """The tenure rows are Kaplan-Meier on their own episodes; together they make the total."""
    ds = _durations(ENDED + ENDED, OPEN + OPEN)  # 8 persons: the same sample twice
    tenure = xr.DataArray([ENDED + OPEN, ENDED + OPEN], dims=("tenure", "duration_days"),
                          coords={"tenure": ["owner", "renter"],
                                  "duration_days": ds["duration_days"].values})
    ds["displacement_duration_by_tenure"] = tenure
    ds["displacement_duration_by_tenure_open"] = tenure.copy(data=[OPEN, OPEN])
    rows = {r["region"]: r for r in duration_indicators(ds)}
    assert list(rows) == ["A", "TOTAL", "TOTAL owners", "TOTAL renters"]
    for name in ("TOTAL owners", "TOTAL renters"):
        assert rows[name]["displaced_persons"] == 4
        assert rows[name]["share_over_6_months"] == pytest.approx(3 / 8)
    without = ds.copy()
    without["displacement_duration_by_tenure"] = tenure.copy(data=[2 * (ENDED + OPEN), 0 * ENDED])
    assert len(duration_indicators(without)) == 2  # nobody rents: no tenure rows

"""Subjective expected utility of staying, adapting and migrating, as DYNAMO-M computes it.

Pure, vectorised functions (arrays in, arrays out). A household compares the log of the net
present value (NPV) of what it has over its decision horizon — wealth plus income, less flood
damage and what it pays — integrated over the flood return-period curve it perceives
(Haer, Botzen, de Moel & Aerts 2017, Risk Analysis 37(10):1977-1992; DYNAMO-M, Tierolf, Haer,
Botzen, de Bruijn, Ton, Reimann & Aerts 2023, Sci. Rep. 13, doi:10.1038/s41598-023-31351-y,
code github.com/VU-IVM/DYNAMO-M ``decision_module.py``).

Where this differs from DYNAMO-M, the docstring says so. Units: currency per year for flows,
currency for NPVs and stocks, years for horizons, yearly probabilities.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

#: Income percentiles (0-1) at which DYNAMO-M gives its wealth-to-income ratios.
WEALTH_PERCENTILES = np.linspace(0.0, 1.0, 6)
#: Highest yearly probability a household perceives for any flood (DYNAMO-M caps at 0.998: no
#: flood is perceived to come more than once a year).
P_PERCEIVED_MAX = 0.998
#: Width of the probability step from the most frequent event to "no flood" (DYNAMO-M).
P_STEP = 0.001


def income_percentile(income: np.ndarray, median: float, sigma: float) -> np.ndarray:
    """Position (0-1) of each income in the scenario's lognormal income distribution.

    F(Y) = Phi(ln(Y / median) / sigma), with ``sigma`` the log-sd from the Gini coefficient
    (:func:`simulator.world.households.lognormal_sigma_from_gini`). A closed form, so a
    household's position needs no ranking of the whole population.
    """
    with np.errstate(divide="ignore"):
        return ndtr(np.log(np.asarray(income, dtype=float) / median) / sigma)


def fixed_assets(income: np.ndarray, percentile: np.ndarray,
                 ratios: tuple[float, ...]) -> np.ndarray:
    """Wealth held in the home and other fixed assets: r(F) x Y (currency).

    r is interpolated linearly in the income percentile F between the ratios given at
    F = 0, 0.2, ..., 1. DYNAMO-M's ratios, 0, 1.06, 4.14, 4.19, 5.24, 6 (``coastal_nodes.py``,
    ``income_wealth_ratio``), make wealth grow faster than income: the richest hold six years
    of income, the poorest almost nothing. This is what lets the richest carry a flood loss
    and keeps them in place (the migration hump, see ``docs/model.md`` §4.2).
    """
    return np.interp(percentile, WEALTH_PERCENTILES, ratios) * np.asarray(income, dtype=float)


def home_value(typical: np.ndarray, assets: np.ndarray) -> np.ndarray:
    """Value of the home a flood damages: min(typical home value, fixed assets) (currency).

    DYNAMO-M gives every home its country's replacement value of a residential object and
    caps it by the household's wealth (``property_value = min(wealth, property_value)``): what
    a flood can destroy does not grow with income, so the loss weighs less the richer the
    household.
    """
    return np.minimum(typical, assets)


def discount_factors(years: int, rate: float) -> np.ndarray:
    """Discount factors (1 + r)^-t for t = 0 .. years-1 (t = 0 is this year, undiscounted)."""
    return (1.0 + rate) ** -np.arange(max(int(years), 0), dtype=float)


def annuity(principal: np.ndarray, rate: float, years: int) -> np.ndarray:
    """Yearly payment repaying ``principal`` over ``years`` at interest ``rate``.

    P * r / (1 - (1 + r)^-n), or P / n without interest (the annuity formula). DYNAMO-M pays
    dry-proofing with a loan of 16 years at 4 % (``settings.yml``: ``loan_duration``,
    ``interest_rate``).
    """
    principal = np.asarray(principal, dtype=float)
    if rate == 0:
        return principal / years
    return principal * rate / (1.0 - (1.0 + rate) ** -years)


def npv(wealth: np.ndarray, income: np.ndarray, damage: np.ndarray, payment: np.ndarray,
        horizon_years: int, rate: float, payment_years: int) -> np.ndarray:
    """NPV over the horizon: sum_t (W + Y - D [t >= 1] - c [t < n_c]) / (1 + r)^t.

    ``W`` wealth (savings and fixed assets), ``Y`` income, ``D`` the damage of one flood event
    in every year after this one (the event is what the year could bring; this year is known to
    be dry), ``c`` a yearly payment for ``n_c`` years (a loan). As in DYNAMO-M, wealth enters
    every year of the sum (``IterateThroughFlood``, ``calcEU_adapt``): it stands for what the
    household's assets yield and secure. Closed form: (W + Y) S - D (S - 1) - c S_c with
    S = sum_{t<H} (1 + r)^-t and S_c the same sum over the payment years.
    """
    s = discount_factors(horizon_years, rate).sum()
    s_c = discount_factors(min(payment_years, horizon_years), rate).sum()
    return (np.asarray(wealth) + income) * s - np.asarray(damage) * (s - 1.0) - payment * s_c


def log_utility(npv_value: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """U(x) = ln(max(x, floor)): log utility (DYNAMO-M ``risk_aversion: 1``, sigma = 1).

    DYNAMO-M clamps a negative NPV at 0 (utility -inf, so every option ties); the ``floor``
    here (the NPV of subsistence income) keeps options with ruinous outcomes comparable.
    """
    return np.log(np.maximum(npv_value, floor))


def expected_utility(u_events: np.ndarray, p_events: np.ndarray,
                     u_no_flood: np.ndarray) -> np.ndarray:
    """Expected utility integrated over the perceived exceedance-probability curve.

    EU = integral_0^1 U(p) dp by the trapezoid rule on the points
    (0, U_rarest), (p_i, U_i) for each event i in order of rising probability,
    (p_max + 0.001, U_0) and (1, U_0), where U_i is the utility if event i strikes and U_0 the
    utility without a flood: DYNAMO-M's ``calcEU_no_nothing`` / ``calcEU_adapt``. Perceived
    probabilities are capped at 0.998. With one event this is
    p U_1 + 0.0005 (U_1 + U_0) + (1 - p - 0.001) U_0.

    Args:
        u_events: utilities if each event strikes, shape (events, households).
        p_events: perceived yearly probabilities of the events, same shape; a probability of
            0 (no known flood) leaves only the no-flood utility.
        u_no_flood: utility without a flood, shape (households,).
    """
    if isinstance(u_events, np.ndarray) and u_events.ndim == 1 and np.ndim(p_events) <= 1:
        return _one_event_utility(u_events, np.minimum(p_events, P_PERCEIVED_MAX), u_no_flood)
    u, p = np.atleast_2d(u_events), np.minimum(np.atleast_2d(p_events), P_PERCEIVED_MAX)
    if p.shape[0] > 1:
        order = np.argsort(p, axis=0, kind="stable")
        p, u = np.take_along_axis(p, order, 0), np.take_along_axis(u, order, 0)
    x = np.concatenate([np.zeros_like(p[:1]), p, p[-1:] + P_STEP, np.ones_like(p[:1])])
    y = np.concatenate([u[:1], u, u_no_flood[None], u_no_flood[None]])
    return np.trapezoid(y, x, axis=0)


def _one_event_utility(u: np.ndarray, p: np.ndarray, u_no_flood: np.ndarray) -> np.ndarray:
    """:func:`expected_utility` of one event, with ``np.trapezoid``'s operations in its order.

    The three trapezoids on (0, U_1), (p, U_1), (p + 0.001, U_0), (1, U_0), each
    ``width * (right + left) / 2`` and added first to last, as ``np.trapezoid`` does over the
    points' axis: the same floating-point result without stacking the points (5x faster).
    """
    x = p + P_STEP
    out = (p - 0.0) * (u + u) / 2.0
    out += (x - p) * (u_no_flood + u) / 2.0
    out += (1.0 - x) * (u_no_flood + u_no_flood) / 2.0
    return out


def can_finance(cost: np.ndarray, savings: np.ndarray, income: np.ndarray, max_share: float,
                rate: float, years: int) -> np.ndarray:
    """Whether a household can pay ``cost`` now: savings first, the rest by a loan.

    The loan's yearly payment (:func:`annuity`) must stay within ``max_share`` of income,
    DYNAMO-M's expenditure cap of 6 % (``expenditure_cap``; there it gates dry-proofing, which
    is paid wholly by the loan). Applying it to migration costs net of savings is this model's
    assumption: DYNAMO-M puts the migration cost in the NPV only, with no budget constraint, so
    it has no trapped households.
    """
    borrowed = np.maximum(np.asarray(cost, dtype=float) - savings, 0.0)
    return annuity(borrowed, rate, years) <= max_share * np.asarray(income)


def repair_wait_years(cost: np.ndarray, savings: np.ndarray, income: np.ndarray,
                      max_share: float, rate: float, years: int,
                      repair_share: float) -> np.ndarray:
    """Years a household waits to fund its repair: unfunded / (repair_share x income).

    The repair is paid from savings (cash assistance included) first, then by a loan whose
    yearly payment stays within ``max_share`` of income (:func:`annuity`, DYNAMO-M's terms);
    what is left is saved at ``repair_share`` of income per year before the work can start.
    Poor households without savings or credit rebuild more slowly (Hallegatte, Vogt-Schilb,
    Bangalore & Rozenberg 2017, Unbreakable, World Bank); the saving share is an assumption.
    """
    income = np.asarray(income, dtype=float)
    loan = max_share * income / np.maximum(annuity(1.0, rate, years), 1e-12)
    unfunded = np.maximum(np.asarray(cost, dtype=float) - savings - loan, 0.0)
    return unfunded / np.maximum(repair_share * income, 1e-9)

"""Population change: how many persons each household gains or loses in a year (pure functions).

A region's residents P_r grow by its share g_r a year, P_r(y + 1) = P_r(y) (1 + g_r(y)), the
yearly change of the SSP population projections by country (KC & Lutz 2017, "The human core
of the shared socioeconomic pathways: population scenarios by age, sex and level of education
for all countries to 2100", Global Environmental Change 42:181-192; the Wittgenstein Centre
Human Capital Data Explorer gives them by country and five-year step). The change is spread over
the households at home as binomial draws per household, so the expected change is exactly
g_r P_r (see :func:`person_rate`) and households keep their identity: no array grows.
"""

from __future__ import annotations

import numpy as np

#: Boys born per girl: the sex ratio at birth of about 105 boys per 100 girls in most
#: populations (Chao, Gerland, Cook & Alkema 2019, "Systematic assessment of the sex ratio at
#: birth for all countries and estimation of national imbalances and regional reference
#: levels", PNAS 116(19):9303-9311); a newborn is a girl with probability 1 / (1 + 1.05).
SEX_RATIO_AT_BIRTH = 1.05
GIRL_SHARE_AT_BIRTH = 1.0 / (1.0 + SEX_RATIO_AT_BIRTH)


def person_rate(growth: np.ndarray, residents: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Probability per eligible person of a birth (g > 0) or a loss (g < 0) this year.

    r_r = min(|g_r| P_r / E_r, 1), with g_r the region's growth (share per year), P_r its
    residents (persons, at home or away) and E_r the persons who can take part (persons at home
    for births; persons at home beyond one per household for losses). Then the expected change
    is sum_i r_r E_i = |g_r| P_r: the region as a whole grows by g_r although only households at
    home change (those away keep their size, so places and their occupancy stay as admitted).
    The cap at 1 binds only when nearly everyone is away or alone (the shortfall shows in the
    ``births`` and ``deaths`` results).

    Args:
        growth: (regions,) growth share per year (> -1).
        residents: (regions,) persons whose home is in the region.
        eligible: (regions,) persons who can gain or lose members.

    Returns:
        (regions,) probability per eligible person (0 where nobody is eligible).
    """
    want = np.abs(np.asarray(growth, dtype=float)) * np.asarray(residents, dtype=float)
    e = np.asarray(eligible, dtype=float)
    return np.where(e > 0, np.minimum(want / np.maximum(e, 1.0), 1.0), 0.0)


def binomial_draws(n: np.ndarray, p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Binomial(n, p) counts by the inverse CDF of uniform draws ``u`` in [0, 1).

    X = min{k : F(k; n, p) > u}. One uniform per household (a counter-based draw keyed by the
    household and the year) gives one count, so a household's count never depends on who else
    draws. Most counts are 0 (u < (1 - p)^n), decided without the inverse CDF.

    Returns:
        int64 counts, 0 <= X <= n.
    """
    n = np.asarray(n, dtype=np.int64)
    p = np.broadcast_to(np.asarray(p, dtype=float), n.shape)
    out = np.zeros(n.shape, dtype=np.int64)
    some = (u >= (1.0 - p) ** n) & (n > 0) & (p > 0)
    if some.any():
        from scipy.stats import binom  # here: scipy.stats takes 0.5 s to import

        k = binom.ppf(u[some], n[some], p[some])
        out[some] = np.clip(np.nan_to_num(k, nan=0.0), 0, n[some]).astype(np.int64)
    return out


def pick_member(counts: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Column of the member who leaves: each member of a household equally likely.

    ``counts`` (households, columns) are the members who can leave (persons by sex and age band,
    the head already taken out); column j with probability counts_j / sum(counts). ``u``: one
    uniform per household. Rows without members return -1.
    """
    cum = np.cumsum(counts.astype(np.int64), axis=1)
    total = cum[:, -1]
    target = np.floor(u * total).astype(np.int64)  # 0 <= target < total
    col = (cum <= target[:, None]).sum(axis=1)
    return np.where(total > 0, col, -1)

"""Rules for moves across borders: border policy over time, pathway eligibility, irregular routes.

A cross-border move goes through the border between the two countries by its policy (Flee's
closures for ``closed``; Suleimenova et al. 2017, Sci. Rep. 7:13377): an ``open`` border lets
anyone cross (free movement, e.g. the ECOWAS Protocol A/P.1/5/79 on free movement of persons);
a ``quota`` border lets households cross through a regular pathway they are eligible for while
its yearly quota lasts, otherwise by an irregular route at a cost and a risk; a ``closed``
border lets nobody cross. The Global Compact for Safe, Orderly and Regular Migration
(A/RES/73/195, 2018, objectives 5 and 2) asks for exactly these regular pathways for people
moving in the context of disasters and climate change.
"""

from __future__ import annotations

import numpy as np

NO_BORDER, OPEN, QUOTA, CLOSED = 0, 1, 2, 3  #: border policy codes
POLICIES = {"open": OPEN, "quota": QUOTA, "closed": CLOSED}

#: Default days from an approved application to the move, by pathway kind.
#:
#: - labour mobility, 120: an assumption within the 3-6 months from recruitment to arrival of
#:   seasonal and temporary labour schemes (e.g. Australia's PALM scheme; the range is what
#:   the scheme's employers are told to plan for, not a measured mean);
#: - family reunification, 270: the EU Family Reunification Directive 2003/86/EC, art. 5(4),
#:   gives authorities nine months to decide;
#: - humanitarian, 0: temporary protection is granted on arrival (Council Directive
#:   2001/55/EC, activated for people fleeing Ukraine by Implementing Decision (EU) 2022/382);
#: - planned relocation, 365: a yearly ballot, as the Australia-Tuvalu Falepili Union treaty
#:   (2023, art. 3; 280 places a year) runs its mobility pathway.
PROCESSING_DAYS = {"labour_mobility": 120, "family_reunification": 270, "humanitarian": 0,
                   "planned_relocation": 365}

#: Pathway kinds in code order.
KINDS = ("labour_mobility", "family_reunification", "humanitarian", "planned_relocation")

DAYS_PER_YEAR = 365.25


def policy_on(policy: np.ndarray, closed_from: np.ndarray, closed_to: np.ndarray,
              pair_a: np.ndarray, pair_b: np.ndarray, day: float) -> np.ndarray:
    """Border policy between every pair of countries on ``day`` (days from the start).

    ``policy`` (country, country) holds the standing policy codes; each closure ``k`` closes the
    border ``pair_a[k]``-``pair_b[k]`` for ``closed_from[k] <= day < closed_to[k]`` whatever
    its standing policy (Flee's time-limited closures, ``closures.csv``; Suleimenova et al.
    2017). Pairs without a border stay :data:`NO_BORDER`.
    """
    out = policy.copy()
    now = (closed_from <= day) & (day < closed_to)
    out[pair_a[now], pair_b[now]] = CLOSED
    out[pair_b[now], pair_a[now]] = CLOSED
    return out


def eligible(kind: int, working_age_adults: np.ndarray, income: np.ndarray,
             size: np.ndarray, kin_in_destination: np.ndarray, min_income: float,
             max_size: float, displaced: np.ndarray) -> np.ndarray:
    """Whether each household may use a pathway of ``kind`` (index into :data:`KINDS`).

    - labour mobility: at least one working-age adult (18-59) and income at least
      ``min_income`` (the schemes recruit workers, not households; skills are not modelled,
      income stands in for them);
    - family reunification: kin in the destination country (the household's tie region), as
      the EU Family Reunification Directive 2003/86/EC, art. 4, requires a sponsor there;
    - humanitarian: displaced households only (temporary protection is for persons fleeing);
    - planned relocation: households the programme selects (no condition here).

    Every kind also needs ``size <= max_size`` (persons). Units: income in currency per year.
    """
    ok = size <= max_size
    if kind == 0:
        return ok & (working_age_adults > 0) & (income >= min_income)
    if kind == 1:
        return ok & kin_in_destination & (income >= min_income)
    if kind == 2:
        return ok & displaced
    return ok


def irregular_utility(eu_success: np.ndarray, u_failure: np.ndarray,
                      failure_share: float) -> np.ndarray:
    """Expected utility of an irregular crossing: EU = (1 - p) EU_arrive + p U_sent_back.

    ``p`` is the probability that the crossing fails (intercepted and sent back home, the fee
    lost); ``EU_arrive`` is the expected utility of living at the destination after paying the
    fee, ``U_sent_back`` that of staying home without it. A lottery over the two outcomes in
    the subjective-expected-utility frame of the other decisions (Haer et al. 2017, Risk
    Analysis 37:1977; Tierolf et al. 2023). Units: utility (log of NPV, dimensionless).
    """
    p = float(failure_share)
    return (1.0 - p) * eu_success + p * u_failure


def year_of(t: int, step_days: int) -> int:
    """Year of the run (0 from ``start_date``) step ``t`` falls in; quotas reset every year."""
    return int(t * step_days // DAYS_PER_YEAR)

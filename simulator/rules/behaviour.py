"""Household behaviour across the mobility continuum: pure, vectorised decision rules.

Each function takes arrays (and random values where needed) and returns arrays; none reads or
writes model state. Formulas, units and sources are in the docstrings; defaults live in
:mod:`simulator.inputs.schema` and ``docs/model.md``.
"""

from __future__ import annotations

import numpy as np

#: Hazus share of displaced households seeking public shelter, by income quintile (lowest first)
#: (FEMA Hazus Flood Technical Manual, shelter needs model).
HAZUS_SHELTER_SEEKING = (0.62, 0.42, 0.29, 0.22, 0.13)


def risk_perception(years_since_flood: np.ndarray) -> np.ndarray:
    """Risk perception factor beta(t) = 2 * 1.6^(-3.6 t) + 0.01 (dimensionless).

    ``t`` is years since the household was last flooded; perceived flood probability is the
    objective probability times beta, so perception peaks (x2.01) right after a flood and
    decays to x0.01 (Haer, Botzen, de Moel & Aerts 2017, "Integrating household risk mitigation
    behavior in flood risk analysis: an agent-based model approach", Risk Analysis 37(10):
    1977-1992; DYNAMO-M, Tierolf et al. 2023, Sci. Rep. 13, doi:10.1038/s41598-023-31351-y).
    """
    return 2.0 * 1.6 ** (-3.6 * np.asarray(years_since_flood, dtype=float)) + 0.01


def migration_cost(distance_km: np.ndarray, cost_max: float) -> np.ndarray:
    """Migration cost C(d) = Cmax / (1 + exp(-0.05 d)) with d in km (Tierolf et al. 2023).

    DYNAMO-M's ``LogisticFunction`` with ``cost_shape: 0.05``; Cmax in currency units.
    """
    return cost_max / (1.0 + np.exp(-0.05 * np.asarray(distance_km, dtype=float)))


def adapted_depth(depth_m: np.ndarray, measure: np.ndarray,
                  options: list[tuple[str, float, float]]) -> np.ndarray:
    """Depth the depth-damage curve sees at homes adapted with ``measure`` (m).

    ``measure`` is 0 (none) or 1 + the index of an option ``(kind, protection_m,
    damage_reduction)``. Dry-proofing: 0 below the protection depth, the full depth above it
    (the water overtops; Aerts et al. 2014, Science 344:473-475; DYNAMO-M). Elevation: the depth
    above the raised floor, max(0, d - h) (FEMA P-312, Homeowner's Guide to Retrofitting, 3rd
    ed. 2014). Wet-proofing leaves the depth (see :func:`adapted_damage_factor`).
    """
    out = np.array(depth_m, dtype=float, copy=True)
    for k, (kind, h, _) in enumerate(options, start=1):
        m = measure == k
        if kind == "dry_proofing":
            out[m] = np.where(out[m] < h, 0.0, out[m])
        elif kind == "elevation":
            out[m] = np.maximum(out[m] - h, 0.0)
    return out


def adapted_damage_factor(depth_m: np.ndarray, measure: np.ndarray,
                          options: list[tuple[str, float, float]]) -> np.ndarray:
    """Share of the curve's damage an adapted home still takes (1 = no reduction).

    Wet-proofing (water-resistant materials, services raised) lowers the damage by
    ``damage_reduction`` while the water stays below its ``protection_m``; the reduction is
    an assumption to set from local evidence (Kreibich, Christenberger & Schwarze 2011, Nat.
    Hazards Earth Syst. Sci. 11:309-321, on what such measures save and cost).
    """
    out = np.ones(np.shape(depth_m))
    for k, (kind, h, reduction) in enumerate(options, start=1):
        if kind == "wet_proofing":
            out[(measure == k) & (np.asarray(depth_m) <= h)] = 1.0 - reduction
    return out


def evacuation_probability(trust: np.ndarray, beta: np.ndarray,
                           base_compliance: float) -> np.ndarray:
    """Probability a warned household evacuates: trust * (b + (1 - b) * min(1, beta / beta(0))).

    Compliance rises with trust in warnings and with risk perception (DESIGN.md §4.3 rule 4;
    Lindell & Perry 2012, Risk Anal. 32:616, protective action decision model); ``b`` is the
    compliance of a household that trusts warnings fully but has no flood memory.
    """
    beta0 = float(risk_perception(np.array(0.0)))
    return trust * (base_compliance + (1.0 - base_compliance) * np.minimum(1.0, beta / beta0))


def update_trust(trust: np.ndarray, flooded: np.ndarray, gain: float,
                 loss: float) -> np.ndarray:
    """Trust after a warning: up by gain*(1 - trust) if the flood came, down by loss*trust if not.

    The false-alarm ("cry wolf") effect (Breznitz 1984; Simmons & Sutter 2009, Weather Clim.
    Soc. 1:38).
    """
    return np.where(flooded, trust + gain * (1.0 - trust), trust - loss * trust)


def income_quintile(income: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Income quintile 0 (poorest) to 4 of each income, given the four quintile edges."""
    return np.searchsorted(edges, income, side="right")


def seeks_public_shelter(quintile: np.ndarray, u: np.ndarray,
                         shares: tuple[float, ...] = HAZUS_SHELTER_SEEKING) -> np.ndarray:
    """Whether a displaced household seeks public shelter: u < Hazus share of its quintile."""
    return u < np.asarray(shares)[quintile]


def activation_share(days_since_activation: np.ndarray, ramp: tuple[float, ...],
                     ramp_days: int) -> np.ndarray:
    """Share of shelter/camp capacity open ``days`` after a region activates it.

    A step ramp, e.g. 20 % / 57 % / 100 % in months 1-3 (DRT-PRR after Haiyan); 0 before
    activation (negative days).
    """
    days = np.asarray(days_since_activation)
    idx = np.minimum(np.maximum(days, 0) // ramp_days, len(ramp) - 1).astype(int)
    return np.where(days >= 0, np.asarray(ramp)[idx], 0.0)


def return_probability(shocks: np.ndarray, penalty: float) -> np.ndarray:
    """Chance a repaired household returns rather than settling elsewhere: (1 - penalty)^(k-1).

    ``k`` is how often it has been displaced; repeated shocks mainly suppress return (Entwisle
    et al. 2020, PNAS 117:17659).
    """
    return (1.0 - penalty) ** np.maximum(np.asarray(shocks, dtype=float) - 1.0, 0.0)


def livelihood_loss(stress: np.ndarray, threshold: float, loss_per_unit: float,
                    max_loss: float) -> np.ndarray:
    """Share of income lost to slow-onset stress: min(max_loss, slope * max(0, x - threshold)).

    A linear damage function above a tolerance threshold, as for crop yield losses under
    drought and heat (Schlenker & Roberts 2009, PNAS 106:15594); drought income losses
    drive both the wish to move and trapping (Cattaneo & Peri 2016, J. Dev. Econ. 122:127).
    """
    return np.minimum(max_loss, loss_per_unit * np.maximum(0.0, stress - threshold))


def background_weights(residents: np.ndarray, distance_km: np.ndarray, country: np.ndarray,
                       population_exponent: float, distance_exponent: float,
                       max_km: float) -> np.ndarray:
    """Destination weights of background (non-climate) migration: w_ij = P_j^a / d_ij^b.

    The gravity model of migration (Zipf 1946, Am. Sociol. Rev. 11:677; Ravenstein 1885, J.
    Stat. Soc. London 48:167): flows grow with the destination's population P_j (persons) and
    fall with distance d_ij (km; at least 1). Only regions of the origin's own country within
    ``max_km``, other than the origin, with residents; a = 1 and b = 2 are Zipf's P/D form
    with Flee's squared distance (assumptions to calibrate against observed internal flows).

    Returns:
        (origin, destination) weight matrix.
    """
    with np.errstate(divide="ignore"):
        w = residents[None, :] ** population_exponent / np.maximum(
            distance_km, 1.0) ** distance_exponent
    ok = ((distance_km <= max_km) & (residents[None, :] > 0)
          & (country[:, None] == country[None, :]))
    w = np.where(ok, w, 0.0)
    np.fill_diagonal(w, 0.0)
    return w


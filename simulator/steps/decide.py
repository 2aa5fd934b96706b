"""The decision phases of a step: proactive decisions (yearly) and warning/evacuation.

These apply the pure rules of :mod:`simulator.rules.behaviour` to the household arrays of a
:class:`~simulator.model.DisplacementModel`; the model keeps the counters exact through its
``set_state``, ``flow`` and ``seek`` methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from simulator.rules.behaviour import (
    annualised_cost,
    can_afford_adaptation,
    discount_sum,
    eu_migrate,
    eu_stay,
    evacuation_probability,
    livelihood_loss,
    migration_cost,
    risk_perception,
    update_trust,
)
from simulator.rules.placement import admit
from simulator.world.households import HOME, NO_STEP, State, households_in_cells

if TYPE_CHECKING:
    from simulator.model import DisplacementModel

DAYS_PER_YEAR = 365.25


def decision_step(model: DisplacementModel, t: int) -> bool:
    """Whether households decide at step ``t`` (every ``decision_interval_days``, from step 0)."""
    b, step_days = model.config.behaviour, model.config.step_days
    return b.enabled and (t * step_days) % b.decision_interval_days < step_days


def years_since_flood(model: DisplacementModel, ids: np.ndarray, t: int) -> np.ndarray:
    """Years since each household's home was last flooded (the initial value if not in the run)."""
    hh, cfg = model.households, model.config
    last = hh.last_flood_step[ids]
    elapsed = (t - last) * cfg.step_days / DAYS_PER_YEAR
    before = cfg.behaviour.initial_years_since_flood + t * cfg.step_days / DAYS_PER_YEAR
    return np.where(last == NO_STEP, before, elapsed)


CHUNK = 1 << 16  #: households evaluated at once, so temporaries stay bounded at any size


def decide(model: DisplacementModel, t: int) -> None:
    """Stay, adapt or migrate by subjective expected utility; trap, adapt and relocate.

    Households are evaluated and updated chunk by chunk (one household's choice reads only its
    own state), so no full-length temporaries exist; movers and the most exposed households,
    few by nature, are collected for the relocation steps that follow.
    """
    hh, b = model.households, model.config.behaviour
    kind = np.int32 if len(hh) < 2**31 else np.int64  # no full-length int64 temporary
    ids = np.concatenate([(s + np.flatnonzero(np.isin(hh.state[s:s + CHUNK], HOME))).astype(kind)
                          for s in range(0, len(hh), CHUNK)] or [np.empty(0, kind)])
    if ids.size == 0:
        return
    years = b.decision_interval_days / DAYS_PER_YEAR
    share = 1.0 - (1.0 - b.migration_intention_share_per_year) ** years
    programme = int(round(model.config.levers.planned_relocation_households_per_year * years))
    worst = _worst_stress(model, t)
    model.recorder.livelihood_loss[t] = 0.0
    movers, pool = [], []
    for i in range(0, ids.size, CHUNK):
        part = ids[i:i + CHUNK]
        loss = _stress_loss(model, t, part, worst)
        adapt, trapped, wants_able, dest, cost_m, exposure = _evaluate(model, t, part, loss)
        go = _draw(model, t, part, wants_able, share)
        hh.adapted[part[adapt]] = 1
        new_state = hh.state[part].copy()
        released = (new_state == State.TRAPPED) & ~trapped  # no longer wants to, or now can
        new_state[released] = model.home_state(part[released])
        new_state[adapt] = State.ADAPTED
        new_state[trapped] = State.TRAPPED
        changed = new_state != hh.state[part]
        model.set_state(part[changed], new_state[changed])
        movers.append((part[go], dest[go], cost_m[go]))
        if programme:  # this chunk's candidates: its top (programme + movers), ties included
            ok = (exposure > 0) & (dest >= 0)
            k = programme + int(go.sum())
            if ok.sum() > k:
                ok &= exposure >= np.partition(exposure[ok], ok.sum() - k)[ok.sum() - k]
            pool.append((part[ok], dest[ok], exposure[ok]))
    moved = _relocate(model, t, *(np.concatenate(x) for x in zip(*movers)), paid=False)
    if programme:
        _planned_relocation(model, t, *(np.concatenate(x) for x in zip(*pool)), moved)


def _evaluate(model: DisplacementModel, t: int, ids: np.ndarray, loss: np.ndarray) -> tuple:
    """Expected utilities and gates for one chunk of households at home.

    Returns compact arrays: adapt now, trapped, wants to and can migrate, best destination,
    migration cost there, and expected yearly damage (for the planned-relocation programme).
    """
    hh, cfg = model.households, model.config
    b = cfg.behaviour
    home = hh.region[ids].astype(np.int64)
    design = model.home_depth(ids, model.design_depth, model.design_fraction)
    p_obj = np.where(design > model.hit_above, 1.0 / cfg.hazard.return_period_years, 0.0)
    p = np.minimum(1.0, risk_perception(years_since_flood(model, ids, t)) * p_obj)
    base_income = hh.income[ids].astype(float)
    value = base_income * cfg.population.house_value_income_ratio
    if hh.house_value is not None:  # a table's values where it gives them
        own = hh.house_value[ids].astype(float)
        value = np.where(np.isnan(own), value, own)
    income = base_income * (1.0 - loss)
    adapted = hh.adapted[ids] == 1
    dmg_adapted = model.damage(ids, design, np.ones(ids.size, dtype=bool)) * value
    dmg_now = model.damage(ids, design) * value
    floor = b.subsistence_share * income
    s = discount_sum(b.horizon_years, b.discount_rate)
    eu_s = eu_stay(income, p, dmg_now, 0.0, s, floor)
    cost_a = annualised_cost(b.adaptation_cost * (1 - cfg.levers.adaptation_subsidy_share),
                             b.discount_rate, b.horizon_years)
    can_adapt = ~adapted & can_afford_adaptation(np.full(ids.size, cost_a), income,
                                                 b.adaptation_max_income_share)
    eu_a = np.where(can_adapt, eu_stay(income, p, dmg_adapted, cost_a, s, floor), -np.inf)
    dest, eu_m, cost_m = _best_destination(model, home, base_income, floor, s)
    wants = eu_m > np.maximum(eu_s, eu_a)  # flood risk or lost livelihood at home
    # a capability gate, not a preference: older members or members with disabilities make
    # moving dearer (trapped populations, Foresight 2011; Black et al. 2013, Nature Clim.
    # Change 3:448; the factor is an assumption), so the household may want to but cannot
    groups = hh.group_persons(ids)
    cost_m = cost_m * np.where((groups[:, 2] > 0) | (groups[:, 4] > 0),
                               b.mobility_cost_factor_older_or_disabled, 1.0)
    able = hh.savings[ids] >= cost_m
    if b.max_household_size_to_migrate is not None:
        able &= hh.size[ids] <= b.max_household_size_to_migrate
    return (~wants & (eu_a > eu_s), wants & ~able, wants & able, dest.astype(np.int16),
            cost_m.astype(np.float32), (p_obj * dmg_now).astype(np.float32))


def _worst_stress(model: DisplacementModel, t: int) -> np.ndarray | None:
    """Worst slow-onset stress per cell since the last decision (None without a stress grid)."""
    stress = model.inputs.stress
    if stress is None:
        return None
    cfg = model.config
    n = max(1, cfg.behaviour.decision_interval_days // cfg.step_days)
    return stress.values[max(0, t - n):t + 1].max(axis=0)[stress.cell_site]


def _stress_loss(model: DisplacementModel, t: int, ids: np.ndarray,
                 worst_cell: np.ndarray | None) -> np.ndarray:
    """Income share of ``ids`` lost to slow-onset stress since the last decision; savings pay."""
    if worst_cell is None:
        return np.zeros(ids.size, dtype=np.float32)
    cfg, hh = model.config, model.households
    worst = worst_cell[hh.cell[ids]]
    s = cfg.stress
    loss = livelihood_loss(worst, s.threshold, s.loss_per_unit, s.max_loss).astype(np.float32)
    years = cfg.behaviour.decision_interval_days / DAYS_PER_YEAR
    lost = (loss * hh.income[ids] * years).astype(np.float32)
    hh.savings[ids] = np.maximum(hh.savings[ids] - lost, 0.0)
    model.recorder.livelihood_loss[t] += np.bincount(hh.region[ids], lost, model.persons.shape[0])
    return loss


def _draw(model: DisplacementModel, t: int, ids: np.ndarray, mask: np.ndarray,
          share: float) -> np.ndarray:
    out = np.zeros(ids.size, dtype=bool)
    out[mask] = model.streams.uniform("decide", t, ids[mask]) < share
    return out


def _best_destination(model: DisplacementModel, home: np.ndarray, income: np.ndarray,
                      floor: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best destination region per household by expected utility of migrating there."""
    dist = model.inputs.distance_km
    index = model.lever["income_index"]
    reach = (dist <= model.config.placement.max_distance_km) & ~np.eye(dist.shape[0], dtype=bool)
    best = np.full(home.size, -1)
    best_eu = np.full(home.size, -np.inf)
    best_cost = np.full(home.size, np.inf)
    for j in range(dist.shape[0]):  # a loop over regions, never over households
        ok = reach[home, j]
        cost = migration_cost(dist[home, j], model.config.behaviour.migration_cost_max)
        eu = np.where(ok, eu_migrate(income * index[j] / index[home], cost, s, floor), -np.inf)
        better = eu > best_eu
        best[better], best_eu[better], best_cost[better] = j, eu[better], cost[better]
    return best, best_eu, best_cost


def _relocate(model: DisplacementModel, t: int, ids: np.ndarray, dest: np.ndarray,
              cost: np.ndarray, paid: bool) -> np.ndarray:
    """Move ``ids`` permanently to ``dest`` within each destination's yearly inflow cap."""
    hh, b = model.households, model.config.behaviour
    if ids.size == 0:
        return ids
    years = b.decision_interval_days / DAYS_PER_YEAR
    cap = np.floor(b.relocation_inflow_cap_share * years * model.persons.sum(axis=1))
    used = model.inflow_used.setdefault(t, np.zeros(cap.size))
    ok = admit(dest, hh.size[ids], model.streams.uniform("relocate", t, ids),
               np.zeros(ids.size), used.astype(np.int64), cap.astype(np.int64), 1.0)
    movers, to = ids[ok], dest[ok]
    used += np.bincount(to, hh.size[movers], cap.size)
    if not paid:
        hh.savings[movers] -= cost[ok].astype(np.float32)
    model.flow(hh.region[movers], to, hh.size[movers])
    np.add.at(model.recorder.relocations[t], hh.region[movers], hh.size[movers])
    model.set_state(movers, State.RELOCATED)
    hh.stay_region[movers] = to
    return movers


def _planned_relocation(model: DisplacementModel, t: int, ids: np.ndarray, dest: np.ndarray,
                        expected_damage: np.ndarray, done: np.ndarray) -> None:
    """A funded programme moves the most exposed households still at home (cost paid)."""
    n = model.config.levers.planned_relocation_households_per_year
    if n == 0:
        return
    years = model.config.behaviour.decision_interval_days / DAYS_PER_YEAR
    still = np.isin(model.households.state[ids], HOME) & (expected_damage > 0) & (dest >= 0)
    cand = np.flatnonzero(still)
    top = cand[np.argsort(-expected_damage[cand], kind="stable")[:int(round(n * years))]]
    _relocate(model, t, ids[top], dest[top], np.zeros(top.size), paid=True)


def warn_and_evacuate(model: DisplacementModel, t: int, depth: np.ndarray) -> None:
    """Issue warnings from a forecast ``lead_time`` ahead; evacuate; update trust on the day."""
    hh, w = model.households, model.config.warning
    threshold = w.forecast_threshold_wind_ms if model.config.hazard.kind == "wind_speed" else \
        w.forecast_threshold_m
    flooded_now = depth >= threshold
    due = model.pending_warnings.pop(t, None)
    if due is not None and due.size:
        hh.trust[due] = update_trust(hh.trust[due], flooded_now[hh.cell[due]], w.trust_gain,
                                     w.trust_loss).astype(np.float16)
    lead = model.lead_steps()
    if t + lead >= model.config.n_steps:
        return
    future = model.inputs.hazard.at(t + lead) * model.cell_open
    cells = np.flatnonzero(future > 0)
    if cells.size == 0:
        return
    z = ndtri(model.streams.uniform("forecast", t, cells))  # standard normal per cell
    forecast = future[cells] * np.exp(w.forecast_error_sd * z - w.forecast_error_sd ** 2 / 2)
    ids = households_in_cells(model.cell_start, cells[forecast >= threshold])
    ids = ids[np.isin(hh.state[ids], HOME) & ((hh.warned_step[ids] == NO_STEP)
                                              | (hh.warned_step[ids] + lead < t))]
    reached = ids[model.streams.uniform("warn", t, ids)
                  < model.lever["warning_coverage"][hh.region[ids]]]
    if reached.size == 0:
        return
    hh.warned_step[reached] = t
    model.pending_warnings[t + lead] = reached
    beta = risk_perception(years_since_flood(model, reached, t))
    p = evacuation_probability(hh.trust[reached], beta, w.base_compliance)
    # persons with disabilities face barriers to evacuating: only 20 % of respondents could
    # evacuate immediately without difficulty (UNDRR 2013 global survey); factor assumed
    p = np.where(hh.disabled[reached] > 0, p * w.evacuation_factor_disability, p)
    go = reached[model.streams.uniform("evacuate", t, reached) < p]
    if go.size == 0:
        return
    np.add.at(model.recorder.evacuations[t], hh.region[go], hh.size[go])
    model.set_state(go, State.EVACUATED)
    model.away_ids = np.concatenate([model.away_ids, go])
    model.seek(go, t, newly=True)

"""Step 3, warn and evacuate: warnings from a forecast ``lead_time`` ahead; trust on the day.

Where the forecast intensity ``lead_time_days`` ahead (the true future value with a lognormal
error, ``forecast_error_sd``) reaches the kind's warning threshold, households at home in covered
regions are warned (coverage is a lever) and evacuate with a probability from their trust and
risk perception (:func:`~simulator.rules.behaviour.evacuation_probability`). When the forecast
day comes, the warned update their trust: up if it flooded, down after a false alarm.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from simulator.rules.behaviour import evacuation_probability, risk_perception, update_trust
from simulator.states import HOME, NO_STEP, State
from simulator.steps.context import Context
from simulator.steps.decide import years_since_flood
from simulator.steps.place import seek
from simulator.world.ledger import World


def warn_and_evacuate(world: World, ctx: Context, t: int, depth: np.ndarray,
                      pending: dict[int, np.ndarray]) -> None:
    """Issue warnings at step ``t``; evacuate; update the trust of those warned for ``t``.

    Args:
        world: the households and counters.
        ctx: the run's context.
        t: the step.
        depth: hazard intensity per cell this step.
        pending: households warned for each future step (updated here).
    """
    hh, w = world.households, ctx.config.warning
    flooded_now = depth >= ctx.kind.warning_threshold
    due = pending.pop(t, None)
    if due is not None and due.size:
        hh.trust[due] = update_trust(hh.trust[due], flooded_now[hh.cell[due]], w.trust_gain,
                                     w.trust_loss).astype(np.float16)
    lead = ctx.lead_steps
    if t + lead >= ctx.config.n_steps:
        return
    reached = _warned(world, ctx, t, lead)
    if reached.size == 0:
        return
    hh.warned_step[reached] = t
    pending[t + lead] = reached
    beta = risk_perception(years_since_flood(world, ctx, reached, t))
    p = evacuation_probability(hh.trust[reached], beta, w.base_compliance)
    # persons with disabilities face barriers to evacuating: only 20 % of respondents could
    # evacuate immediately without difficulty (UNDRR 2013 global survey); factor assumed
    p = np.where(hh.disabled[reached] > 0, p * w.evacuation_factor_disability, p)
    go = reached[ctx.streams.uniform("evacuate", t, reached) < p]
    if go.size == 0:
        return
    np.add.at(world.recorder.evacuations[t], hh.region[go], hh.size[go])
    world.leave_home(go, State.EVACUATED)
    seek(world, ctx, go, t, newly=True)


def _warned(world: World, ctx: Context, t: int, lead: int) -> np.ndarray:
    """Households at home that a warning issued at ``t`` for ``t + lead`` reaches."""
    hh, w = world.households, ctx.config.warning
    future = ctx.intensity(t + lead)
    cells = np.flatnonzero(future > 0)
    if cells.size == 0:
        return cells
    z = ndtri(ctx.streams.uniform("forecast", t, cells))  # standard normal per cell
    forecast = future[cells] * np.exp(w.forecast_error_sd * z - w.forecast_error_sd ** 2 / 2)
    ids = world.households_in(cells[forecast >= ctx.kind.warning_threshold])
    ids = ids[np.isin(hh.state[ids], HOME) & ((hh.warned_step[ids] == NO_STEP)
                                              | (hh.warned_step[ids] + lead < t))]
    return ids[ctx.streams.uniform("warn", t, ids)
               < ctx.levers.warning_coverage[hh.region[ids]]]

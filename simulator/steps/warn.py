"""Step 3, warn and evacuate: one warning per forecast event; trust on the day.

A forecast event is a cell's wet spell: the steps in a row where its hazard is above zero. Where
the forecast intensity ``lead_time_days`` ahead (the true value with a lognormal error,
``forecast_error_sd``, drawn once per cell and event) reaches the kind's warning threshold,
households at home in covered regions are warned — coverage is a lever, drawn once per
household and event — and evacuate with a probability from their trust and risk perception
(:func:`~simulator.rules.behaviour.evacuation_probability`). A household hears each event's
warning at most once, however long the event and whatever the step length: nominal coverage is
the share reached. When the forecast day comes, the warned update their trust: up if it
flooded, down after a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from simulator.rules.behaviour import evacuation_probability, risk_perception, update_trust
from simulator.states import HOME, NO_STEP, State
from simulator.steps.context import Context
from simulator.steps.decide import years_since_flood
from simulator.steps.place import seek
from simulator.world.ledger import World, advance_events


@dataclass
class Forecasts:
    """What the warning service tracks between steps: events per cell, warnings to verify."""

    pending: dict[int, np.ndarray] = field(default_factory=dict)  #: step -> households warned
    event_start: np.ndarray | None = None  #: per cell, first step of its current wet spell
    target: int = -1  #: the last step whose hazard ``event_start`` has seen

    def events_at(self, ctx: Context, s: int, intensity: np.ndarray) -> np.ndarray:
        """First step of each cell's wet spell that contains step ``s`` (NO_STEP where dry).

        ``intensity`` is step ``s``'s hazard; steps are seen in order (the ones before ``s``
        not seen yet are read here), as :meth:`World.track_events` sees the current step.
        """
        if self.event_start is None:
            self.event_start = np.full(ctx.inputs.cell_region.size, NO_STEP, dtype=np.int64)
        for k in range(self.target + 1, s + 1):
            advance_events(self.event_start, intensity if k == s else ctx.intensity(k), k)
        self.target = max(self.target, s)
        return self.event_start


def warn_and_evacuate(world: World, ctx: Context, t: int, depth: np.ndarray,
                      forecasts: Forecasts) -> None:
    """Issue warnings at step ``t``; evacuate; update the trust of those warned for ``t``.

    Args:
        world: the households and counters.
        ctx: the run's context.
        t: the step.
        depth: hazard intensity per cell this step.
        forecasts: events per cell and households warned for each future step (updated here).
    """
    hh, w = world.households, ctx.config.warning
    flooded_now = depth >= ctx.kind.warning_threshold
    due = forecasts.pending.pop(t, None)
    if due is not None and due.size:
        hh.trust[due] = update_trust(hh.trust[due], flooded_now[hh.cell[due]], w.trust_gain,
                                     w.trust_loss).astype(np.float16)
    lead = ctx.lead_steps
    if t + lead >= ctx.config.n_steps:
        return
    future = ctx.intensity(t + lead)
    event = forecasts.events_at(ctx, t + lead, future)
    reached = _warned(world, ctx, t, lead, future, event)
    if reached.size == 0:
        return
    hh.warned_step[reached] = t
    forecasts.pending[t + lead] = reached
    # perception as the event began: water already at the door in this event is not counted,
    # so a warning weighs the same whether the step resolves the event's onset or not
    last = hh.last_flood_step[reached]
    last = np.where(last < event[hh.cell[reached]], last, hh.prior_flood_step[reached])
    beta = risk_perception(years_since_flood(world, ctx, reached, t, last))
    p = evacuation_probability(hh.trust[reached], beta, w.base_compliance)
    # persons with disabilities face barriers to evacuating: only 20 % of respondents could
    # evacuate immediately without difficulty (UNDRR 2013 global survey); factor assumed
    p = np.where(hh.disabled[reached] > 0, p * w.evacuation_factor_disability, p)
    go = reached[ctx.streams.uniform("evacuate", t, reached) < p]
    if go.size == 0:
        return
    np.add.at(world.recorder.evacuations[t], hh.region[go], hh.size[go])
    np.add.at(world.recorder.internal_displacements[t], hh.region[go], hh.size[go])
    world.leave_home(go, State.EVACUATED)
    seek(world, ctx, go, t, newly=True)


def _warned(world: World, ctx: Context, t: int, lead: int, future: np.ndarray,
            event: np.ndarray) -> np.ndarray:
    """Households at home that a warning issued at ``t`` for ``t + lead`` reaches.

    ``future`` is the hazard at ``t + lead``; ``event`` each cell's event (the first step of
    its wet spell). The forecast error is drawn once per cell and event and the coverage once
    per household and event, so a household not reached by an event's first warning is not
    reached by its later ones; a household already warned for the event is not warned again.
    """
    hh, w = world.households, ctx.config.warning
    cells = np.flatnonzero(future > 0)
    if cells.size == 0:
        return cells
    z = ndtri(ctx.streams.uniform("forecast", event[cells], cells))  # per cell and event
    forecast = future[cells] * np.exp(w.forecast_error_sd * z - w.forecast_error_sd ** 2 / 2)
    ids = world.households_in(cells[forecast >= ctx.kind.warning_threshold])
    first = event[hh.cell[ids]] - lead  # the first step a warning for this event is issued
    ids = ids[np.isin(hh.state[ids], HOME) & ((hh.warned_step[ids] == NO_STEP)
                                              | (hh.warned_step[ids] < first))]
    return ids[ctx.streams.uniform("warn", event[hh.cell[ids]], ids)
               < ctx.levers.warning_coverage[hh.region[ids]]]

"""Capacity of every place type by region, opened on the activation ramp as the response starts."""

from __future__ import annotations

import numpy as np

from simulator.rules.behaviour import activation_share
from simulator.rules.placement import host_places
from simulator.states import NO_STEP, RAMPED, Place


class Places:
    """Capacity in persons of every place type by region, opened on the activation ramp.

    Shelters and camps open as the ramp's share of their full capacity, counted from the step
    the response starts (the first departure anywhere); host and rental places are there at once.

    Args:
        full: (region, place) capacity in persons once fully open.
        ramp: share open in each ``ramp_days`` period after the response starts.
        ramp_days: length of one ramp period (days).
        step_days: days per model step.
    """

    def __init__(self, full: np.ndarray, ramp: tuple[float, ...], ramp_days: int,
                 step_days: int, host_loss: float = 0.0) -> None:
        self.full = full
        self.capacity = full.copy()
        self.ramp, self.ramp_days, self.step_days = ramp, ramp_days, step_days
        self.host_loss = host_loss
        self.response_step = NO_STEP
        self.open(0)

    def open(self, t: int, displaced_share: np.ndarray | None = None,
             occupancy: np.ndarray | None = None, closed: np.ndarray | None = None) -> None:
        """Set this step's capacity of the ramped places and of host places.

        Host places shrink with the share of the region's own residents displaced
        (:func:`~simulator.rules.placement.host_places`); hosts keep the guests they have.
        ``closed`` (region, place) persons of sites closed this step (flooded) are not open.
        """
        days = -1 if self.response_step == NO_STEP else (t - self.response_step) * self.step_days
        share = float(activation_share(np.array(days), self.ramp, self.ramp_days))
        for p in RAMPED:
            full = self.full[:, p] if closed is None else self.full[:, p] - closed[:, p]
            # rounded to 1e-6 first: 100 x 0.57 is 56.999... in binary floating point
            self.capacity[:, p] = np.floor(np.round(full * share, 6)).astype(np.int64)
        if displaced_share is not None and self.host_loss > 0:
            host = host_places(self.full[:, Place.HOST], displaced_share, self.host_loss)
            self.capacity[:, Place.HOST] = np.maximum(host, occupancy[:, Place.HOST])

    def start_response(self, t: int) -> None:
        """The response starts at step ``t`` unless it already has."""
        if self.response_step == NO_STEP:
            self.response_step = t
            self.open(t)

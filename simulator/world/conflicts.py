"""Flee's conflict zones: where a conflict has begun, when, and how intense it was then.

A location becomes a conflict zone on a step its hazard level rises above 1e-6 from below it,
with the level of that step as its intensity. It stops being one on a step its level falls
below 1e-6 from exactly 1 (a fall from any other level leaves it a conflict zone: Flee's
rule as written). Flee 3.1, InputGeography.py ``AddNewConflictZones``, flee.py
``Ecosystem.add_conflict_zone`` and ``remove_conflict_zone``.
"""

from __future__ import annotations

import numpy as np

from simulator.rules.walk import conflict_decay

ON = 1e-6  #: level above which a location is in conflict (Flee's threshold)


class ConflictZones:
    """Per region: the step its current conflict began (-1: none yet) and its intensity then."""

    def __init__(self, n_regions: int) -> None:
        self.onset = np.full(n_regions, -1, dtype=np.int64)
        self.level = np.zeros(n_regions)
        self.was_on = np.zeros(n_regions, dtype=bool)  #: the level was above ON last step
        self.step = -1  #: last step recorded
        self.now = np.zeros(n_regions)  #: the level at the last step recorded

    def update(self, t: int, level: np.ndarray) -> None:
        """Record step ``t``'s hazard level per region (once per step)."""
        if t == self.step:
            return
        on = level > ON
        new = on & ~self.was_on
        self.onset[new], self.level[new] = t, level[new]
        if self.step >= 0:  # calm after a level of exactly 1: no longer a conflict zone
            self.onset[(level < ON) & (self.now == 1)] = -1
        self.now = level
        self.was_on, self.step = on, t

    @property
    def zones(self) -> np.ndarray:
        """Regions that are conflict zones."""
        return self.onset >= 0

    def intensity(self, t: int, decay: tuple[float, ...], interval_days: int) -> np.ndarray:
        """Intensity × decay by the days since the conflict began (0 outside conflicts)."""
        factor = conflict_decay(t - self.onset, decay, interval_days)
        return np.where(self.zones, self.level * factor, 0.0)

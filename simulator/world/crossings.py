"""What happens at borders: quotas used this year, approved moves waiting, and their counts.

Kept apart from the household arrays: applicants and border crossers are few, so the ledger
holds small arrays (the waiting applications) and country-by-country counters per step.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from simulator.borders import Borders
from simulator.states import GROUPS

PURPOSES = ("relocation", "displacement")  #: why a household crossed: a new home, or a place


class Crossings:
    """Quotas, the waiting applications and the per-step border results of a run."""

    def __init__(self, borders: Borders, n_steps: int) -> None:
        nc, npw = len(borders.countries), len(borders.pathways)
        self.borders = borders
        self.year = 0
        self.used = np.zeros((npw, nc, nc))  # persons admitted this year per pathway and pair
        self.wait_ids = np.empty(0, np.int64)  # approved applications waiting to move
        self.wait_dest = np.empty(0, np.int64)  # their destination region
        self.wait_route = np.empty(0, np.int64)  # their route (index into Borders.routes())
        self.wait_due = np.empty(0, np.int64)  # the step they move
        self.wait_cause = np.empty(0, np.int64)  # Move cause
        self.wait_cost = np.empty(0)  # their migration cost (currency), paid when they move
        self._seen: dict[str, tuple[int, np.ndarray]] = {}  # once-per-step marks
        routes = len(borders.routes())
        self.crossed = np.zeros((n_steps, nc, nc, routes, len(PURPOSES)), np.int64)
        self.approved = np.zeros((n_steps, nc, nc, max(npw, 1)), np.int64)
        self.lapsed = np.zeros((n_steps, nc, nc), np.int64)
        self.irregular_by_group = np.zeros((n_steps, nc, nc, len(GROUPS)), np.int64)
        self.stranded_by_group = np.zeros((n_steps, nc, nc, len(GROUPS)), np.int64)
        self.sent_back = np.zeros((n_steps, nc, nc), np.int64)

    def new_year(self, year: int) -> None:
        """Quotas are per year of the run: a new year starts with every quota unused."""
        if year != self.year:
            self.year, self.used[:] = year, 0.0

    def left(self, pathway: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Persons pathway ``pathway`` can still take this year from countries ``a`` to ``b``."""
        return np.maximum(self.borders.quota[pathway, a, b] - self.used[pathway, a, b], 0.0)

    _WAITING = ("wait_ids", "wait_dest", "wait_route", "wait_due", "wait_cause", "wait_cost")

    def wait(self, ids: np.ndarray, dest: np.ndarray, route: np.ndarray, due: np.ndarray,
             cause: int, cost: np.ndarray) -> None:
        """Add approved applications that move at step ``due``."""
        new = (ids.astype(np.int64), dest.astype(np.int64), route.astype(np.int64),
               due.astype(np.int64), np.full(ids.size, cause, np.int64), cost.astype(float))
        for name, values in zip(self._WAITING, new):
            setattr(self, name, np.concatenate([getattr(self, name), values]))

    def take_due(self, t: int) -> tuple[np.ndarray, ...]:
        """Remove and return the applications due at step ``t`` or before.

        Returns ids, destination regions, routes, causes and costs.
        """
        due = self.wait_due <= t
        out = tuple(getattr(self, name)[due] for name in self._WAITING)
        for name in self._WAITING:
            setattr(self, name, getattr(self, name)[~due])
        ids, dest, route, _, cause, cost = out
        return ids, dest, route, cause, cost

    def first_time(self, what: str, t: int, ids: np.ndarray) -> np.ndarray:
        """Mask of ``ids`` not yet marked for ``what`` at step ``t``; marks them.

        Keeps a household from paying a fee or being counted twice in one step when the place
        cascade sends it abroad for several place types.
        """
        step, marked = self._seen.get(what, (t, np.empty(0, np.int64)))
        if step != t:
            marked = np.empty(0, np.int64)
        fresh = ~np.isin(ids, marked)
        self._seen[what] = (t, np.union1d(marked, ids[fresh]))
        return fresh

    def dataset(self, n: int) -> dict[str, xr.DataArray]:
        """The border results of the first ``n`` steps, as data arrays (time first)."""
        b = self.borders
        person = {"units": "persons"}
        pair = ("time", "origin_country", "destination_country")
        return {
            "cross_border": xr.DataArray(
                self.crossed[:n], dims=(*pair, "route", "purpose"), attrs={
                    **person, "long_name": "persons crossing from origin to destination country "
                    "during the step, by route (an open border, a regular pathway, or "
                    "irregularly) and purpose (a new home, or a place while displaced)"}),
            "pathway_approved": xr.DataArray(
                self.approved[:n, :, :, :len(b.pathways)], dims=(*pair, "pathway"), attrs={
                    **person, "long_name": "persons whose application to a regular pathway was "
                    "approved during the step (they move processing_days later)"}),
            "pathway_lapsed": xr.DataArray(self.lapsed[:n], dims=pair, attrs={
                **person, "long_name": "persons of approved applications who were not at home "
                "when their move was due (displaced meanwhile) and did not move"}),
            "irregular_by_group": xr.DataArray(
                self.irregular_by_group[:n], dims=(*pair, "group"), attrs={
                    **person, "long_name": "persons crossing irregularly during the step, by "
                    "group (children + adults + older_persons = persons)"}),
            "stranded_at_border": xr.DataArray(
                self.stranded_by_group[:n], dims=(*pair, "group"), attrs={
                    **person, "long_name": "persons who wanted to cross into the destination "
                    "country and could not (closed border, no pathway and no irregular route "
                    "they could pay for), by group: households at home when they become "
                    "trapped for it at a decision, the displaced once when they leave home"}),
            "sent_back": xr.DataArray(self.sent_back[:n], dims=pair, attrs={
                **person, "long_name": "persons whose irregular crossing failed (intercepted "
                "and sent back home; irregular.failure_share)"}),
        }

"""Where each walking household is on the route network (``placement.movement = "routes"``).

A household away from home stays at a location (its ``stay_region``) or is on a link from it.
Per household: the link it is on (-1: at a location), the km it has covered on it, the rest of
its planned route, the links it has taken since it left home and its recent travel index
(Flee's ``Person``: ``travelling``, ``distance_travelled_on_link``, ``route``,
``places_travelled``, ``recent_travel_distance``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NO_LINK = -1


@dataclass(frozen=True)
class WalkPlan:
    """The route network a run walks, fixed for the run.

    Attributes:
        start, end, km: (link,) directed links (each route of ``regions.routes`` both ways).
        link_key: (link,) sorted ``start * n + end``; ``link_order`` the links in that order.
        location_type: (region,) index into ``LOCATION_TYPES``.
        foreign: (region,) outside the country of the first region (Flee's home country).
        origin, nodes, links, dist: the candidate routes from every location (sorted by
            origin; nodes and links padded with -1) and their lengths in km.
        route_end: (route,) the location each candidate route ends at.
        segment_start: (region + 1,) first route of each origin.
        closed_link, closed_link_from, closed_link_to: a directed link and the [from, to) days
            it is closed, one row per link and period (link and location closures).
        closed_camp, closed_camp_from, closed_camp_to: a region and the days it is no camp.
    """

    start: np.ndarray
    end: np.ndarray
    km: np.ndarray
    link_key: np.ndarray
    link_order: np.ndarray
    location_type: np.ndarray
    foreign: np.ndarray
    origin: np.ndarray
    nodes: np.ndarray
    links: np.ndarray
    dist: np.ndarray
    route_end: np.ndarray
    segment_start: np.ndarray
    closed_link: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    closed_link_from: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    closed_link_to: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    closed_camp: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    closed_camp_from: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    closed_camp_to: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    def links_closed(self, t: int) -> np.ndarray:
        """Links closed on day ``t`` by link and location closures."""
        on = (self.closed_link_from <= t) & (t < self.closed_link_to)
        return self.closed_link[on]

    def camps_closed(self, t: int) -> np.ndarray:
        """Regions that are no camp on day ``t`` (camp closures)."""
        on = (self.closed_camp_from <= t) & (t < self.closed_camp_to)
        return self.closed_camp[on]

    @property
    def width(self) -> int:
        """Most locations on a route."""
        return int(self.nodes.shape[1])

    def link_between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """A link from ``a`` to ``b`` (-1 where none)."""
        if self.link_key.size == 0:
            return np.full(np.shape(a), NO_LINK)
        n = self.location_type.size
        key = a.astype(np.int64) * n + b
        pos = np.minimum(np.searchsorted(self.link_key, key), self.link_key.size - 1)
        found = (self.link_key[pos] == key) & (b >= 0)
        return np.where(found, self.link_order[pos], NO_LINK)


class Walkers:
    """Dense per-household walk state (allocated only for routes movement)."""

    def __init__(self, n_households: int, route_width: int) -> None:
        self.link = np.full(n_households, NO_LINK, dtype=np.int32)
        self.km = np.zeros(n_households, dtype=np.float32)
        self.route = np.full((n_households, route_width), -1, dtype=np.int32)
        #: Flee's places_travelled, counted up to 2 (only "still on the first link" is read)
        self.legs = np.zeros(n_households, dtype=np.uint16)
        self.recent = np.zeros(n_households, dtype=np.float32)

    @staticmethod
    def nbytes_for(n_households: int, route_width: int) -> int:
        """Bytes the state of ``n_households`` takes (for the memory estimate)."""
        return n_households * (4 + 4 + 4 * route_width + 2 + 4)

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return sum(a.nbytes for a in (self.link, self.km, self.route, self.legs, self.recent))

    def set_off(self, ids: np.ndarray, newly: bool = True) -> None:
        """``ids`` stand at a location with no route; ``newly``: they just left home."""
        self.link[ids], self.km[ids], self.route[ids] = NO_LINK, 0.0, -1
        if newly:
            self.legs[ids], self.recent[ids] = 1, 0.0

    def next_node(self, ids: np.ndarray) -> np.ndarray:
        """First location of the planned route of ``ids`` (-1: none)."""
        return self.route[ids, 0]

    def advance(self, ids: np.ndarray) -> None:
        """Drop the first location of the routes of ``ids`` (they set off towards it)."""
        if self.route.shape[1] > 1:
            self.route[ids, :-1] = self.route[ids, 1:]
        self.route[ids, -1] = -1

    def destination(self, ids: np.ndarray) -> np.ndarray:
        """Last location of the planned route of ``ids`` (-1: none)."""
        r = self.route[ids]
        last = (r >= 0).sum(axis=1) - 1
        return np.where(last >= 0, r[np.arange(ids.size), np.maximum(last, 0)], -1)

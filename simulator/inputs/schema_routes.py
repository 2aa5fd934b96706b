"""The ``[placement.routes]`` section: Flee's walk along the route network, as an option.

With ``placement.movement = "routes"`` displaced households do not choose a camp at once: they
walk the links of ``regions.routes`` a day's distance at a time and choose again at every
location, as Flee's agents do (flee/moving.py, flee/flee.py; Suleimenova, Bell & Groen 2017,
Scientific Reports 7, 13377). Every field is Flee's ``move_rules`` setting of the same meaning;
its name in Flee's ``simsetting.yml`` is given with each.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Flee's location types (``locations.csv`` column ``location_type``), as the regions table's
#: optional ``location_type`` column names them
LOCATION_TYPES = ("town", "conflict_zone", "camp", "idpcamp", "forward", "marker", "flood_zone")


class MoveChances(BaseModel):
    """Daily chance that a person at a location of each type sets off (Flee's move chances).

    ``conflict`` applies wherever the hazard is on (Flee's conflict zones, DFlee's flooded
    zones), whatever the type; ``forward`` and ``marker`` locations are always left (1).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    town: float = Field(default=0.3, ge=0, le=1)  #: default_movechance
    conflict: float = Field(default=1.0, ge=0, le=1)  #: conflict_movechance
    camp: float = Field(default=0.001, ge=0, le=1)  #: camp_movechance
    idpcamp: float = Field(default=0.1, ge=0, le=1)  #: idpcamp_movechance


class RouteClosure(BaseModel):
    """Days a link, a location or a camp is closed (Flee's ``closures.csv`` rows of that type).

    ``link``: the route between ``names[0]`` and ``names[1]``, both ways; ``location``: every
    route to and from ``names[0]``; ``camp``: ``names[0]`` stops being a camp (a town: Flee's
    ``close_camp``) and admits nobody. ``closed_days``: [first, end) day pairs.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["link", "location", "camp"]
    names: tuple[str, ...] = Field(min_length=1, max_length=2)
    closed_days: tuple[tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]], ...]

    @model_validator(mode="after")
    def _names(self) -> RouteClosure:
        if len(self.names) != (2 if self.kind == "link" else 1):
            raise ValueError(f"names: a {self.kind} closure names "
                             f"{'two locations' if self.kind == 'link' else 'one location'}")
        if any(b <= a for a, b in self.closed_days):
            raise ValueError("closed_days: each period is [first day, end day) with end > first")
        return self


class RoutesConfig(BaseModel):
    """Flee's walk: move chances, location and link weights, speeds (Flee 3.1 defaults).

    Fields: ``move_chance`` (above); ``camp_weight``, ``foreign_weight``, ``conflict_weight``:
    attraction multipliers of camps, of locations outside the first region's country and of
    conflict zones (``conflict_weight`` to the power intensity × ``impact.conflict_decay``);
    ``softening_km`` (``softening``): km added to every route's length; ``weight_softening``,
    ``weight_power``; ``awareness_level``: links an agent looks ahead (0: a random link); the
    distance power is ``placement.distance_exponent`` and the capacity buffer
    ``placement.soft_cap_start``, as in direct movement; ``max_move_speed_km_per_day`` is
    ``placement.travel_speed_km_per_day`` (Flee's default 360 when unset);
    ``walk_speed_km_per_day`` (``max_walk_speed``) for the first link when ``start_on_foot``;
    ``avoid_short_stints``; ``movechance_pop_base`` and ``movechance_pop_scale_factor``;
    ``capacity_scaling``: a camp counts as full for route weights at capacity × it (newer
    Flee's ``getCapMultiplier``; the places stay the capacity); ``flood_move_chances`` and
    ``flood_location_weights``: by flood level (the hazard's level, an index), the move chance
    of a flooded location and its score multiplier (DFlee's ``flood_rules``);
    ``closures``: links, locations and camps closed on some days; ``day0_camps``: persons put
    straight into each camp on the first day (``insert_day0``, Flee's validation runs).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    move_chance: MoveChances = MoveChances()
    camp_weight: float = Field(default=1.0, ge=0)
    foreign_weight: float = Field(default=1.0, ge=0)
    conflict_weight: float = Field(default=10 ** -0.5, ge=0)
    softening_km: float = Field(default=10.0, ge=0)
    weight_softening: float = Field(default=0.0, ge=0)
    weight_power: float = Field(default=1.0, ge=0)
    awareness_level: int = Field(default=1, ge=0, le=8)
    walk_speed_km_per_day: float = Field(default=35.0, gt=0)
    start_on_foot: bool = False
    avoid_short_stints: bool = False
    movechance_pop_base: float = Field(default=10000.0, gt=0)
    movechance_pop_scale_factor: float = Field(default=0.0)
    capacity_scaling: float = Field(default=1.0, gt=0)
    flood_move_chances: tuple[Annotated[float, Field(ge=0, le=1)], ...] = ()
    flood_location_weights: tuple[Annotated[float, Field(ge=0)], ...] = ()
    closures: tuple[RouteClosure, ...] = ()
    day0_camps: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)

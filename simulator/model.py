"""The displacement model: households (arrays) respond to hazard grids; regions are agents.

See :class:`DisplacementModel` for the step order; the yearly decisions and the warning phase
live in :mod:`simulator.steps.decide`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import contextmanager

import mesa
import numpy as np
import pandas as pd
import xarray as xr

from simulator import __version__
from simulator.errors import InvariantError
from simulator.inputs.config import dump_toml
from simulator.inputs.hazards import cf_units
from simulator.inputs.load import Inputs, load_inputs
from simulator.inputs.regions import capacity_table
from simulator.inputs.schema import CAPACITY_PLACES, PLACES, Scenario
from simulator.rng import Streams
from simulator.rules.behaviour import (
    activation_share,
    adapted_depth,
    income_quintile,
    return_probability,
    seeks_public_shelter,
)
from simulator.rules.impacts import (
    damage_by_class,
    displaced_by_damage,
    displaced_by_flood,
    displacement_draw,
    in_flooded_part,
    level_rate,
    repair_days,
    take_persons,
    wind_damage,
)
from simulator.rules.placement import admit, choose_destination, gravity_weights
from simulator.steps.decide import decide, decision_step, warn_and_evacuate
from simulator.steps.record import Recorder
from simulator.world.households import (
    AWAY_STATES,
    GROUPS,
    HOME,
    NO_PLACE,
    NO_STEP,
    STATE_NAMES,
    Households,
    Place,
    State,
    cell_slices,
    households_in_cells,
    step_dtype_for,
    synthesise,
    synthesise_composition,
)

N_STATES, N_PLACES, N_CAP = len(STATE_NAMES), len(PLACES), len(CAPACITY_PLACES)
RAMPED = [Place.SHELTER, Place.CAMP]


#: Households whose group persons are computed at once: about 100 bytes of temporaries each.
GROUP_BLOCK = 1 << 18

class Region(mesa.Agent):
    """A region (admin unit), a Mesa agent with identity.

    Its capacity and occupancy are rows of the model's ``(region, place)`` arrays, so the model
    updates all regions at once.
    """

    def __init__(self, model: DisplacementModel, index: int, name: str) -> None:
        super().__init__(model)
        self.index, self.name = index, name

    @property
    def capacity(self) -> dict[str, int]:
        """Persons each place type can take now."""
        return dict(zip(CAPACITY_PLACES, self.model.capacity[self.index, :N_CAP].tolist()))

    @property
    def occupancy(self) -> dict[str, int]:
        """Displaced and evacuated persons staying here, by place type."""
        return dict(zip(PLACES, self.model.occupancy[self.index].tolist()))

    @property
    def persons_by_state(self) -> dict[str, int]:
        """Persons whose home is here, by state."""
        return dict(zip(STATE_NAMES, self.model.persons[self.index].tolist()))


class DisplacementModel(mesa.Model):
    """Households respond to a hazard grid across the mobility continuum.

    Step order (one step is ``step_days`` days; step ``k`` starts ``k * step_days`` after
    ``start_date``):

    1. **hazard**: intensity at every populated cell this step (zero behind flood defences whose
       standard reaches the hazard's return period).
    2. **decide** (every ``decision_interval_days``): households at home weigh staying, adapting
       in place and migrating by subjective expected utility with perceived risk; those who
       want to move but cannot afford it are ``trapped``; a share of the rest ``relocate``
       within destination inflow caps; a planned-relocation programme moves the most exposed.
    3. **warn / evacuate**: where a forecast for ``lead_time`` ahead crosses the threshold,
       covered households are warned and evacuate with a probability from trust and
       perception; trust is updated when the forecast's day comes (flood or false alarm).
    4. **impact / displace**: homes in wet cells are damaged (depth-damage curve, less for
       dry-proofed homes); households at home or evacuated whose depth or damage crosses the
       threshold are forcibly ``displaced``.
    5. **place**: the newly displaced and evacuated, and the unsheltered looking again, go down
       the cascade: host with kin in their tie region, rental if income allows, public shelter
       (if they seek it, Hazus shares by income quintile; else ``self_arranged``), camp;
       home region first, then another by gravity; soft and hard caps; shelters and camps open
       on the activation ramp; the rest are ``unsheltered``.
    6. **return**: evacuees go home once their home is dry after the warning; displaced
       households get a repair time (damage, reconstruction rate) once dry and then return, or,
       after repeated shocks, settle where they are (``relocated``).
    7. **record**: counters (updated on every transition, never recounted) are stored; with
       ``check_invariants`` every count is recomputed from the households and compared.

    Args:
        config: the validated scenario.
        inputs: preloaded inputs (default: loaded from the scenario's files).
        seed: overrides ``config.seed`` (e.g. for replicates).
        check_invariants: recount and check conservation and capacity after every step.
        profile: accumulate the wall time of each phase in ``phase_seconds`` (exclusive:
            placement done inside the impact or warning phase counts as ``place``).
    """

    def __init__(self, config: Scenario, inputs: Inputs | None = None, seed: int | None = None,
                 check_invariants: bool = False, profile: bool = False) -> None:
        self.seed_value = config.seed if seed is None else int(seed)
        super().__init__(rng=self.seed_value)
        self.config = config
        self.inputs = inp = inputs if inputs is not None else load_inputs(config)
        self.streams = Streams(self.seed_value)
        self.check_invariants = check_invariants
        self.phase_seconds: dict[str, float] | None = {} if profile else None
        self._phase_stack: list[list] = []
        self.step_index = 0
        names = inp.region_names
        self.regions = [Region(self, i, name) for i, name in enumerate(names)]
        pop = config.population
        table = inp.table
        self.class_names = list(pop.building_class_shares) + [
            c for c in (table.class_names if table else []) if c not in pop.building_class_shares]
        self.curves = [(np.asarray(config.impact.curves[c].depths_m),
                        np.asarray(config.impact.curves[c].damage_ratio)) for c in self.class_names]
        region_persons = np.bincount(inp.cell_region, inp.cell_persons, len(names))
        tie_w = gravity_weights(inp.distance_km, region_persons, 2.0, np.inf)
        self.households: Households = synthesise(
            inp.cell_persons, inp.cell_region, pop.persons_per_household, pop.households,
            pop.income_median_per_year, pop.income_gini,
            np.array(list(pop.building_class_shares.values())),
            self.streams.generator("synthesis"), tie_w, pop.ties_home_share,
            pop.savings_income_ratio, config.warning.initial_trust,
            step_dtype_for(config.n_steps, config.step_days), *self._table_households())
        hh = self.households
        if config.placement.travel_speed_km_per_day is not None:  # only then: 2-4 B/household
            hh.arrive_step = np.full(len(hh), NO_STEP, dtype=hh.since_step.dtype)
        synthesise_composition(hh, [pop.composition.for_region(n) for n in names],
                               self.streams.generator("composition"))
        self.lever = {k: np.array([config.lever(k, n) for n in names]) for k in (
            "warning_coverage", "cash_assistance_per_household", "reconstruction_rate",
            "protection_return_period_years", "income_index")}
        hh.savings += self.lever["cash_assistance_per_household"][hh.region].astype(np.float32)
        self.quintile_edges = np.quantile(hh.income, [0.2, 0.4, 0.6, 0.8]) if len(hh) else \
            np.zeros(4)
        self.cell_start = cell_slices(hh.cell, inp.cell_region.size)
        protected = self.lever["protection_return_period_years"] >= \
            config.hazard.return_period_years
        if config.hazard.kind == "wind_speed":  # flood defences do not stop wind
            protected[:] = False
        self.cell_open = ~protected[inp.cell_region]  # cells not behind adequate defences
        # a home is hit above ``hit_above`` and clear again below ``clear_below``: for wind, the
        # wind that starts to damage homes (a breeze is no storm); else any water, and receded
        wind = config.hazard.kind == "wind_speed"
        self.hit_above = config.impact.wind.v_threshold_ms if wind else 0.0
        self.clear_below = config.impact.wind.v_threshold_ms if wind else \
            config.return_.receded_depth_m
        self.design_depth = inp.hazard.peak() * self.cell_open
        self.design_fraction = inp.hazard.peak_fraction()
        self.base_capacity = capacity_table(config, names, "scenario")
        self.capacity = self.base_capacity.copy()
        self.activated_step = NO_STEP  # the response starts at the first departure anywhere
        self._apply_ramp(0)
        self.occupancy = np.zeros((len(names), N_PLACES), dtype=np.int64)
        self.persons = np.zeros((len(names), N_STATES), dtype=np.int64)
        self._count(self.persons, hh.region, hh.state, hh.size, +1)
        self.persons_by_group = np.zeros((len(names), N_STATES, len(GROUPS)), dtype=np.int64)
        self._count_all_groups(self.persons_by_group)
        self.total_persons = int(self.persons.sum())
        self.away_ids = np.empty(0, dtype=np.int64)  # displaced or evacuated
        self.pending_warnings: dict[int, np.ndarray] = {}  # step -> households warned for it
        self.inflow_used: dict[int, np.ndarray] = {}  # decision step -> relocation inflow
        self.displaced_by_cell = np.zeros(inp.cell_region.size, dtype=np.int64)
        self._all_groups: np.ndarray | None = None  # group persons of everyone, for verify()
        self.recorder = Recorder(config.n_steps, len(names))
        self.prescribed_owed = 0.0  # prescribed persons not yet displaced (nobody left at home)
        self._unmet_counts = bool({"shelter", "camp"} & set(config.placement.cascade))

    def _table_households(self) -> tuple[np.ndarray | None, dict[str, np.ndarray] | None]:
        """Households per cell and known attributes from a household or building table."""
        table = self.inputs.table
        if table is None:
            return None, None
        given: dict[str, np.ndarray] = {}
        if table.income is not None:
            given["income"] = table.income
        if table.value is not None:  # a building's value is shared by its households
            given["value"] = table.value if table.kind == "households" else \
                table.value * self.config.population.persons_per_household / np.maximum(
                    table.persons, 1e-9)
        if table.building_class is not None:
            lookup = np.array([self.class_names.index(c) for c in table.class_names])
            given["building_class"] = np.where(table.building_class >= 0,
                                               lookup[table.building_class], -1)
        if table.kind == "buildings":
            return None, given
        given["size"] = table.persons
        return np.ones(table.lat.size, dtype=np.int64), given

    def home_depth(self, ids: np.ndarray, depth: np.ndarray,
                   fraction: np.ndarray | None) -> np.ndarray:
        """Flood depth (m) at the homes of ``ids`` from cell ``depth`` and flooded ``fraction``.

        Homes outside the flooded part of their cell stay dry (see :func:`in_flooded_part`).
        """
        d = depth[self.households.cell[ids]]
        if fraction is None:
            return d
        position = self.streams.uniform("flood_position", 0, ids)
        return np.where(in_flooded_part(position, fraction[self.households.cell[ids]]), d, 0.0)

    # -- bookkeeping -----------------------------------------------------------------------
    @staticmethod
    def _count(table: np.ndarray, rows: np.ndarray, cols: np.ndarray, persons: np.ndarray,
               sign: int) -> None:
        """Add ``sign * persons`` to ``table[rows, cols]`` (a bincount, not a Python loop)."""
        n_rows, n_cols = table.shape
        cols = np.broadcast_to(cols, rows.shape)
        for s in range(0, rows.size, 1 << 21):  # bounded temporaries at any size
            flat = rows[s:s + (1 << 21)].astype(np.int64) * n_cols + cols[s:s + (1 << 21)]
            table += sign * np.bincount(flat, weights=persons[s:s + (1 << 21)],
                                        minlength=n_rows * n_cols).reshape(
                n_rows, n_cols).astype(np.int64)

    def _count_groups(self, table: np.ndarray, ids: np.ndarray, sign: int) -> None:
        """Add ``sign`` times the group persons of ``ids`` to ``table[region, state, group]``."""
        hh = self.households
        for start in range(0, ids.size, GROUP_BLOCK):  # bounded temporaries at any size
            part = ids[start:start + GROUP_BLOCK]
            groups = hh.group_persons(part)
            for g in range(groups.shape[1]):
                self._count(table[:, :, g], hh.region[part], hh.state[part], groups[:, g], sign)

    def _count_all_groups(self, table: np.ndarray) -> None:
        """Add everyone's group persons to ``table``, in blocks of ids (no full id range)."""
        n = len(self.households)
        for start in range(0, n, GROUP_BLOCK):
            self._count_groups(table, np.arange(start, min(n, start + GROUP_BLOCK)), +1)

    def set_state(self, ids: np.ndarray, new: State | np.ndarray) -> None:
        """Move ``ids`` to state ``new`` (scalar or per household), keeping counters exact."""
        hh = self.households
        self._count(self.persons, hh.region[ids], hh.state[ids], hh.size[ids], -1)
        self._count_groups(self.persons_by_group, ids, -1)
        hh.state[ids] = new
        hh.since_step[ids] = self.step_index
        self._count(self.persons, hh.region[ids], hh.state[ids], hh.size[ids], +1)
        self._count_groups(self.persons_by_group, ids, +1)

    def flow(self, origin: np.ndarray, dest: np.ndarray, persons: np.ndarray) -> None:
        """Record persons moving from ``origin`` to ``dest`` regions this step."""
        self._count(self.recorder.flows[self.step_index], origin, dest, persons, +1)

    def home_state(self, ids: np.ndarray) -> np.ndarray:
        """State of households back at home: ``adapted`` if dry-proofed, else ``at_home``."""
        return np.where(self.households.adapted[ids] == 1, State.ADAPTED, State.AT_HOME)

    def _apply_ramp(self, t: int) -> None:
        """Open shelters and camps on the activation ramp, counted from the response's start."""
        cfg = self.config.capacity
        days = -1 if self.activated_step == NO_STEP else (t - self.activated_step) * \
            self.config.step_days
        share = float(activation_share(np.array(days), cfg.activation_ramp, cfg.ramp_days))
        for p in RAMPED:
            self.capacity[:, p] = np.floor(self.base_capacity[:, p] * share).astype(np.int64)

    # -- the step ----------------------------------------------------------------------------
    @contextmanager
    def _phase(self, name: str):
        """Time a phase exclusively of nested phases (only when profiling)."""
        if self.phase_seconds is None:
            yield
            return
        frame = [name, time.perf_counter(), 0.0]  # name, start, time spent in nested phases
        self._phase_stack.append(frame)
        try:
            yield
        finally:
            self._phase_stack.pop()
            spent = time.perf_counter() - frame[1]
            self.phase_seconds[name] = self.phase_seconds.get(name, 0.0) + spent - frame[2]
            if self._phase_stack:
                self._phase_stack[-1][2] += spent

    def step(self) -> None:
        """Advance one step, in the order given in the class docstring."""
        t = self.step_index
        with self._phase("hazard"):
            depth = self.inputs.hazard.at(t) * self.cell_open
        if decision_step(self, t):
            with self._phase("decide"):
                decide(self, t)
        if self.config.warning.coverage > 0 or (self.lever["warning_coverage"] > 0).any():
            with self._phase("warn"):
                warn_and_evacuate(self, t, depth)
        if self.inputs.hazard.step_max[t] > 0 or self.inputs.prescribed is not None:
            with self._phase("impact"):
                self._impact_and_displace(t, depth)
        with self._phase("place"):
            self._apply_ramp(t)
            self._place_unsheltered(t)
        with self._phase("return"):
            self._return_home(t, depth)
        with self._phase("record"):
            self._record(t, depth)
        self.step_index += 1

    def damage(self, ids: np.ndarray, depth_m: np.ndarray,
               adapted: np.ndarray | None = None) -> np.ndarray:
        """Damage ratio of the homes of ``ids`` at ``depth_m``, dry-proofed where ``adapted``.

        ``adapted`` defaults to each household's own flag; pass all-True to price adaptation. For
        a ``wind_speed`` hazard ``depth_m`` is the wind (m/s) and the wind curve applies.
        """
        if self.config.hazard.kind == "wind_speed":  # dry-proofing does not stop wind
            w = self.config.impact.wind
            return wind_damage(depth_m, w.v_threshold_ms, w.v_half_ms)
        hh, prot = self.households, self.config.behaviour.adaptation_protection_m
        adapted = hh.adapted[ids] == 1 if adapted is None else adapted
        eff = np.where(adapted, adapted_depth(depth_m, prot), depth_m)
        return damage_by_class(eff, hh.building_class[ids], self.curves)

    def _impact_and_displace(self, t: int, depth: np.ndarray) -> None:
        hh, imp = self.households, self.config.impact
        ids = households_in_cells(self.cell_start, np.flatnonzero(depth > self.hit_above))
        d = self.home_depth(ids, depth, self.inputs.hazard.fraction_at(t))
        hit = d > self.hit_above
        ids, d = ids[hit], d[hit]
        hh.last_flood_step[ids] = t
        state = hh.state[ids]
        away = state == State.DISPLACED
        hh.due_step[ids[away & (d >= self.clear_below)]] = NO_STEP
        can_leave = np.isin(state, HOME) | (state == State.EVACUATED)
        if imp.method in ("level_rate", "prescribed"):
            cand = ids[can_leave]
            leave = cand[self._spawn(t, cand, d[can_leave])]
        else:
            dmg = self.damage(ids, d)  # this step's damage decides displacement
            hh.damage[ids] = np.maximum(hh.damage[ids], dmg)  # the worst sets the repairs (f16)
            beyond = (displaced_by_flood(d, imp.depth_threshold_m)
                      if imp.method == "depth_threshold"
                      else displaced_by_damage(dmg, imp.damage_threshold))
            cand = ids[beyond & can_leave]
            leave = cand[displacement_draw(np.ones(cand.size, bool),
                                           self.streams.uniform("displace", t, cand),
                                           imp.displacement_probability)]
        if leave.size == 0:
            return
        np.add.at(self.recorder.newly_displaced[t], hh.region[leave], hh.size[leave])
        np.add.at(self.displaced_by_cell, hh.cell[leave], hh.size[leave])
        was_evacuated = hh.state[leave] == State.EVACUATED
        left_home = hh.since_step[leave].copy()
        self.set_state(leave, State.DISPLACED)
        # an evacuee's episode began when it left home: keeps its shelter-seeking draw and length
        hh.since_step[leave[was_evacuated]] = left_home[was_evacuated]
        hh.due_step[leave] = NO_STEP
        hh.shocks[leave] = np.minimum(hh.shocks[leave].astype(np.int64) + 1, 255)
        fresh = leave[~was_evacuated]  # evacuees keep the place they already have
        self.away_ids = np.concatenate([self.away_ids, fresh])
        self.seek(fresh, t, newly=True)

    def _spawn(self, t: int, cand: np.ndarray, level: np.ndarray) -> np.ndarray:
        """Which of ``cand`` (at hazard ``level``) leave under a rate or a prescribed count.

        ``level_rate``: each day a share of the residents of a location (or a number of persons)
        leaves, by hazard level, as Flee's flood- and conflict-driven spawning; ``prescribed``:
        this step's persons from ``impact.prescribed_file``, from everywhere the hazard is on,
        as Flee's validation runs spawn the observed daily increase.
        """
        hh, imp, days = self.households, self.config.impact, self.config.step_days
        u = self.streams.uniform("displace", t, cand)
        if imp.method == "prescribed":  # what nobody at home could fill is owed to later steps
            target = self.inputs.prescribed[t] + self.prescribed_owed
            leave = take_persons(np.zeros(cand.size, np.int64), hh.size[cand], u,
                                 np.array([target]))
            # the signed remainder: an overshoot of part of a household is paid back later
            self.prescribed_owed = target - float(hh.size[cand[leave]].sum())
            return leave
        rate = level_rate(level, imp.displaced_per_day_by_level)
        if imp.rate_unit == "share":
            return u < 1.0 - (1.0 - rate) ** days
        cells, group = np.unique(hh.cell[cand], return_inverse=True)
        target = np.zeros(cells.size)
        target[group] = rate * days  # one level per cell
        return take_persons(group, hh.size[cand], u, target)

    def _place_unsheltered(self, t: int) -> None:
        hh = self.households
        ids = self.away_ids[hh.place[self.away_ids] == Place.UNSHELTERED]
        ids = ids[hh.since_step[ids] < t]  # the newly displaced were placed this step
        cascade = [Place[p.upper()] for p in self.config.placement.cascade]
        if ids.size and (self.capacity[:, cascade] > self.occupancy[:, cascade]).any():
            self.seek(ids, t, newly=False)

    def seek(self, ids: np.ndarray, t: int, newly: bool) -> None:
        """Place ``ids`` down the cascade; see :mod:`simulator.rules.placement` for the rules."""
        with self._phase("place"):
            self._seek(ids, t, newly)

    def _seek(self, ids: np.ndarray, t: int, newly: bool) -> None:
        hh, cfg = self.households, self.config.placement
        if ids.size == 0:
            return
        home, size = hh.region[ids].astype(np.int64), hh.size[ids]
        if newly:
            if self.activated_step == NO_STEP:  # the response starts
                self.activated_step = t
                self._apply_ramp(t)
        else:
            self._count(self.occupancy, hh.stay_region[ids], hh.place[ids], size, -1)
        region = home.copy()
        place = np.full(ids.size, Place.UNSHELTERED, dtype=np.uint8)
        pending = np.ones(ids.size, dtype=bool)
        seeker = seeks_public_shelter(  # one draw per household and displacement episode
            income_quintile(hh.income[ids], self.quintile_edges),
            self.streams.uniform("shelter_seeking", hh.since_step[ids], ids),
            cfg.shelter_seeking_by_income_quintile)
        for k, name in enumerate(cfg.cascade):
            p = Place[name.upper()]
            if p in RAMPED:  # Hazus: households not seeking public shelter arrange their own
                own = pending & ~seeker
                region[own], place[own], pending[own] = home[own], Place.SELF_ARRANGED, False
            eligible = pending.copy()
            if p == Place.RENTAL:
                eligible &= hh.income[ids] >= cfg.rental_min_income_per_year
            self._admit_place(ids, t, k, p, eligible, home, size, region, place, pending)
        moved = newly | (place != Place.UNSHELTERED)
        tail = (place == Place.UNSHELTERED) | (place == Place.SELF_ARRANGED)
        self._count(self.occupancy, region[tail], place[tail], size[tail], +1)
        self.flow(home[moved], region[moved], size[moved])
        hh.stay_region[ids], hh.place[ids] = region, place

    def _admit_place(self, ids, t, k, p, eligible, home, size, region, place, pending) -> None:
        hh, cfg = self.households, self.config.placement
        cap, occ = self.capacity[:, p], self.occupancy[:, p]
        attempts = ("ties",) if p == Place.HOST else ("home", "away")
        for attempt in attempts:
            sel = np.flatnonzero(eligible & pending)
            if sel.size == 0 or not (cap > occ).any():
                return
            key = (t * 16 + k) * 2 + (attempt == "away")
            if attempt == "away":
                w = gravity_weights(self.inputs.distance_km, (cap - occ).astype(float),
                                    cfg.distance_exponent, cfg.max_distance_km)
                dest = choose_destination(home[sel], w,
                                          self.streams.uniform("destination", key, ids[sel]))
                sel, dest = sel[dest >= 0], dest[dest >= 0]
            else:
                dest = (hh.tie_region[ids[sel]] if attempt == "ties" else home[sel]).astype(int)
                room = cap[dest] > occ[dest]  # a full region admits nobody
                sel, dest = sel[room], dest[room]
            ok = admit(dest, size[sel], self.streams.uniform("placement", key, ids[sel]),
                       self.streams.uniform("admission", key, ids[sel]), occ, cap,
                       cfg.soft_cap_start)
            got = sel[ok]
            region[got], place[got], pending[got] = dest[ok], p, False
            if hh.arrive_step is not None:  # on the way distance / speed days, from this step
                days = self.inputs.distance_km[home[got], dest[ok]] / \
                    cfg.travel_speed_km_per_day  # as Flee: a day's travel arrives that day
                hh.arrive_step[ids[got]] = t + np.maximum(
                    np.ceil(days / self.config.step_days) - 1, 0)
            self._count(self.occupancy, dest[ok], np.full(got.size, p), size[got], +1)

    def _return_home(self, t: int, depth: np.ndarray) -> None:
        hh, ret = self.households, self.config.return_
        ids = self.away_ids
        if ids.size == 0:
            return
        dry = self.home_depth(ids, depth, self.inputs.hazard.fraction_at(t)) < self.clear_below
        evac = hh.state[ids] == State.EVACUATED
        lead = self.lead_steps()
        evac_back = ids[evac & dry & (t > hh.warned_step[ids] + lead)]
        disp = ids[~evac]
        ddry = dry[~evac]
        schedule = disp[ddry & (hh.due_step[disp] == NO_STEP)]
        if schedule.size:
            days = repair_days(hh.damage[schedule], ret.repair_days_total_loss,
                               ret.repair_time_spread,
                               self.streams.uniform("return", t, schedule))
            days = days / self.lever["reconstruction_rate"][hh.region[schedule]]
            days = np.maximum(days, ret.min_days_away - (t - hh.since_step[schedule])
                              * self.config.step_days)
            due = t + np.ceil(days / self.config.step_days)
            hh.due_step[schedule] = np.minimum(due, self.config.n_steps + 1)  # past the end: never
        due = disp[ddry & (hh.due_step[disp] != NO_STEP) & (hh.due_step[disp] <= t)]
        settle = self.streams.uniform("relocate", t, due) >= return_probability(
            hh.shocks[due], ret.repeated_shock_penalty)
        back = np.concatenate([evac_back, due[~settle]])
        stay = due[settle]
        for group in (back, stay):
            self._count(self.occupancy, hh.stay_region[group], hh.place[group], hh.size[group],
                        -1)
        self.flow(hh.stay_region[back], hh.region[back], hh.size[back])
        np.add.at(self.recorder.returns[t], hh.region[due[~settle]], hh.size[due[~settle]])
        np.add.at(self.recorder.settled[t], hh.region[stay], hh.size[stay])
        ended = due  # displacement episodes ending now, by return or by settling
        np.add.at(self.recorder.durations, (hh.region[ended], t - hh.since_step[ended]),
                  hh.size[ended])
        self.set_state(evac_back, self.home_state(evac_back))
        self.set_state(due[~settle], State.RETURNED)
        self.set_state(stay, State.RELOCATED)
        hh.place[back], hh.stay_region[back] = NO_PLACE, hh.region[back]
        hh.place[stay] = NO_PLACE
        hh.damage[back], hh.due_step[back] = 0.0, NO_STEP
        self.away_ids = np.setdiff1d(ids, np.concatenate([back, stay]), assume_unique=True)

    def lead_steps(self) -> int:
        """Steps between a forecast and the day it forecasts."""
        return int(np.ceil(self.config.warning.lead_time_days / self.config.step_days))

    def _record(self, t: int, depth: np.ndarray) -> None:
        hh = self.households
        unmet = self.occupancy[:, Place.UNSHELTERED] if self._unmet_counts else 0
        self.recorder.record(t, self.persons, self.occupancy, self.capacity, unmet)
        self.recorder.persons_by_group[t] = self.persons_by_group
        rough = self.away_ids[hh.place[self.away_ids] == Place.UNSHELTERED]
        if rough.size:
            groups = hh.group_persons(rough)
            for g in range(groups.shape[1]):
                self.recorder.unsheltered_by_group[t, :, g] = np.bincount(
                    hh.stay_region[rough], groups[:, g], self.persons.shape[0])
        disp = self.away_ids[hh.state[self.away_ids] == State.DISPLACED]
        days_away = (t - hh.since_step[disp]) * self.config.step_days
        region, size = hh.region[disp], hh.size[disp]
        for j, limit in enumerate((90, 180, 365)):
            long = days_away > limit
            self.recorder.protracted[t, :, j] = np.bincount(region[long], size[long],
                                                            self.persons.shape[0])
        if self.inputs.hazard.step_max[t] > 0:
            np.maximum.at(self.recorder.hazard_max[t], self.inputs.cell_region, depth)
        if hh.arrive_step is not None:
            going = self.away_ids[hh.arrive_step[self.away_ids] > t]
            self._count(self.recorder.in_transit[t], hh.stay_region[going], hh.place[going],
                        hh.size[going], +1)
        if self.check_invariants:
            self.verify()

    # -- checks and results --------------------------------------------------------------------
    def verify(self) -> None:
        """Recount persons and occupancy from the households; raise InvariantError on mismatch."""
        hh = self.households
        persons = np.zeros_like(self.persons)
        self._count(persons, hh.region, hh.state, hh.size, +1)
        away = hh.place != NO_PLACE
        occupancy = np.zeros_like(self.occupancy)
        self._count(occupancy, hh.stay_region[away], hh.place[away], hh.size[away], +1)
        problems = []
        if int(persons.sum()) != self.total_persons:
            problems.append(f"persons {int(persons.sum())} != {self.total_persons}")
        if not np.array_equal(persons, self.persons):
            problems.append("persons counters differ from a recount")
        by_group = np.zeros_like(self.persons_by_group)
        if self.check_invariants:  # every step: keep everyone's (static) group persons
            if self._all_groups is None:
                self._all_groups = hh.group_persons(np.arange(len(hh)))
            for g in range(self._all_groups.shape[1]):
                self._count(by_group[:, :, g], hh.region, hh.state, self._all_groups[:, g], +1)
        else:
            self._count_all_groups(by_group)
        if not np.array_equal(by_group, self.persons_by_group):
            problems.append("persons_by_group counters differ from a recount")
        if not np.array_equal(occupancy, self.occupancy):
            problems.append("occupancy counters differ from a recount")
        if (occupancy[:, :N_CAP] > self.capacity[:, :N_CAP]).any():
            problems.append("occupancy exceeds capacity")
        if not np.array_equal(away, np.isin(hh.state, AWAY_STATES)):
            problems.append("households away without a place (or the reverse)")
        if not np.array_equal(np.sort(self.away_ids), np.flatnonzero(away)):
            problems.append("the active set differs from the households away")
        if problems:
            raise InvariantError(f"step {self.step_index}: " + "; ".join(problems))

    def run(self, progress: Callable[[int, int], None] | None = None) -> xr.Dataset:
        """Run the remaining steps and return the results dataset."""
        while self.step_index < self.config.n_steps:
            self.step()
            if progress is not None:
                progress(self.step_index, self.config.n_steps)
        self.verify()
        return self.results()

    def results(self) -> xr.Dataset:
        """Return the results so far as the public dataset of DESIGN.md §6."""
        cfg = self.config
        times = pd.date_range(pd.Timestamp(cfg.start_date), periods=cfg.n_steps,
                              freq=f"{cfg.step_days}D")
        attrs = {"scenario": cfg.name, "seed": self.seed_value, "step_days": cfg.step_days,
                 "simulator_version": __version__, "config_toml": dump_toml(cfg),
                 "input_sha256": json.dumps(self.inputs.file_hashes, sort_keys=True),
                 "households": len(self.households), "total_persons": self.total_persons,
                 "prescribed_not_displaced_persons": round(max(self.prescribed_owed, 0.0), 1),
                 "Conventions": "CF-1.8"}
        ds = self.recorder.dataset(times, self.inputs.region_names, attrs, cfg.step_days,
                                   cf_units(cfg.hazard.kind))
        hh, open_ids = self.households, self.away_ids
        still = open_ids[hh.state[open_ids] == State.DISPLACED]
        open_hist = np.zeros_like(self.recorder.durations)
        np.add.at(open_hist, (hh.region[still], self.step_index - hh.since_step[still]),
                  hh.size[still])
        ds["displacement_duration"] = ds["displacement_duration"].copy(
            data=self.recorder.durations + open_hist)  # keeps attrs; the recorder is untouched
        ds["displaced_map"] = self.inputs.on_grid(self.displaced_by_cell, {
            "units": "persons", "long_name": "persons forcibly displaced from each grid cell "
                                             "(displacement events, by home location)"})
        return ds.isel(time=slice(0, self.step_index))

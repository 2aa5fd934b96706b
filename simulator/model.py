"""The displacement model: households (arrays) respond to hazard grids; regions are agents.

See :class:`DisplacementModel` for the step order.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import mesa
import numpy as np
import pandas as pd
import xarray as xr

from . import __version__
from .config import dump_toml
from .errors import InvariantError
from .households import (NO_PLACE, NO_STEP, STATE_NAMES, Households, Place, State, cell_slices,
                         households_in_cells, synthesise)
from .impacts import (damage_by_class, displaced_by_damage, displaced_by_flood, displacement_draw,
                      repair_days)
from .inputs import Inputs, load_inputs
from .placement import admit, choose_destination, gravity_weights
from .recorder import Recorder
from .regions import capacity_table
from .rng import Streams
from .schema import PLACES, Scenario

N_STATES, N_PLACES = len(STATE_NAMES), len(PLACES)
HOME_STATES = np.array([State.AT_HOME, State.RETURNED], dtype=np.uint8)


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
        return dict(zip(PLACES[:-1], self.model.capacity[self.index, :-1].tolist()))

    @property
    def occupancy(self) -> dict[str, int]:
        """Displaced persons staying here, by place type."""
        return dict(zip(PLACES, self.model.occupancy[self.index].tolist()))

    @property
    def persons_by_state(self) -> dict[str, int]:
        """Persons whose home is here, by state."""
        return dict(zip(STATE_NAMES, self.model.persons[self.index].tolist()))


class DisplacementModel(mesa.Model):
    """Households respond to a hazard grid; displaced households seek capacity-limited places.

    Step order (one step is ``step_days`` days; step ``k`` starts ``k * step_days`` after
    ``start_date``):

    1. **hazard**: intensity at every populated cell this step; a step with no hazard anywhere
       skips straight to *return*.
    2. **impact**: damage ratio of every home in a flooded cell, by its building class's
       depth-damage curve; the water coming back resets the repair of displaced households' homes.
    3. **displace**: households at home whose flood depth (or damage ratio) reaches the threshold
       leave, each with ``displacement_probability`` per step.
    4. **place**: the newly displaced, and the unsheltered looking again, go down the cascade
       (default host -> shelter -> camp): home region first, then one other region drawn by
       gravity weights; soft cap from 90 % and hard cap at 100 % of capacity; the rest are
       ``unsheltered`` in their home region.
    5. **return**: displaced households whose home cell has dried out get a repair time growing
       with damage; once it has passed they go home (state ``returned``).
    6. **record**: counters (updated on every transition, never recounted) are stored; with
       ``check_invariants`` every count is also recomputed from the households and compared.

    Args:
        config: the validated scenario.
        inputs: preloaded inputs (default: loaded from the scenario's files).
        seed: overrides ``config.seed`` (e.g. for replicates).
        check_invariants: recount and check conservation and capacity after every step.
    """

    def __init__(self, config: Scenario, inputs: Inputs | None = None, seed: int | None = None,
                 check_invariants: bool = False) -> None:
        self.seed_value = config.seed if seed is None else int(seed)
        super().__init__(rng=self.seed_value)
        self.config = config
        self.inputs = inputs if inputs is not None else load_inputs(config)
        self.streams = Streams(self.seed_value)
        self.check_invariants = check_invariants
        self.step_index = 0
        inp, pop = self.inputs, config.population
        self.class_names = list(pop.building_class_shares)
        self.curves = [(np.asarray(config.impact.curves[c].depths_m),
                        np.asarray(config.impact.curves[c].damage_ratio)) for c in self.class_names]
        self.households: Households = synthesise(
            inp.cell_persons, inp.cell_region, pop.persons_per_household, pop.households,
            pop.income_median_per_year, pop.income_gini,
            np.array(list(pop.building_class_shares.values())),
            self.streams.generator("synthesis"))
        self.cell_start = cell_slices(self.households.cell, inp.cell_region.size)
        n_regions = len(inp.region_names)
        self.regions = [Region(self, i, name) for i, name in enumerate(inp.region_names)]
        self.capacity = capacity_table(config, inp.region_names, "scenario")
        self.occupancy = np.zeros((n_regions, N_PLACES), dtype=np.int64)
        self.persons = np.zeros((n_regions, N_STATES), dtype=np.int64)
        self._count(self.persons, self.households.region, self.households.state,
                    self.households.size, +1)
        self.total_persons = int(self.persons.sum())
        self.displaced_ids = np.empty(0, dtype=np.int64)
        self.recorder = Recorder(config.n_steps, n_regions)
        seeks = {"shelter", "camp"} & set(config.placement.cascade)
        self._unmet_counts = bool(seeks)

    # -- bookkeeping -----------------------------------------------------------------------
    @staticmethod
    def _count(table: np.ndarray, rows: np.ndarray, cols: np.ndarray, persons: np.ndarray,
               sign: int) -> None:
        """Add ``sign * persons`` to ``table[rows, cols]`` (a bincount, not a Python loop)."""
        n_rows, n_cols = table.shape
        flat = rows.astype(np.int64) * n_cols + cols
        table += sign * np.bincount(flat, weights=persons, minlength=n_rows * n_cols).reshape(
            n_rows, n_cols).astype(np.int64)

    def _set_state(self, ids: np.ndarray, new: State) -> None:
        hh = self.households
        self._count(self.persons, hh.region[ids], hh.state[ids], hh.size[ids], -1)
        hh.state[ids] = new
        hh.since_step[ids] = self.step_index
        self._count(self.persons, hh.region[ids], hh.state[ids], hh.size[ids], +1)

    def _flow(self, origin: np.ndarray, dest: np.ndarray, persons: np.ndarray) -> None:
        self._count(self.recorder.flows[self.step_index], origin, dest, persons, +1)

    # -- the step ----------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one step, in the order given in the class docstring."""
        t = self.step_index
        depth = self.inputs.hazard.at(t)
        if self.inputs.hazard.step_max[t] > 0:
            self._impact_and_displace(t, depth)
        self._place_unsheltered(t)
        self._return_home(t, depth)
        self._record(t, depth)
        self.step_index += 1

    def _impact_and_displace(self, t: int, depth: np.ndarray) -> None:
        hh, imp = self.households, self.config.impact
        wet = np.flatnonzero(depth > 0)
        ids = households_in_cells(self.cell_start, wet)
        d = depth[hh.cell[ids]]
        dmg = damage_by_class(d, hh.building_class[ids], self.curves)
        np.maximum(hh.damage[ids], dmg, out=dmg)
        hh.damage[ids] = dmg
        away = hh.state[ids] == State.DISPLACED
        rewet = ids[away & (d >= self.config.return_.receded_depth_m)]
        hh.due_step[rewet] = NO_STEP
        if imp.method == "depth_threshold":
            beyond = displaced_by_flood(d, imp.depth_threshold_m)
        else:
            beyond = displaced_by_damage(dmg, imp.damage_threshold)
        eligible = beyond & np.isin(hh.state[ids], HOME_STATES)
        cand = ids[eligible]
        leave = cand[displacement_draw(np.ones(cand.size, bool),
                                       self.streams.uniform("displace", t, cand),
                                       imp.displacement_probability)]
        if leave.size == 0:
            return
        np.add.at(self.recorder.newly_displaced[t], hh.region[leave], hh.size[leave])
        self._set_state(leave, State.DISPLACED)
        hh.due_step[leave] = NO_STEP
        self.displaced_ids = np.concatenate([self.displaced_ids, leave])
        self._seek(leave, t, newly=True)

    def _place_unsheltered(self, t: int) -> None:
        hh = self.households
        ids = self.displaced_ids[hh.place[self.displaced_ids] == Place.UNSHELTERED]
        ids = ids[hh.since_step[ids] < t]  # the newly displaced were placed this step
        cascade = [Place[p.upper()] for p in self.config.placement.cascade]
        if ids.size and (self.capacity[:, cascade] > self.occupancy[:, cascade]).any():
            self._seek(ids, t, newly=False)

    def _seek(self, ids: np.ndarray, t: int, newly: bool) -> None:
        """Place ``ids`` down the cascade; see :mod:`simulator.placement` for the rules."""
        hh, cfg = self.households, self.config.placement
        home, size = hh.region[ids].astype(np.int64), hh.size[ids]
        if not newly:
            self._count(self.occupancy, hh.stay_region[ids], hh.place[ids], size, -1)
        region = home.copy()
        place = np.full(ids.size, Place.UNSHELTERED, dtype=np.uint8)
        pending = np.ones(ids.size, dtype=bool)
        for k, name in enumerate(cfg.cascade):
            p = Place[name.upper()]
            cap, occ = self.capacity[:, p], self.occupancy[:, p]
            for attempt in ("home", "away"):
                sel = np.flatnonzero(pending)
                if sel.size == 0 or not (cap > occ).any():
                    break
                key = (t * 16 + k) * 2 + (attempt == "away")
                if attempt == "home":
                    sel = sel[cap[home[sel]] > occ[home[sel]]]  # a full region admits nobody
                    dest = home[sel]
                else:
                    w = gravity_weights(self.inputs.distance_km, (cap - occ).astype(float),
                                        cfg.distance_exponent, cfg.max_distance_km)
                    dest = choose_destination(home[sel], w,
                                              self.streams.uniform("destination", key, ids[sel]))
                    sel, dest = sel[dest >= 0], dest[dest >= 0]
                ok = admit(dest, size[sel], self.streams.uniform("placement", key, ids[sel]),
                           self.streams.uniform("admission", key, ids[sel]), occ, cap,
                           cfg.soft_cap_start)
                got = sel[ok]
                region[got], place[got], pending[got] = dest[ok], p, False
                self._count(self.occupancy, dest[ok], np.full(got.size, p), size[got], +1)
        moved = newly | (place != Place.UNSHELTERED)
        self._count(self.occupancy, region[pending], place[pending], size[pending], +1)
        self._flow(home[moved], region[moved], size[moved])
        hh.stay_region[ids], hh.place[ids] = region, place

    def _return_home(self, t: int, depth: np.ndarray) -> None:
        hh, ret = self.households, self.config.return_
        ids = self.displaced_ids
        if ids.size == 0:
            return
        dry = depth[hh.cell[ids]] < ret.receded_depth_m
        schedule = ids[dry & (hh.due_step[ids] == NO_STEP)]
        if schedule.size:
            days = repair_days(hh.damage[schedule], ret.repair_days_total_loss,
                               ret.repair_time_spread,
                               self.streams.uniform("return", t, schedule))
            days = np.maximum(days, ret.min_days_away - (t - hh.since_step[schedule])
                              * self.config.step_days)
            hh.due_step[schedule] = t + np.ceil(days / self.config.step_days).astype(np.int32)
        due = dry & (hh.due_step[ids] != NO_STEP) & (hh.due_step[ids] <= t)
        back = ids[due]
        if back.size == 0:
            return
        size = hh.size[back]
        self._count(self.occupancy, hh.stay_region[back], hh.place[back], size, -1)
        self._flow(hh.stay_region[back], hh.region[back], size)
        np.add.at(self.recorder.returns[t], hh.region[back], size)
        self._set_state(back, State.RETURNED)
        hh.place[back], hh.stay_region[back] = NO_PLACE, hh.region[back]
        hh.damage[back], hh.due_step[back] = 0.0, NO_STEP
        self.displaced_ids = ids[~due]

    def _record(self, t: int, depth: np.ndarray) -> None:
        unmet = self.occupancy[:, Place.UNSHELTERED] if self._unmet_counts else 0
        self.recorder.record(t, self.persons, self.occupancy, self.capacity, unmet)
        if self.inputs.hazard.step_max[t] > 0:
            np.maximum.at(self.recorder.hazard_max[t], self.inputs.cell_region, depth)
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
        if not np.array_equal(occupancy, self.occupancy):
            problems.append("occupancy counters differ from a recount")
        if (occupancy[:, :-1] > self.capacity[:, :-1]).any():
            problems.append("occupancy exceeds capacity")
        if not np.array_equal(away, hh.state == State.DISPLACED):
            problems.append("displaced households without a place (or the reverse)")
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
        """The results so far as the public dataset of DESIGN.md §6."""
        cfg = self.config
        times = pd.date_range(pd.Timestamp(cfg.start_date), periods=cfg.n_steps,
                              freq=f"{cfg.step_days}D")
        attrs = {"scenario": cfg.name, "seed": self.seed_value, "step_days": cfg.step_days,
                 "simulator_version": __version__, "config_toml": dump_toml(cfg),
                 "input_sha256": json.dumps(self.inputs.file_hashes, sort_keys=True),
                 "households": len(self.households), "total_persons": self.total_persons,
                 "Conventions": "CF-1.8"}
        ds = self.recorder.dataset(times, self.inputs.region_names, attrs)
        return ds.isel(time=slice(0, self.step_index))

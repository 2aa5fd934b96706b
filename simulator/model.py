"""The displacement model: households (arrays) respond to hazard grids; regions are agents."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import mesa
import numpy as np
import pandas as pd
import xarray as xr

from simulator import __version__
from simulator.borders import Borders, resolve_borders
from simulator.errors import InputError
from simulator.inputs.config import dump_toml
from simulator.inputs.futures import sample_events
from simulator.inputs.load import Inputs, load_inputs
from simulator.inputs.schema import Scenario
from simulator.kinds import for_scenario
from simulator.levers import Levers, resolve
from simulator.rng import Streams
from simulator.states import CAPACITY_PLACES, PLACES, STATE_NAMES, Place
from simulator.steps.context import Context, Profiler
from simulator.steps.decide import decide, decision_step
from simulator.steps.displace import displace
from simulator.steps.people import background_moves, grow_incomes
from simulator.steps.place import place_unsheltered
from simulator.steps.population import grow_population
from simulator.steps.record import open_durations, record
from simulator.steps.recover import return_home
from simulator.steps.relocate import arrive
from simulator.steps.walk import plan_walk
from simulator.steps.warn import Forecasts, warn_and_evacuate
from simulator.world.crossings import PURPOSES, Crossings
from simulator.world.households import (
    PEAK_BYTES_PER_HOUSEHOLD,
    Households,
    class_names,
    expected_households,
    from_inputs,
)
from simulator.world.ledger import World
from simulator.world.places import Places
from simulator.world.recorder import recorder_bytes
from simulator.world.walkers import Walkers


def assemble(config: Scenario, inputs: Inputs, levers: Levers, households: Households,
             streams: Streams, classes: list[str], profiler: Profiler | None = None
             ) -> tuple[World, Context]:
    """The World and the Context of a run, from its households (synthesised or hand-made).

    Args:
        config: the validated scenario.
        inputs: its inputs on the populated cells.
        levers: its resolved levers.
        households: the households (sorted by cell).
        streams: the run's random streams.
        classes: building class names, in the order of ``households.building_class``.
        profiler: phase timing (default: off).
    """
    full = levers.capacity_persons.copy()
    if inputs.sites is not None:  # point sites add their places to their region's capacity
        np.add.at(full, (inputs.sites.region, inputs.sites.place), inputs.sites.places)
    places = Places(full, levers.activation_ramp, levers.ramp_days, config.step_days,
                    config.capacity.host_loss_per_displaced_share)
    world = World(households, len(inputs.region_names), inputs.cell_region.size, places,
                  config.n_steps)
    if levers.borders.international:
        world.crossings = Crossings(levers.borders, config.n_steps)
    walk = None
    if config.placement.movement == "routes":
        walk = plan_walk(config, inputs, full[:, Place.CAMP])
        world.walkers = Walkers(len(households), walk.width)
    curves = [(np.asarray(config.impact.curves[c].depths_m),
               np.asarray(config.impact.curves[c].damage_ratio)) for c in classes]
    hh = households
    edges = np.quantile(hh.income, [0.2, 0.4, 0.6, 0.8]) if len(hh) else np.zeros(4)
    return world, Context(config, inputs, levers, for_scenario(config), streams, curves, edges,
                          profiler or Profiler(False), walk=walk)


def memory_estimate(config: Scenario, inputs: Inputs,
                    borders: Borders | None = None) -> dict[str, int]:
    """Bytes a run will need, by part, before anything is allocated.

    Households: :func:`expected_households` × :data:`PEAK_BYTES_PER_HOUSEHOLD`; results:
    :func:`recorder_bytes` (time × regions; the region-pair tables, flows and relocations, are
    sparse and count as what they will hold, a few destinations per origin region and step,
    not time × regions²), the displaced-by-start-step counter (regions × steps) and, with
    borders, the border results (time × countries² × routes).
    The fixed cost of the libraries and the inputs already loaded is not counted. ``borders``:
    the resolved borders (default: resolved here).
    """
    n = expected_households(config, inputs)
    regions = len(inputs.region_names)
    results = recorder_bytes(config.n_steps, regions) + regions * (config.n_steps + 1) * 8
    if borders is None:
        borders = resolve_borders(config, inputs.region_names, inputs.region_country,
                                  inputs.source)
    if borders.international:  # border results grow with steps x countries^2 x routes
        one, two = (sum(a.nbytes for a in vars(Crossings(borders, k)).values()
                        if isinstance(a, np.ndarray)) for k in (1, 2))
        results += one + (two - one) * (config.n_steps - 1)
    walk = 0
    if config.placement.movement == "routes":  # where each household walks
        walk = Walkers.nbytes_for(n, plan_walk(config, inputs, None).width)
    return {"households": n, "household_bytes": n * PEAK_BYTES_PER_HOUSEHOLD + walk,
            "result_bytes": results}


def available_memory() -> int | None:
    """Bytes the system can still give (``MemAvailable`` of /proc/meminfo); None elsewhere."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_memory(config: Scenario, inputs: Inputs, available: int | None = None,
                 borders: Borders | None = None) -> None:
    """Refuse a run that cannot fit in memory, with the estimate, before allocating it.

    The need is the households' bytes and the results' twice: writing ``results.nc`` encodes
    and compresses copies of the result arrays (measured: 0.85 -> 1.46 GB peak RSS for a 4.2
    M-household, 1,095-day, 412-region run whose results are 0.46 GB; benchmarks/README.md).

    Raises:
        InputError: one line with the estimate by part and the memory available.
    """
    free = available_memory() if available is None else available
    est = memory_estimate(config, inputs, borders)
    need = est["household_bytes"] + 2 * est["result_bytes"]
    if free is None or need <= free:
        return
    gb = 1e9
    raise InputError("population", f"the run needs about {need / gb:.1f} GB ({est['households']:,} "
                     f"households x {PEAK_BYTES_PER_HOUSEHOLD} B = "
                     f"{est['household_bytes'] / gb:.1f} GB; results "
                     f"{est['result_bytes'] / gb:.1f} GB for {config.n_steps} steps x "
                     f"{len(inputs.region_names)} regions, twice while written) and "
                     f"{free / gb:.1f} GB are available: "
                     "use fewer households (population.households or a larger "
                     "persons_per_household), fewer steps or fewer regions")


class Region(mesa.Agent):
    """A region (admin unit), a Mesa agent with identity: a named view on its row of the world.

    Regions act all at once: their places' capacity, occupancy and ramp are rows of the
    :class:`~simulator.world.ledger.World`'s ``(region, place)`` arrays, so admission is one
    vectorised pass over every region instead of a Python call per region and step (Flee-scale
    cases have thousands of locations). The agent is what a person or a Mesa tool inspects.
    """

    def __init__(self, model: DisplacementModel, index: int, name: str) -> None:
        super().__init__(model)
        self.index, self.name = index, name

    @property
    def capacity(self) -> dict[str, int]:
        """Persons each place type can take now."""
        row = self.model.world.capacity[self.index, :len(CAPACITY_PLACES)]
        return dict(zip(CAPACITY_PLACES, row.tolist()))

    @property
    def occupancy(self) -> dict[str, int]:
        """Displaced and evacuated persons staying here, by place type."""
        return dict(zip(PLACES, self.model.world.occupancy[self.index].tolist()))

    @property
    def persons_by_state(self) -> dict[str, int]:
        """Persons whose home is here, by state."""
        return dict(zip(STATE_NAMES, self.model.world.persons[self.index].tolist()))


class DisplacementModel(mesa.Model):
    """Households respond to a hazard grid across the mobility continuum.

    Step order (one step is ``step_days`` days; step ``k`` starts ``k * step_days`` after
    ``start_date``); each phase is a module of :mod:`simulator.steps`:

    1. **hazard**: intensity at every populated cell this step (zero behind flood defences whose
       standard reaches the hazard's return period).
    2. **decide** (every ``decision_interval_days``, :mod:`~simulator.steps.decide`): households
       at home weigh staying, adapting in place and migrating by subjective expected utility
       with perceived risk; those who want to move but cannot afford it are ``trapped``; a
       share of the rest ``relocate`` within destination inflow caps; a planned-relocation
       programme moves the most exposed.
    3. **warn / evacuate** (:mod:`~simulator.steps.warn`): where a forecast for ``lead_time``
       ahead crosses the threshold, covered households are warned and evacuate with a
       probability from trust and perception; trust is updated when the forecast's day comes.
    4. **impact / displace** (:mod:`~simulator.steps.displace`): homes in wet cells are damaged
       (depth-damage curve, less for dry-proofed homes); households at home or evacuated whose
       depth or damage crosses the threshold are forcibly ``displaced``.
    5. **place** (:mod:`~simulator.steps.place`): the newly displaced and evacuated (during 3
       and 4), and the unsheltered looking again, go down the cascade: host with kin, rental if
       income allows, public shelter (if they seek it) or ``self_arranged``, camp; home region
       first, then another by gravity; soft and hard caps; shelters and camps open on the
       activation ramp; the rest are ``unsheltered``.
    6. **return** (:mod:`~simulator.steps.recover`): evacuees go home once dry after the
       warning; displaced households get a repair time once dry and then return, or, after
       repeated shocks, settle where they are (``relocated``).
    7. **record** (:mod:`~simulator.steps.record`): counters (updated on every transition,
       never recounted) are stored; with ``check_invariants`` every count is recomputed from
       the households and compared.

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
        inp = inputs if inputs is not None else load_inputs(config)
        if inp.futures is not None and self.seed_value != config.seed:  # this seed's events
            inp = dataclasses.replace(inp, hazard=sample_events(inp.futures, config,
                                                                self.seed_value))
        self.inputs = inp
        self.check_invariants = check_invariants
        self.step_index = 0
        names = inp.region_names
        levers = resolve(config, names, inp.source, inp.region_country)
        self.regions = [Region(self, i, name) for i, name in enumerate(names)]
        streams = Streams(self.seed_value)
        self.class_names = class_names(config, inp)
        check_memory(config, inp, borders=levers.borders)  # before anything is allocated
        hh = from_inputs(config, inp, streams, self.class_names,
                         levers.cash_assistance_per_household)
        self.world, self.ctx = assemble(config, inp, levers, hh, streams, self.class_names,
                                        Profiler(profile))
        self.forecasts = Forecasts()  # forecast events per cell, warnings to verify
        self.prescribed_owed = 0.0  # prescribed persons not yet displaced (nobody left at home)

    # -- the step ------------------------------------------------------------------------------
    @property
    def households(self) -> Households:
        """The household arrays (with every hit written: see ``World.note_hits``)."""
        self.world.flush_hits()
        return self.world.households

    @property
    def total_persons(self) -> int:
        """Persons in the model now (constant without ``people.population_growth_file``)."""
        return self.world.total_persons

    @property
    def phase_seconds(self) -> dict[str, float] | None:
        """Wall time per phase so far (None unless ``profile``)."""
        return self.ctx.profiler.seconds

    def step(self) -> None:
        """Advance one step, in the order given in the class docstring."""
        t, world, ctx = self.step_index, self.world, self.ctx
        phase = ctx.profiler.phase
        world.step = t
        with phase("hazard"):
            depth = ctx.intensity(t)
            wet = self.inputs.hazard.step_max[t] > 0
            world.track_events(t, depth if wet else None)
            if wet:
                world.remember(depth, self.inputs.hazard.fraction_at(t))
        if world.crossings is not None:
            with phase("decide"):
                arrive(world, ctx, t)  # approved cross-border moves that are due
        if self.inputs.income_growth is not None:
            with phase("decide"):
                grow_incomes(world, ctx, t)  # at the first step of each new calendar year
        if self.inputs.population_growth is not None:
            with phase("decide"):
                grow_population(world, ctx, t)  # births and deaths, likewise once a year
        if decision_step(ctx, t):
            with phase("decide"):
                world.flush_hits()  # decisions read when each home was last hit
                decide(world, ctx, t)
                background_moves(world, ctx, t)
        if ctx.levers.warns:
            with phase("warn"):
                world.flush_hits()  # trust reads when each home was last hit
                warn_and_evacuate(world, ctx, t, depth, self.forecasts)
        if self.inputs.hazard.step_max[t] > 0 or self.inputs.prescribed is not None:
            with phase("impact"):
                self.prescribed_owed = displace(world, ctx, t, depth, self.prescribed_owed)
        with phase("place"):
            place_unsheltered(world, ctx, t)
        with phase("return"):
            return_home(world, ctx, t, depth)
        with phase("record"):
            record(world, ctx, t, depth)
            if self.check_invariants:
                world.verify()
        self.step_index += 1

    # -- checks and results --------------------------------------------------------------------
    def verify(self) -> None:
        """Recount persons and occupancy from the households; raise InvariantError on mismatch."""
        self.world.verify()

    def run(self, progress: Callable[[int, int], None] | None = None) -> xr.Dataset:
        """Run the remaining steps and return the results dataset."""
        while self.step_index < self.config.n_steps:
            self.step()
            if progress is not None:
                progress(self.step_index, self.config.n_steps)
        self.world.flush_hits()
        self.verify()
        return self.results()

    def results(self) -> xr.Dataset:
        """Return the results so far as the public dataset of DESIGN.md §6."""
        cfg, world = self.config, self.world
        times = pd.date_range(pd.Timestamp(cfg.start_date), periods=cfg.n_steps,
                              freq=f"{cfg.step_days}D")
        attrs = {"scenario": cfg.name, "seed": self.seed_value, "step_days": cfg.step_days,
                 "simulator_version": __version__, "config_toml": dump_toml(cfg),
                 "input_sha256": json.dumps(self.inputs.file_hashes, sort_keys=True),
                 "households": len(world.households), "total_persons": world.total_persons,
                 "prescribed_not_displaced_persons": round(max(self.prescribed_owed, 0.0), 1),
                 "Conventions": "CF-1.8"}
        rec = world.recorder
        ds = rec.dataset(times, self.inputs.region_names, attrs, cfg.step_days, self.ctx.kind.units,
                         self.inputs.population_growth is not None)
        still, still_by_tenure = open_durations(world, self.ctx, self.step_index)
        ds["displacement_duration"] = ds["displacement_duration"].copy(  # keeps attrs
            data=rec.durations + still)
        ds["displacement_duration_open"] = ds["displacement_duration"].copy(data=still)
        ds["displacement_duration_open"].attrs["long_name"] = (
            "of displacement_duration, persons whose episode was still open at the end "
            "(censored: it lasts at least duration_days)")
        by_tenure = ds["displacement_duration_by_tenure"]
        ds["displacement_duration_by_tenure"] = by_tenure.copy(
            data=rec.durations_by_tenure + still_by_tenure)
        ds["displacement_duration_by_tenure_open"] = by_tenure.copy(data=still_by_tenure)
        ds["displacement_duration_by_tenure_open"].attrs["long_name"] = (
            "of displacement_duration_by_tenure, episodes still open at the end (censored)")
        ds["displaced_map"] = self.inputs.on_grid(world.displaced_by_cell, {
            "units": "persons", "long_name": "persons forcibly displaced from each grid cell "
                                             "(displacement events, by home location)"})
        ds = self._by_country(ds)
        return ds.isel(time=slice(0, self.step_index))

    def _by_country(self, ds: xr.Dataset) -> xr.Dataset:
        """Label regions with their countries; add the border results when there are any."""
        bd = self.ctx.levers.borders
        country = [bd.countries[c] for c in bd.country_of_region]
        ds = ds.assign_coords(country=("region", country), country_of_origin=("origin", country),
                              country_of_destination=("destination", country))
        if self.world.crossings is None:
            return ds
        arrays = self.world.crossings.dataset(self.config.n_steps)
        ds = ds.assign(arrays).assign_coords(
            origin_country=bd.countries, destination_country=bd.countries,
            route=bd.routes(), purpose=list(PURPOSES), pathway=bd.pathways)
        return ds

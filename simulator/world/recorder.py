"""Preallocated time x region result arrays, turned into the public ``xarray.Dataset`` (DESIGN §6).

The model updates counters on transitions (never recounting every household); the recorder copies
them once per step into preallocated arrays and builds the labelled dataset at the end. The two
region-pair tables, ``flows`` and ``relocations``, are kept sparse (:class:`PairTable`): they grow
with the pairs people moved between, not with the square of the regions.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

from simulator.states import (
    ASSETS,
    CAPACITY_PLACES,
    DEPTH_BAND_NAMES,
    GROUPS,
    MOVE_CAUSES,
    PLACES,
    STATE_NAMES,
    STAY_REASONS,
    TENURES,
)
from simulator.world.pairs import PairTable, pair_bytes

#: A pair table whose dense form takes at most this many bytes is a numpy array in the dataset;
#: a larger one is a lazy array, densified a block of steps at a time (:func:`pair_variable`).
DENSE_PAIR_BYTES = 64 * 2**20

#: Bytes of one block of steps of a lazy pair table (its dask chunk along time).
PAIR_CHUNK_BYTES = 32 * 2**20


def recorder_bytes(n_steps: int, n_regions: int) -> int:
    """Bytes the result arrays of a run of ``n_steps`` over ``n_regions`` will take.

    Every array is a constant plus a multiple of ``n_steps``; two recorders of 1 and 2 steps
    (``np.zeros``: pages the system only commits when written) give both, without allocating the
    real one. The sparse pair tables (flows and relocations) count as what they will hold, not as
    regions² x steps: :func:`~simulator.world.pairs.pair_bytes`, a few destinations per origin
    region and step.
    """
    one, two = (Recorder(k, n_regions).array_bytes() for k in (1, 2))
    return one + (two - one) * (n_steps - 1) + pair_table_bytes(n_steps, n_regions)


def pair_table_bytes(n_steps: int, n_regions: int) -> int:
    """Bytes the memory estimate allows for the ``flows`` and ``relocations`` pair tables."""
    r = n_regions
    return (pair_bytes(n_steps, (r, r), np.dtype(np.int64))
            + pair_bytes(n_steps, (r, r, len(MOVE_CAUSES)), np.dtype(np.int32)))


class _LazyPairs(BackendArray):
    """A :class:`PairTable` as a lazily indexed array for xarray (basic indexing)."""

    def __init__(self, table: PairTable) -> None:
        self.table, self.shape, self.dtype = table, table.shape, table.dtype

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC,
                                                  self.table.__getitem__)


def pair_variable(dims: tuple[str, ...], table: PairTable, attrs: dict) -> xr.Variable:
    """A pair table as a dataset variable: dense numpy when small, else lazy by blocks of steps.

    Up to :data:`DENSE_PAIR_BYTES`, the dense array (as every run before sparse tables). Above
    it, a dask array chunked along time (:data:`PAIR_CHUNK_BYTES` a chunk), each chunk densified
    from the sparse table only when computed, so sums, selections and ``to_netcdf`` go chunk by
    chunk (a run folder stores one netCDF chunk per dask chunk:
    :func:`~simulator.outputs.folders.write_run`); xarray makes the dask array (the model core
    imports no dask). Without dask installed, a lazily indexed array: selections stay lazy, a
    reduction densifies it whole.
    """
    if table.dense_nbytes <= DENSE_PAIR_BYTES:
        return xr.Variable(dims, np.asarray(table), attrs)
    table.consolidate()  # here, not in the threads that compute the chunks
    var = xr.Variable(dims, indexing.LazilyIndexedArray(_LazyPairs(table)), attrs)
    if importlib.util.find_spec("dask") is None:
        return var
    steps = max(1, PAIR_CHUNK_BYTES * table.shape[0] // table.dense_nbytes)
    return var.chunk({dims[0]: steps}, name=f"pairs-{table.token}")


class Recorder:
    """Per-step results for ``n_steps`` steps over ``n_regions`` regions."""

    def __init__(self, n_steps: int, n_regions: int) -> None:
        r, s, p = n_regions, len(STATE_NAMES), len(PLACES)
        self.persons = np.zeros((n_steps, r, s), dtype=np.int64)
        self.occupancy = np.zeros((n_steps, r, p), dtype=np.int64)
        self.in_transit = np.zeros((n_steps, r, p), dtype=np.int64)
        self.capacity = np.zeros((n_steps, r, p), dtype=np.int64)
        self.turned_away = np.zeros((n_steps, r, p), dtype=np.int64)
        self.flows = PairTable(n_steps, (r, r), np.dtype(np.int64))  # sparse
        self.unmet_shelter = np.zeros((n_steps, r), dtype=np.int64)
        self.newly_displaced = np.zeros((n_steps, r), dtype=np.int64)
        self.returns = np.zeros((n_steps, r), dtype=np.int64)
        self.settled = np.zeros((n_steps, r), dtype=np.int64)
        self.hazard_max = np.zeros((n_steps, r), dtype=np.float32)
        self.evacuations = np.zeros((n_steps, r), dtype=np.int64)
        self.internal_displacements = np.zeros((n_steps, r), dtype=np.int64)
        self.exposed_at_home = np.zeros((n_steps, r), dtype=np.int64)
        self.stayed_home = np.zeros((r, len(DEPTH_BAND_NAMES), len(STAY_REASONS)), np.int64)
        self.relocations = PairTable(n_steps, (r, r, len(MOVE_CAUSES)), np.dtype(np.int32))
        self.protracted = np.zeros((n_steps, r, 3), dtype=np.int64)
        self.livelihood_loss = np.zeros((n_steps, r), dtype=np.float64)
        self.home_losses = np.zeros((n_steps, r, len(ASSETS)), dtype=np.float64)
        self.contents_saved = np.zeros((n_steps, r), dtype=np.float64)
        self.income_forgone_away = np.zeros((n_steps, r), dtype=np.float64)
        self.durations = np.zeros((r, n_steps + 1), dtype=np.int64)  # persons by episode steps
        self.durations_by_tenure = np.zeros((len(TENURES), n_steps + 1), dtype=np.int64)
        self.persons_by_group = np.zeros((n_steps, r, s, len(GROUPS)), dtype=np.int64)
        self.unsheltered_by_group = np.zeros((n_steps, r, len(GROUPS)), dtype=np.int64)
        self.births = np.zeros((n_steps, r), dtype=np.int64)  # people.population_growth_file
        self.deaths = np.zeros((n_steps, r), dtype=np.int64)

    def record(self, step: int, persons: np.ndarray, occupancy: np.ndarray,
               capacity: np.ndarray, unmet_shelter: np.ndarray) -> None:
        """Store the end-of-step stocks (flows are added to directly during the step).

        The step's pair tables are consolidated here (unique pairs, persons summed).
        """
        self.flows.consolidate(step)
        self.relocations.consolidate(step)
        self.persons[step] = persons
        self.occupancy[step] = occupancy
        self.capacity[step] = capacity
        self.unmet_shelter[step] = unmet_shelter

    def array_bytes(self) -> int:
        """Bytes of the preallocated (dense) arrays, the pair tables left out."""
        return sum(a.nbytes for a in vars(self).values() if isinstance(a, np.ndarray))

    @property
    def nbytes(self) -> int:
        """Bytes held now: the dense arrays and what the pair tables hold."""
        return self.array_bytes() + self.flows.nbytes + self.relocations.nbytes

    def _open_capacity(self) -> np.ndarray:
        """Capacity as floats, NaN for the places that have none (not 0, which reads as full)."""
        out = self.capacity.astype(np.float64)  # exact: capacities are far below 2**53
        out[:, :, len(CAPACITY_PLACES):] = np.nan
        return out

    def dataset(self, times: pd.DatetimeIndex, regions: list[str],
                attrs: dict[str, object], step_days: int = 1,
                hazard_units: str = "m", population_change: bool = False) -> xr.Dataset:
        """Build the results as a labelled dataset with units and descriptions on every variable.

        ``population_change``: add ``births`` and ``deaths`` (a run with population growth).
        """
        person = {"units": "persons"}
        ds = xr.Dataset(
            {
                "persons": (("time", "region", "state"), self.persons, {
                    **person, "long_name": "persons whose home is in region, by state "
                                           "(end of step)"}),
                "occupancy": (("time", "region", "place"), self.occupancy, {
                    **person, "long_name": "displaced persons staying in region, by place"}),
                "capacity": (("time", "region", "place"), self._open_capacity(), {
                    **person, "long_name": "persons each place can take at that time (after the "
                                           "activation ramp); NaN where a place has no capacity",
                    "no_capacity": " ".join(PLACES[len(CAPACITY_PLACES):])}),
                "turned_away": (("time", "region", "place"), self.turned_away, {
                    **person, "long_name": "persons who sought a place in region (home region, "
                                           "tie region for host, or the gravity-chosen region) "
                                           "and were not admitted there during the step; one "
                                           "household can be turned away by several places"}),
                "flows": pair_variable(("time", "origin", "destination"), self.flows, {
                    **person, "long_name": "persons moving from origin region to destination "
                                           "region during the step (diagonal: within region)"}),
                "unmet_shelter": (("time", "region"), self.unmet_shelter, {
                    **person, "long_name": "persons who sought shelter or camp space in region "
                                           "and found none (unsheltered at end of step)"}),
                "in_transit": (("time", "region", "place"), self.in_transit, {
                    **person, "long_name": "persons on their way to a place in the region, "
                                           "counted in occupancy (placement.travel_speed_"
                                           "km_per_day)"}),
                "newly_displaced": (("time", "region"), self.newly_displaced, {
                    **person, "long_name": "persons forcibly displaced during the step, by "
                                           "home region"}),
                "returns": (("time", "region"), self.returns, {
                    **person, "long_name": "persons returning home during the step, by home "
                                           "region"}),
                "settled": (("time", "region"), self.settled, {
                    **person, "long_name": "displaced persons settling where they stay instead "
                                           "of returning (repeated shocks), by home region"}),
                "hazard_max": (("time", "region"), self.hazard_max, {
                    "units": hazard_units,
                    "long_name": "maximum hazard intensity at populated cells"}),
                "evacuations": (("time", "region"), self.evacuations, {
                    **person, "long_name": "persons evacuating pre-emptively during the step, "
                                           "by home region"}),
                "internal_displacements": (("time", "region"), self.internal_displacements, {
                    **person, "long_name": "persons leaving home during the step, pre-emptively "
                                           "(evacuations) or forced (newly displaced who were at "
                                           "home), by home region: IDMC GIDD's internal "
                                           "displacements, where evacuations count"}),
                "exposed_at_home": (("time", "region"), self.exposed_at_home, {
                    **person, "long_name": "persons at home when their home's water (or wind) "
                                           "reached the danger threshold during the step "
                                           "(warning.forecast_threshold_m or _wind_ms), by home "
                                           "region: the life-safety exposure warnings reduce"}),
                "stayed_home": (("region", "depth_band", "reason"), self.stayed_home * step_days, {
                    "units": "person-days", "long_name": "person-days at home (not displaced) "
                    "while the flood at the home's cell (before defences) was in the depth band, "
                    "by why: defences held, home outside the flooded part, adaptation kept the "
                    "damage below the threshold, damage below the threshold anyway, or the "
                    "displacement draw"}),
                "relocations": pair_variable(("time", "origin", "destination", "cause"),
                                             self.relocations, {
                    **person, "long_name": "persons making a new home in destination region "
                                           "(leaving their home in origin) during the step, by "
                                           "cause: proactive migration, planned relocation, "
                                           "settling where they stayed after displacement, or "
                                           "background migration (people.background_migration_"
                                           "per_year)"}),
                "residents": (("time", "region"), self.persons.sum(axis=2), {
                    **person, "long_name": "persons whose home is in region (at home or away; "
                                           "in-movers counted where they live now)"}),
                "livelihood_loss": (("time", "region"), self.livelihood_loss, {
                    "units": "currency", "long_name": "income lost to slow-onset stress since "
                                                      "the last decision, households at home"}),
                "home_losses": (("time", "region", "asset"), self.home_losses, {
                    "units": "currency", "long_name": "damage to homes of the region during the "
                    "step, by asset: the structure, and the contents lost (less what evacuees "
                    "carried to safety); each event's worst damage counts once, a home lost to "
                    "standing water counts as a total loss"}),
                "contents_saved": (("time", "region"), self.contents_saved, {
                    "units": "currency", "long_name": "contents damage avoided by households "
                    "who had evacuated on a warning before their home was hit "
                    "(warning.contents_saved_share), by home region"}),
                "income_forgone_away": (("time", "region"), self.income_forgone_away, {
                    "units": "currency", "long_name": "income of the days households spent "
                    "away from home (evacuated or displaced) during the step, by home region: "
                    "an upper bound on the livelihood lost, as if nobody earned while away"}),
                "persons_by_group": (("time", "region", "state", "group"),
                                     self.persons_by_group, {
                    **person, "long_name": "persons whose home is in region, by state and group "
                                           "(children + adults + older_persons = persons)"}),
                "unsheltered_by_group": (("time", "region", "group"), self.unsheltered_by_group, {
                    **person, "long_name": "unsheltered persons staying in region, by group"}),
                "displacement_duration": (("region", "duration_days"), self.durations, {
                    **person, "long_name": "persons by length of their displacement episode "
                                           "(ended by return or settling; episodes still open "
                                           "at the end counted with their length so far: "
                                           "displacement_duration_open)"}),
                "displacement_duration_by_tenure": (
                    ("tenure", "duration_days"), self.durations_by_tenure, {
                        **person, "long_name": "persons by length of their displacement "
                        "episode, all regions, by the tenure of their home (population."
                        "renter_share); as displacement_duration, open episodes included"}),
                "protracted": (("time", "region", "duration"), self.protracted, {
                    **person, "long_name": "persons displaced for longer than the duration, "
                                           "by home region"}),
            },
            coords={
                "time": ("time", times, {"long_name": "start of model step"}),
                "duration_days": ("duration_days", np.arange(self.durations.shape[1]) * step_days,
                                  {"units": "days", "long_name": "length of a displacement"}),
                "region": ("region", regions), "origin": ("origin", regions),
                "destination": ("destination", regions),
                "state": ("state", list(STATE_NAMES)), "place": ("place", list(PLACES)),
                "group": ("group", list(GROUPS)),
                "depth_band": ("depth_band", list(DEPTH_BAND_NAMES), {"units": "m"}),
                "reason": ("reason", list(STAY_REASONS)),
                "cause": ("cause", list(MOVE_CAUSES)),
                "asset": ("asset", list(ASSETS)),
                "tenure": ("tenure", list(TENURES)),
                "duration": ("duration", ["3 months", "6 months", "12 months"],
                             {"long_name": "displaced longer than 90, 180, 365 days"}),
            },
            attrs=attrs,
        )
        if population_change:
            ds = ds.assign(self._population_change())
        return ds

    def _population_change(self) -> dict[str, tuple]:
        """``births`` and ``deaths`` by home region.

        persons(t) = persons(t - 1) + births(t) - deaths(t), summed over states.
        """
        person = {"units": "persons"}
        return {
            "births": (("time", "region"), self.births, {
                **person, "long_name": "persons born into households at home during the step, "
                                       "by home region (people.population_growth_file)"}),
            "deaths": (("time", "region"), self.deaths, {
                **person, "long_name": "persons leaving households at home during the step "
                                       "(deaths and net emigration: a negative "
                                       "people.population_growth_file), by home region"})}

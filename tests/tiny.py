"""Hand-made worlds of a few households, for testing one step at a time without files.

``tiny(...)`` returns a :class:`~simulator.world.ledger.World` and a
:class:`~simulator.steps.context.Context` built by the model's own ``assemble``, from a
scenario dict, a hazard array (steps x cells) and household attributes given per household.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.inputs.hazards import HazardSeries
from simulator.inputs.load import Inputs
from simulator.inputs.schema import Scenario
from simulator.levers import resolve
from simulator.model import assemble
from simulator.rng import Streams
from simulator.states import NO_PLACE, NO_STEP, State
from simulator.steps.context import Context
from simulator.world.households import Households
from simulator.world.ledger import World

BASE = {
    "name": "tiny", "seed": 1, "start_date": "2030-01-01", "step_days": 1,
    "hazard": {"file": "hazard.nc", "variable": "depth"},
    "population": {"file": "population.nc"},
    "regions": {"file": "regions.nc", "names": "regions.csv"},
    "behaviour": {"enabled": False},
}


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class Tiny:
    """A hand-made world and its context."""

    world: World
    ctx: Context

    @property
    def hh(self) -> Households:
        """The households."""
        return self.world.households

    def persons_in(self, state: State) -> int:
        """Persons in ``state`` by the counters."""
        return int(self.world.persons[:, state].sum())


def tiny(depth: np.ndarray, cell: list[int], region_of_cell: list[int],
         regions: tuple[str, ...] = ("Home",), distance_km: np.ndarray | None = None,
         scenario: dict | None = None,
         design_maps: tuple[np.ndarray, np.ndarray] | None = None, **attrs: list) -> Tiny:
    """A world of ``len(cell)`` households over ``depth.shape[1]`` cells.

    Args:
        depth: hazard intensity (steps x cells); the scenario runs ``depth.shape[0]`` steps.
        cell: each household's cell (sorted, as the model stores them).
        region_of_cell: each cell's region index.
        regions: region names.
        distance_km: region distances (default: 50 km between any two regions).
        scenario: scenario fields over :data:`BASE`.
        design_maps: return periods and (return period, cell) depths for defences, if any.
        **attrs: household attributes to set (size, income, savings, trust, ...), one value
            per household.
    """
    n, n_cells = len(cell), depth.shape[1]
    cfg = Scenario.model_validate(_merge(BASE, {"n_steps": depth.shape[0], **(scenario or {})}))
    cell_a = np.asarray(cell, dtype=np.int32)
    region = np.asarray(region_of_cell, dtype=np.int16)[cell_a]
    hh = Households(
        cell=cell_a, region=region, size=np.full(n, 4, np.uint8),
        income=np.full(n, 3000.0, np.float32), building_class=np.zeros(n, np.uint8),
        state=np.full(n, State.AT_HOME, np.uint8), place=np.full(n, NO_PLACE, np.uint8),
        stay_region=region.copy(), since_step=np.zeros(n, np.int32),
        damage=np.zeros(n, np.float16), due_step=np.full(n, NO_STEP, np.int32),
        savings=np.zeros(n, np.float32), last_flood_step=np.full(n, NO_STEP, np.int32),
        prior_flood_step=np.full(n, NO_STEP, np.int32),
        trust=np.full(n, 0.7, np.float16), tie_region=region.copy(),
        adapted=np.zeros(n, np.uint8), shocks=np.zeros(n, np.uint8),
        warned_step=np.full(n, NO_STEP, np.int32),
        members=np.tile(np.array([0, 0, 2, 0, 0, 0, 2, 0], np.uint8), (n, 1)),  # 2 women, 2 men
        disabled=np.zeros(n, np.uint8), head_type=np.zeros(n, np.uint8))
    for name, values in attrs.items():
        target = getattr(hh, name)
        target[:] = np.asarray(values, dtype=target.dtype)
    hazard = HazardSeries(values=depth.astype(np.float32), step_max=depth.max(axis=1),
                          kind=cfg.hazard.kind, cell_site=np.arange(n_cells))
    names = list(regions)
    dist = distance_km if distance_km is not None else \
        50.0 * (1 - np.eye(len(names)))
    inputs = Inputs(
        region_names=names, cell_y=np.zeros(n_cells), cell_x=np.arange(n_cells, dtype=float),
        cell_region=np.asarray(region_of_cell), cell_persons=np.zeros(n_cells),
        grid_index=np.arange(n_cells), grid_shape=(1, n_cells), grid_y=np.zeros(1),
        grid_x=np.arange(n_cells, dtype=float), geographic=True, distance_km=dist,
        hazard=hazard, design_maps=design_maps)
    world, ctx = assemble(cfg, inputs, resolve(cfg, names), hh, Streams(cfg.seed),
                          list(cfg.population.building_class_shares))
    return Tiny(world, ctx)


def run_step(w: Tiny, t: int, step, *args):
    """Run ``step(world, ctx, t, *args)`` as the model would at step ``t``; return its result."""
    w.world.step = t
    return step(w.world, w.ctx, t, *args)


def assert_same_runs(a: tuple, b: tuple, fields: tuple[str, ...], what: str) -> None:
    """Two ``(model, results)`` runs agree: every result variable, and these household fields.

    ``what`` names the shortcut under test in the failure message.
    """
    (ma, da), (mb, db) = a, b
    differ = [v for v in db.data_vars if not da[v].identical(db[v])]
    assert not differ, f"{what} changed {differ}"
    for name in fields:
        assert np.array_equal(getattr(ma.households, name), getattr(mb.households, name)), name

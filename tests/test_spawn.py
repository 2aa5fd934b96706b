"""Prescribed spawning at the cost of the leavers (issue 21): its law and its exactness.

:mod:`simulator.steps.spawn` draws the day's leavers by rejection from the hit cells'
household slots, and ``World.note_hits`` writes the residents' flood steps once per run of
hits instead of every step. These tests ask that the law is the one of an exponential race over
every candidate (locations by Flee's weights, households by their persons), and that the lazy
hits give the results and the households of writing every hit at every step
(``Context.dense_hits``), also where decisions read the flood steps and households move home.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator import DisplacementModel, load_scenario
from simulator.interop.flee.convert import import_flee
from simulator.rules.impacts import envelope_slots, take_in_order, take_persons
from simulator.states import HOME
from simulator.steps import spawn

from .conftest import REPO
from .test_flee_cases import FABFLEE
from .test_walk import write
from .tiny import assert_same_runs


def test_taking_in_order_is_take_persons_on_one_sorted_queue():
    rng = np.random.default_rng(5)
    for _ in range(400):
        n = int(rng.integers(1, 300))
        size = rng.integers(1, 8, n)
        target = float(rng.choice([0, 0.4, 3, 17.5, rng.random() * size.sum() * 1.2, 1e9]))
        mask = take_persons(np.zeros(n, np.int64), size, np.arange(n) / n, np.array([target]))
        k = take_in_order(size, target)
        assert mask[:k].all() and not mask[k:].any()


def test_envelope_points_fall_on_groups_by_mass_and_on_their_slots_alike():
    slots = np.array([3, 0, 5, 2])
    per_slot = np.array([2.0, 9.0, 0.5, 0.0])  # the last has no mass: never hit
    mass = slots * per_slot
    x = (np.arange(100_000) + 0.5) / 100_000 * mass.sum()  # evenly spread points
    group, slot = envelope_slots(x, mass, per_slot, slots)
    assert np.allclose(np.bincount(group, minlength=4) / x.size, mass / mass.sum(), atol=1e-4)
    for g in (0, 2):
        counts = np.bincount(slot[group == g], minlength=slots[g])
        assert counts.size == slots[g] and counts.min() >= counts.max() - 1


def _flee_case(tmp_path, per_day: int, days: int = 30, population: tuple = (30000, 10000),
               dry_town: bool = False):
    """A Flee case: conflict zone A (intensity 0.2) and B (1), or the town D without conflict."""
    last = (np.datetime64("2020-01-01") + np.timedelta64(days - 1, "D")).astype(str)
    second = "D,R,X,1.5,1.0,town,," if dry_town else "B,R,X,1.5,1.0,conflict_zone,0,"
    zones = ("A", "0.2") if dry_town else ("A,B", "0.2,1")
    files = {
        "input_csv/locations.csv": "#name,region,country,lat,lon,location_type,conflict_date,"
                                   f"population\nA,R,X,1.0,1.0,conflict_zone,0,{population[0]}\n"
                                   f"{second}{population[1]}\nC,R,X,1.2,1.0,camp,,1000000\n",
        "input_csv/routes.csv": f"#name1,name2,distance\nA,C,10\n{second[0]},C,10\n",
        "input_csv/sim_period.csv": f"StartDate,2020-01-01\nLength,{days}\n",
        "input_csv/conflicts.csv": f"#Day,{zones[0]}\n" + "".join(f"{d},{zones[1]}\n"
                                                                 for d in range(days)),
        "source_data/data_layout.csv": "total,refugees.csv\nC,c.csv\n",
        "source_data/refugees.csv": f"2020-01-01,0\n{last},{per_day * (days - 1)}\n",
        "source_data/c.csv": f"2020-01-01,0\n{last},{per_day * (days - 1)}\n"}
    path, _ = import_flee(write(tmp_path / "flee", files), tmp_path / "scen")
    return path


def _run(path, overrides, dense: bool, check: bool = False):
    model = DisplacementModel(load_scenario(path, overrides), check_invariants=check)
    model.ctx = dataclasses.replace(model.ctx, dense_hits=dense)
    return model, model.run()


def _assert_identical(a, b) -> None:
    assert_same_runs(a, b, ("last_flood_step", "prior_flood_step", "state", "cell", "size"),
                     "lazy hits")


@pytest.mark.parametrize("weights", ["conflict", "residents"])
def test_households_leave_in_proportion_to_their_persons_or_alike(tmp_path, weights):
    """Size-biased under Flee's weights: mean size E[s^2]/E[s]; alike: E[s] (sizes 1 + Poisson)."""
    path = _flee_case(tmp_path, per_day=400, days=20)
    model, ds = _run(path, ["population.persons_per_household=3",
                            f"impact.prescribed_weights={weights}"], dense=False, check=True)
    hh = model.households
    left = hh.state != 0
    sizes = hh.size.astype(float)
    biased = float((sizes ** 2).mean() / sizes.mean())
    want = biased if weights == "conflict" else float(sizes.mean())
    se = float(sizes[left].std() / np.sqrt(left.sum()))
    assert abs(float(sizes[left].mean()) - want) < 5 * se
    assert abs(biased - float(sizes.mean())) > 10 * se  # the two laws are told apart
    # every day's persons to within half a household, the remainder carried to the next day
    assert abs(float(ds["newly_displaced"].sum()) - 400 * 19) <= sizes.max()


def test_spawning_costs_draws_in_proportion_to_the_leavers_not_the_residents(tmp_path,
                                                                            monkeypatch):
    drawn = []
    uniform = None

    def counting(self, stream, step, ids):
        if stream in ("spawn", "spawn_tail"):
            drawn.append(np.size(ids))
        return uniform(self, stream, step, ids)

    from simulator.rng import Streams
    uniform = Streams.uniform
    monkeypatch.setattr(Streams, "uniform", counting)
    path = _flee_case(tmp_path, per_day=50, days=10, population=(300_000, 100_000))
    _run(path, [], dense=False)
    assert 0 < sum(drawn) < 9 * 50 * spawn.MIN_BATCH  # not 400,000 a day


def test_lazy_hits_equal_writing_every_hit_on_a_flee_case(tmp_path):
    path = _flee_case(tmp_path, per_day=300)
    for weights in ("conflict", "residents"):
        overrides = [f"impact.prescribed_weights={weights}"]
        _assert_identical(_run(path, overrides, dense=False, check=True),
                          _run(path, overrides, dense=True))


def test_lazy_hits_equal_dense_where_households_move_home(tmp_path):
    """Homes change between hits (``World.move_home``, as a relocation would) mid-run."""
    path = _flee_case(tmp_path, per_day=100, days=40)
    runs = []
    for dense in (False, True):
        model = DisplacementModel(load_scenario(path, []), check_invariants=True)
        model.ctx = dataclasses.replace(model.ctx, dense_hits=dense)
        region = {n: i for i, n in enumerate(model.inputs.region_names)}
        cell = {r: int(np.flatnonzero(model.inputs.cell_region == r)[0]) for r in range(2)}
        for t in range(40):
            if t in (10, 25):  # 50 at home in A move to B and 50 of B to A, in runs of hits
                hh = model.world.households
                for src, dst in (("A", "B"), ("B", "A")):
                    ids = np.flatnonzero((hh.region == region[src]) & (hh.state == 0))[:50]
                    model.world.move_home(ids, np.full(50, region[dst]),
                                          np.full(50, cell[region[dst]]))
            model.step()
        runs.append((model, model.results()))
    _assert_identical(*runs)
    moved = runs[0][0].world.moved
    assert moved.size == 200
    assert (runs[0][0].households.last_flood_step[moved] >= 0).all()


def test_lazy_hits_equal_dense_on_the_shipped_flee_example(tmp_path):
    path, _ = import_flee(REPO / "climate_inputs" / "flee_example", tmp_path / "scen")
    _assert_identical(_run(path, [], dense=False), _run(path, [], dense=True))


def test_lazy_hits_equal_dense_on_mali_2012(tmp_path):
    case = FABFLEE / "conflict" / "mali2012"
    if not case.is_dir():
        pytest.skip(f"no FabFlee case at {case}")
    path, _ = import_flee(case, tmp_path / "scen")
    _assert_identical(_run(path, ["n_steps=40"], dense=False), _run(path, ["n_steps=40"], True))


def test_lazy_hits_write_what_every_hit_writes_through_gaps_new_events_flushes_and_moves():
    """Random histories: wet and dry spells (new events), hits below the wet, flushes at any
    time and homes moved mid-run; the flood steps equal those of writing every hit."""
    from .tiny import tiny

    def dense_hit(world, cells, t):  # the one-by-one path of displace
        hh = world.households
        ids = world.households_in(cells)
        earlier = hh.last_flood_step[ids] < world.event_start[hh.cell[ids]]
        hh.prior_flood_step[ids[earlier]] = hh.last_flood_step[ids[earlier]]
        hh.last_flood_step[ids] = t

    n_cells, n, steps = 4, 40, 40
    cell = np.sort(np.random.default_rng(0).integers(0, n_cells, n)).tolist()
    moved_some, priors = False, 0
    for trial in range(60):
        rng = np.random.default_rng(trial)
        lazy, dense = (tiny(np.zeros((50, n_cells)), cell=cell, region_of_cell=[0] * n_cells)
                       for _ in range(2))
        p_wet, p_hit = rng.uniform(0.3, 0.9), rng.uniform(0.5, 1.0)
        for t in range(steps):
            wet = rng.random(n_cells) < p_wet
            hit = np.flatnonzero(wet & (rng.random(n_cells) < p_hit))
            if rng.random() < 0.15:  # a few at home move home, as a relocation would
                hh = lazy.world.households
                ids = np.sort(rng.choice(np.flatnonzero(np.isin(hh.state, HOME)), 3, replace=False))
                to = rng.integers(0, n_cells, ids.size)
                for w in (lazy, dense):
                    w.world.step = t
                    w.world.move_home(ids, np.zeros(ids.size, np.int16), to)
                moved_some = True
            for w in (lazy, dense):
                w.world.track_events(t, wet.astype(float) if wet.any() else None)
            if rng.random() < 0.2:
                lazy.world.flush_hits()
            lazy.world.note_hits(hit, t)
            dense_hit(dense.world, hit, t)
        lazy.world.flush_hits()
        for name in ("last_flood_step", "prior_flood_step"):
            assert np.array_equal(getattr(lazy.world.households, name),
                                  getattr(dense.world.households, name)), (trial, name)
        priors += int((dense.world.households.prior_flood_step >= 0).sum())
    assert moved_some and priors > 100  # earlier events were remembered, so this was tested


def test_households_who_moved_out_of_a_hit_cell_never_leave_from_it(tmp_path):
    """Half of A's residents make a new home in the dry town D: their old slots in A's cell
    are rejected, so none of them is displaced, and the day's persons still leave from A."""
    path = _flee_case(tmp_path, per_day=300, population=(20000, 20000), dry_town=True)
    model = DisplacementModel(load_scenario(path, []), check_invariants=True)
    a, d = (model.inputs.region_names.index(n) for n in ("A", "D"))
    cell_d = int(np.flatnonzero(model.inputs.cell_region == d)[0])
    hh = model.world.households
    movers = np.flatnonzero(hh.region == a)[::2]
    model.world.move_home(movers, np.full(movers.size, d), np.full(movers.size, cell_d))
    ds = model.run()
    assert (hh.state[movers] == 4).all()  # relocated, at home in D: none displaced
    assert int(ds["newly_displaced"].sum()) == 300 * 29


@pytest.mark.parametrize("weights", ["conflict", "residents"])
def test_the_leavers_do_not_depend_on_how_the_draws_are_batched(tmp_path, monkeypatch, weights):
    path = _flee_case(tmp_path, per_day=300, days=15)
    overrides = [f"impact.prescribed_weights={weights}", "population.persons_per_household=3"]
    _, default = _run(path, overrides, dense=False)
    monkeypatch.setattr(spawn, "MIN_BATCH", 1)  # one draw at a time: the stop rule decides
    monkeypatch.setattr(spawn, "MAX_BATCH", 1)
    model, small = _run(path, overrides, dense=False)
    differ = [v for v in default.data_vars if not default[v].equals(small[v])]
    assert not differ
    # and each day's persons leave that day, to within a household (nothing is owed for long)
    daily = small["newly_displaced"].sum("region").values[1:]
    assert np.abs(daily - 300).max() <= int(model.households.size.max())


def test_a_day_taking_nearly_every_candidate_costs_the_candidates_not_their_square(
        tmp_path, monkeypatch):
    """The day's persons are all but a part of a household of the candidates: everyone is raced
    once (no coupon collecting over rejected repeats)."""
    from simulator.rng import Streams

    drawn = {}
    uniform = Streams.uniform

    def counting(self, stream, step, ids):
        drawn[stream] = drawn.get(stream, 0) + np.size(ids)
        return uniform(self, stream, step, ids)

    monkeypatch.setattr(Streams, "uniform", counting)
    path = _flee_case(tmp_path, per_day=20_000, days=3, population=(20_000, 20_000))
    model, ds = _run(path, [], dense=False, check=True)
    assert int(ds["newly_displaced"].sum()) == 40_000  # everyone, on the second day
    assert drawn.get("spawn", 0) + drawn.get("spawn_tail", 0) < 4 * 40_000

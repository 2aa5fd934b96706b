"""Movers weigh their destination's known risk, become its residents, and persons are conserved.

Hand-made worlds for the rules (each test fails if movers ignored destination risk, vanished from
the hazard, or settled without a home), and the demo for the books: residents change exactly by
the relocation matrix.
"""

import numpy as np
import pytest

from simulator.inputs.config import load_scenario
from simulator.model import DisplacementModel
from simulator.states import NO_PLACE, Move, Place, State
from simulator.steps.decide import decide
from simulator.steps.displace import displace
from simulator.steps.recover import return_home
from tests.conftest import REPO
from tests.tiny import run_step, tiny

MOVE = {"behaviour": {"enabled": True, "migration_intention_share_per_year": 1.0,
                      "relocation_inflow_cap_share": 1.0}, "hazard": {"return_period_years": 2}}



def _three_regions(depth):
    """A rich household in a flooded valley; a riverside known to flood; dry hills (equidistant).

    Riverside and hills residents have no savings (they cannot move and stay put).
    """
    w = tiny(depth, cell=[0] + [1] * 5 + [2] * 5, region_of_cell=[0, 1, 2],
             regions=("Valley", "Riverside", "Hills"), scenario=MOVE,
             savings=[1e6] + [0.0] * 10, last_flood_step=[0] * 6 + [-1] * 5)
    w.world.remember(w.ctx.intensity(0), None)  # the hazard phase: the floods are lived through
    run_step(w, 0, decide)
    return w


def test_movers_choose_the_destination_not_known_to_flood():
    w = _three_regions(np.array([[5.0, 5.0, 0.0], [0.0, 0.0, 0.0]]))
    assert w.hh.state[0] == State.RELOCATED
    assert w.hh.region[0] == 2 and w.hh.cell[0] == 2  # the hills, not the riverside
    assert w.world.recorder.relocations[0, 0, 2, Move.PROACTIVE] == 4
    w.world.verify()


def test_a_mover_lives_in_its_new_home_and_can_be_flooded_there():
    w = _three_regions(np.array([[5.0, 5.0, 0.0], [0.0, 0.0, 3.0]]))
    before = w.world.persons.sum(axis=1).copy()
    assert before.tolist() == [0, 20, 24]  # counted where it lives now
    run_step(w, 1, displace, w.ctx.intensity(1), 0.0)
    assert w.hh.state[0] == State.DISPLACED and w.hh.last_flood_step[0] == 1
    assert w.world.recorder.newly_displaced[1].tolist() == [0, 0, 24]
    w.world.verify()


def test_a_settler_leaves_its_temporary_place_and_becomes_a_resident():
    scenario = {"capacity": {"default": {"host": 0, "shelter": 4, "camp": 0, "rental": 0}},
                "placement": {"cascade": ["shelter"], "soft_cap_start": 1.0,
                              "shelter_seeking_by_income_quintile": [1, 1, 1, 1, 1]},
                "return": {"repair_days_total_loss": 0.0, "repeated_shock_penalty": 1.0}}
    w = tiny(np.array([[2.0, 0.0], [0.0, 0.0]]), cell=[0, 1], region_of_cell=[0, 0],
             scenario=scenario, shocks=[4, 0])
    run_step(w, 0, displace, w.ctx.intensity(0), 0.0)
    assert w.hh.place[0] == Place.SHELTER and w.world.occupancy.sum() == 4
    run_step(w, 1, return_home, w.ctx.intensity(1))
    assert w.hh.state[0] == State.RELOCATED and w.hh.place[0] == NO_PLACE
    assert w.world.occupancy.sum() == 0 and w.world.away_ids.size == 0
    assert w.world.recorder.relocations[1, 0, 0, Move.SETTLED] == 4
    assert w.world.recorder.settled[1].tolist() == [4]
    assert w.world.cell_persons.sum() == 8  # a dwelling in a populated cell of the region
    w.world.verify()


@pytest.fixture(scope="module")
def demo():
    """The demo run to its end, with each household's initial income and home region."""
    model = DisplacementModel(load_scenario(REPO / "scenarios" / "demo.toml"))
    hh = model.households
    edges = np.quantile(hh.income, [0.2, 0.4, 0.6, 0.8])
    quintile = np.searchsorted(edges, hh.income, side="right")
    trapped_ever = np.zeros(len(hh), dtype=bool)
    for _ in range(model.config.n_steps):
        model.step()
        trapped_ever |= hh.state == State.TRAPPED
    return model, model.results(), quintile, trapped_ever


def _by_quintile(model, quintile, mask):
    hh = model.households
    return np.bincount(quintile[mask], hh.size[mask], 5)


def test_residents_change_exactly_by_the_relocation_matrix(demo):
    model, ds, _, _ = demo
    residents = ds["residents"]
    assert (residents.sum("region") == model.total_persons).all()
    moves = ds["relocations"].sum("cause")
    net = (moves.sum("origin").rename(destination="region")
           - moves.sum("destination").rename(origin="region")).cumsum("time")
    assert (residents - residents.isel(time=0) == net - net.isel(time=0)).all()
    assert int(moves.sum()) > 0 and bool((residents != residents.isel(time=0)).any())


def test_trapped_persons_are_mostly_the_poorest_two_fifths(demo):
    """Foresight 2011; Black et al. 2013: trapping is a poverty outcome."""
    model, _, quintile, trapped_ever = demo
    ever = _by_quintile(model, quintile, trapped_ever)
    end = _by_quintile(model, quintile, model.households.state == State.TRAPPED)
    assert ever.sum() > 0 and ever[:2].sum() >= 0.6 * ever.sum()
    assert end.sum() > 0 and end[:2].sum() >= 0.6 * end.sum()


def test_adaptation_rises_with_income(demo):
    model, _, quintile, _ = demo
    adapted = _by_quintile(model, quintile, model.households.adapted == 1)
    assert (np.diff(adapted) >= 0).all() and adapted[-1] > adapted[0]


def test_proactive_migration_is_not_highest_in_the_richest_quintile(demo):
    """The migration hump (de Haas 2010): the richest carry a flood loss and stay."""
    model, ds, quintile, _ = demo
    moved = ds["relocations"].sel(cause="proactive").sum()
    assert int(moved) > 0
    mover = model.world.moved
    by_q = np.bincount(quintile[mover], model.households.size[mover], 5)
    assert by_q.argmax() != 4

"""Planner levers move their indicator the documented way, per seed (common random numbers)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import DisplacementModel, load_scenario
from simulator.inputs.config import dump_toml
from simulator.inputs.load import load_inputs

from .conftest import REPO

SCEN = REPO / "scenarios"
STEPS = ["n_steps=400"]  # the flood season and three decision rounds


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(load_scenario(SCEN / "demo.toml"))


def run(inputs, name: str, seed: int, extra: tuple[str, ...] = ()):
    cfg = load_scenario(SCEN / f"{name}.toml", [*STEPS, f"seed={seed}", *extra])
    return DisplacementModel(cfg, inputs=inputs, check_invariants=seed == 42).run()


@pytest.fixture(scope="module", params=[42, 7])
def base(request, inputs):
    return request.param, run(inputs, "demo", request.param)


def total(da, state=None):
    return int((da.sel(state=state) if state else da).sum())


def test_demo_exercises_every_state(base):
    _, ds = base
    peak = ds["persons"].sum("region").max("time")
    for state in ("at_home", "adapted", "evacuated", "displaced", "relocated", "trapped",
                  "returned"):
        assert peak.sel(state=state) > 0, state
    # the demo's renters and owners split every displacement episode between them
    by_tenure = ds["displacement_duration_by_tenure"]
    assert (by_tenure.sum("tenure").values == ds["displacement_duration"].sum("region").values
            ).all()
    assert 0.2 < by_tenure.sel(tenure="renter").sum() / by_tenure.sum() < 0.4  # renter_share 0.3


def test_more_shelter_never_increases_unsheltered_person_days(base, inputs):
    seed, ds = base
    more = run(inputs, "demo-more-shelter", seed)
    assert total(more["unmet_shelter"]) < total(ds["unmet_shelter"])
    per_region = (more["unmet_shelter"].sum("time") <= ds["unmet_shelter"].sum("time"))
    assert per_region.all()


def test_early_warning_increases_evacuations_and_lowers_exposure(base, inputs):
    seed, ds = base
    warned = run(inputs, "demo-early-warning", seed)
    assert total(warned["evacuations"]) > total(ds["evacuations"]) > 0
    # what warnings save: fewer persons at home in dangerous water (paired seeds)
    assert 0 < total(warned["exposed_at_home"]) < total(ds["exposed_at_home"])
    # and money: evacuees carry contents out, so damage to homes falls; time away costs income
    assert total(warned["contents_saved"]) > total(ds["contents_saved"]) > 0
    assert total(warned["home_losses"]) < total(ds["home_losses"])
    assert total(warned["income_forgone_away"]) > total(ds["income_forgone_away"])
    # GIDD's internal displacements: every evacuation, and the displaced who left from home
    for d in (ds, warned):
        assert total(d["newly_displaced"]) <= total(d["internal_displacements"]) <= \
            total(d["newly_displaced"]) + total(d["evacuations"])


def test_cash_assistance_lowers_trapping(base, inputs):
    seed, ds = base
    cash = run(inputs, "demo-cash", seed)
    trapped, trapped_cash = (d["persons"].sel(state="trapped").sum("region") for d in (ds, cash))
    assert (trapped_cash <= trapped).all() and trapped_cash.sum() < trapped.sum()


def test_adaptation_subsidy_raises_adaptation(base, inputs):
    seed, ds = base
    sub = run(inputs, "demo-adaptation-subsidy", seed)
    adapted, adapted_sub = (d["persons"].sel(state="adapted").sum("region") for d in (ds, sub))
    assert (adapted_sub >= adapted).all() and adapted_sub[-1] > adapted[-1]


def test_higher_protection_standard_never_increases_forced_displacement(base, inputs):
    seed, ds = base
    walled = run(inputs, "demo", seed,
                 ('levers.regions.Harbour City.protection_return_period_years=25',))
    new, new_walled = ds["newly_displaced"], walled["newly_displaced"]
    assert int(new_walled.sum()) < int(new.sum())
    assert int(new_walled.sel(region="Harbour City").sum()) == 0
    others = [r for r in ds["region"].values if r != "Harbour City"]
    assert (new_walled.sel(region=others) == new.sel(region=others)).all()  # same draws


@pytest.mark.parametrize("variant, lever", [
    ("demo-more-shelter", "capacity.default.shelter"),
    ("demo-early-warning", "levers.warning_coverage"),
    ("demo-cash", "levers.cash_assistance_per_household"),
    ("demo-adaptation-subsidy", "levers.adaptation_subsidy_share"),
])
def test_each_variant_changes_one_lever_only(variant, lever):
    a = load_scenario(SCEN / "demo.toml")
    b = load_scenario(SCEN / f"{variant}.toml")
    keys = lever.split(".")
    value = b.model_dump(by_alias=True)
    for k in keys:
        value = value[k]
    same = load_scenario(SCEN / "demo.toml", [f"{lever}={value!r}", f"name={b.name}",
                                             f"description={b.description!r}"])
    assert dump_toml(same) == dump_toml(b) and dump_toml(a) != dump_toml(b)
    assert np.isfinite(float(value))


def test_planned_relocation_moves_the_programme_size_of_most_exposed():
    """At step 0 nobody has lived through a flood: the programme targets by the official map."""
    rp = SCEN.parent / "climate_inputs" / "demo" / "flood_return_periods.nc"
    cfg = load_scenario(SCEN / "demo.toml", [
        "n_steps=1", "behaviour.enabled=true", "behaviour.decision_interval_days=365",
        "levers.planned_relocation_households_per_year=400", f"information.file={str(rp)!r}",
        "information.variable='flood_depth'", "information.select_return_period=20",
        "information.return_period_years=20"])
    model = DisplacementModel(cfg)
    home_cell = model.households.cell.copy()
    model.step()
    moved = np.flatnonzero(model.households.state == 4)  # State.RELOCATED
    assert moved.size == 400
    assert (model.ctx.official_depth[home_cell[moved]] > 0).all()  # they left mapped danger
    planned = model.results()["relocations"].sel(cause="planned").sum()
    assert int(planned) == int(model.households.size[moved].sum())
    assert not model.world.experienced.any()  # no flood yet: only the map told them


def test_mobility_obstacle_is_a_gate_not_a_preference(inputs):
    """A higher obstacle traps more and changes nobody's choice to adapt."""
    out = []
    for factor in (1.0, 2.0):
        cfg = load_scenario(SCEN / "demo.toml", [*STEPS, "behaviour.mobility_cost_factor_"
                                                 f"older_or_disabled={factor}"])
        out.append(DisplacementModel(cfg, inputs=inputs).run())
    trapped = [d["persons"].sel(state="trapped").sum("region") for d in out]
    adapted = [d["persons"].sel(state="adapted").sum("region") for d in out]
    assert (trapped[1] >= trapped[0]).all() and trapped[1].max() > trapped[0].max()
    assert (adapted[1] == adapted[0]).all()


def test_decisions_do_not_depend_on_the_chunk_size(inputs, monkeypatch):
    """Chunked evaluation (memory) must give exactly the results of one big chunk."""
    import simulator.steps.decide as decisions

    opts = ["n_steps=460", "levers.planned_relocation_households_per_year=3000",
            "behaviour.decision_interval_days=91"]  # the last round sees the drought
    runs = []
    for chunk in (1 << 20, 997):
        monkeypatch.setattr(decisions, "CHUNK", chunk)
        runs.append(DisplacementModel(load_scenario(SCEN / "demo.toml", opts),
                                      inputs=inputs).run())
    for var in runs[0].data_vars:
        assert runs[0][var].equals(runs[1][var]), var  # values; NaN equals NaN
    assert int(runs[0]["relocations"].sum()) > 0 and int(runs[0]["livelihood_loss"].sum()) > 0


def test_more_reconstruction_capacity_never_leaves_more_displaced(inputs):
    """A queue for builders: fewer homes started per month keeps people displaced longer."""
    still = []
    for homes in (300, 1500, None):
        extra = () if homes is None else (f"levers.reconstruction_homes_per_month={homes}",)
        ds = run(inputs, "demo", 42, extra)
        still.append(ds["persons"].sel(state="displaced").sum("region"))
    assert (still[0] >= still[1]).all() and (still[1] >= still[2]).all()
    assert int(still[0][-1]) > int(still[1][-1]) > int(still[2][-1])


def test_cash_shortens_displacement_when_repairs_wait_for_money(inputs):
    """return.repair_income_share: cash pays part of the repair, so people return sooner."""
    extra = ("return.repair_income_share=0.3",)
    base, cash = (run(inputs, name, 42, extra) for name in ("demo", "demo-cash"))
    disp = [d["persons"].sel(state="displaced").sum("region") for d in (base, cash)]
    assert (disp[1] <= disp[0]).all() and int(disp[1].sum()) < int(disp[0].sum())
    assert total(cash["returns"]) > total(base["returns"])


@pytest.mark.parametrize("variant, baseline, check", [
    ("demo-reconstruction", "demo",  # short builders keep more people displaced
     lambda v, b: int(v["persons"].sel(state="displaced").sum("region")[-1])
     > int(b["persons"].sel(state="displaced").sum("region")[-1])),
    ("demo-protection", "demo",  # the defence keeps most of Harbour City's flood out
     lambda v, b: 0 < total(v["newly_displaced"].sel(region="Harbour City"))
     < 0.5 * total(b["newly_displaced"].sel(region="Harbour City"))),
    ("demo-planned-relocation", "demo-flood-map",  # the most exposed leave before the flood
     lambda v, b: total(v["newly_displaced"]) < total(b["newly_displaced"])
     and total(v["unmet_shelter"]) < total(b["unmet_shelter"])),
])
def test_each_shipped_lever_variant_shows_its_benefit(variant, baseline, check):
    """The variants behind the lever table in docs/model.md, on paired seeds."""
    out = []
    for name in (variant, baseline):
        cfg = load_scenario(SCEN / f"{name}.toml", [*STEPS, "seed=42"])
        out.append(DisplacementModel(cfg).run())
    assert check(*out)

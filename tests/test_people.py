"""People change over decades (issue 19): income growth from a table, background migration.

Income growth against the product of the table's factors, the table's one-line errors, and
background migration: its yearly share, its gravity (within the country only, more to large and
near regions) and nothing when it is off.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator import DisplacementModel, load_scenario
from simulator.rules.behaviour import background_weights
from simulator.ui.cli import main

ROOT = Path(__file__).resolve().parents[1]
FUT = ROOT / "scenarios/futures-ssp585.toml"
GROWTH = ROOT / "climate_inputs/futures/income_growth_ssp5.csv"
SMALL = ["population.households=3000", "n_steps=157"]  # 2025-2027: two new years


def test_incomes_grow_by_the_tables_factors():
    cfg = load_scenario(FUT, [*SMALL, "people.background_migration_per_year=0",
                              "behaviour.enabled=false"])
    model = DisplacementModel(cfg)
    start = model.households.income.copy()
    model.run()
    rows = [line.split(",") for line in GROWTH.read_text().splitlines()[1:]]
    g = {(r, int(y)): float(v) for r, y, v in rows}
    names = model.inputs.region_names
    expected = start.copy()
    for year in (2026, 2027):
        factor = np.array([1.0 + g[(n, year)] for n in names], dtype=np.float32)
        expected *= factor[model.households.region]
    assert np.array_equal(model.households.income, expected)


def test_background_weights_are_gravity_within_the_country():
    residents = np.array([100.0, 400.0, 100.0, 1000.0])
    dist = np.array([[0, 10, 20, 10], [10, 0, 10, 10], [20, 10, 0, 10], [10, 10, 10, 0.0]])
    country = np.array([0, 0, 0, 1])
    w = background_weights(residents, dist, country, 1.0, 2.0, 150.0)
    assert w[0, 3] == 0 and w[3].sum() == 0  # no background move across a border
    assert w[0, 1] == 400 / 100 and w[0, 2] == 100 / 400
    assert (np.diag(w) == 0).all()


def test_background_share_per_year_and_off():
    over = [*SMALL, "n_steps=209", "behaviour.migration_intention_share_per_year=0"]
    on = DisplacementModel(load_scenario(FUT, [*over, "people.background_migration_per_year=0.05"]))
    ds = on.run()
    moved = ds["relocations"].sel(cause="background").sum().item()
    persons = ds.attrs["total_persons"]
    decisions = 4  # 2025-2028, yearly
    assert moved == pytest.approx(0.05 * decisions * persons, rel=0.15)
    off = DisplacementModel(load_scenario(FUT, [*over, "people.background_migration_per_year=0"]))
    assert off.run()["relocations"].sel(cause="background").sum().item() == 0


def test_background_moves_stay_in_the_country():
    cfg = load_scenario(ROOT / "scenarios/borders.toml",
                        ["people.background_migration_per_year=0.05", "n_steps=104"])
    ds = DisplacementModel(cfg).run()
    bg = ds["relocations"].sel(cause="background").sum("time")
    same = ds["country_of_origin"].values[:, None] == ds["country_of_destination"].values[None]
    assert bg.values[~same].sum() == 0 and bg.values[same].sum() > 0


def test_growth_table_missing_a_year(tmp_path, capsys):
    table = tmp_path / "g.csv"
    table.write_text("\n".join(line for line in GROWTH.read_text().splitlines()
                               if not line.startswith("Delta East,2027")) + "\n")
    code = main(["run", str(FUT), *sum((["--set", s] for s in SMALL), []), "--set",
                 f"people.income_growth_file={table}", "--out", str(tmp_path / "o")])
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {table}: people.income_growth_file: no row for region 'Delta East' in 2027 "
        "(every region needs every year 2026-2027)\n")


def test_growth_table_unknown_region(tmp_path, capsys):
    table = tmp_path / "g.csv"
    table.write_text(GROWTH.read_text() + "Atlantis,2026,0.01\n")
    code = main(["run", str(FUT), *sum((["--set", s] for s in SMALL), []), "--set",
                 f"people.income_growth_file={table}", "--out", str(tmp_path / "o")])
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {table}: people.income_growth_file: line 282: unknown region 'Atlantis'\n")

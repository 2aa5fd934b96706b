"""Scenario loading: extends, --set, defaults, dump and reload."""

from __future__ import annotations

import pytest

from simulator.errors import InputError
from simulator.inputs.config import dump_toml, load_scenario, scenario_from_toml

from .conftest import DEMO


def test_variant_overrides_one_field_and_keeps_the_rest(tmp_path, case):
    base = case()
    variant = base.parent / "more.toml"
    variant.write_text('extends = "case.toml"\nname = "more"\n'
                       '[capacity.regions.North]\nshelter = 900\n')
    a, b = load_scenario(base), load_scenario(variant)
    assert b.name == "more" and b.capacity_of("North")["shelter"] == 900
    assert b.capacity_of("South") == a.capacity_of("South")
    assert b.capacity_of("North")["host"] == a.capacity_of("North")["host"]
    assert b.hazard.file == a.hazard.file  # path resolved relative to the base file


def test_every_input_path_is_read_relative_to_the_scenario_file(case):
    path = case(scenario={"information": {"file": "maps/rp.nc", "variable": "d",
                                          "return_period_years": 20},
                          "defences": {"file": "maps/rp.nc", "variable": "d"}})
    cfg = load_scenario(path)
    assert cfg.information.file == cfg.defences.file == path.parent / "maps" / "rp.nc"


def test_set_overrides_nested_field_and_reads_toml_values(case):
    cfg = load_scenario(case(), ["capacity.regions.South.camp=250", "impact.method=damage_ratio",
                                 "placement.cascade=['shelter', 'camp']"])
    assert cfg.capacity_of("South")["camp"] == 250
    assert cfg.impact.method == "damage_ratio"
    assert cfg.placement.cascade == ("shelter", "camp")


def test_bad_set_value_is_attributed_to_the_command_line(case):
    with pytest.raises(InputError) as err:
        load_scenario(case(), ["seed=-1"])
    assert str(err.value) == "--set: seed: Input should be greater than or equal to 0 (got -1)"


def test_dump_and_reload_gives_the_same_scenario():
    cfg = load_scenario(DEMO)
    again = scenario_from_toml(dump_toml(cfg))
    assert again == cfg
    assert "jrc_asia" in dump_toml(cfg)  # defaults are spelled out for provenance


def test_population_needs_exactly_one_source(case):
    with pytest.raises(InputError, match="give exactly one of 'file'"):
        load_scenario(case(), ["population.totals={North=100.0}"])


def test_building_class_shares_must_sum_to_one(case):
    with pytest.raises(InputError, match="population.building_class_shares: shares must be"):
        load_scenario(case(), ["population.building_class_shares={jrc_asia=0.5}"])


def test_old_warning_coverage_spelling_still_works_with_a_deprecation(case):
    old = case(scenario={"warning": {"coverage": 0.9, "lead_time_days": 3}}, name="old.toml")
    with pytest.warns(FutureWarning, match=r"old.toml: warning.coverage is deprecated; write "
                                           r"levers.warning_coverage"):
        cfg = load_scenario(old)
    new = case(scenario={"levers": {"warning_coverage": 0.9}, "warning": {"lead_time_days": 3}},
               name="new.toml")
    same = load_scenario(new)  # the same levers and warning, whichever spelling
    assert cfg.levers == same.levers and cfg.warning == same.warning
    assert cfg.levers.warning_coverage == 0.9


def test_old_and_new_warning_coverage_together_are_refused(tmp_path):
    both = tmp_path / "both.toml"
    both.write_text(f'extends = "{DEMO}"\n[warning]\ncoverage = 0.9\n')  # demo sets the new one
    with pytest.raises(InputError, match=r"warning.coverage: old spelling of "
                                         r"levers.warning_coverage, which is also given"):
        load_scenario(both)


NAMES = ("St. Mary", "Lower Valley")


def test_quoted_region_names_with_dots_and_spaces_in_set(case, tmp_path):
    from simulator.ui.cli import main

    path = case(names=NAMES)
    sets = ['capacity.regions."St. Mary".shelter=5000', "capacity.regions.'Lower Valley'.camp=7",
            'levers.regions."St. Mary".cash_assistance_per_household=10']
    cfg = load_scenario(path, sets)
    assert cfg.capacity_of("St. Mary")["shelter"] == 5000
    assert cfg.capacity_of("Lower Valley")["camp"] == 7
    assert cfg.levers.regions["St. Mary"].cash_assistance_per_household == 10
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "--quiet",
                 *(a for s in sets for a in ("--set", s))]) == 0
    import xarray as xr
    cap = xr.load_dataset(out / "results.nc")["capacity"].max("time")
    assert int(cap.sel(region="St. Mary", place="shelter")) == 5000
    assert int(cap.sel(region="Lower Valley", place="shelter")) == 200


def test_quoted_region_names_in_a_sweep_file(case):
    from simulator.runs.sweepspec import load_sweep

    path = case(names=NAMES)
    spec = path.parent / "sweep.toml"
    spec.write_text(f'base = "{path.name}"\nset = [\'capacity.regions."Lower Valley".camp=3\']\n'
                    "[grid]\n'capacity.regions.\"St. Mary\".shelter' = [0, 5000]\n")
    sweep = load_sweep(spec)
    got = [scenario_from_toml(t.config_toml) for t in sweep.tasks]
    assert [c.capacity_of("St. Mary")["shelter"] for c in got] == [0, 5000]
    assert all(c.capacity_of("Lower Valley")["camp"] == 3 for c in got)
    assert [t.params for t in sweep.tasks][1] == {'capacity.regions."St. Mary".shelter': 5000}


@pytest.mark.parametrize("key, message", [
    ('capacity.regions."St. Mary.shelter=1', 'unclosed quote "'),
    ('capacity.regions."St. Mary"x.shelter=1', "a quoted key must be a whole part"),
    ("capacity..shelter=1", "empty key in dotted path"),
])
def test_bad_quoting_is_a_one_line_error(case, key, message):
    with pytest.raises(InputError) as err:
        load_scenario(case(names=NAMES), [key])
    assert str(err.value).startswith("--set: ") and message in str(err.value)


def test_apostrophe_inside_an_unquoted_name_is_part_of_it(case):
    cfg = load_scenario(case(names=("Cox's Bazar", "Teknaf")),
                        ["capacity.regions.Cox's Bazar.shelter=9"])
    assert cfg.capacity_of("Cox's Bazar")["shelter"] == 9


def test_unset_removes_an_inherited_table_or_field(case):
    base = case(names=NAMES, scenario={"capacity": {"regions": {
        "St. Mary": {"shelter": 900}, "Lower Valley": {"shelter": 800}}}})
    variant = base.parent / "variant.toml"
    variant.write_text('extends = "case.toml"\nunset = [\'capacity.regions."St. Mary"\', '
                       '"capacity.default.shelter"]\n[capacity.regions."Lower Valley"]\ncamp = 5\n')
    assert load_scenario(base).capacity_of("St. Mary")["shelter"] == 900
    cfg = load_scenario(variant)
    assert "St. Mary" not in cfg.capacity.regions
    assert cfg.capacity_of("Lower Valley")["shelter"] == 800  # kept
    assert cfg.capacity_of("Lower Valley")["camp"] == 5
    assert cfg.capacity.default.shelter is None  # the base's 200 is gone: no default shelter
    assert cfg.capacity_of("St. Mary")["shelter"] == 0


def test_unset_of_a_key_the_base_does_not_set_is_an_error(case):
    base = case()
    variant = base.parent / "variant.toml"
    variant.write_text('extends = "case.toml"\nunset = ["capacity.regions.Nowhere"]\n')
    with pytest.raises(InputError) as err:
        load_scenario(variant)
    assert str(err.value) == (f"{variant}: unset: capacity.regions.Nowhere: not set by case.toml "
                              "(or its bases)")
    base.write_text('unset = ["seed"]\n' + base.read_text())
    with pytest.raises(InputError, match="unset: only in a file that extends another"):
        load_scenario(base)

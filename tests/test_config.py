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

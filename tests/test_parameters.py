"""The table of uncertain parameters: real fields, schema defaults, ranges, docs, overrides."""

from __future__ import annotations

import re
import tomllib
import types
import typing

import numpy as np
import pytest
from pydantic import BaseModel

from simulator.inputs.config import load_scenario
from simulator.inputs.parameters import (
    Parameter,
    field_value,
    from_unit,
    markdown_table,
    parameter_table,
    read_table,
)
from simulator.inputs.schema import Scenario
from simulator.ui.cli import main

from .conftest import DEMO, REPO
from .tiny import BASE

TABLE = parameter_table()


def schema_field(name: str):
    """The pydantic field at a dotted path (by field name or alias)."""
    model, field = Scenario, None
    for key in name.split("."):
        assert isinstance(model, type) and issubclass(model, BaseModel), name
        field = next(f for n, f in model.model_fields.items() if key in (n, f.alias))
        model = field.annotation
    return field


def numeric(annotation) -> bool:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return all(numeric(a) for a in typing.get_args(annotation) if a is not type(None))
    return annotation in (int, float)


def test_table_covers_impacts_behaviour_warning_and_recovery():
    sections = {name.split(".")[0] for name in TABLE}
    assert {"impact", "behaviour", "warning", "return"} <= sections
    assert len(TABLE) >= 20
    assert not any(name.startswith(("levers.", "capacity.regions", "capacity.default"))
                   for name in TABLE)  # planner choices are not uncertain parameters


@pytest.mark.parametrize("name", list(TABLE))
def test_every_row_is_a_numeric_field_with_the_schema_default_inside_its_range(name):
    p = TABLE[name]
    assert numeric(schema_field(name).annotation), f"{name} is not a numeric field"
    defaults = Scenario.model_validate({**BASE, "n_steps": 1}).model_dump(by_alias=True)
    assert field_value(defaults, name) == p.default
    assert p.low <= p.default <= p.high and p.low < p.high
    assert p.source.strip() and p.description.strip()
    if p.distribution == "int-uniform":
        assert schema_field(name).annotation is int


def test_a_bad_row_is_refused():
    text = (REPO / "simulator" / "inputs" / "parameters.csv").read_text()
    with pytest.raises(ValueError, match="impact.damage_threshold: the value 0.55 lies outside"):
        read_table(text.replace("0.55,0.3,0.7", "0.55,0.6,0.7"))
    with pytest.raises(ValueError, match="unknown distribution 'normal'"):
        read_table(text.replace("0.55,0.3,0.7,uniform", "0.55,0.3,0.7,normal"))


@pytest.mark.parametrize("doc", ["parameters.md", "model.md"])
def test_docs_table_matches_the_data_file(doc):
    text = (REPO / "docs" / doc).read_text()
    found = re.search(r"<!-- table:begin -->\n(.*?)<!-- table:end -->", text, re.S)
    assert found, f"docs/{doc} lacks the generated table markers"
    assert found.group(1) == markdown_table(TABLE), (
        f"docs/{doc} is stale: regenerate it with python docs/make_parameters.py")


def test_the_table_ships_as_package_data():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "parameters.csv" in project["tool"]["setuptools"]["package-data"]["simulator.inputs"]


def test_scenario_section_picks_ranges_subset_and_takes_the_scenarios_values():
    demo = parameter_table(load_scenario(DEMO))
    assert demo["behaviour.migration_cost_max"].default == 1500  # the demo's own value
    assert demo["behaviour.migration_cost_max"].low == TABLE["behaviour.migration_cost_max"].low
    narrowed = parameter_table(load_scenario(DEMO, [
        'uncertainty.parameters=["impact.damage_threshold", "warning.trust_loss"]',
        'uncertainty.ranges."impact.damage_threshold"=[0.4, 0.6]']))
    assert list(narrowed) == ["impact.damage_threshold", "warning.trust_loss"]
    assert (narrowed["impact.damage_threshold"].low,
            narrowed["impact.damage_threshold"].high) == (0.4, 0.6)
    assert narrowed["warning.trust_loss"] == TABLE["warning.trust_loss"]
    keep_homes = load_scenario(DEMO)
    keep_homes = keep_homes.model_copy(update={"return_": keep_homes.return_.model_copy(
        update={"home_lost_after_wet_days": None})})
    off = parameter_table(keep_homes)
    assert "return.home_lost_after_wet_days" not in off  # a field the scenario switches off


def test_distributions_map_quantiles_as_documented():
    u = (np.arange(10_000) + 0.5) / 10_000
    tri = Parameter("t", 2.0, 1.0, 5.0, "triangular", "s", "d")
    x = from_unit(tri, u)
    counts, edges = np.histogram(x, bins=40)
    assert edges[np.argmax(counts)] == pytest.approx(2.0, abs=0.15)  # peaks at the default
    log = from_unit(Parameter("l", 2.0, 1.0, 100.0, "loguniform", "s", "d"), u)
    assert np.median(log) == pytest.approx(10.0, rel=1e-3)  # the geometric mean
    ints = from_unit(Parameter("i", 15, 10, 30, "int-uniform", "s", "d"), u)
    values, counts = np.unique(ints, return_counts=True)
    assert values.tolist() == list(range(10, 31)) and counts.max() - counts.min() <= 1
    uni = from_unit(Parameter("u", 0.5, 0.3, 0.7, "uniform", "s", "d"), np.array([0.0, 0.5]))
    assert uni.tolist() == pytest.approx([0.3, 0.5])


@pytest.mark.parametrize("sets, message", [
    (['uncertainty.ranges."impact.damage_thresh"=[0.4, 0.6]'],
     "--set: uncertainty.ranges: impact.damage_thresh: not an uncertain parameter (the table "
     "in docs/parameters.md names them)"),
    (['uncertainty.ranges."impact.damage_threshold"=[0.6, 0.4]'],
     "--set: uncertainty.ranges: impact.damage_threshold: empty range [0.6, 0.4] (need lower "
     "< upper)"),
    (['uncertainty.ranges."impact.damage_threshold"=[0.6, 0.7]'],
     "{case}: uncertainty.ranges: impact.damage_threshold: the value 0.55 lies outside the "
     "range [0.6, 0.7]"),
    (["impact.damage_threshold=0.8"],
     "{case}: uncertainty.ranges: impact.damage_threshold: the value 0.8 lies outside the range "
     "[0.3, 0.7]; give [uncertainty.ranges] \"impact.damage_threshold\" = [lower, upper] "
     "holding it, or leave it out of [uncertainty] parameters"),
])
def test_bad_uncertainty_input_is_one_line_exit_2(case, capsys, sets, message):
    path = case()
    out = path.parent / "out"
    args = ["run", str(path), "--uncertainty", "4", "--out", str(out)]
    assert main(args + [a for s in sets for a in ("--set", s)]) == 2
    assert capsys.readouterr().err == f"error: {message.format(case=path)}\n"
    assert not out.exists()

"""The dashboard page: Mesa's ``SolaraViz`` with the planner levers (needs the ``viz`` extra).

Layout: the sidebar holds the **planner levers** (shelter places, early-warning coverage, cash
assistance; each move re-runs the whole scenario at once) with the shelter gap they give, and
Mesa's controls (Reset starts the same levers again from the first step, Step and Play advance
it). The main area shows four figures of the run so far: the hazard map with persons displaced,
persons by state over time, occupancy against capacity in one region, and shelter demand by
region.

Who owns what: this module owns the page, its components and their state, and :func:`page`,
which makes the page of one scenario (for a served app). The model, levers, figures and loading
are :mod:`simulator.ui.dashboard_model`'s (imported here, never the other way round); showing the
page in Jupyter and serving it for ``climdisp dashboard`` are :mod:`simulator.ui.dashboard`'s.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

import solara
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from simulator.inputs.load import Inputs
from simulator.inputs.schema import Scenario
from simulator.outputs.analysis import busiest_region, region_summary
from simulator.ui.dashboard_model import (
    DashboardModel,
    Levers,
    hazard_figure,
    load,
    places_figure,
    rerun,
    shelter_gap_figure,
    states_figure,
)


def _figure_view(model: DashboardModel, make, *args):
    """A matplotlib figure of ``model``, redrawn only when the model or its step changes."""
    key = [model, model.step_index, *args]
    figure = solara.use_memo(lambda: make(model, *args) if model.step_index else None, key)
    if figure is None:
        return solara.Info("No steps run yet: press Step or ▶ (Play) in the sidebar.")
    return solara.FigureMatplotlib(figure, dependencies=key, format="png")


def HazardMap(model: DashboardModel):
    """Peak flood depth so far with persons displaced by home location."""
    return _figure_view(model, hazard_figure)


def PersonsByState(model: DashboardModel):
    """Persons by state of the mobility continuum over time."""
    return _figure_view(model, states_figure)


def OccupancyVsCapacity(model: DashboardModel):
    """Occupancy against capacity in a region the user picks (default: the busiest)."""
    names = list(model.inputs.region_names)
    region, set_region = solara.use_state("")
    with solara.Column() as column:
        if model.step_index:
            solara.Select("Region", values=names,
                          value=region or busiest_region(model.snapshot()),
                          on_value=set_region)
        _figure_view(model, places_figure, region or None)
    return column


def ShelterDemand(model: DashboardModel):
    """Peak persons in sites or unsheltered against shelter and camp capacity, by region."""
    return _figure_view(model, shelter_gap_figure)


COMPONENTS = [(HazardMap, 0), (PersonsByState, 0), (OccupancyVsCapacity, 0), (ShelterDemand, 0)]


#: Each lever's slider: label, (min, max, step) and how its value reads.
SLIDERS = {"shelter_places_added": ("Shelter places added per region", (0, 20_000, 1_000),
                                    "{:,.0f} persons"),
           "warning_coverage": ("Early-warning coverage", (0.0, 1.0, 0.05), "{:.0%} of households"),
           "cash_per_household": ("Cash assistance per household", (0.0, 5_000.0, 250.0),
                                  "{:,.0f}")}


@solara.component
def LeverSlider(name: str, value: float, on_value):
    """One lever: its label and value, and a slider that reports when it is let go.

    Reacting to the slider's ``change`` event (release, click, arrow key) and not to every
    position while dragging keeps a drag from queueing a re-run per position.
    """
    label, (lo, hi, step), fmt = SLIDERS[name]
    solara.Text(f"{label}: {fmt.format(value)}")
    slider = solara.v.Slider(v_model=value, min=lo, max=hi, step=step, thumb_label=True,
                             hide_details=True, class_=f"lever-{name}")
    solara.v.use_event(slider, "change", lambda _widget, _event, data: on_value(
        type(value)(data)))


@solara.component
def LeverCard(levers: Levers, on_levers, model: DashboardModel):
    """The planner levers, and the shelter gap of the current run."""
    update_counter.get()  # Mesa bumps it after Step and Play: show the gap so far
    with solara.Card("Planner levers"):
        for name, value in asdict(levers).items():
            if model.has_lever(name):  # e.g. no warnings for conflict or flood levels
                LeverSlider(name, value,
                            lambda v, name=name: on_levers(replace(levers, **{name: v})))
        if model.step_index:
            total = region_summary(model.snapshot())[-1]
            # HTML, not Markdown: solara's Markdown loads KaTeX, which solara-assets lacks
            solara.HTML("p", unsafe_innerHTML=(
                f"<b>Shelter gap</b> (all regions, {model.step_index} steps): peak <b "
                f"class='shelter-gap'>{total['peak_unmet_shelter']:,}</b> persons without "
                f"shelter, {total['unmet_shelter_person_days']:,.0f} person-days. Peak "
                f"displaced {total['peak_displaced']:,}."))
        if model.run_seconds:
            solara.Text(f"Re-run in {model.run_seconds:.1f} s, replicate {model.replicate} "
                        f"(same seed: differences are the levers' doing).")


@solara.component
def Dashboard(scenario: Scenario, inputs: Inputs):
    """The dashboard of one scenario: levers that re-run it, Mesa's controls, four figures."""
    levers, set_levers = solara.use_state(Levers.of(scenario))
    first = solara.use_memo(lambda: rerun(scenario, inputs, Levers.of(scenario)), [])
    model = solara.use_reactive(first)

    def on_levers(new: Levers) -> None:
        set_levers(new)
        model.set(rerun(scenario, inputs, new, model.value.replicate))

    def keep_levers() -> None:
        # Mesa's Reset re-creates the model from model_params, which hold the scenario's own
        # levers (Mesa reads them once): give the new model the current levers before it steps
        if model.value.step_index == 0 and model.value.levers != levers:
            model.set(DashboardModel(scenario, inputs, replicate=model.value.replicate,
                                     **asdict(levers)))

    solara.use_effect(keep_levers, [model.value, levers])
    with solara.Sidebar():
        LeverCard(levers, on_levers, model.value)
    params = {"config": scenario, "inputs": inputs,
              "replicate": Slider("Replicate (seed; Reset applies it)", 0, 0, 9, 1)}
    SolaraViz(model, components=COMPONENTS, name=f"climdisp: {scenario.name}",
              model_params=params)


def page(scenario_path: str | Path, overrides: list[str] | tuple[str, ...] = ()):
    """The page of one scenario: a component to serve as an app's ``Page``.

    The scenario and its inputs are loaded here, once, and the page holds them: every browser
    session of the app re-runs the scenario on them.

    Args:
        scenario_path: a scenario TOML file.
        overrides: ``dotted.key=value`` strings, as ``--set`` takes them.

    Raises:
        InputError: for a bad scenario or input file.
    """
    scenario, inputs = load(scenario_path, overrides)

    @solara.component
    def Page():
        """The dashboard of the scenario given to :func:`page`."""
        Dashboard(scenario=scenario, inputs=inputs)

    return Page

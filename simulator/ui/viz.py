"""The dashboard page for planners, built from Mesa's controls (needs the ``viz`` extra).

Layout: the sidebar holds the **planner levers** (shelter places, early-warning coverage, cash
assistance; each move re-runs the whole scenario at once) with the shelter gap they give, each
region's **shelter capacity**, and the run controls (Mesa's Reset, Step and Play: Reset starts
the same levers again from the first step; a slider sets how many steps Step and Play advance
at a time; the replicate). The main area shows the **shelter gap by region** and four figures of
the run so far: the hazard map with persons displaced, persons by state over time, occupancy
against capacity in one region, and shelter demand by region.

Mesa's ``SolaraViz`` has no way to leave out its internal controls (play interval in ms, "use
threads", the page tabs), so the page is composed here from Mesa's own ``ModelController``,
``ModelCreator`` and ``ShowSteps`` instead; the figures sit in a fixed two-column layout.

Who owns what: this module owns the page, its components and their state, and :func:`page`,
which makes the page of one scenario (for a served app). The model, levers, figures and loading
are :mod:`simulator.ui.dashboard_model`'s (imported here, never the other way round); showing the
page in Jupyter and serving it for ``climdisp dashboard`` are :mod:`simulator.ui.dashboard`'s.
"""

from __future__ import annotations

import html
from dataclasses import asdict, replace
from pathlib import Path

import solara
from mesa.visualization import Slider
from mesa.visualization.solara_viz import ModelController, ModelCreator, ShowSteps
from mesa.visualization.utils import update_counter

from simulator.inputs.load import Inputs
from simulator.inputs.schema import Scenario
from simulator.outputs.analysis import busiest_region, region_summary
from simulator.ui.dashboard_model import (
    DashboardModel,
    Levers,
    gap_by_region,
    hazard_figure,
    load,
    places_figure,
    rerun,
    shelter_gap_figure,
    states_figure,
)


def _figure_view(model: DashboardModel, make, *args):
    """A matplotlib figure of ``model``, redrawn only when the model or its step changes."""
    update_counter.get()  # Mesa bumps it after Step and Play
    key = [model, model.step_index, *args]
    figure = solara.use_memo(lambda: make(model, *args) if model.step_index else None, key)
    if figure is None:
        return solara.Info("No steps run yet: press Step or ▶ (Play) in the sidebar.")
    return solara.FigureMatplotlib(figure, dependencies=key, format="png")


@solara.component
def HazardMap(model: DashboardModel):
    """Peak flood depth so far with persons displaced by home location."""
    return _figure_view(model, hazard_figure)


@solara.component
def PersonsByState(model: DashboardModel):
    """Persons by state of the mobility continuum over time."""
    return _figure_view(model, states_figure)


@solara.component
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


@solara.component
def ShelterDemand(model: DashboardModel):
    """Peak persons in sites or unsheltered against shelter and camp capacity, by region."""
    return _figure_view(model, shelter_gap_figure)


#: The figures, in two columns, in this order (left to right, top to bottom).
COMPONENTS = [HazardMap, PersonsByState, OccupancyVsCapacity, ShelterDemand]


@solara.component
def GapByRegion(model: DashboardModel):
    """The shelter gap so far, per region and in total, as a table."""
    update_counter.get()
    if not model.step_index:
        return solara.Text("")
    head = ("region", "shelter capacity (places added included)", "peak without shelter",
            "person-days without shelter", "first day without shelter")
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
            r["region"], f"{r['shelter_capacity']:,}", f"{r['peak_unmet_shelter']:,}",
            f"{r['unmet_shelter_person_days']:,.0f}", r["first_unmet"] or "none")) + "</tr>"
        for r in gap_by_region(model))
    return solara.HTML("div", unsafe_innerHTML=(
        f"<b>Shelter gap by region</b> ({model.step_index} steps; persons by the region where "
        "they sought shelter or camp space)<style>.gap-by-region td,.gap-by-region th{padding:"
        "2px 12px;text-align:right;border-bottom:1px solid #ddd}</style><table class="
        "'gap-by-region' style='border-collapse:collapse;font-size:13px'><tr>"
        + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + cells + "</table>"),
        style="overflow-x:auto")


#: Milliseconds between frames of Mesa's Play (its default; not shown to planners).
PLAY_MS = 100

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
            # sliders only; not every lever acts (e.g. no warnings for conflict or flood levels)
            if name in SLIDERS and model.has_lever(name):
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
def RegionCapacityCard(levers: Levers, on_levers, scenario: Scenario, names: list[str]):
    """One shelter capacity per region (persons, before the places added to every region)."""
    with solara.Card("Shelter capacity by region"):
        solara.Text("Persons; shelter places added per region come on top. Press Enter or "
                    "leave the field to re-run.")
        for name in names:
            solara.InputInt(name, value=int(levers.shelter_of(scenario, name)),
                            on_value=lambda v, name=name: on_levers(
                                levers.with_shelter(name, max(0, int(v or 0)))),
                            continuous_update=False)


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
    parameters = solara.use_reactive({})
    play_ms, threads = solara.use_reactive(PLAY_MS), solara.use_reactive(False)
    per_click = solara.use_reactive(1)
    params = {"config": scenario, "inputs": inputs,
              "replicate": Slider("Replicate (seed; Reset applies it)", 0, 0, 9, 1)}
    with solara.AppBar():
        solara.AppBarTitle(f"climdisp: {scenario.name}")
    with solara.Sidebar(), solara.Column():
        LeverCard(levers, on_levers, model.value)
        RegionCapacityCard(levers, on_levers, scenario, list(inputs.region_names))
        with solara.Card("Run step by step"):
            ModelController(model, model_parameters=parameters, play_interval=play_ms,
                            render_interval=per_click, use_threads=threads)
            solara.SliderInt(f"Steps per Step or Play frame ({scenario.step_days} day(s) each)",
                             value=per_click, min=1, max=100)
            ModelCreator(model, params, model_parameters=parameters)
            ShowSteps(model.value)
    with solara.Column():
        GapByRegion(model.value)
        for row in range(0, len(COMPONENTS), 2):
            with solara.Columns([1, 1]):
                for component in COMPONENTS[row:row + 2]:
                    component(model.value)


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

"""The dashboard: levers reach the model, figures follow the levers, the page re-runs on a slider.

The browser test (a real server, headless Chromium) is in test_dashboard_browser.py.
"""

import os
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from simulator.ui.cli import main
from simulator.ui.dashboard_model import (
    DashboardModel,
    Levers,
    load,
    places_figure,
    rerun,
    shelter_gap_figure,
    states_figure,
)

from .conftest import DEMO

pytest.importorskip("solara", reason="the dashboard needs the viz extra: pip install '.[viz]'")

#: 200 days: both floods, and the first yearly decisions after them (trapped households)
SHORT = ("n_steps=200",)


@pytest.fixture(scope="module")
def demo():
    return load(str(DEMO), SHORT)


def _lines(fig) -> dict[str, np.ndarray]:
    return {line.get_label(): np.asarray(line.get_ydata(), dtype=float)
            for ax in fig.axes for line in ax.get_lines()}


def _bars(fig, k: int) -> np.ndarray:
    return np.array([bar.get_height() for bar in fig.axes[0].containers[k]])


def test_levers_change_only_their_fields(demo):
    scenario, inputs = demo
    model = DashboardModel(scenario, inputs, shelter_places_added=2000, warning_coverage=0.8,
                           cash_per_household=700.0)
    cfg = model.config
    for name in inputs.region_names:
        assert cfg.capacity_of(name)["shelter"] == scenario.capacity_of(name)["shelter"] + 2000
        assert cfg.capacity_of(name)["camp"] == scenario.capacity_of(name)["camp"]
    assert cfg.levers.warning_coverage == 0.8 and cfg.levers.cash_assistance_per_household == 700
    same = DashboardModel(scenario, inputs, **vars(Levers.of(scenario))).config
    assert same.model_dump(exclude={"capacity"}) == scenario.model_dump(exclude={"capacity"})
    assert all(same.capacity_of(n) == scenario.capacity_of(n) for n in inputs.region_names)
    assert model.seed_value == scenario.seed  # replicate 0: the scenario's seed


def test_figures_follow_each_lever(demo):
    scenario, inputs = demo
    base = rerun(scenario, inputs, Levers.of(scenario))
    assert base.step_index == scenario.n_steps and not base.running

    shelter = rerun(scenario, inputs, Levers(5000, scenario.levers.warning_coverage, 0.0))
    gap0, gap1 = shelter_gap_figure(base), shelter_gap_figure(shelter)
    np.testing.assert_allclose(_bars(gap1, 1) - _bars(gap0, 1), 5.0)  # capacity, thousands
    assert _bars(gap1, 0).sum() < _bars(gap0, 0).sum()  # fewer persons in sites or unsheltered
    region = "Harbour City"
    cap0 = _lines(places_figure(base, region))["shelter capacity"]
    cap1 = _lines(places_figure(shelter, region))["shelter capacity"]
    assert cap1.max() - cap0.max() == pytest.approx(5.0)
    assert (_lines(places_figure(shelter, region))["unsheltered"].max()
            < _lines(places_figure(base, region))["unsheltered"].max())

    warned = rerun(scenario, inputs, Levers(0, 0.9, 0.0))
    evacuated0 = np.nansum(_lines(states_figure(base))["evacuated"])
    assert np.nansum(_lines(states_figure(warned))["evacuated"]) > 1.5 * evacuated0

    cash = rerun(scenario, inputs, Levers(0, scenario.levers.warning_coverage, 3000.0))
    trapped0 = np.nanmax(_lines(states_figure(base))["trapped"])
    assert np.nanmax(_lines(states_figure(cash)).get("trapped", 0.0)) < trapped0  # 0: not drawn


def test_page_reruns_when_a_slider_is_let_go(demo):
    import ipyvuetify as v
    import ipywidgets
    import solara

    from simulator.ui.viz import Dashboard

    scenario, inputs = demo
    _, rc = solara.render(solara.AppLayout(children=[Dashboard(scenario=scenario,
                                                               inputs=inputs)]),
                          handle_error=False)

    def images() -> list[bytes]:
        return [w.value for w in rc.find(ipywidgets.Image).widgets]

    def gap() -> int:
        html = _gap_html(rc)
        return int(html.split("shelter-gap'>")[1].split("<")[0].replace(",", ""))

    before, gap_before = images(), gap()
    assert len(before) == 4
    rc.find(v.Slider, class_="lever-shelter_places_added").widget.fire_event("change", 5000)
    after = images()
    assert gap() < gap_before
    assert after[3] != before[3] and after[2] != before[2]  # shelter demand, occupancy
    texts = " ".join(str(w.children) for w in rc.find(v.Html).widgets)
    assert "Shelter places added per region: 5,000 persons" in texts

    # Mesa's Reset starts again from the first step, with the current levers: stepping to the
    # end gives the re-run's shelter gap exactly (same seed, same levers)
    gap_rerun = gap()
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert not rc.find(ipywidgets.Image).widgets
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert len(images()) == 4
    rc.find(v.Html, children=["Time: 1.0"]).assert_single()  # Mesa's step counter
    rc.find(v.Slider, label="Steps per Step or Play frame (1 day(s) each)").widget.v_model = 99
    for _ in range(3):
        rc.find(v.Btn, children=["Step"]).widget.click()
    assert gap() == gap_rerun


def test_page_is_for_planners_gap_by_region_and_capacity_per_region(demo):
    import ipyvuetify as v
    import ipywidgets
    import solara

    from simulator.ui.dashboard_model import gap_by_region
    from simulator.ui.viz import Dashboard

    scenario, inputs = demo
    _, rc = solara.render(solara.AppLayout(children=[Dashboard(scenario=scenario,
                                                               inputs=inputs)]),
                          handle_error=False)
    labels = {w.label for w in rc.find(v.Slider).widgets} | {
        w.label for w in rc.find(v.Checkbox).widgets}
    assert not labels & {"Play Interval (ms)", "Render Interval (steps)", "Use Threads"}
    assert not rc.find(v.Tab).widgets  # no "Page 0" tab
    assert len(rc.find(ipywidgets.Image).widgets) == 4

    def table() -> dict[str, list[str]]:
        [html] = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
                  if "gap-by-region" in w.unsafe_innerHTML]
        rows = [r.split("</td><td>") for r in html.split("<tr><td>")[1:]]
        return {r[0]: [c.replace("</td></tr>", "").replace("</table>", "") for c in r[1:]]
                for r in rows}

    before = table()
    assert list(before) == [*inputs.region_names, "TOTAL"]
    model = rerun(scenario, inputs, Levers.of(scenario))
    for row in gap_by_region(model):
        assert before[row["region"]][:2] == [f"{row['shelter_capacity']:,}",
                                             f"{row['peak_unmet_shelter']:,}"]
    region = "Harbour City"
    assert int(before[region][1].replace(",", "")) > 0  # a gap to close
    [field] = [w for w in rc.find(v.TextField).widgets if w.label == region]
    field.v_model = "60000"
    field.fire_event("focusout", None)
    after = table()
    assert after[region][0] == "60,000"
    assert int(after[region][1].replace(",", "")) < int(before[region][1].replace(",", ""))
    others = [n for n in inputs.region_names if n != region]
    assert all(after[n][0] == before[n][0] for n in others)  # only that region's capacity


def test_region_capacity_lever_sets_one_region_only(demo):
    scenario, inputs = demo
    levers = Levers.of(scenario).with_shelter("Delta West", 123).with_shelter("Delta West", 456)
    assert levers.shelter_capacity == (("Delta West", 456),)
    model = DashboardModel(scenario, inputs, shelter_places_added=10, **{
        k: v for k, v in vars(levers).items() if k != "shelter_places_added"})
    for name in inputs.region_names:
        own = 456 if name == "Delta West" else scenario.capacity_of(name)["shelter"]
        assert model.config.capacity_of(name)["shelter"] == own + 10


def _gap_html(rc) -> str:
    import solara

    [html] = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
              if "shelter-gap" in w.unsafe_innerHTML]
    return html


def test_served_app_gets_the_scenario_as_arguments_not_through_the_environment(monkeypatch):
    """The server runs a generated app module that makes the page of the scenario and overrides;
    solara's offline settings go to the server's environment only, and this process's stays."""
    import solara

    from simulator.ui import dashboard as dash

    before, seen = dict(os.environ), {}

    class Server:  # stands in for the solara server process
        def __init__(self, command, env):
            app = Path(command[command.index("run") + 1])
            seen.update(command=command, env=env, app=app, page=runpy.run_path(str(app))["Page"])

        def wait(self, timeout=None):
            return 0

        def poll(self):
            return 0

    monkeypatch.setattr(dash.subprocess, "Popen", Server)
    assert main(["dashboard", str(DEMO), "--set", "n_steps=20", "--port", "8799"]) == 0
    assert dict(os.environ) == before
    assert not seen["app"].exists()  # removed once the server stopped
    command = seen["command"]
    assert command[1:4] == ["-m", "solara", "run"] and command[command.index("--port") + 1] == \
        "8799" and "--production" in command
    env = seen["env"]
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env["SOLARA_ASSETS_CDN"].startswith("http://127.0.0.1:")
    added = set(env) - set(before)
    assert added <= {"SOLARA_TELEMETRY_MIXPANEL_ENABLE", "SOLARA_ASSETS_CDN"}
    assert all(env[k] == before[k] for k in before if not k.startswith("SOLARA_"))
    _, rc = solara.render(solara.AppLayout(children=[seen["page"]()]), handle_error=False)
    assert "(all regions, 20 steps)" in _gap_html(rc)  # the overrides reached the page


def test_dashboard_command_bad_scenario(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "' + str(DEMO) + '"\n[levers]\nwarning_coverage = 2\n')
    assert main(["dashboard", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "levers.warning_coverage" in err and "\n" not in err


def test_dashboard_command_without_viz_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "solara", None)  # as if solara were not installed
    assert main(["dashboard", str(DEMO)]) == 2
    assert capsys.readouterr().err.strip() == ("error: dashboard: the dashboard needs the viz "
                                               "extra: pip install '.[viz]'")


def test_dashboard_command_bad_port(capsys):
    assert main(["dashboard", str(DEMO), "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err

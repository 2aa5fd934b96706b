"""Climate futures: each scenario and its no-climate-change counterfactual, same seeds.

``climdisp futures SCENARIO [SCENARIO ...] --out DIR`` runs every scenario (each with a
``[futures]`` section: a named climate scenario whose yearly floods are drawn from
return-period maps per period) and, with the same seeds, its counterfactual: the same scenario
with the first period's maps every year (``futures.hold_period``). It writes the runs under
``DIR/runs/`` and, in ``DIR/report/``, the yearly table, the climate migrants at milestone
years and a figure with a line per scenario (:mod:`simulator.outputs.futures`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from simulator.atomic import check_out_dir, csv_text, write_folder
from simulator.errors import InputError
from simulator.inputs.config import load_scenario
from simulator.inputs.futures import sample_events
from simulator.inputs.load import load_inputs
from simulator.outputs import futures as view
from simulator.outputs.plots import new_figure, png_bytes
from simulator.outputs.report import html_table, page
from simulator.runs.run import run_scenario


def counterfactual(config, inputs, seed: int):
    """The scenario without climate change, and its inputs: the first period's maps every year."""
    first = int(inputs.futures.periods[0])
    cf = config.model_copy(update={
        "name": f"{config.name}-counterfactual", "seed": seed,
        "futures": config.futures.model_copy(update={"hold_period": first})})
    return cf, dataclasses.replace(inputs, hazard=sample_events(inputs.futures, cf, seed))


def run_futures(paths: list[str | Path], out: str | Path, overrides: tuple[str, ...] = (),
                seed: int | None = None, replicates: int = 1,
                progress: Callable[[str], None] | None = None) -> tuple[Path, list[dict]]:
    """Run each scenario and its counterfactual; write the runs and the futures report.

    Returns the report folder and the milestone rows.

    Raises:
        InputError: for a scenario without ``[futures]`` or an output folder that exists.
    """
    out = Path(out)
    check_out_dir(out)
    table = []
    for path in paths:
        config = load_scenario(path, list(overrides))
        if config.futures is None:
            raise InputError(path, "futures: the scenario has no [futures] section (a named "
                                   "climate scenario with return-period maps per period)")
        run_seed = config.seed if seed is None else seed
        config = config.model_copy(update={"seed": run_seed})
        inputs = load_inputs(config, path)
        label = config.futures.climate_scenario
        if progress:
            progress(f"{config.name} ({label})")
        _, ds = run_scenario(config, out / "runs" / config.name, seed=run_seed, inputs=inputs,
                             where=path, replicates=replicates)
        cf, cf_inputs = counterfactual(config, inputs, run_seed)
        if progress:
            progress(f"{cf.name}")
        _, ds_cf = run_scenario(cf, out / "runs" / cf.name, seed=run_seed, inputs=cf_inputs,
                                where=path, replicates=replicates)
        table += view.rows(label, ds, ds_cf)
    marks = view.milestones(table)
    image = png_bytes(view.figure(table, new_figure(12, 4.2)))
    intro = ("<p>Each scenario against its counterfactual without climate change: the same "
             "scenario, seeds and people, with the first period's flood maps every year. "
             "<b>Climate migrants</b> are the difference in persons who made a new home "
             "elsewhere (World Bank Groundswell's indicator); <b>climate displaced</b> the "
             "difference in persons newly displaced. Runs: <code>runs/</code>.</p>")
    files = {"yearly.csv": csv_text(table).encode(), "milestones.csv": csv_text(marks).encode(),
             "futures.png": image,
             "index.html": page("Climate futures", intro, [
                 ("Climate migrants and displaced, cumulative", html_table(marks)),
                 ("By year", html_table(table))], {"futures.png": image}).encode()}
    return write_folder(out / "report", files), marks


"""Return-period risk: displacement per return period and average annual displacement (AAD).

The same sum over event frequencies gives the average annual home losses (currency).

A hazard given as maps along ``return_period`` (years) is an event set: map *i* stands for the
events between its return period and the next rarer one, with annual frequency
``phi_i = 1/RP_i - 1/RP_{i+1}`` (``1/RP_n`` for the rarest). Each map is run as one event;
its displacement ``D_i`` per region gives the probable-maximum-displacement curve, and

    AAD = sum_i phi_i * D_i

the expected displacement per year, as CLIMADA computes expected annual impact from event
frequencies and as IDMC reports AAD (IDMC Global Disaster Displacement Risk model). A Monte
Carlo over stochastic event years (each year draws at most one event class with probabilities
phi_i) estimates the same AAD with a sampling error, and gives the spread of yearly displacement.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import xarray as xr

from simulator.inputs.config import load_scenario
from simulator.inputs.hazards import event_set
from simulator.inputs.load import load_inputs
from simulator.model import DisplacementModel
from simulator.rng import replicate_seeds


def event_frequencies(rps: np.ndarray) -> np.ndarray:
    """Annual frequency of each return-period class: 1/RP_i - 1/RP_{i+1}, the rarest 1/RP_n."""
    f = 1.0 / np.sort(np.asarray(rps, dtype=float))
    return f - np.append(f[1:], 0.0)


def average_annual(displaced: np.ndarray, rps: np.ndarray) -> np.ndarray:
    """AAD = sum_i phi_i D_i over the return-period axis (first axis of ``displaced``)."""
    order = np.argsort(rps)
    return np.tensordot(event_frequencies(rps), np.asarray(displaced)[order], axes=(0, 0))


def sample_years(displaced: np.ndarray, freq: np.ndarray, years: int, seed: int) -> np.ndarray:
    """Displacement in ``years`` stochastic years: event i occurs N_i ~ Poisson(f_i) times a year.

    The yearly total sum_i N_i D_i has mean sum_i f_i D_i = AAD; several events may strike one
    year (CLIMADA's yearsets draw event occurrences the same way).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 20261125]))
    counts = rng.poisson(np.asarray(freq, dtype=float), size=(years, len(freq)))
    return counts @ np.asarray(displaced, dtype=float).reshape(len(freq), -1)


def assess(scenario_path: str | Path, out: str | Path, overrides: tuple[str, ...] = (),
           replicates: int = 1, years: int = 10_000) -> tuple[Path, list[dict], list[dict]]:
    """Run every event of the hazard's event set and write ``risk.csv`` and ``aad.csv``.

    Return-period maps are run in order of return period with frequencies from
    :func:`event_frequencies`; CLIMADA events are run with their own frequencies.
    """
    from simulator.atomic import csv_text, write_folder
    from simulator.outputs.plots import png_bytes

    base = load_scenario(scenario_path, list(overrides))
    select, labels, freq, event_rp = event_set(base.hazard)
    rps = np.array(labels, dtype=float) if freq is None else None
    if freq is None:
        freq = event_frequencies(rps)
    # each event happens on hazard.event_date, else after the start by the warning lead time
    # (so warnings can act; a CLIMADA event's historical date may lie outside the run)
    warned = base.levers.warning_coverage > 0 or any(r.warning_coverage for r in
                                              base.levers.regions.values())
    day = base.start_date + dt.timedelta(days=base.warning.lead_time_days if warned else 0)
    when = [] if base.hazard.event_date else [f"hazard.event_date={day}"]
    seeds = replicate_seeds(base.seed, replicates)
    per_event = []  # (event, replicate, quantity, region): see _totals
    names: list[str] = []
    for label, rp in zip(labels, event_rp):
        extra = [f"hazard.{select}={json.dumps(label)}",
                 f"hazard.return_period_years={max(rp, 1.0001)}", *when]
        cfg = load_scenario(scenario_path, [*overrides, *extra])
        inputs = load_inputs(cfg, scenario_path)
        names = inputs.region_names
        per_event.append([_totals(DisplacementModel(cfg, inputs=inputs, seed=seed).run())
                          for seed in seeds])
    totals = np.array(per_event)
    totals = np.concatenate([totals, totals.sum(axis=3, keepdims=True)], axis=3)
    disp, idp, loss = totals[:, :, 0], totals[:, :, 1], totals[:, :, 2]
    aad_idp = np.tensordot(freq, idp, axes=(0, 0))
    aal = np.tensordot(freq, loss, axes=(0, 0))
    regions = [*names, "TOTAL"]
    aad = np.tensordot(freq, disp, axes=(0, 0))  # (replicate, region)
    sampled = sample_years(disp.mean(axis=1), freq, years, base.seed)  # (years, region)
    key = "return_period_years" if rps is not None else "event"
    risk_rows = [{"region": lab, key: (float(ev) if rps is not None else ev),
                  "annual_frequency": float(freq[i]),
                  **({"annual_exceedance_probability": 1.0 / float(ev)} if rps is not None
                     else {}),
                  "displaced": float(np.median(disp[i, :, j])),
                  "displaced_p05": float(np.percentile(disp[i, :, j], 5)),
                  "displaced_p95": float(np.percentile(disp[i, :, j], 95)),
                  "internal_displacements": float(np.median(idp[i, :, j])),
                  "home_losses": float(np.median(loss[i, :, j]))}
                 for j, lab in enumerate(regions) for i, ev in enumerate(labels)]
    aad_rows = [{"region": lab, "aad": float(np.median(aad[:, j])),
                 "aad_p05": float(np.percentile(aad[:, j], 5)),
                 "aad_p95": float(np.percentile(aad[:, j], 95)),
                 "aad_internal_displacements": float(np.median(aad_idp[:, j])),
                 "average_annual_home_losses": float(np.median(aal[:, j])),
                 "aad_sampled_years": float(sampled[:, j].mean()),
                 "aad_sampled_stderr": float(sampled[:, j].std(ddof=1) / np.sqrt(years)),
                 "years_sampled": years} for j, lab in enumerate(regions)]
    files = {"risk.csv": csv_text(risk_rows).encode(), "aad.csv": csv_text(aad_rows).encode(),
             "risk_curve.png": png_bytes(_curve(disp, freq, regions))}
    return write_folder(Path(out), files), risk_rows, aad_rows


def _totals(ds: xr.Dataset) -> np.ndarray:
    """A run's totals per region, shape (3, regions): displaced, internal displacements, losses.

    Internal displacements include evacuations, as IDMC's GIDD counts them; home losses are in
    currency (structure and contents).
    """
    return np.stack([ds[name].sum([d for d in ds[name].dims if d != "region"]).values
                     for name in ("newly_displaced", "internal_displacements", "home_losses")]
                    ).astype(float)


def exceedance_curve(displaced: np.ndarray, freq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return periods (years) and displacement of the exceedance curve of an event set.

    Events sorted by displacement, largest first; the return period of the k-th is
    1 / sum of the frequencies of the events displacing at least as many.
    """
    order = np.argsort(-np.asarray(displaced), kind="stable")
    return 1.0 / np.cumsum(np.asarray(freq)[order]), np.asarray(displaced)[order]


def _curve(disp: np.ndarray, freq: np.ndarray, labels: list[str]):
    """The exceedance curve of each region, on a Figure outside pyplot (no backend needed)."""
    from simulator.outputs.plots import new_figure

    fig = new_figure(8, 5)
    ax = fig.subplots()
    for j, lab in enumerate(labels):
        rp, med = exceedance_curve(np.median(disp[:, :, j], axis=1), freq)
        if med.max() > 0:
            ax.plot(rp, med / 1e3, marker="o", lw=2.5 if lab == "TOTAL" else 1.2,
                    color="black" if lab == "TOTAL" else None, label=lab)
    ax.set_xscale("log")
    ax.set_xlabel("return period (years)")
    ax.set_ylabel("persons displaced per event (thousands)")
    ax.set_title("Displacement exceedance curve (probable maximum displacement)")
    ax.legend(frameon=False, fontsize=8, ncols=2)
    ax.grid(alpha=0.3, which="both")
    return fig

"""Score a run against observations: the ARD error metric and Flee's ``out.csv``.

The averaged relative difference (ARD) of Suleimenova, Bell & Groen (2017), Sci. Rep. 7:13377,
and the ``out.csv`` that Flee's ``runscripts/run.py`` prints, so a run here and a Flee run of the
same case are scored the same way. A scenario gets them through ``[observations]``
(:func:`validate`, called by the run). Nothing here reads Flee's files: those are
``simulator.interop.flee``'s job, and an ordinary run never imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import xarray as xr

from simulator.inputs.observations import Observed
from simulator.inputs.schema import Scenario

OUT_TOTAL_COLUMNS = ("Total error", "refugees in camps (UNHCR)", "total refugees (simulation)",
                     "raw UNHCR refugee count", "refugees in camps (simulation)", "refugee_debt")


def ard_by_day(sim: np.ndarray, data: np.ndarray, rescaled: bool = False) -> np.ndarray:
    """Averaged relative difference per day, E(t), of simulated and observed camp counts.

    E(t) = sum_x |n_sim,x(t) - n_data,x(t)| / max(N_data(t), 1), with N_data(t) = sum_x
    n_data,x(t) the persons in camps according to the data (out.csv "refugees in camps (UNHCR)").
    Rescaled, each day's simulated counts are first scaled to the data's camp total:
    n_sim,x * N_data / N_sim (0 when N_sim = 0). Suleimenova, Bell & Groen (2017), Sci. Rep.
    7:13377, as computed in flee/postprocessing/plot_flee_output.py (error_quantification and
    plot_errors). Days with no persons in camps in the data divide by 1, so they are not skipped.
    Flee also rounds each camp's difference to 4 decimals; this does not.

    Args:
        sim: (days, camps) simulated persons per camp.
        data: (days, camps) observed persons per camp.
        rescaled: scale the simulated counts to the data's camp total first.

    Returns:
        (days,) E(t), dimensionless.
    """
    sim, data = np.asarray(sim, dtype=float), np.asarray(data, dtype=float)
    data_total = data.sum(axis=1)
    if rescaled:
        sim_total = sim.sum(axis=1)
        scale = np.divide(data_total, sim_total, out=np.zeros_like(sim_total),
                          where=sim_total > 0)
        sim = sim * scale[:, None]
    return np.abs(sim - data).sum(axis=1) / np.maximum(data_total, 1.0)


def ard(sim: np.ndarray, data: np.ndarray, rescaled: bool = False) -> float:
    """The ARD of a run: the mean over days of :func:`ard_by_day` (same arguments)."""
    return float(np.mean(ard_by_day(sim, data, rescaled)))


def poisson_deviance(sim: np.ndarray, data: np.ndarray, floor: float = 0.5) -> float:
    """Mean Poisson deviance of observed counts given simulated means (a count likelihood).

    D = (2 / n) sum_i [y_i ln(y_i / mu_i) - (y_i - mu_i)], with y the observed and mu the
    simulated persons over the n (day, region) cells, y ln(y / mu) = 0 where y = 0 (McCullagh &
    Nelder 1989, Generalized Linear Models, 2nd ed., section 2.3). It is -2 x the Poisson
    log-likelihood ratio of the simulation against a perfect fit, per cell: 0 for a perfect fit,
    and unlike the ARD it weighs a miss of 100 persons less where 10,000 are expected than where
    200 are. Simulated means below ``floor`` persons are raised to it, so a simulated 0 where
    persons were seen costs a large but finite amount.

    Args:
        sim: simulated persons, any shape.
        data: observed persons, the same shape.
        floor: least simulated mean, persons.

    Returns:
        The mean deviance per cell, dimensionless (>= 0).
    """
    from scipy.special import xlogy

    y = np.asarray(data, dtype=float)
    mu = np.maximum(np.asarray(sim, dtype=float), floor)
    return float(np.mean(2.0 * (xlogy(y, y) - xlogy(y, mu) - (y - mu))))


def _relative_error(sim: int, data: int) -> float:
    """flee/postprocessing/analysis.py rel_error: |sim/data - 1| to 4 decimals, 0 if no data."""
    return 0.0 if data < 0.00001 else float(np.round(abs(float(sim) / float(data) - 1), 4))


def flee_out_csv(start_date: date, camps: Sequence[str], sim: np.ndarray, data: np.ndarray,
                 total_sim: np.ndarray, raw: np.ndarray, debt: np.ndarray,
                 idps: np.ndarray | None = None) -> str:
    """The text of Flee's out.csv for a run, column for column as runscripts/run.py prints it.

    Columns: Day, Date, then per camp "<camp> sim", "<camp> data", "<camp> error" (relative
    error |sim/data - 1| to 4 decimals, 0 without data), then OUT_TOTAL_COLUMNS: "Total error" is
    sum_x |sim_x - data_x| / raw; on days with raw <= 0 Flee writes 0 for the data-based columns.
    "total IDPs" follows when ``idps`` is given (Flee's log_levels idp_totals).

    Args:
        start_date: date of day 0.
        camps: camp names, in column order.
        sim: (days, camps) simulated persons per camp.
        data: (days, camps) observed persons per camp.
        total_sim: (days,) all simulated persons (agents).
        raw: (days,) observed stock (Flee's "raw UNHCR refugee count").
        debt: (days,) observed decreases not yet offset by increases (Flee's "refugee_debt").
        idps: (days,) simulated IDPs, or None for no such column.

    Returns:
        CSV text with a header line and one line per day.
    """
    header = ["Day", "Date", *(f"{c} {k}" for c in camps for k in ("sim", "data", "error")),
              *OUT_TOTAL_COLUMNS, *(["total IDPs"] if idps is not None else [])]
    lines = [",".join(header)]
    for t in range(len(total_sim)):
        cells = [str(t), (start_date + timedelta(days=t)).isoformat()]
        for s, d in zip(sim[t], data[t], strict=True):
            cells += [str(int(s)), str(int(d)), str(_relative_error(s, d))]
        in_camps = int(np.sum(sim[t]))
        if raw[t] > 0:
            error = float(sum(abs(float(s) - float(d)) for s, d in zip(sim[t], data[t])))
            cells += [str(error / float(raw[t])), str(int(np.sum(data[t]))), str(int(total_sim[t])),
                      str(int(raw[t])), str(in_camps), str(int(debt[t]))]
        else:
            cells += ["0.0", "0", str(int(total_sim[t])), "0", str(in_camps), "0"]
        if idps is not None:
            cells.append(str(int(idps[t])))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def validate(ds: xr.Dataset, observed: Observed, scenario: Scenario) -> tuple[str, dict]:
    """Flee's ``out.csv`` and the ARD of a run against the observations.

    Simulated persons per observed region are the occupancy of ``observations.place`` there
    (the median over replicates); the simulated total is everyone displaced. Without a ``raw``
    column the observed stock is the sum of the observed regions.

    Returns:
        The out.csv text, and ``{"ard", "ard_rescaled", "days", "place"}``.
    """
    place = scenario.observations.place
    occ = ds["occupancy"].sel(place=place, region=observed.regions)
    if "in_transit" in ds:  # Flee counts people in a camp once they get there
        occ = occ - ds["in_transit"].sel(place=place, region=observed.regions)
    total = ds["persons"].sel(state="displaced").sum("region")
    if "replicate" in ds.dims:
        occ, total = occ.median("replicate"), total.median("replicate")
    n = ds.sizes["time"]
    sim = np.rint(occ.transpose("time", "region").values).astype(np.int64)
    data = np.rint(observed.persons[:n]).astype(np.int64)
    raw = observed.raw[:n] if observed.raw is not None else data.sum(axis=1)
    debt = observed.debt[:n] if observed.debt is not None else np.zeros(n)
    text = flee_out_csv(scenario.start_date, observed.regions, sim, data,
                        np.rint(total.values).astype(np.int64), raw, debt)
    metrics = {"ard": ard(sim, data), "ard_rescaled": ard(sim, data, rescaled=True),
               "days": int(n * scenario.step_days), "place": place}
    return text, metrics

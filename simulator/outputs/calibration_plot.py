"""The fit figure of a calibration: observed and simulated series, the hold-out marked.

Drawn on a :func:`~simulator.outputs.plots.new_figure` (pyplot never sees it) from arrays, so
``simulator.runs.calibrate`` writes it without a backend and a notebook can call it too.
"""

from __future__ import annotations

import numpy as np

from simulator.outputs.plots import _dates, new_figure

#: Most regions drawn one by one (the largest observed); all of them are in the total panel.
MAX_PANELS = 8


def fit_figure(times: np.ndarray, regions: list[str], observed: np.ndarray,
               fitted: np.ndarray, baseline: np.ndarray | None, scored: np.ndarray,
               split: np.datetime64 | None, ylabel: str, title: str):
    """Observed vs simulated persons, the total and per region, with the hold-out shaded.

    Args:
        times: (steps,) step start dates.
        regions: observed region names.
        observed: (steps, regions) observed persons.
        fitted: (steps, regions) simulated persons of the best trial.
        baseline: (steps, regions) simulated persons of the scenario as given, or None.
        scored: (steps,) bool: the steps the scores cover (observed is drawn only there).
        split: first date of the hold-out, or None without one.
        ylabel: what is counted.
        title: the figure's title (parameters and scores).

    Returns:
        A matplotlib ``Figure``.
    """
    order = np.argsort(-observed.max(axis=0), kind="stable")[:MAX_PANELS]
    panels = [("total", slice(None))] + [(regions[i], [i]) for i in order] \
        if len(regions) > 1 else [(regions[0], [0])]
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig = new_figure(4.2 * cols, 2.8 * rows + 0.5)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, (name, idx) in zip(axes, panels):
        obs = np.where(scored, observed[:, idx].sum(axis=1), np.nan)
        ax.plot(times, obs, color="black", lw=1.5, label="observed")
        ax.plot(times, fitted[:, idx].sum(axis=1), color="tab:red", lw=1.2, label="fitted")
        if baseline is not None:
            ax.plot(times, baseline[:, idx].sum(axis=1), color="tab:gray", lw=1, ls="--",
                    label="as given")
        if split is not None:
            ax.axvline(split, color="tab:blue", lw=1)
            ax.axvspan(split, times[np.flatnonzero(scored)[-1]], color="tab:blue", alpha=0.08,
                       label="hold-out")
        ax.set_title(name, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=8)
        _dates(ax)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle(title, fontsize=9)
    return fig

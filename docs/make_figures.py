"""Make the README figure from a fresh demo run: ``python docs/make_figures.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from simulator import DisplacementModel, load_scenario  # noqa: E402
from simulator.outputs.plots import occupancy_vs_capacity, states_over_time  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Run the demo and save docs/figures/demo_overview.png."""
    ds = DisplacementModel(load_scenario(HERE.parent / "scenarios" / "demo.toml")).run()
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.8), constrained_layout=True)
    states_over_time(ds, axes[0])
    occupancy_vs_capacity(ds, "Harbour City", axes[1])
    fig.suptitle("Demo scenario (synthetic delta): river flood in August, storm surge on "
                 "1 September, drought on the hills the next year", fontsize=11)
    out = HERE / "figures" / "demo_overview.png"
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

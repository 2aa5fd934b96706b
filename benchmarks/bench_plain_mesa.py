"""Side by side: the vectorised model against a plain Mesa model with one Agent per household.

Both run the same forced-displacement rule on the same households and hazard (the demo inputs,
``population.households`` set, 120 daily steps covering the flood season):

- displaced when the home's flood depth is at least 1 m;
- shelter in the home region while places last, otherwise unsheltered;
- home again once the water is below 0.05 m and the repair time (damage x 365 days, no spread)
  has passed.

The vectorised model runs with behaviour and warnings off, a shelter-only cascade and no soft
cap, so that both do the same work. The plain model is what a first Mesa implementation looks
like: ``mesa.Agent`` objects stepped with ``shuffle_do``.

    python benchmarks/bench_plain_mesa.py                 # 10^4 and 10^5 households
    python benchmarks/bench_plain_mesa.py --quick --out /tmp/p.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import mesa
import numpy as np

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent / "scenarios" / "demo.toml"
SAME_RULE = ["behaviour.enabled=false", "levers.warning_coverage=0",
             "placement.cascade=['shelter']",
             "placement.soft_cap_start=1.0", "impact.method='depth_threshold'",
             "return.repair_time_spread=0.0", "capacity.activation_ramp=[1.0]"]


class Household(mesa.Agent):
    """One household as one Python object (the style the vectorised model avoids)."""

    def __init__(self, model, cell: int, region: int, size: int, damage_curve) -> None:
        super().__init__(model)
        self.cell, self.region, self.size = cell, region, size
        self.curve = damage_curve
        self.displaced, self.sheltered, self.damage, self.due = False, False, 0.0, -1

    def step(self) -> None:
        m = self.model
        depth = float(m.depth[self.cell])
        if not self.displaced and depth >= 1.0:
            self.displaced, self.damage, self.due = True, self.curve(depth), -1
            if m.free[self.region] >= self.size:
                m.free[self.region] -= self.size
                self.sheltered = True
        elif self.displaced:
            if depth >= 0.05:
                self.damage, self.due = max(self.damage, self.curve(depth)), -1
            elif self.due < 0:
                self.due = m.t + int(np.ceil(self.damage * 365.0))
            elif m.t >= self.due:
                if self.sheltered:
                    m.free[self.region] += self.size
                self.displaced = self.sheltered = False


class PlainModel(mesa.Model):
    """The same rule, one agent per household."""

    def __init__(self, reference, seed: int = 1) -> None:
        super().__init__(rng=seed)
        hh, curve = reference.households, reference.ctx.curves[0]
        self.hazard = reference.inputs.hazard  # per site; .at(t) gives every cell
        self.free = reference.world.capacity[:, 1].astype(int).copy()  # shelter places
        def damage(d, c=curve):
            return float(np.interp(d, c[0], c[1], left=0.0))
        for i in range(len(hh)):
            Household(self, int(hh.cell[i]), int(hh.region[i]), int(hh.size[i]), damage)
        self.t = 0

    def step(self) -> None:
        self.depth = self.hazard.at(self.t)
        self.agents.shuffle_do("step")
        self.t += 1

    def displaced_persons(self) -> int:
        return sum(a.size for a in self.agents if a.displaced)


def compare(households: int, n_steps: int) -> dict:
    from simulator import DisplacementModel, load_scenario

    cfg = load_scenario(SCENARIO, [f"population.households={households}", f"n_steps={n_steps}",
                                   "population.building_class_shares={jrc_asia=1.0}",
                                   *SAME_RULE])
    ours = DisplacementModel(cfg)
    t0 = time.perf_counter()
    ds = ours.run()
    t_ours = time.perf_counter() - t0
    plain = PlainModel(DisplacementModel(cfg, inputs=ours.inputs))
    t0 = time.perf_counter()
    peak_plain = 0
    for _ in range(n_steps):
        plain.step()
        peak_plain = max(peak_plain, plain.displaced_persons())
    t_plain = time.perf_counter() - t0
    peak_ours = int(ds["persons"].sel(state="displaced").sum("region").max())
    return {"households": len(ours.households), "n_steps": n_steps, "vectorised_s": t_ours,
            "plain_mesa_s": t_plain, "speed_ratio": t_plain / t_ours,
            "peak_displaced_vectorised": peak_ours, "peak_displaced_plain": peak_plain}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5])
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.steps = [1000], 60
    rows = [compare(int(n), args.steps) for n in args.sizes]
    for r in rows:
        print(f"{r['households']:>8,} households x {r['n_steps']} steps: vectorised "
              f"{r['vectorised_s']:.2f} s, plain Mesa {r['plain_mesa_s']:.1f} s -> "
              f"{r['speed_ratio']:.0f}x; peak displaced {r['peak_displaced_vectorised']:,} vs "
              f"{r['peak_displaced_plain']:,}")
    out = args.out or HERE / "results" / f"{dt.date.today().isoformat()}-plain-mesa.json"
    out.write_text(json.dumps({"date": dt.date.today().isoformat(), "results": rows}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

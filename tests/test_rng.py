"""Counter-based random streams: independence from who else draws, uniformity, no correlation."""

import numpy as np
from scipy import stats

from simulator.rng import Streams, replicate_seeds


def test_draw_depends_only_on_its_keys():
    s = Streams(123)
    ids = np.arange(50_000)
    full = s.uniform("displace", 5, ids)
    subset = np.array([49_999, 3, 17, 17, 20_000])
    assert np.array_equal(s.uniform("displace", 5, subset), full[subset])
    assert np.array_equal(Streams(123).uniform("displace", 5, ids), full)


def test_streams_steps_and_seeds_differ():
    ids = np.arange(20_000)
    s = Streams(1)
    a = s.uniform("displace", 0, ids)
    for other in (s.uniform("placement", 0, ids), s.uniform("displace", 1, ids),
                  Streams(2).uniform("displace", 0, ids)):
        assert abs(np.corrcoef(a, other)[0, 1]) < 0.03
        assert not np.array_equal(a, other)


def test_uniform_distribution_and_no_serial_correlation():
    u = Streams(99).uniform("return", 7, np.arange(200_000))
    assert ((u >= 0) & (u < 1)).all()
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


def test_replicate_seeds_start_with_scenario_seed_and_are_distinct():
    seeds = replicate_seeds(42, 5)
    assert seeds[0] == 42 and len(set(seeds)) == 5
    assert seeds == replicate_seeds(42, 5)


def test_each_random_stream_serves_one_decision():
    """A stream shared by two decisions couples them: changing one shifts the other's draws.

    Each named stream is drawn in one module only (``relocate`` once served both proactive
    relocation and settling after repeated shocks).
    """
    import ast
    from pathlib import Path

    from simulator.rng import STREAMS

    root = Path(__file__).resolve().parents[1] / "simulator"
    used: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("uniform", "generator") and node.args
                    and isinstance(node.args[0], ast.Constant)):
                used.setdefault(node.args[0].value, set()).add(str(path.relative_to(root)))
    assert set(used) == set(STREAMS)  # every stream is drawn, and only named streams
    shared = {name: sorted(mods) for name, mods in used.items() if len(mods) > 1}
    assert not shared, shared

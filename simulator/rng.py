"""Named, counter-based random streams derived from one seed (DESIGN.md §7).

A draw is ``u = f(seed, stream, step, household_id)``: a pure function of its four keys, computed
vectorised by chaining SplitMix64's 64-bit finaliser (Steele, Lea & Flood 2014, "Fast splittable
pseudorandom number generators", OOPSLA) over the keys in ``uint64`` arithmetic and keeping the top
53 bits as a float in [0, 1). A household's draw therefore never depends on which other households
drew, in what order, or how many there are. Two scenarios that differ in one lever then differ
only where that lever acts (common random numbers), and results are identical whatever the number
of worker processes.
"""

from __future__ import annotations

import hashlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / (1 << 53)

#: The named decisions that draw random numbers. Adding a stream never changes existing ones.
STREAMS = ("synthesis", "displace", "placement", "admission", "destination", "return",
           "evacuate", "decide", "forecast", "warn", "shelter_seeking", "relocate", "composition",
           "flood_position", "settle", "dwelling", "evict", "tenure", "pathway", "crossing",
           "futures", "background", "background_destination", "births", "births_sex", "deaths",
           "deaths_disability", "walk_move", "walk_route", "walk_admit", "walk_day0", "spawn",
           "spawn_accept", "spawn_tail")


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic, in place safe)."""
    z = (z + _GOLDEN) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def stream_key(name: str) -> np.uint64:
    """Return a stable 64-bit key for a stream name (BLAKE2b; independent of STREAMS order)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


class Streams:
    """Counter-based uniform draws for one seed (one replicate).

    Args:
        seed: the run's seed (non-negative integer).
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        state = np.random.SeedSequence(self.seed).generate_state(1, dtype=np.uint64)
        self._root = _mix(np.asarray(state, dtype=np.uint64))[0]
        self._keys = {name: stream_key(name) for name in STREAMS}

    def uniform(self, stream: str, step: int | np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Uniform draws in [0, 1) for ``ids`` (household ids) at ``step`` in the named ``stream``.

        Args:
            stream: one of :data:`STREAMS`.
            step: model step (0-based), or one step per id; use distinct pseudo-steps for
                setup draws.
            ids: integer household ids (any shape).

        Returns:
            float64 array shaped like ``ids``.
        """
        key = self._keys[stream]
        with np.errstate(over="ignore"):
            head = _mix(np.array([self._root ^ key], dtype=np.uint64))
            if np.ndim(step) == 0:
                head = _mix(head ^ np.uint64(int(step) & 0xFFFFFFFFFFFFFFFF))[0]
            else:
                head = _mix(head[0] ^ np.asarray(step).astype(np.int64).astype(np.uint64))
            z = _mix(np.asarray(ids).astype(np.uint64) ^ head)
        return (z >> np.uint64(11)).astype(np.float64) * _TO_UNIT

    def generator(self, stream: str) -> np.random.Generator:
        """A stateful numpy Generator for one-off setup work (e.g. synthesis), keyed by name."""
        entropy = [self.seed, int(self._keys[stream])]
        return np.random.default_rng(np.random.SeedSequence(entropy))


def replicate_seeds(seed: int, n: int) -> list[int]:
    """Seeds for ``n`` replicates derived from one scenario seed (``SeedSequence.spawn``).

    Replicate 0 uses the scenario seed itself, so a one-replicate run equals a plain run.
    """
    children = np.random.SeedSequence(seed).spawn(max(n - 1, 0))
    derived = [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]
    return [int(seed), *derived]

"""Flee's simsetting.yml, read as Flee reads it, with Flee's defaults.

Flee keeps its settings in flee/SimulationSettings.py (ReadFromYML): sections ``spawn_rules``
(with a ``conflict_driven_spawning`` or ``flood_driven_spawning`` block), ``move_rules`` (with
``flood_rules``), ``log_levels`` and ``optimisations``. Without the file Flee's defaults apply.
Unlike Flee, values are type-checked: a bad one is an :class:`InputError` naming the line and key.

Only the settings the conversion applies (:mod:`simulator.interop.flee.convert`), and two
switches whose combinations Flee refuses, become typed fields of :class:`FleeSettings`. Every
other setting Flee reads is type-checked and kept with its value in ``not_applied``, so the import
can say what it read but did not apply; docs/flee.md says why each is left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import InputError

SPAWN_MODES = ("constant", "pop_ratio", "poisson")


def _setting(section: str, default: Any, kind: type | None = None, key: str | None = None,
             applied: bool = True) -> Any:
    return field(default=default, metadata={"section": section, "kind": kind or type(default),
                                            "key": key, "applied": applied})


@dataclass(frozen=True)
class FleeSettings:
    """The settings of simsetting.yml that the conversion uses, with Flee's defaults.

    Field names are the YAML keys of spawn_rules, its conflict_driven_spawning or
    flood_driven_spawning block (``*_spawn_mode`` stands for their ``spawn_mode``, or
    ``flood_spawn_mode`` in the newest Flee's flood_driven_spawn_mode block), move_rules and
    optimisations (flee/SimulationSettings.py, ReadFromYML). ``max_move_speed`` is in km per
    day; ``hasten`` is Flee's population scale-down factor.
    ``*_driven_spawning`` says whether that block is in the file and read; ``displaced_per_*_day``
    is None unless that spawning is on. ``take_from_population`` and
    ``conflict_zone_spawning_only`` are only checked (Flee refuses some combinations), not
    applied. ``not_applied`` holds (key, value) in file order for every setting in the file that
    Flee reads and the conversion does not apply (those two included, and ``log_levels``);
    ``unused_keys`` lists the keys that Flee ignores too; ``notes`` says what was tolerated or
    assumed (no file, a flag where a block belongs, a whole number written with decimals).
    """

    insert_day0: bool = _setting("spawn_rules", True)
    empty_camps_on_day0: bool = _setting("spawn_rules", False)
    sum_from_camps: bool = _setting("spawn_rules", True)
    flood_zone_spawning_only: bool = _setting("spawn_rules", False)
    take_from_population: bool = _setting("spawn_rules", False, applied=False)
    conflict_zone_spawning_only: bool = _setting("spawn_rules", True, applied=False)
    conflict_driven_spawning: bool = False  #: spawn_rules.conflict_driven_spawning is a mapping
    conflict_spawn_mode: str = _setting("spawn_rules.conflict_driven_spawning", "constant",
                                        key="spawn_mode")
    displaced_per_conflict_day: float | None = _setting("spawn_rules.conflict_driven_spawning",
                                                        None, float)
    flood_driven_spawning: bool = False  #: spawn_rules.flood_driven_spawning is a mapping
    flood_spawn_mode: str = _setting("spawn_rules.flood_driven_spawning", "pop_ratio",
                                     key="spawn_mode")
    displaced_per_flood_day: tuple[float, ...] | None = _setting(
        "spawn_rules.flood_driven_spawning", None, tuple)
    max_move_speed: float = _setting("move_rules", 360.0)
    capacity_buffer: float = _setting("move_rules", 0.9)
    capacity_scaling: float = _setting("move_rules", 1.0)  #: fullness judged at capacity x it
    flood_movechances: tuple[float, ...] = _setting("move_rules.flood_rules", (), tuple)
    flood_loc_weights: tuple[float, ...] = _setting("move_rules.flood_rules", (), tuple)
    distance_power: float = _setting("move_rules", 1.0)
    use_v1_rules: bool = _setting("move_rules", False)  #: sets max_move_speed to 200
    hasten: int = _setting("optimisations", 1)  #: Flee divides populations and counts by it
    # Flee's walk: applied as [placement.routes] (placement.movement = "routes")
    conflict_spawn_decay: tuple[float, ...] = _setting("spawn_rules", (), tuple)
    conflict_spawn_decay_interval: int = _setting("spawn_rules", 30)
    max_walk_speed: float = _setting("move_rules", 35.0)
    foreign_weight: float = _setting("move_rules", 1.0)
    camp_weight: float = _setting("move_rules", 1.0)
    conflict_weight: float = _setting("move_rules", 10 ** -0.5)
    conflict_movechance: float = _setting("move_rules", 1.0)
    camp_movechance: float = _setting("move_rules", 0.001)
    idpcamp_movechance: float = _setting("move_rules", 0.1)
    default_movechance: float = _setting("move_rules", 0.3)
    softening: float = _setting("move_rules", 10.0)
    weight_softening: float = _setting("move_rules", 0.0)
    weight_power: float = _setting("move_rules", 1.0)
    movechance_pop_base: float = _setting("move_rules", 10000.0)
    movechance_pop_scale_factor: float = _setting("move_rules", 0.0)
    avoid_short_stints: bool = _setting("move_rules", False)
    start_on_foot: bool = _setting("move_rules", False)
    awareness_level: int = _setting("move_rules", 1)
    not_applied: tuple[tuple[str, Any], ...] = ()
    unused_keys: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  #: what was tolerated or assumed, one line each


# The other settings Flee reads (with its defaults, for docs/flee-format.md), by type. They shape
# Flee's walk over the route graph, its logging and its speed-ups, none of which the conversion
# reproduces (docs/flee.md); they are type-checked and reported, not applied.
_NOT_APPLIED: dict[str, type] = {
    **{f"move_rules.{key}": float for key in (
        "max_crossing_speed",  # 20 km/day
        "home_distance_power", "pop_power_for_loc_weight")},  # 0.5, 0.1
    **{f"move_rules.{key}": bool for key in (  # all false
        "stay_close_to_home", "use_pop_for_loc_weight")},
    "move_rules.flood_rules.max_flood_level": int,  # -1
    "move_rules.flood_rules.flood_link_weights": tuple,  # none
    "move_rules.flood_rules.flood_forecaster": bool,  # false
    "move_rules.flood_rules.flood_forecaster_timescale": int,  # 0
    "move_rules.flood_rules.flood_forecaster_end_time": int,  # 0
    "move_rules.flood_rules.flood_forecaster_weights": tuple,  # none
    "move_rules.flood_rules.flood_awareness_weights": tuple,  # none
    "log_levels.idp_totals": int,  # 0; any other log_levels key is read untyped
}

# The newest Flee names the flood spawning block flood_driven_spawn_mode (its mode key
# flood_spawn_mode); its docs and FabFlee's dflee_test use flood_driven_spawning. Both are read.
# FabFlee's DFlee cases also write ``flood_driven_spawning: True`` as an on/off flag beside it.
_BLOCK_ALIASES = {"spawn_rules.flood_driven_spawning": "spawn_rules.flood_driven_spawn_mode"}
_FLAGS = ("spawn_rules.flood_driven_spawning",)  #: blocks FabFlee also writes as true/false
_SECTIONS = ("log_levels", "spawn_rules", "move_rules", "optimisations", "move_rules.flood_rules",
             "spawn_rules.conflict_driven_spawning", "spawn_rules.flood_driven_spawning",
             "spawn_rules.flood_driven_spawn_mode")
# Flee's default displaced per day when the file gives none: (kind, pop_ratio mode) -> rate.
_SPAWN_RATES = {("conflict", True): 0.01, ("conflict", False): 500.0,
                ("flood", True): (0.0, 0.1, 0.2, 0.5, 0.9),
                ("flood", False): (0.0, 100.0, 200.0, 300.0, 500.0)}
_EXPECTED = {bool: "true or false", int: "a whole number", float: "a number", str: "text",
             tuple: "a list of numbers"}


def _load_yaml(path: Path) -> tuple[dict[str, Any], set[str], dict[str, int]]:
    """The YAML as {dotted key: non-mapping value}, the dotted mapping keys, and each key's line."""
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise InputError(path, f"{where}malformed YAML: {getattr(exc, 'problem', exc)}") from None
    if data is not None and not isinstance(data, dict):
        raise InputError(path, "expected sections such as spawn_rules: and move_rules:")
    lines: dict[str, int] = {}

    def walk_lines(node: yaml.MappingNode, prefix: str) -> None:
        for key, value in node.value:
            lines[prefix + str(key.value)] = key.start_mark.line + 1
            if isinstance(value, yaml.MappingNode):
                walk_lines(value, f"{prefix}{key.value}.")

    flat: dict[str, Any] = {}
    mappings: set[str] = set()

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                mappings.add(prefix + str(key))
                walk(value, f"{prefix}{key}.")
            else:
                flat[prefix + str(key)] = value

    if data:
        walk_lines(root, "")
        walk(data, "")
    return flat, mappings, lines


def _typed(value: Any, kind: type) -> Any:
    """``value`` as ``kind``, or ValueError; YAML booleans are never numbers here.

    A whole-number setting written with decimals becomes ``int(value)``, as Flee reads it.
    """
    if kind is int and isinstance(value, float) and math.isfinite(value):
        return int(value)
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is tuple and isinstance(value, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return tuple(float(v) for v in value)
    if kind in (bool, int, str) and type(value) is kind:
        return value
    raise ValueError(value)


def read_settings(path: Path) -> FleeSettings:
    """Read simsetting.yml like Flee's ReadFromYML; without the file, Flee's defaults.

    What Flee tolerates is read as Flee reads it and reported in ``notes``: no file (Flee's
    defaults), ``flood_driven_spawning: True`` written as an on/off flag, a whole number written
    with decimals (``int()``, as in Flee).

    Raises:
        InputError: for malformed YAML, a value of the wrong type, an unknown spawn mode, or
            spawning settings Flee refuses.
    """
    if not path.is_file():
        return FleeSettings(notes=(f"{path.name} not found: Flee's defaults used",))
    flat, mappings, lines = _load_yaml(path)
    notes: list[str] = []
    for section in _SECTIONS:
        if section in _FLAGS and isinstance(flat.get(section), bool):
            notes.append(f"{path.name} line {lines[section]}: {section}: {flat[section]} read "
                         "as an on/off flag; flood-driven spawning follows "
                         "flood_zone_spawning_only and the flood_driven_spawn_mode block, as "
                         "in Flee")
        elif flat.get(section) is not None:
            raise InputError(path, f"line {lines[section]}: {section}: expected a mapping of "
                                   f"settings, got {flat[section]!r}")

    def block(section: str) -> str:
        alias = _BLOCK_ALIASES.get(section, section)
        return alias if section not in mappings and alias in mappings else section

    def typed(key: str, kind: type) -> Any:
        try:
            value = _typed(flat[key], kind)
        except ValueError:
            raise InputError(path, f"line {lines[key]}: {key}: expected {_EXPECTED[kind]}, got "
                                   f"{flat[key]!r}") from None
        if kind is int and value != flat[key]:
            notes.append(f"{path.name} line {lines[key]}: {key}: {flat[key]!r} read as "
                         f"{value} (Flee reads it with int())")
        return value

    used = {k for k in flat if k.startswith("log_levels.") or k in _SECTIONS}
    reported = {k for k in flat if k.startswith("log_levels.")}

    def read(names: Sequence[str]) -> dict[str, Any]:
        values = {}
        for f in fields(FleeSettings):
            key = f"{block(f.metadata.get('section', ''))}.{f.metadata.get('key') or f.name}"
            if f.name in names and key in flat:
                used.add(key)
                values[f.name] = typed(key, f.metadata["kind"])
                if not f.metadata["applied"]:
                    reported.add(key)
        return values

    plain = [f.name for f in fields(FleeSettings)
             if f.metadata.get("section") in ("spawn_rules", "move_rules", "optimisations",
                                              "move_rules.flood_rules")]
    settings = replace(FleeSettings(), **read(plain))
    if settings.hasten < 1:
        key = "optimisations.hasten"
        raise InputError(path, f"line {lines[key]}: {key}: expected a whole number >= 1 (Flee "
                               f"divides populations by it), got {flat[key]!r}")
    for key in [k for k in flat if k in _NOT_APPLIED]:
        typed(key, _NOT_APPLIED[key])
        used.add(key)
        reported.add(key)
    if settings.conflict_zone_spawning_only and settings.flood_zone_spawning_only:
        key = "spawn_rules.flood_zone_spawning_only"
        raise InputError(path, f"line {lines[key]}: {key}: Flee spawns from conflict zones only "
                               "or flood zones only; set conflict_zone_spawning_only: false too")
    kind = "flood" if settings.flood_zone_spawning_only else "conflict"
    section = block(f"spawn_rules.{kind}_driven_spawning")
    flag = flat.get(section) is True and kind == "flood"  # on, by flag alone: Flee's defaults
    if section in mappings or flag:
        values = read([f"{kind}_spawn_mode", f"displaced_per_{kind}_day"])
        key = f"{section}.spawn_mode"
        if section != f"spawn_rules.{kind}_driven_spawning" and f"{section}.flood_spawn_mode" \
                in flat:  # the newest Flee's mode key in its flood_driven_spawn_mode block
            key = f"{section}.flood_spawn_mode"
            used.add(key)
            values[f"{kind}_spawn_mode"] = typed(key, str)
        mode = values.get(f"{kind}_spawn_mode", getattr(settings, f"{kind}_spawn_mode"))
        mode = "poisson" if mode.lower() == "poisson" else mode
        if mode not in SPAWN_MODES:
            raise InputError(path, f"line {lines[key]}: {key}: expected one of "
                                   f"{', '.join(SPAWN_MODES)}, got {mode!r}")
        if kind == "flood" and not settings.take_from_population:
            raise InputError(path, f"line {lines[section]}: {section}: flood-driven spawning "
                                   "needs spawn_rules.take_from_population: true (Flee refuses "
                                   "otherwise)")
        settings = replace(settings, **{
            f"{kind}_driven_spawning": True, f"{kind}_spawn_mode": mode,
            f"displaced_per_{kind}_day": values.get(f"displaced_per_{kind}_day",
                                                    _SPAWN_RATES[kind, mode == "pop_ratio"])})
    if settings.use_v1_rules:  # Flee's ruleset 1 sets these whatever the file says
        settings = replace(settings, max_move_speed=200.0, start_on_foot=False,
                           avoid_short_stints=False, camp_weight=2.0, conflict_weight=0.25)
    return replace(settings, not_applied=tuple((k, v) for k, v in flat.items() if k in reported),
                   unused_keys=tuple(sorted(k for k in flat if k not in used)), notes=tuple(notes))

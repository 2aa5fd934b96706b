"""Load scenario files: TOML with ``extends``, ``--set`` overrides, strict validation, dump back.

Paths inside a file are relative to that file. A variant names its base with
``extends = "base.toml"`` and overrides any field; tables merge key by key, other values replace;
``unset = ["dotted.path", ...]`` removes inherited fields or tables first. Every error names the
file that set the offending value and its dotted field path.

Dotted paths (``--set``, sweep parameters, ``unset``) split at dots; a part in double or single
quotes is one key, dots and spaces included: ``capacity.regions."St. Mary".shelter``.
"""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ValidationError

from simulator.errors import InputError
from simulator.inputs.schema import Scenario

#: Fields holding file paths, resolved relative to the file that sets them.
PATH_FIELDS = (("hazard", "file"), ("hazard", "fraction_file"), ("stress", "file"),
               ("population", "file"), ("population", "table", "file"), ("regions", "file"),
               ("regions", "names"), ("regions", "polygons"), ("regions", "routes"),
               ("impact", "prescribed_file"), ("observations", "file"), ("information", "file"),
               ("defences", "file"), ("capacity", "sites_file"),
               ("people", "income_growth_file"), ("people", "population_growth_file"))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(path, "scenario file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"malformed TOML: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(path, "not a TOML text file (a scenario is TOML; data files such as "
                               "NetCDF are named inside it)") from None
    except OSError as exc:
        raise InputError(path, f"cannot read scenario file: {exc.strerror}") from None


def _leaf_sources(data: dict[str, Any], source: str, prefix: tuple = ()) -> dict[tuple, str]:
    out: dict[tuple, str] = {}
    for key, value in data.items():
        out[prefix + (key,)] = source
        if isinstance(value, dict):
            out.update(_leaf_sources(value, source, prefix + (key,)))
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve_paths(data: dict[str, Any], folder: Path) -> None:
    for *sections, key in PATH_FIELDS:
        table = data
        for section in sections:
            table = table.get(section) if isinstance(table, dict) else None
        if isinstance(table, dict) and isinstance(table.get(key), str):
            table[key] = str((folder / table[key]).resolve())
        elif isinstance(table, dict) and isinstance(table.get(key), list):  # hazard.file list
            table[key] = [str((folder / v).resolve()) if isinstance(v, str) else v
                          for v in table[key]]


def _scan_path(text: str, where: str | Path, stop: str = "") -> tuple[tuple[str, ...], int]:
    """Keys of the dotted path at the start of ``text``, and where it ends (at ``stop`` or -1).

    A quote opens a quoted key only at the start of a part, so an apostrophe inside a name
    (``Cox's Bazar``) is an ordinary character.
    """
    keys: list[str] = []
    part: list[str] = []
    quote, quoted = "", None  # the open quote character; the text of a closed quoted part
    end = -1
    for i, ch in enumerate(text + "."):
        if quote:
            if ch == quote:
                quote, quoted = "", "".join(part)
            else:
                part.append(ch)
            continue
        if stop and ch == stop:
            end = i
        if ch == "." or i == end:
            key = quoted if quoted is not None else "".join(part).strip()
            if not key:
                raise InputError(where, f"{text}: empty key in dotted path (quote names with "
                                        'dots: a."St. Mary".b)')
            keys.append(key)
            part, quoted = [], None
            if i == end:
                return tuple(keys), end
        elif ch in "\"'" and quoted is None and not "".join(part).strip():
            quote, part = ch, []
        elif quoted is not None and not ch.isspace():
            raise InputError(where, f"{text}: a quoted key must be a whole part of the dotted "
                                    'path (e.g. levers.regions."St. Mary".x)')
        elif quoted is None:
            part.append(ch)
    if quote:
        raise InputError(where, f"{text}: unclosed quote {quote}")
    return tuple(keys), -1


def split_path(path: str, where: str | Path = "--set") -> tuple[str, ...]:
    """Split a dotted field path into keys; a quoted part (``"St. Mary"``) is one key.

    Unquoted parts are stripped of surrounding spaces (``capacity.regions.Delta West.shelter``
    still works); quoted parts (in double or single quotes) are taken as written, dots and
    spaces included.

    Raises:
        InputError: for an unclosed quote, text after a quoted part or an empty part.
    """
    return _scan_path(path, where)[0]


def _unset(data: dict[str, Any], paths: Any, path: Path, parent: str) -> None:
    """Remove the inherited fields named in ``unset`` (dotted paths) from the base ``data``."""
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise InputError(path, "unset: expected a list of dotted paths (strings)")
    for text in paths:
        keys = split_path(text, path)
        table = data
        for key in keys[:-1]:
            table = table.get(key) if isinstance(table, dict) else None
        if not isinstance(table, dict) or keys[-1] not in table:
            raise InputError(path, f"unset: {text}: not set by {parent} (or its bases)")
        del table[keys[-1]]


def _load_chain(path: Path, seen: tuple[Path, ...]) -> tuple[dict[str, Any], dict[tuple, str]]:
    path = path.resolve()
    if path in seen:
        cycle = " -> ".join(p.name for p in seen + (path,))
        raise InputError(seen[-1], f"extends: cycle of scenario files ({cycle})")
    data = _read_toml(path)
    _resolve_paths(data, path.parent)
    parent = data.pop("extends", None)
    unset = data.pop("unset", None)
    sources = _leaf_sources(data, str(path))
    if parent is None:
        if unset is not None:
            raise InputError(path, "unset: only in a file that extends another")
        return data, sources
    if not isinstance(parent, str):
        raise InputError(path, "extends: expected a file name (string)")
    base, base_sources = _load_chain(path.parent / parent, seen + (path,))
    if unset is not None:
        _unset(base, unset, path, parent)
    return _merge(base, data), {**base_sources, **sources}


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """Parse ``dotted.key=value`` from ``--set``; the value is read as TOML, else as a string.

    The key is split by :func:`split_path` (quote a region name holding dots or spaces); the
    first ``=`` outside quotes ends it.
    """
    if not text.partition("=")[0].strip():
        raise InputError("--set", f"expected dotted.key=value, got {text!r}")
    keys, cut = _scan_path(text, "--set", stop="=")
    if cut < 0:
        raise InputError("--set", f"expected dotted.key=value, got {text!r}")
    raw = text[cut + 1:]
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return keys, value


def _apply_override(data: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    """Set ``value`` at ``keys``; a number picks an item of an array of tables (``borders.0``)."""
    table: Any = data
    for k in keys[:-1]:
        table = _item(table, k, keys) if isinstance(table, list) else table.setdefault(k, {})
        if not isinstance(table, (dict, list)):
            raise InputError("--set", f"{'.'.join(keys)}: {k} is not a table")
    if isinstance(table, list):
        table[_index(table, keys[-1], keys)] = value
    else:
        table[keys[-1]] = value


def _index(items: list, key: str, keys: tuple[str, ...]) -> int:
    if not (key.isdigit() and int(key) < len(items)):
        raise InputError("--set", f"{'.'.join(keys)}: {key!r} is not an item of a list of "
                                  f"{len(items)} (0 to {len(items) - 1})")
    return int(key)


def _item(items: list, key: str, keys: tuple[str, ...]) -> Any:
    return items[_index(items, key, keys)]


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """The keys allowed in the table at ``loc`` (for 'unknown key' hints), or None."""
    for part in loc:
        field = next((f for n, f in model.model_fields.items()
                      if part in (n, f.alias)), None)
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        elif args and isinstance(args[-1], type) and issubclass(args[-1], BaseModel):
            model = args[-1]  # dict[str, Model]: the next part is a free key
            loc = loc[1:]
        else:
            return None
    return sorted(f.alias or n for n, f in model.model_fields.items())


def _describe(error: dict[str, Any], sources: dict[tuple, str], top: str) -> InputError:
    loc = tuple(str(p) for p in error["loc"])
    path = ".".join(loc) or "(top level)"
    where = next((sources[loc[:i]] for i in range(len(loc), 0, -1) if loc[:i] in sources), top)
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(Scenario, tuple(error["loc"][:-1]))
        hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return InputError(where, f"{path}: unknown key{hint}")
    if error["type"] == "missing":
        return InputError(where, f"{path}: required field is missing")
    msg = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    tables = isinstance(got, list) and any(isinstance(g, dict) for g in got)
    shown = "" if isinstance(got, dict) or got is None or tables else f" (got {got!r})"
    return InputError(where, f"{path}: {msg}{shown}")


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read, merge (``extends``), override (``--set``) and validate a scenario file.

    Args:
        path: the scenario TOML file.
        overrides: ``dotted.key=value`` strings applied after merging.

    Returns:
        The validated, frozen :class:`~simulator.inputs.schema.Scenario`.

    Raises:
        InputError: naming the file and dotted field path of the first problem.
    """
    data, sources = _load_chain(Path(path), ())
    return _validate_with(data, sources, overrides, str(Path(path).resolve()))


def apply_overrides(scenario: Scenario, overrides: list[str] | tuple[str, ...]) -> Scenario:
    """``scenario`` with ``dotted.key=value`` overrides applied, validated again.

    The same overrides as :func:`load_scenario` takes, for a scenario already in memory (the
    dashboard applies its lever values this way without reading the files again).

    Raises:
        InputError: naming ``--set`` and the dotted field path of the first problem.
    """
    data = scenario.model_dump(mode="json", by_alias=True)
    return _validate_with(data, {}, overrides, "--set")


#: Old spellings still read, with a deprecation message: old path -> new path.
RENAMED = {("warning", "coverage"): ("levers", "warning_coverage")}


def _renamed(data: dict[str, Any], sources: dict[tuple, str], top: str) -> None:
    """Move fields given under an old spelling (:data:`RENAMED`) to their new place, warning."""
    for old, new in RENAMED.items():
        table = data.get(old[0])
        if not isinstance(table, dict) or old[1] not in table:
            continue
        where = sources.get(old, top)
        target = data.setdefault(new[0], {})
        if not isinstance(target, dict) or new[1] in target:
            raise InputError(where, f"{'.'.join(old)}: old spelling of {'.'.join(new)}, which "
                                    f"is also given; keep only {'.'.join(new)}")
        target[new[1]] = table.pop(old[1])
        sources[new] = where
        warnings.warn(f"{where}: {'.'.join(old)} is deprecated; write {'.'.join(new)} "
                      f"(same meaning; scenarios/README.md)", FutureWarning, stacklevel=4)


def _validate_with(data: dict[str, Any], sources: dict[tuple, str],
                   overrides: list[str] | tuple[str, ...], top: str) -> Scenario:
    for text in overrides:
        keys, value = parse_override(text)
        if tuple(keys) in PATH_FIELDS and isinstance(value, str):
            value = str(Path(value).resolve())
        _apply_override(data, keys, value)
        sources.update({keys[:i]: "--set" for i in range(1, len(keys) + 1)})
    _renamed(data, sources, top)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _describe(exc.errors()[0], sources, top) from None


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


def dump_toml(scenario: Scenario) -> str:
    """The fully resolved scenario as TOML (absolute paths, every default spelled out)."""
    data = scenario.model_dump(mode="json", by_alias=True)
    return tomli_w.dumps(_drop_none(data))


def scenario_from_toml(text: str) -> Scenario:
    """Validate a resolved scenario dumped by :func:`dump_toml` (e.g. a run's ``config.toml``)."""
    return Scenario.model_validate(tomllib.loads(text))

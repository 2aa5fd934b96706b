"""A Zarr store's metadata checked before the store is opened: no pickle, no Python objects.

A Zarr array names its codecs in its metadata, and the ``pickle`` codec (or an object dtype,
whose ``object_codec`` may be pickle) makes reading the array run whatever code the store's
author put in a chunk. Recent numcodecs (0.15.2, 0.16.6, 0.17.1 on) and zarr refuse to unpickle
by default, but older ones do not, and a hazard store is data from elsewhere: every metadata file
of the store (Zarr 2 ``.zarray`` and ``.zmetadata``, Zarr 3 ``zarr.json``) is read here as plain
JSON, and a store naming pickle or an object dtype anywhere is refused before zarr sees it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from simulator.errors import InputError

#: Metadata files that describe arrays and their codecs (attributes, ``.zattrs``, do not).
METADATA_FILES = (".zarray", ".zmetadata", "zarr.json")
#: Codec names that unpickle: Zarr 2 ``id`` and Zarr 3 ``name`` (numcodecs' zarr3 wrappers).
PICKLE_CODECS = frozenset({"pickle", "numcodecs.pickle"})


def _is_object_dtype(dtype: object) -> bool:
    """Whether a Zarr 2 ``dtype`` (a string, or a structured list of them) holds objects."""
    if isinstance(dtype, str):
        return dtype.lstrip("<>|=") in ("O", "object")
    if isinstance(dtype, list):
        return any(_is_object_dtype(part) for part in dtype)
    return False


def _nodes(meta: object, where: str = "") -> list[tuple[str, object]]:
    """Every JSON value in ``meta`` with its path, skipping user attributes (never decoded)."""
    found: list[tuple[str, object]] = [(where or ".", meta)]
    if isinstance(meta, dict):
        for key, value in meta.items():
            if key != "attributes" and not str(key).endswith(".zattrs"):
                found += _nodes(value, f"{where}.{key}" if where else str(key))
    elif isinstance(meta, list):
        for i, value in enumerate(meta):
            found += _nodes(value, f"{where}[{i}]")
    return found


def unsafe_field(meta: object) -> str | None:
    """The JSON path of the first pickle codec, else of the first object dtype, or ``None``.

    User attributes (``attributes`` in Zarr 3, ``.zattrs`` entries of consolidated Zarr 2
    metadata) are skipped: they are never decoded with a codec.
    """
    nodes = _nodes(meta)
    for path, value in nodes:
        codec = value.get("id", value.get("name")) if isinstance(value, dict) else None
        if isinstance(codec, str) and codec.lower() in PICKLE_CODECS:
            return f"{path} (codec {codec!r})"
    for path, value in nodes:
        if path.rsplit(".", 1)[-1] in ("dtype", "data_type") and _is_object_dtype(value):
            return f"{path} (object dtype {value!r})"
    return None


def _metadata_files(store: Path) -> list[Path]:
    """Every metadata file under ``store``, following links as zarr would (each folder once)."""
    found, seen = [], set()
    for folder, dirs, files in os.walk(store, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs.clear()  # a link back up the tree: walked already
            continue
        seen.add(real)
        found += [Path(folder) / name for name in files if name in METADATA_FILES]
    return sorted(found)


def check_zarr_store(store: Path, section: str) -> None:
    """Refuse a Zarr store whose metadata names a pickle codec or an object dtype.

    Args:
        store: the store's folder.
        section: the scenario section naming it (``hazard``), for the error's field.

    Raises:
        InputError: naming the store, ``<section>.file``, the metadata file and the field.
    """
    field = f"{section}.file"
    if not store.is_dir():
        raise InputError(store, f"{field}: a Zarr store is a folder (with .zgroup/.zarray or "
                                f"zarr.json files); this is a file")
    for path in _metadata_files(store):
        name = path.relative_to(store).as_posix()
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            raise InputError(store, f"{field}: cannot read as zarr ({name} is not JSON "
                                    f"metadata)") from None
        found = unsafe_field(meta)
        if found:
            raise InputError(store, f"{field}: {name}: {found} is refused: the pickle codec "
                                    f"and Python-object arrays can run code stored in the file "
                                    f"when read; write the store with numeric arrays (strings "
                                    f"fixed-width) and no pickle codec")

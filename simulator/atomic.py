"""Files and folders written atomically: into a hidden temporary sibling, then renamed.

A folder either holds a whole result or nothing, and nothing a user wrote is overwritten. Used by
run folders, reports, sweeps, risk tables and the Flee conversion alike, so it sits at the bottom
of the layers with :mod:`simulator.errors`.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from simulator.errors import InputError


def check_out_dir(out: Path) -> None:
    """Refuse an output folder that already holds anything (a run or a user's files)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        what = "a run" if (out / "results.nc").exists() else "files"
        raise InputError(out, f"--out: output folder already holds {what}; choose another "
                              f"folder or remove it first (nothing is ever overwritten)")
    ancestor = out.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(out, f"--out: {ancestor} is a file, so no folder can be made below it")
    try:  # a real probe (root passes os.access everywhere): make and remove an empty folder
        os.rmdir(tempfile.mkdtemp(prefix=".climdisp-probe-", dir=ancestor))
    except OSError as exc:
        raise InputError(out, f"--out: cannot write under {ancestor} ({exc.strerror})") from None

def write_folder(out: Path, files: dict[str, bytes | Callable[[Path], None]]) -> Path:
    """Write a folder atomically: into a hidden temporary sibling, then rename it into place.

    ``files`` maps each file name to its bytes, or to a function that writes that path. The
    folder must not hold anything yet (:func:`check_out_dir`); leftovers of an interrupted
    attempt at the same folder are removed first.
    """
    check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f".{out.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    tmp.mkdir()
    try:
        for name, content in files.items():
            if callable(content):
                content(tmp / name)
            else:
                (tmp / name).write_bytes(content)
        if out.exists():
            out.rmdir()  # empty, checked above
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out

def csv_text(rows: list[dict]) -> str:
    """Rows as CSV text; the columns are every key in order of first appearance."""
    buf = io.StringIO()
    keys = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_file(path: Path, write: Callable[[Path], None]) -> None:
    """Write one file atomically: ``write`` fills a hidden temporary sibling, then it is renamed."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)

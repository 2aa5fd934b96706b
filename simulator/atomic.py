"""Files and folders written atomically: into a hidden temporary sibling, then renamed.

A folder either holds a whole result or nothing, and nothing a user wrote is overwritten or
removed: the temporary sibling is named with this process's id and a random token, created
exclusively, and it is the only thing removed when writing fails. Used by run folders, reports,
sweeps, risk tables and the Flee conversion alike, so it sits at the bottom of the layers with
:mod:`simulator.errors`.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
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

def temporary_sibling(path: Path) -> Path:
    """A new name for a hidden temporary sibling of ``path``, unique to this process and call.

    ``.<name>.tmp-<pid>-<random token>``: the caller creates it exclusively (``mkdir`` or mode
    ``x``), so no one else's file or folder is ever reused, overwritten or removed.
    """
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(8)}")


def write_folder(out: Path, files: dict[str, bytes | Callable[[Path], None]]) -> Path:
    """Write a folder atomically: into a hidden temporary sibling, then rename it into place.

    ``files`` maps each file name to its bytes, or to a function that writes that path. The
    folder must not hold anything yet (:func:`check_out_dir`). The temporary sibling is this
    call's own (:func:`temporary_sibling`), removed if writing fails; nothing else is touched.
    """
    check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(out)
    tmp.mkdir()  # exclusive: fails rather than reuse a folder that is not ours
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
    tmp = temporary_sibling(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

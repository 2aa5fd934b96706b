"""Flee's CSV conventions, and cell parsing whose errors name the file, line and column.

Flee's readers (flee/InputGeography.py, flee/datamanager/DataTable.py) skip blank rows and rows
starting with '#', find columns by a header row when there is one and otherwise read them in a
fixed order. The readers of the case folder (:mod:`simulator.interop.flee.reader`) and of its
observed counts (:mod:`simulator.interop.flee.observed`) share these helpers, so a bad cell
anywhere is one :class:`InputError` of the same shape: ``<file>: line <n>: column '<c>':
expected <what>, got '<text>'``.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from simulator.errors import InputError


def required(path: Path, why: str) -> Path:
    """``path`` if it is a file.

    Raises:
        InputError: "file not found (<why>)".
    """
    if not path.is_file():
        raise InputError(path, f"file not found ({why})")
    return path


def rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, stripped cells) of every row that is not blank; a BOM is dropped."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        for row in reader:
            cells = [c.strip() for c in row]
            if any(cells):
                yield reader.line_num, cells


def _header_key(cell: str) -> str:
    return cell.lstrip("#").strip().strip('"').strip().lower()


def table(path: Path, columns: dict[str, tuple[str, ...]], optional: tuple[str, ...] = (),
          positional: tuple[str, ...] = (), notes: list[str] | None = None
          ) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line, {column: cell}) per data row; columns by header name, else in Flee's order.

    The first row is the header when it starts with '#' or names the first column; later rows
    starting with '#' are comments and blank rows are skipped, as in Flee.

    Args:
        path: the CSV file.
        columns: canonical column name -> header spellings accepted (lower case, without '#'
            and quotes), in Flee's column order.
        optional: columns that may be missing from the header (their cells read as "").
        positional: columns that Flee reads by position: when the header does not name them,
            the header cell at their place in Flee's order is read as them (if no other column
            claims it), and a note saying so is added to ``notes``.
        notes: where the notes go.

    Raises:
        InputError: for a header without a required column.
    """
    lines = rows(path)
    first = next(lines, None)
    if first is None:
        return
    line, cells = first
    names = list(columns)
    if cells[0].startswith("#") or _header_key(cells[0]) in columns[names[0]]:
        keys = [_header_key(c) for c in cells]
        index = {n: keys.index(k) for n in names for k in columns[n] if k in keys}
        for n in names:
            at = names.index(n)
            if n not in index and n in positional and at < len(cells) \
                    and at not in index.values():
                index[n] = at
                if notes is not None:
                    notes.append(f"{path.name} line {line}: column {keys[at]!r} read as '{n}' "
                                 "(Flee reads this column by position)")
            if n not in index and n not in optional:
                raise InputError(path, f"line {line}: missing column '{n}' (accepted names: "
                                       f"{', '.join(columns[n])})")
    else:
        index = {n: i for i, n in enumerate(names)}
        lines = itertools.chain([first], lines)
    for line, cells in lines:
        if not cells[0].startswith("#"):
            yield line, {n: cells[index[n]] if index.get(n, len(cells)) < len(cells) else ""
                         for n in names}


def bad(path: Path, line: int, column: str, expected: str, got: str) -> InputError:
    """The error for a cell: file, line, column, what was expected and what was found."""
    return InputError(path, f"line {line}: column '{column}': expected {expected}, got {got!r}")


def cell(path: Path, line: int, column: str, text: str, parse: Callable[[str], Any],
         expected: str) -> Any:
    """``parse(text)``, or the :func:`bad` error when it raises ValueError."""
    try:
        return parse(text)
    except ValueError:
        raise bad(path, line, column, expected, text) from None


def integer(low: int, high: int | None = None) -> Callable[[str], int]:
    """A parser of whole numbers from ``low`` to ``high`` (no upper bound when None)."""
    def parse(text: str) -> int:
        value = int(text)
        if value < low or (high is not None and value > high):
            raise ValueError(text)
        return value
    return parse


def nonnegative(text: str) -> float:
    """A finite number >= 0, or ValueError."""
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(text)
    return value


def parse_date(text: str) -> date:
    """A date written YYYY-MM-DD, or ValueError."""
    return datetime.strptime(text, "%Y-%m-%d").date()

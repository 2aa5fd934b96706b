"""Errors a user can act on.

Every problem with a user's input (scenario file, hazard grid, population, output folder) is an
:class:`InputError` whose message is one line naming the file, the field and what was expected.
The command line prints it and exits with code 2; it never shows a traceback for one.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: the message names where (file, field) and what was expected."""

    def __init__(self, where: str | Path | tuple[Path, ...], message: str) -> None:
        if isinstance(where, tuple):  # a list of files (hazard.file): named by its first
            where = where[0] if len(where) == 1 else f"{where[0]} (and {len(where) - 1} more)"
        self.where = str(where)
        self.message = message
        super().__init__(f"{where}: {message}")


class InvariantError(RuntimeError):
    """A model invariant (conservation, capacity) was violated: a bug, never bad input."""

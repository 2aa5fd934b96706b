"""Scoreboard: import and run every Flee case under a folder, one row per case and mode (issue 18).

    python benchmarks/flee_scoreboard.py /work/shared/data/fabflee
    python benchmarks/flee_scoreboard.py CASES --days 2 --out /tmp/board --force
    python benchmarks/flee_scoreboard.py CASES --mode direct=placement.movement=direct \\
        --mode routes=placement.movement=routes

A case is a folder holding ``input_csv/`` or ``locations.csv`` (what ``climdisp import-flee``
reads; the search does not go on inside a case). Each case is imported once with
``climdisp import-flee`` into a temporary folder, then run once per mode with ``climdisp run``,
every command in its own child process. A mode is a name and ``--set`` overrides
(``NAME=KEY=VALUE,KEY=VALUE``; ``NAME=`` for none); ``--set`` applies to every mode. Without
``--mode`` there is one mode, ``default``: the scenario as imported.

Columns: case (relative to FOLDER), mode, status (``ok``, ``import failed: <error>``,
``run failed: <error>``), import notes (the importer's ``note:`` lines), run warnings (the run's
``note:`` lines and Python warnings), ARD and rescaled ARD (the run's ``manifest.json``; empty
without observations), households, persons, days run, import and run wall time (the child
process, interpreter start included) and the run child's peak resident memory.

Peak memory is the run child's own ``ru_maxrss``, from ``os.wait4`` on that child alone (not
``RUSAGE_CHILDREN``, which is the largest child so far). Linux carries a parent's peak into the
child at ``exec``, so this script imports nothing heavy: its own peak (printed, tens of MB) is a
floor under every figure.

Writes ``benchmarks/results/<date>-flee-scoreboard.csv`` and ``.md`` (or ``--out PREFIX``),
atomically, never over an existing file unless ``--force``; prints the table. A failing case
never stops the others.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIMDISP = [sys.executable, "-m", "simulator"]  #: the climdisp command line (simulator/__main__)
COLUMNS = ("case", "mode", "status", "import_notes", "run_warnings", "ard", "ard_rescaled",
           "households", "persons", "days", "import_s", "run_s", "peak_rss_mb")
HEADERS = ("case", "mode", "status", "import notes", "run warnings", "ARD", "ARD rescaled",
           "households", "persons", "days", "import (s)", "run (s)", "peak RSS (MB)")
_SPLIT = re.compile(r",(?=\s*[A-Za-z_][\w.]*\s*=)")  #: commas that start another KEY=VALUE
_WARNING = re.compile(r"\b\w*Warning: ")  #: a Python warning line on stderr


@dataclass
class Child:
    """What one child process did."""

    code: int
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_mb: float
    timed_out: bool = False

    def error(self, hide: Path | None = None) -> str:
        """The error's one line: the ``error:`` line, else the last line of stderr."""
        if self.timed_out:
            return f"timed out after {self.wall_s:.0f} s"
        lines = [ln.strip() for ln in self.stderr.splitlines() if ln.strip()]
        marked = [ln for ln in lines if ln.startswith("error:")]
        line = (marked or lines or [f"exit code {self.code}"])[-1].removeprefix("error:").strip()
        return line.replace(f"{hide}{os.sep}", "").replace(str(hide), ".") if hide else line


def run_child(cmd: list[str], timeout_s: float | None = None) -> Child:
    """Run ``cmd``; its exit code, output, wall time and its own peak RSS (``os.wait4``)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        timer = threading.Timer(timeout_s, proc.kill) if timeout_s else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)  # this child's rusage alone
        wall = time.perf_counter() - t0
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
        out.seek(0), err.seek(0)
        timed_out = bool(timeout_s) and proc.returncode < 0 and wall >= timeout_s
        return Child(proc.returncode, out.read(), err.read(), wall, usage.ru_maxrss / 1024,
                     timed_out)


def find_cases(folder: Path) -> list[Path]:
    """Case folders under ``folder`` (itself included), sorted; a case's subfolders are not."""
    if (folder / "input_csv").is_dir() or (folder / "locations.csv").is_file():
        return [folder]
    found = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found += find_cases(sub)
    return found


def parse_mode(text: str) -> tuple[str, list[str]]:
    """``NAME=KEY=VALUE,KEY=VALUE`` -> (NAME, [KEY=VALUE, ...]); ``NAME=`` has no overrides."""
    name, sep, settings = text.partition("=")
    if not sep or not re.fullmatch(r"[\w.-]+", name):
        raise argparse.ArgumentTypeError(f"expected NAME=KEY=VALUE[,KEY=VALUE...], got {text!r}")
    sets = [s.strip() for s in _SPLIT.split(settings) if s.strip()]
    bad = [s for s in sets if "=" not in s]
    if bad:
        raise argparse.ArgumentTypeError(f"mode {name!r}: expected KEY=VALUE, got {bad[0]!r}")
    return name, sets


@dataclass
class Options:
    """How every case is run."""

    modes: list[tuple[str, list[str]]]
    sets: list[str] = field(default_factory=list)
    days: int | None = None
    timeout_s: float | None = None
    keep: Path | None = None  #: keep imports and runs here (else each goes once read)


def score_case(folder: Path, case: Path, work: Path, opts: Options) -> list[dict]:
    """Import ``case`` into ``work`` and run it in every mode: one row per mode."""
    base = {"case": case.relative_to(folder).as_posix() or ".", "import_notes": ""}
    scen = work / "scenario"
    imp = run_child([*CLIMDISP, "import-flee", str(case), "--out", str(scen)], opts.timeout_s)
    base["import_s"] = round(imp.wall_s, 1)
    if imp.code != 0:
        return [{**base, "mode": m, "status": f"import failed: {imp.error(hide=folder)}"}
                for m, _ in opts.modes]
    base["import_notes"] = sum(ln.lstrip().startswith("note:") for ln in imp.stdout.splitlines())
    with open(scen / "scenario.toml", "rb") as fh:
        steps = tomllib.load(fh)["n_steps"]
    days = min(steps, opts.days) if opts.days else steps
    rows = []
    for k, (mode, mode_sets) in enumerate(opts.modes):
        sets = [*([f"n_steps={days}"] if days != steps else []), *opts.sets, *mode_sets]
        out = work / f"run{k}"
        cmd = [*CLIMDISP, "run", str(scen / "scenario.toml"), "--out", str(out)]
        run = run_child(cmd + [a for s in sets for a in ("--set", s)], opts.timeout_s)
        row = {**base, "mode": mode, "days": days, "run_s": round(run.wall_s, 1),
               "peak_rss_mb": round(run.peak_rss_mb)}
        row["run_warnings"] = (
            sum(ln.startswith("note:") for ln in run.stdout.splitlines())
            + sum(bool(_WARNING.search(ln)) for ln in run.stderr.splitlines()))
        if run.code != 0:
            rows.append({**row, "status": f"run failed: {run.error(hide=work)}"})
            continue
        rows.append({**row, "status": "ok", **manifest_row(out)})
        if opts.keep is None:
            shutil.rmtree(out, ignore_errors=True)  # results.nc of a large case: hundreds of MB
    return rows


def manifest_row(run_dir: Path) -> dict:
    """ARD, rescaled ARD, households and persons from a run's ``manifest.json``."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    v = manifest.get("validation", {})
    return {"households": manifest["households"], "persons": manifest["persons"],
            "ard": f"{v['ard']:.4f}" if v else "",
            "ard_rescaled": f"{v['ard_rescaled']:.4f}" if v else ""}


def score_all(folder: Path, opts: Options, jobs: int = 1, progress=print) -> list[dict]:
    """Every case under ``folder``, ``jobs`` at a time; rows in case order, then mode order."""
    cases = find_cases(folder)
    root = opts.keep or Path(tempfile.mkdtemp(prefix="flee-scoreboard-"))
    done = []

    def one(i: int, case: Path) -> list[dict]:
        work = root / f"{i:03d}-{case.name}"
        work.mkdir(parents=True, exist_ok=True)
        try:
            rows = score_case(folder, case, work, opts)
        except Exception as exc:  # a bug here must not stop the other cases either
            rows = [{"case": case.relative_to(folder).as_posix() or ".", "mode": m,
                     "status": f"scoreboard failed: {type(exc).__name__}: {exc}"}
                    for m, _ in opts.modes]
        finally:
            if opts.keep is None:
                shutil.rmtree(work, ignore_errors=True)
        done.append(i)
        for r in rows:
            progress(f"[{len(done)}/{len(cases)}] {r['case']} {r['mode']}: {r['status']}"
                     f"{'' if r.get('ard') in (None, '') else ', ARD ' + r['ard']}"
                     f", run {r.get('run_s', '-')} s, {r.get('peak_rss_mb', '-')} MB")
        return rows

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            per_case = list(pool.map(one, range(len(cases)), cases))
    finally:
        if opts.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return [{c: r.get(c, "") for c in COLUMNS} for rows in per_case for r in rows]


def to_csv(rows: list[dict]) -> str:
    """The rows as CSV text, columns as :data:`COLUMNS`."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def to_markdown(rows: list[dict]) -> str:
    """The rows as a Markdown table (``|`` in a status escaped)."""
    def cell(v) -> str:
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(cell(r[c]) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_new(path: Path, text: str, force: bool) -> None:
    """Write ``path`` atomically; never over an existing file unless ``force``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as fh:
        fh.write(text)
    try:
        if force:
            os.replace(fh.name, path)
        else:
            os.link(fh.name, path)  # fails if path exists, even if it appeared meanwhile
    finally:
        if os.path.exists(fh.name):
            os.unlink(fh.name)


def own_peak_mb() -> float:
    """This process's peak RSS: its memory map's own (``VmHWM``), else ``ru_maxrss``.

    ``ru_maxrss`` also holds the peak of whatever process exec'd this one (e.g. pytest).
    """
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) / 1024
    except (OSError, AttributeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def commit() -> str:
    """The repository's commit (with ``+`` when the tree has changes), or ``unknown``."""
    git = ["git", "-C", str(HERE)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain"], capture_output=True,
                               text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="folder searched for Flee cases")
    ap.add_argument("--out", type=Path, help="output prefix: writes PREFIX.csv and PREFIX.md "
                    "(default benchmarks/results/<date>-flee-scoreboard)")
    ap.add_argument("--days", type=int, help="run at most N days of each case (quick check)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="override for every run (repeatable), as climdisp run --set")
    ap.add_argument("--mode", dest="modes", action="append", type=parse_mode, default=[],
                    metavar="NAME=SETTINGS", help="run every case in this mode too: NAME="
                    "KEY=VALUE[,KEY=VALUE...] (repeatable; default: one mode 'default')")
    ap.add_argument("--jobs", type=int, default=1, help="cases at a time (default 1)")
    ap.add_argument("--timeout", type=float, help="seconds before a child is killed")
    ap.add_argument("--keep", type=Path, help="keep imported scenarios and runs in this folder")
    ap.add_argument("--force", action="store_true", help="overwrite existing output files")
    args = ap.parse_args(argv)
    if not args.folder.is_dir():
        print(f"error: {args.folder}: not a folder", file=sys.stderr)
        return 2
    names = [m for m, _ in args.modes]
    if len(set(names)) != len(names):
        print(f"error: --mode: a mode name is used twice: {names}", file=sys.stderr)
        return 2
    if args.days is not None and args.days < 1:
        print(f"error: --days: expected an integer >= 1, got {args.days}", file=sys.stderr)
        return 2
    prefix = args.out or HERE / "results" / f"{dt.date.today().isoformat()}-flee-scoreboard"
    paths = [prefix.with_name(prefix.name + ext) for ext in (".csv", ".md")]
    existing = [str(p) for p in paths if p.exists()]
    if existing and not args.force:
        print(f"error: {', '.join(existing)} exist(s); use --force to overwrite",
              file=sys.stderr)
        return 2
    opts = Options(modes=args.modes or [("default", [])], sets=args.sets, days=args.days,
                   timeout_s=args.timeout, keep=args.keep)
    t0, load_before = time.perf_counter(), ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = score_all(args.folder.resolve(), opts, jobs=args.jobs,
                     progress=lambda text: print(text, file=sys.stderr, flush=True))
    if not rows:
        print(f"error: {args.folder}: no Flee case (a folder with input_csv/ or "
              f"locations.csv)", file=sys.stderr)
        return 2
    table = to_markdown(rows)
    footer = (f"\n{len(rows)} rows, {sum(r['status'] == 'ok' for r in rows)} ok; "
              f"{time.perf_counter() - t0:.0f} s in all; this script's own peak RSS "
              f"{own_peak_mb():.0f} MB (a floor under the peak RSS column). "
              f"{dt.date.today().isoformat()}, commit {commit()}, load average before "
              f"{load_before}: `{' '.join(['flee_scoreboard.py', *(argv or sys.argv[1:])])}`\n")
    write_new(paths[0], to_csv(rows), args.force)
    write_new(paths[1], table + footer, args.force)
    print(table + footer + f"wrote {paths[0]} and {paths[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

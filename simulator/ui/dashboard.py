"""Show the dashboard in Jupyter, or serve it in a browser for ``climdisp dashboard``.

In Jupyter::

    from simulator.ui.dashboard import dashboard
    dashboard("scenarios/demo.toml")          # the last expression of a cell shows the page

Who owns what: this module owns getting the page to people, in a notebook (:func:`dashboard`)
or from a solara server (:func:`serve`). The page itself is :mod:`simulator.ui.viz`'s; the model,
levers, figures and loading are :mod:`simulator.ui.dashboard_model`'s. Imports run one way:
dashboard -> viz -> dashboard_model; viz, solara and ``mesa.visualization`` are imported only
when needed, so the core package works without the ``viz`` extra.

Serving: :func:`serve` writes a tiny app module into a temporary folder, which calls
:func:`simulator.ui.viz.page` with the scenario path and overrides as literals, and runs
``solara run`` on that file in a child process. Solara's settings for serving offline go into
that child's environment only (solara reads them from its environment when it starts); this
process's environment is left as it was.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path

from simulator.errors import InputError
from simulator.ui.dashboard_model import load

#: Solara's settings for serving offline, set in the server's environment: telemetry off; and
#: as the server fetches any script that solara-assets lacks from a CDN, the CDN is this machine,
#: so nothing ever leaves it (a missing script fails instead, and tests see it). A
#: ``SOLARA_ASSETS_CDN`` already in the environment wins over the default.
OFFLINE = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
OFFLINE_DEFAULTS = {"SOLARA_ASSETS_CDN": "http://127.0.0.1:9/no-cdn-offline/"}

#: The served app module: a page of one scenario (arguments as Python literals).
APP = '''"""The page ``climdisp dashboard`` serves (generated; removed when the server stops)."""

from simulator.ui.viz import page

Page = page({scenario!r}, {overrides!r})
'''

#: Seconds the server has to stop after Ctrl-C or SIGTERM before it is killed.
STOP_TIMEOUT_S = 10.0


def require_viz() -> None:
    """Fail with a one-line :class:`InputError` unless the ``viz`` extra is installed.

    The packages are looked up, not imported: the server imports them in its own process.
    """
    try:
        found = all(importlib.util.find_spec(name) for name in ("solara", "mesa.visualization"))
        metadata.version("solara-assets")  # serves solara's scripts offline
    except (ImportError, ValueError, metadata.PackageNotFoundError):
        found = False
    if not found:
        raise InputError("dashboard", "the dashboard needs the viz extra: pip install '.[viz]'")


def dashboard(scenario_path: str | Path, overrides: list[str] | tuple[str, ...] = ()):
    """The dashboard page for ``scenario_path`` as a solara element (display it in Jupyter).

    Each call loads the scenario and its inputs; the page keeps them for all its re-runs.

    Args:
        scenario_path: a scenario TOML file.
        overrides: ``dotted.key=value`` strings, as ``--set`` takes them (e.g. a shorter run).
    """
    require_viz()
    from simulator.ui.viz import Dashboard

    scenario, inputs = load(scenario_path, overrides)
    return Dashboard(scenario=scenario, inputs=inputs)


def app_source(scenario_path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> str:
    """The app module ``solara run`` serves: the page of ``scenario_path`` with ``overrides``."""
    return APP.format(scenario=str(Path(scenario_path).resolve()),
                      overrides=tuple(str(o) for o in overrides))


def server_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The server's environment: ``environ`` (e.g. ``PYTHONPATH``) with :data:`OFFLINE` set."""
    return {**OFFLINE_DEFAULTS, **environ, **OFFLINE}


def serve(scenario_path: str | Path, overrides: list[str] | tuple[str, ...] = (),
          host: str = "127.0.0.1", port: int = 8765) -> int:
    """Serve the dashboard with solara until it is stopped, fully offline; return its exit code.

    The scenario and its inputs are loaded (and checked) before the server starts, and again
    once by the server. Solara's scripts come from the ``solara-assets`` package in this
    environment, and telemetry and the version check are off, so the page makes no request
    beyond ``host``. Ctrl-C or SIGTERM stops the server and removes the app module.

    Raises:
        InputError: without the ``viz`` extra, or for a bad scenario or input file.
    """
    require_viz()
    scenario, _ = load(scenario_path, overrides)
    with _sigterm_exits(), tempfile.TemporaryDirectory(prefix="climdisp-dashboard-") as folder:
        app = Path(folder) / "climdisp_dashboard_app.py"
        app.write_text(app_source(scenario_path, overrides), encoding="utf-8")
        print(f"Dashboard of scenario '{scenario.name}' at http://{host}:{port} (Ctrl-C stops "
              f"it)", flush=True)
        return _run_server([sys.executable, "-m", "solara", "run", str(app), "--host", host,
                            "--port", str(port), "--production", "--no-open",
                            "--no-check-version"], server_env())


def _run_server(command: list[str], env: dict[str, str]) -> int:
    """Run the server until it exits or is interrupted; never leave it running."""
    proc = subprocess.Popen(command, env=env)
    try:
        code = proc.wait()
        return code if code >= 0 else 128 - code  # killed by a signal: as a shell reports it
    except KeyboardInterrupt:  # Ctrl-C reached the server too (one process group): it stops
        _stop(proc, signal_first=False)
        return 0
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen, signal_first: bool = True) -> None:
    """Stop ``proc`` if it still runs: SIGTERM (unless it is stopping already), then SIGKILL."""
    if proc.poll() is not None:
        return
    if signal_first:
        proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def _sigterm_exits() -> Iterator[None]:
    """Inside, SIGTERM raises ``SystemExit``, so the server is stopped and its app removed.

    Python's default SIGTERM ends this process at once, which would leave the server running.
    Further SIGTERMs are ignored until the clean-up is done, then the previous handler is back.
    Signal handlers can only be set from the main thread; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: let the clean-up finish
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

"""The command line end to end: run, summary, validate; the documented entry points work."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import xarray as xr

from simulator.outputs.analysis import region_summary
from simulator.ui.cli import main


def test_run_writes_a_complete_run_folder_and_summary_reads_it(case, capsys):
    path = case()
    out = path.parent / "runs" / "one"
    assert main(["run", str(path), "--out", str(out), "--seed", "11"]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["config.toml", "manifest.json",
                                                     "results.nc"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["households"] > 0
    assert set(manifest["input_sha256"]) == {str(path.parent / f) for f in
                                             ("hazard.nc", "pop.nc", "regions.nc", "regions.csv")}
    ds = xr.open_dataset(out / "results.nc")
    for var in ("persons", "occupancy", "capacity", "flows", "unmet_shelter"):
        assert ds[var].attrs["units"] == "persons" and ds[var].attrs["long_name"]
    assert ds.attrs["seed"] == 11 and "[impact]" in ds.attrs["config_toml"]
    assert f"Results written to {out}/" in printed
    assert main(["summary", str(out)]) == 0
    table = capsys.readouterr().out
    peak = int(ds["persons"].sel(state="displaced").sum("region").max())
    assert f"{peak:,}" in table.splitlines()[-1]  # TOTAL row shows the dataset's peak


def test_rerun_from_saved_config_is_identical(case, capsys):
    path = case()
    first, second = path.parent / "a", path.parent / "b"
    assert main(["run", str(path), "--out", str(first), "--quiet"]) == 0
    assert main(["run", str(first / "config.toml"), "--out", str(second), "--quiet"]) == 0
    a, b = xr.load_dataset(first / "results.nc"), xr.load_dataset(second / "results.nc")
    assert a.identical(b)


def test_summary_peak_equals_dataset_maximum(case):
    path = case(depth=np.full((10, 4, 5), 2.0, dtype=np.float32))
    out = path.parent / "r"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    ds = xr.load_dataset(out / "results.nc")
    rows = {r["region"]: r for r in region_summary(ds)}
    for region in ("North", "South"):
        expect = int(ds["persons"].sel(state="displaced", region=region).max())
        assert rows[region]["peak_displaced"] == expect > 0
    assert rows["TOTAL"]["unmet_shelter_person_days"] == float(ds["unmet_shelter"].sum())


def test_validate_reports_inputs_without_writing(case, capsys):
    path = case()
    before = set(path.parent.iterdir())
    assert main(["validate", str(path)]) == 0
    assert "OK - scenario 'case', 2 regions, 20 populated locations" in capsys.readouterr().out
    assert set(path.parent.iterdir()) == before


def test_python_dash_m_and_console_script_agree(case):
    path = case()
    proc = subprocess.run([sys.executable, "-m", "simulator", "validate", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "OK - scenario 'case'" in proc.stdout
    script = [p for p in (sys.prefix + "/bin/climdisp",)]
    proc2 = subprocess.run([*script, "validate", str(path)], capture_output=True, text=True)
    assert proc2.stdout == proc.stdout


def test_validate_and_run_name_the_same_input_population(case, capsys):
    path = case(persons=np.full((4, 5), 451.3))  # 9,026 persons; households of drawn sizes
    assert main(["validate", str(path)]) == 0
    assert "9,026 persons in the population input" in capsys.readouterr().out
    out = path.parent / "run"
    assert main(["run", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["population_input_persons"] == 9026
    assert manifest["persons"] != 9026  # the synthesised households differ by sampling
    assert (f"{manifest['households']:,} households of {manifest['persons']:,} persons, "
            "synthesised from the population input's 9,026 persons") in printed

"""Notebooks are stored clean: no outputs, no execution counts, and each honours the small size.

The notebooks themselves run under pytest --nbmake (see notebooks/conftest.py).
"""

import json

import pytest

from .conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_the_six_notebooks_are_there_and_listed():
    names = [p.name for p in NOTEBOOKS]
    assert names == ["01-quickstart.ipynb", "02-capacity-scenarios.ipynb",
                     "03-sensitivity.ipynb", "04-bring-your-own-hazard.ipynb",
                     "05-calibrate-and-uncertainty.ipynb", "06-climate-futures.ipynb"]
    readme = (REPO / "notebooks" / "README.md").read_text()
    assert all(name in readme for name in names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    book = json.loads(path.read_text())
    code = [c for c in book["cells"] if c["cell_type"] == "code"]
    dirty = [i for i, c in enumerate(code) if c["outputs"] or c["execution_count"] is not None]
    assert not dirty, f"{path.name}: outputs in code cells {dirty}; clear them before committing"
    assert "CLIMDISP_NOTEBOOK_SMALL" in "".join(code[0]["source"])

# Two commands on a fresh machine: `make demo` and `make test`. Everything lives in .venv.
SHELL := /bin/bash
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Keep the first candidate that *runs* and reports Python >= 3.12 (pyenv shims can exist yet fail).
PYTHON ?= $(shell for c in python3.13 python3.12 python3 $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3; do \
	  if "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
	    echo "$$c"; break; fi; done)

.PHONY: demo test bench baseline clean-venv

$(VPY):
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: no Python >= 3.12 found (tried python3.13, python3.12, python3, ~/.pyenv/versions/3.1[2-9]*); install one or run 'make PYTHON=/path/to/python3.12 ...'" >&2; \
	  exit 2; fi
	@echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VPY) pyproject.toml
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/climdisp run scenarios/demo.toml

test: $(STAMP)
	$(VPY) -m pytest -q -n 2

bench: $(STAMP)
	$(VPY) benchmarks/bench_core.py
	$(VPY) benchmarks/bench_sweep.py
	$(VPY) benchmarks/bench_sweep.py --households 1e5 --steps 365 --runs 8
	$(VPY) benchmarks/bench_plain_mesa.py
	$(VPY) benchmarks/bench_calibrate.py
	$(VPY) benchmarks/bench_flee.py --flee
	$(VPY) benchmarks/bench_conflict.py

clean-venv:
	rm -rf $(VENV)

# Rewrite the committed regression baseline (tests/regression_baseline.json) on purpose, after a
# behaviour change; it prints every headline indicator that moved.
baseline: $(STAMP)
	$(VPY) -m tests.regression --update

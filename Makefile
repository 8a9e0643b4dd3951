# The README's two commands: `make demo` and `make test`. Both create .venv when missing.
# `make test` runs the unit and integration tiers, `make test-unit` the unit tier alone,
# `make verify` the statistical verification suite, `make fuzz` the fuzz suite (docs/testing.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-unit test-quick verify fuzz bench results clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m ionmc.warmup
	rm -rf results/demo/pump_block
	$(VENV)/bin/ionmc run pump_block -o results/demo/pump_block
	$(VENV)/bin/ionmc report results/demo/pump_block
	@echo "open results/demo/pump_block/report.html (Parquet logs in results/demo/pump_block/timeseries)"

test: $(STAMP)
	$(PY) -m pytest tests/unit tests/integration

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

# an alias of test-unit (the unit tier alone)
test-quick: test-unit

verify: $(STAMP)
	$(PY) -m verification --list
	$(PY) -m verification

# the fuzz suite (tests/fuzz): CI runs 30 seeded cases, this 300
fuzz: $(STAMP)
	IONMC_FUZZ_EXAMPLES=300 $(PY) -m pytest -q tests/fuzz

results: $(STAMP)
	$(PY) results/build.py
	$(PY) results/myocyte/build.py

bench: $(STAMP)
	$(PY) benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) results/demo

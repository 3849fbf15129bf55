# Two entry points on a fresh machine: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test system agents lint bench trust-table clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/crewchief demo

# bubblewrap and chromium: installed here when we have the rights, otherwise a clear stop.
system:
	@scripts/system-deps.sh

# The real coding CLIs of the agent contract tests (pinned, cached; a no-op once installed).
agents:
	PYTHON=$(PYTHON) bash scripts/install-agents.sh >/dev/null

# Byte-compiled up front: every test starts the CLI in a subprocess, and with
# PYTHONDONTWRITEBYTECODE set each of them would compile crewchief again.
# Four test processes on two cores: most of a test's time is spent waiting on the processes it
# started (a run's workers, its suites, a coding CLI), so two would leave the cores half idle.
TEST_PROCESSES ?= 4
test: $(STAMP) system agents
	$(BIN)/python -m compileall -q src tests >/dev/null
	$(BIN)/pytest -q -n $(TEST_PROCESSES) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/index.py
	$(BIN)/python bench/swarm.py

# The trust boundary's adversarial tests, run once: cases tried and held per area (a few minutes).
trust-table: $(STAMP) system
	$(BIN)/python bench/trust_table.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

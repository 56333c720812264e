# Two commands a user needs: `make demo` and `make test`. Both build the environment first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= build/demo

.PHONY: install demo test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

demo: install
	$(BIN)/python -m vrp.demo.run $(DEMO_DIR)

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/ingest_policeuk.py

clean:
	rm -rf $(VENV) build

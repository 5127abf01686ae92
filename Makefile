# citydesk: `make run` serves the app, `make test` runs every test. Both create .venv on first use.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install run ingest test test-fast eval bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned to the CPU build on this disk/registry, so nothing pulls a GPU build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

ingest: install
	$(VENV)/bin/citydesk ingest

run: ingest
	$(PY) app.py

test: install
	$(PY) -m pytest -q tests

test-fast: install
	$(PY) -m pytest -q -m "not slow and not browser" tests

eval: ingest
	$(VENV)/bin/citydesk eval --report .citydesk/eval-report

bench: install
	$(PY) bench/retrieval.py
	$(PY) bench/routing.py
	$(PY) bench/ingest.py
	$(PY) bench/latency.py

clean:
	rm -rf $(VENV) .citydesk

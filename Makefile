# events: `make run` serves a demo festival, `make test` proves it. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
RUN_ENV = EVENTS_ENV=dev EVENTS_SECRET_KEY="$$(cat var/secret_key)"

.DEFAULT_GOAL := help
.PHONY: help install browser assets run serve demo migrate test test-fast lint format bench load lock clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "events needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP) ## Create .venv and install the locked dependencies

# Browser tests drive Debian's Chromium; tickets and pages need a CJK font.
browser: ## Install Chromium, a CJK font and poppler (PDF tickets decoded in tests) (apt)
	@if command -v chromium >/dev/null && command -v pdftoppm >/dev/null && fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei"; then :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei poppler-utils >/dev/null; \
	fi

# The pages' browser libraries (jsQR, @noble/ed25519, qrcode-generator, htmx), pinned in package-lock.json;
# axe-core (accessibility checks in the browser tests) is pinned there too and read from node_modules.
# npm runs only when the lock file is newer than the copies served from static/vendor/.
JS := src/events/web/js
VENDOR := src/events/web/static/vendor
VENDOR_FILES := $(VENDOR)/jsQR.js $(VENDOR)/noble-ed25519.js $(VENDOR)/qrcode-generator.js $(VENDOR)/htmx.js

assets: $(VENDOR_FILES) ## Install the pinned browser libraries into static/vendor (npm)
	@:

$(VENDOR_FILES) &: $(JS)/package-lock.json $(JS)/package.json
	@command -v npm >/dev/null || { echo "make assets needs npm (Node.js)"; exit 1; }
	@npm ci --prefix $(JS) --silent --no-audit --no-fund
	@mkdir -p $(VENDOR)
	@cp $(JS)/node_modules/jsqr/dist/jsQR.js $(VENDOR)/jsQR.js
	@cp $(JS)/node_modules/@noble/ed25519/index.js $(VENDOR)/noble-ed25519.js
	@cp $(JS)/node_modules/qrcode-generator/dist/qrcode.mjs $(VENDOR)/qrcode-generator.js
	@cp $(JS)/node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.js
	@touch $(VENDOR_FILES)

var/secret_key:
	@mkdir -p var
	@$(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))' > $@
	@chmod 600 $@

migrate: install var/secret_key ## Apply database migrations
	$(RUN_ENV) $(BIN)/events db upgrade

demo: migrate ## Load the demo festival (idempotent)
	$(RUN_ENV) $(BIN)/events demo

run: assets demo ## Install, migrate, load the demo festival and serve on http://127.0.0.1:8000
	$(RUN_ENV) $(BIN)/events serve

lint: install ## ruff and mypy
	$(BIN)/ruff check src tests load_tests
	$(BIN)/mypy src

format: install ## Format and fix what ruff can
	$(BIN)/ruff check --fix src tests load_tests
	$(BIN)/ruff format src tests load_tests

test: install assets browser lint ## Lint, type-check and run the whole suite (PostgreSQL, SQLite, Chromium)
	$(BIN)/pytest -n auto

test-fast: install assets ## The suite without lint
	$(BIN)/pytest -x -q

bench: install ## Benchmarks: print throughput and latency figures
	$(BIN)/python -m load_tests.bench

load: install ## A bounded locust run against a local server
	$(BIN)/python -m load_tests.run

lock: ## Re-resolve requirements.lock from pyproject.toml (needs uv)
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache

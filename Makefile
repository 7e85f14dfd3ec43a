# events: `make run` serves a demo festival, `make test` proves it. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
RUN_ENV = EVENTS_ENV=dev EVENTS_SECRET_KEY="$$(cat var/secret_key)"

.DEFAULT_GOAL := help
.PHONY: help install browser assets font translations run serve demo migrate test test-fast lint format bench load load-distributed crash lock clean

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
	@if command -v chromium >/dev/null && command -v pdftoppm >/dev/null && fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" && fc-list 2>/dev/null | grep -qi "Tibetan Machine Uni"; then :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei fonts-tibetan-machine poppler-utils >/dev/null; \
	fi

# The pages' browser libraries (jsQR, @noble/ed25519, qrcode-generator, htmx, RapiDoc for
# /schema), pinned in package-lock.json;
# axe-core (accessibility checks in the browser tests) is pinned there too and read from node_modules.
# npm runs only when the lock file is newer than the copies served from static/vendor/.
JS := src/events/web/js
VENDOR := src/events/web/static/vendor
VENDOR_FILES := $(VENDOR)/jsQR.js $(VENDOR)/noble-ed25519.js $(VENDOR)/qrcode-generator.js \
                $(VENDOR)/rapidoc-min.js $(VENDOR)/htmx.js

assets: $(VENDOR_FILES) ## Install the pinned browser libraries into static/vendor (npm)
	@:

$(VENDOR_FILES) &: $(JS)/package-lock.json $(JS)/package.json
	@command -v npm >/dev/null || { echo "make assets needs npm (Node.js)"; exit 1; }
	@npm ci --prefix $(JS) --silent --no-audit --no-fund
	@mkdir -p $(VENDOR)
	@cp $(JS)/node_modules/jsqr/dist/jsQR.js $(VENDOR)/jsQR.js
	@cp $(JS)/node_modules/@noble/ed25519/index.js $(VENDOR)/noble-ed25519.js
	@cp $(JS)/node_modules/qrcode-generator/dist/qrcode.mjs $(VENDOR)/qrcode-generator.js
	@cp $(JS)/node_modules/rapidoc/dist/rapidoc-min.js $(VENDOR)/rapidoc-min.js
	@cp $(JS)/node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.js
	@touch $(VENDOR_FILES)

# Page text: src/events/locale/{zh,en,bo}/LC_MESSAGES/messages.po (docs/translations.md).
# The compiled .mo files are committed, so a fresh clone runs without this step.
LOCALE := src/events/locale
translations: install ## Extract the page text keys, update the zh/en/bo catalogs and compile them (pybabel)
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k t -k translate:2 -k N_ \
	  --no-location --sort-output --project events -o $(LOCALE)/messages.pot src/events
	$(BIN)/python -m events.web.i18n_tools annotate $(LOCALE)/messages.pot
	$(BIN)/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
	$(BIN)/pybabel compile -d $(LOCALE) --statistics

var/secret_key:
	@mkdir -p var
	@$(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))' > $@
	@chmod 600 $@

migrate: install var/secret_key ## Apply database migrations
	$(RUN_ENV) $(BIN)/events db upgrade

demo: migrate ## Load the demo festival and a rehearsal day dated today (idempotent)
	$(RUN_ENV) $(BIN)/events demo

# The CJK font of PDF tickets (fonts-wqy-microhei), as the README says; apt only when missing.
font:
	@if fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" || [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then :; \
	elif command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-wqy-microhei >/dev/null \
	  || echo "Could not install fonts-wqy-microhei: PDF tickets need a CJK font (EVENTS_TICKET_FONT_PATH)"; \
	else echo "No apt-get: install a CJK font and set EVENTS_TICKET_FONT_PATH for PDF tickets"; fi

# The demo prints the accounts, a gate scanner link and today's tickets (a rehearsal day).
run: assets font demo ## Install, migrate, load the demo festival and serve on http://127.0.0.1:8000
	$(RUN_ENV) $(BIN)/events serve

lint: install ## ruff, mypy and the import contracts (pyproject.toml, docs/DEVELOPING.md)
	$(BIN)/ruff check src tests load_tests
	$(BIN)/mypy src
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check src tests load_tests

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

load-distributed: install ## The day with 2 app processes behind a balancer and locust master + 2 workers
	LOAD_APPS=$${LOAD_APPS:-2} LOAD_WORKERS=$${LOAD_WORKERS:-1} LOAD_LOCUST_WORKERS=$${LOAD_LOCUST_WORKERS:-2} \
	  LOAD_MAX_SECONDS=$${LOAD_MAX_SECONDS:-35} $(BIN)/python -m load_tests.run

crash: install ## Kill a worker with SIGKILL during a burst of writes; prove nothing acknowledged is lost
	$(BIN)/python -m load_tests.crash

lock: ## Re-resolve requirements.lock from pyproject.toml (needs uv)
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache

# Each target makes its own virtualenv first; `make test` on a fresh clone is all it takes.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
E2E_STAMP := $(VENV)/.installed-e2e
BENCH_STAMP := $(VENV)/.installed-bench
CHROMIUM  ?= /usr/bin/chromium

# node's oidc-provider, a certified OpenID Provider the tests run on loopback (tests/oidc_provider.py).
OIDC_NODE  := tests/oidc_provider_node
OIDC_STAMP := $(OIDC_NODE)/node_modules/.installed

TWEEPY_VENV := .venv-tweepy
TWEEPY_STAMP := $(TWEEPY_VENV)/.installed

.PHONY: demo test test-newest test-tweepy lint format e2e chromium secret-service oidc-provider bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# tweepy 4.17 pins oauthlib<4, so it gets a virtualenv of its own (the tweepy-test extra) and the main one keeps
# the newest oauthlib, the one `pip install loopauth` brings.
$(TWEEPY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(TWEEPY_VENV)
	$(TWEEPY_VENV)/bin/pip install --quiet --upgrade pip
	$(TWEEPY_VENV)/bin/pip install --quiet -e '.[tweepy-test]'
	touch $(TWEEPY_STAMP)

# Playwright only drives the browser; Chromium itself comes from Debian (see the chromium target), never a download.
# lint needs it too, so mypy checks the e2e tests against Playwright's own types.
$(E2E_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,e2e]'
	touch $(E2E_STAMP)

# The bench's hand-written baseline login needs requests-oauthlib (the bench extra); loopauth never does.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "make: $(CHROMIUM) is missing; installing Debian's chromium"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
			[ -x $(CHROMIUM) ] || { echo "make e2e: installed chromium, but there is still none at $(CHROMIUM)" >&2; exit 1; }; \
		else \
			echo "make e2e: no Chromium at $(CHROMIUM). Install it (as root: apt-get install -y chromium)" \
				"or point CHROMIUM=/path/to/chromium at one." >&2; \
			exit 1; \
		fi; \
	fi

# A real Secret Service for the keyring tests (tests/secret_service.py starts a private bus and
# gnome-keyring-daemon per test). Debian's packages, like chromium: installed as root when missing, else a
# clear message; without them those tests skip, naming this target. dbus brings dbus-daemon and dbus-send;
# dbus-x11 (dbus-launch) is not needed; secret-tool is for looking by hand. --no-install-recommends keeps out
# libpam-gnome-keyring, which would change the machine's PAM configuration.
SECRET_SERVICE_BINS := /usr/bin/gnome-keyring-daemon /usr/bin/dbus-daemon /usr/bin/dbus-send /usr/bin/secret-tool
secret-service:
	@missing=; \
	for f in $(SECRET_SERVICE_BINS); do [ -x $$f ] || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "make: missing$$missing; installing Debian's gnome-keyring, dbus and libsecret-tools"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				-o DPkg::Lock::Timeout=300 gnome-keyring dbus libsecret-tools; \
			for f in $(SECRET_SERVICE_BINS); do \
				[ -x $$f ] || { echo "make secret-service: installed the packages, but there is still no $$f" >&2; exit 1; }; \
			done; \
		else \
			echo "make secret-service: missing$$missing. Install them (as root: apt-get install -y gnome-keyring" \
				"dbus libsecret-tools); without them the keyring tests skip." >&2; \
			exit 1; \
		fi; \
	fi

# From the npm registry, exactly as package-lock.json pins it (npm ci: no download of a browser or a binary).
# Without npm the oidc-provider tests skip, each saying how to get it; nothing else needs node.
$(OIDC_STAMP): $(OIDC_NODE)/package.json $(OIDC_NODE)/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(OIDC_NODE) --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "make: no npm here, so the oidc-provider tests will skip (install Node.js 18+ with npm to run them)"; \
	fi

oidc-provider: $(OIDC_STAMP)

demo: $(STAMP)
	$(BIN)/loopauth demo

# Two workers per core (pytest-xdist): many tests wait on a subprocess, a socket or a timeout, and the other worker
# keeps the core busy meanwhile (on 2 cores, 105 s against 124 s with three). Tests are parallel-safe by
# construction: each has its own config dir (tmp_path), listens on port 0 and talks to its own demo provider; tests
# that share a costly module fixture carry @pytest.mark.xdist_group(NAME), and loadgroup keeps each group on one
# worker. TEST_WORKERS=0 runs them in order.
# The suite starts loopauth hundreds of times: with PYTHONDONTWRITEBYTECODE set (as on many CI machines) each start
# would compile its modules again, so the tests write bytecode (into the ignored __pycache__ directories).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 1); echo $$((n * 2)))
test: $(STAMP) $(OIDC_STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup

# tests/test_tweepy.py and the README's tweepy line, which `make test` skips: tweepy clients built from
# loopauth.tweepy_kwargs() call the demo providers, which verify what tweepy signed.
test-tweepy: $(TWEEPY_STAMP)
	$(TWEEPY_VENV)/bin/pytest -q tests/test_tweepy.py tests/test_readme_from_python.py

# The unit tests again on the newest CPython 3.12+ here (scripts/newest_python.py finds it), in a virtualenv per
# minor version, .venv-3.13: a new Python's stricter defaults (3.13's ssl was one) fail here, not for a user.
# With none found the script says why on one line and this passes; the tests failing fails it.
test-newest:
	@found="$$($(PYTHON) scripts/newest_python.py)" || exit 1; \
	[ -n "$$found" ] || exit 0; \
	version="$${found%% *}"; python="$${found#* }"; \
	echo "make test-newest: Python $$version ($$python), in .venv-$$version"; \
	$(MAKE) --no-print-directory test PYTHON="$$python" VENV=".venv-$$version"

lint: $(E2E_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `-m e2e` overrides the `-m 'not e2e'` in pyproject's addopts: the last -m wins.
e2e: $(E2E_STAMP) chromium $(OIDC_STAMP)
	LOOPAUTH_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -q -m e2e tests/e2e

bench: $(BENCH_STAMP)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) .venv-*/ .pytest_cache .mypy_cache .ruff_cache $(OIDC_NODE)/node_modules

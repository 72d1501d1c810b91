# The two commands: `make run` and `make test`. Everything else is a step of those two.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQUIREMENTS := $(wildcard requirements*.txt)
PYTEST_ARGS ?=

log = @printf '\033[1;34m==>\033[0m %s\n' "$(1)"

.PHONY: help venv services stop migrate run test lint bench bench-growth clean messages makemessages

help:
	@echo "make run      start PostgreSQL, Redis, gunicorn, Celery worker and beat (Ctrl-C stops the app)"
	@echo "make test     lint, then the whole test suite against a real PostgreSQL"
	@echo "make venv | services | stop | migrate | lint | bench | bench-growth | clean"

venv: $(STAMP)

# Re-installs only when a requirements file is newer than the stamp.
$(STAMP): $(REQUIREMENTS)
	@if [ ! -x $(PY) ]; then \
	  printf '\033[1;34m==>\033[0m %s\n' "Creating $(VENV) with $$(python3 --version 2>&1)"; \
	  rm -rf $(VENV); \
	  if ! python3 -m venv $(VENV); then \
	    rm -rf $(VENV); \
	    if [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then \
	      printf '\033[1;34m==>\033[0m %s\n' "Installing python3-venv with apt-get"; \
	      DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	      python3 -m venv $(VENV); \
	    else \
	      echo "xx python3 -m venv failed: install python3-venv (Python >= 3.11)" >&2; exit 1; \
	    fi; \
	  fi; \
	fi
	$(call log,Installing requirements-dev.txt into $(VENV))
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

services:
	$(call log,Starting local services)
	@scripts/services.sh start

stop:
	@scripts/run.sh stop
	@scripts/services.sh stop

migrate: venv services
	$(call log,Applying migrations)
	@$(PY) manage.py migrate --noinput

# German (and any other) catalogues: compiled for every run and test, never committed (*.mo in .gitignore).
messages:
	$(call log,Compiling translations)
	@scripts/messages.sh compile

makemessages: venv
	@scripts/messages.sh make

run: venv messages
	@scripts/run.sh

lint: venv
	$(call log,ruff check and ruff format --check)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

test: venv services messages
	@scripts/ensure_chromium.sh
	@scripts/ensure_pgbouncer.sh
	@$(MAKE) --no-print-directory lint
	$(call log,pytest $(PYTEST_ARGS))
	@$(VENV)/bin/pytest $(PYTEST_ARGS)

# The HTTP benches drive load with wrk (Debian package). growth.py loads 1,000,000 bookings and
# rebuilds the exclusion constraint's GiST index over them (over 5 minutes on a shared 2-core
# machine), so it runs last; BENCH_GROWTH=0 skips it, and `make bench-growth` runs it alone.
BENCH_GROWTH ?= 1
GROWTH_TITLE := Benchmark bench/growth.py (1,000,000 bookings over 10,000 providers)

bench: migrate
	@scripts/ensure_wrk.sh
	@shopt -s nullglob; files=(bench/[!_]*.py); files=($${files[@]/bench\/growth.py}); \
	if [ $${#files[@]} -eq 0 ]; then printf '\033[1;34m==>\033[0m %s\n' "No benchmarks in bench/"; fi; \
	for f in "$${files[@]}"; do \
	  printf '\033[1;34m==>\033[0m %s\n' "Benchmark $$f"; \
	  DJANGO_SETTINGS_MODULE=booking_site.settings PYTHONPATH=. $(PY) "$$f"; \
	done
	@if [ "$(BENCH_GROWTH)" = 0 ]; then \
	  printf '\033[1;34m==>\033[0m %s\n' "Skipped bench/growth.py (BENCH_GROWTH=0); make bench-growth runs it alone"; \
	else \
	  printf '\033[1;34m==>\033[0m %s\n' "$(GROWTH_TITLE)"; \
	  DJANGO_SETTINGS_MODULE=booking_site.settings PYTHONPATH=. $(PY) bench/growth.py; \
	fi

bench-growth: migrate
	$(call log,$(GROWTH_TITLE))
	@DJANGO_SETTINGS_MODULE=booking_site.settings PYTHONPATH=. $(PY) bench/growth.py

clean: stop
	$(call log,Removing $(VENV) and .local)
	@rm -rf $(VENV) .local

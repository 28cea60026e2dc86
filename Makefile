# NewsNotes: `make run` serves the app with a demo corpus; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The first Python >= 3.12 found: python3.13, python3.12, python3, pyenv's installs.
PYTHON_CANDIDATES := python3.14 python3.13 python3.12 python3 python $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3)
FIND_PYTHON = for p in $(PYTHON_CANDIDATES); do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then command -v $$p; break; fi; \
	done

.PHONY: help run test lint venv browser clean-data interop screenshots

help:
	@echo "make run    set up and serve NewsNotes at http://$(HOST):$(PORT) with the demo corpus"
	@echo "make test   run the whole test suite"
	@echo "make screenshots  queue, workspace and export at 390, 1024, 1440 px and 200% zoom into screenshots/ (axe-core checks each)"
	@echo "make interop  run our files through the real tools (Label Studio, doccano, spaCy, ...; installs them in .interop/)"

$(VENV)/.installed: pyproject.toml constraints.txt
	@py=$$($(FIND_PYTHON)); \
	if [ -z "$$py" ]; then \
	  echo "NewsNotes needs Python 3.12 or newer (Django 6.1 does) and none was found on PATH."; \
	  echo "Install python3.12 or python3.13 (e.g. 'apt-get install python3' on Debian 13, or 'pyenv install 3.12')."; \
	  exit 1; \
	fi; \
	echo "Using $$py ($$($$py --version))"; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then rm -rf $(VENV); $$py -m venv $(VENV); fi
	@echo "Installing dependencies into $(VENV) (pinned by constraints.txt)..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]" 2>&1 \
	  | { grep -v -e "^WARNING: Location .* is ignored" -e "does not provide the extra 'html_clean'" || true; }
	@touch $@

venv: $(VENV)/.installed

run: venv
	@DEBUG=1 $(PY) manage.py migrate --no-input -v 0
	@DEBUG=1 $(PY) manage.py load_demo
	@echo ""
	@echo "NewsNotes is at http://$(HOST):$(PORT)/  (embedded PostgreSQL in .newsnotes/, a job worker beside the server; Ctrl-C stops all)"
	@# The worker runs export jobs (README: Exports). Ctrl-C reaches both from the terminal; the trap also stops the
	@# worker when runserver ends another way, and waits so that it releases the embedded database before make exits.
	@DEBUG=1 $(PY) manage.py db_worker --no-reload -v 1 & worker=$$!; \
	  trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	  trap 'kill -TERM $$worker 2>/dev/null' TERM; \
	  DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

browser:
	@bash bin/ensure-chromium

test: venv browser
	$(PY) -m pytest $(PYTEST_ARGS)

# Screenshots for people to look at (README: "Screens and zoom"); each one is also checked by axe-core.
screenshots: venv browser
	$(PY) -m pytest -m screenshots tests/browser/test_screenshots.py $(PYTEST_ARGS)
	@echo "Screenshots are in screenshots/"

# Label Studio, doccano and the readers get their own environments in .interop/ (bin/interop).
interop: venv browser
	bash bin/interop

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

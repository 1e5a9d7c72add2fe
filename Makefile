# `make run` and `make test` work on a fresh machine with only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)

.PHONY: install run test lint check bench soak

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: install
	scripts/run_demo.sh

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	SECRET_KEY=check-deploy-only-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz \
	  DJANGO_SETTINGS_MODULE=mesproject.settings.production \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

# Every bench in bench/ on PostgreSQL and Redis, one table (bench/results/); about 20 minutes.
# BENCH_QUICK=1: small sizes, about 3 minutes. BENCH_ARGS: e.g. --only reconciliation,list_pages
bench: install
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

# The whole stack (gunicorn, 2 Celery workers, beat, own Redis and PostgreSQL database, the ERP
# simulator) under load with faults, then the invariants (bench/soak.py); 10 minutes.
# SOAK_SECONDS=90 for a shorter run; SOAK_ARGS=--ci: the 75-second CI mode.
soak: install
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

# Two commands on a fresh machine: `make run` (the app with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test lint lock bench bench-db bench-scale venv messages

# The locks pin every package with its hashes: pip refuses anything else.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

## lock: compile requirements.in / requirements-dev.in into the locks (README "Dependencies")
# Pins already in a lock are kept; LOCK_ARGS="--upgrade-package NAME" or "--upgrade" moves them.
UV_COMPILE = $(BIN)/uv pip compile --quiet --no-header --generate-hashes --universal --python-version 3.11 $(LOCK_ARGS)
lock: $(STAMP)
	$(UV_COMPILE) requirements.in -o requirements.txt
	$(UV_COMPILE) requirements-dev.in -o requirements-dev.txt
## messages: compile the letters' translations (.po → .mo; needs gettext's msgfmt)
messages: $(STAMP)
	SECRET_KEY=$${SECRET_KEY:-build-only} $(BIN)/python manage.py compilemessages --ignore=.venv --ignore=staticfiles --verbosity 0

## run: migrate, load demo data, print the demo logins, start web + Celery worker + beat
run: $(STAMP) messages
	$(BIN)/python bin/run.py

## test: the whole suite (SQLite by default; set DATABASE_URL for PostgreSQL)
test: $(STAMP) messages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: the gates CI runs before the tests (style, layers, types, migrations)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	SECRET_KEY=lint-only $(BIN)/mypy
	SECRET_KEY=lint-only $(BIN)/python manage.py makemigrations --check --dry-run
	SECRET_KEY=lint-only TRACKER_DEV_APPS=true $(BIN)/python manage.py makemigrations --check --dry-run

## bench: seed a 10,000-patient cohort into its own PostgreSQL database and measure (docs/performance.md)
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tracker_bench
BENCH_ARGS ?= --patients 10000 --reuse
# The database session settings docs/deployment.md recommends ("PostgreSQL settings"), as a
# deployment sets them: the bench measures the app as it is meant to run.
BENCH_PG_OPTIONS ?= -c jit=off -c work_mem=64MB
BENCH_ENV = SECRET_KEY=$${SECRET_KEY:-bench-only} TRACKER_DEV_APPS=true DATABASE_URL="$(BENCH_DATABASE_URL)" DATABASE_PG_OPTIONS="$(BENCH_PG_OPTIONS)"

bench-db: $(STAMP)
	$(BIN)/python -m bench.createdb "$(BENCH_DATABASE_URL)"
	$(BENCH_ENV) $(BIN)/python manage.py migrate --verbosity 0

bench: bench-db
	$(BENCH_ENV) $(BIN)/python manage.py bench $(BENCH_ARGS)

## bench-scale: the same at 10,000 and 100,000 patients, printed side by side (long: seeds 100,000)
bench-scale: bench-db
	$(BENCH_ENV) $(BIN)/python manage.py bench --compare 10000,100000 $(BENCH_SCALE_ARGS)

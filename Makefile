# Parley: `make run` serves the embedded default, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
LOCAL := DJANGO_SETTINGS_MODULE=config.settings.local PARLEY_BIND_HOST=$(HOST)
# Links in emails point at the address `make run` serves, unless FRONTEND_URL is set.
export FRONTEND_URL ?= http://$(HOST):$(PORT)

.PHONY: install run test lint format check-deploy worker beat clean audit fuzz

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

run: install
	$(LOCAL) $(BIN)/python manage.py migrate --noinput
	$(LOCAL) $(BIN)/python manage.py seed_demo
	@echo "Parley on http://$(HOST):$(PORT)/  (API docs: /api/docs/)"
	$(LOCAL) exec $(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: install
	$(BIN)/python -m pytest --create-db $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-deploy: install
	DJANGO_SECRET_KEY=$$(openssl rand -hex 32) DJANGO_ALLOWED_HOSTS=parley.example.com \
	$(BIN)/python manage.py check --deploy --fail-level WARNING --settings=config.settings.production

# Known vulnerabilities in the pinned dependencies (and what they pull in), from PyPI's
# advisory data (docs/robustness.md).
audit: install
	$(BIN)/pip-audit -r requirements.txt -r requirements-dev.txt -s pypi --progress-spinner off

# Schema fuzzing of the whole HTTP API on a live server, every phase and more examples than
# the bounded run in `make test` (docs/robustness.md). Uses DATABASE_URL/REDIS_URL if set.
FUZZ_MAX_EXAMPLES ?= 30
fuzz: install
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_PHASES=examples,coverage,fuzzing,stateful \
	$(BIN)/python -m pytest --create-db -p no:cacheprovider -s tests/test_fuzz_api.py

worker: install
	$(BIN)/celery -A config.celery_app worker --loglevel=INFO

beat: install
	$(BIN)/celery -A config.celery_app beat --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* media staticfiles

# Benchmarks (docs/benchmarks.md): PostgreSQL and Redis up; DATABASE_URL defaults to a
# database of their own, parley_bench. BENCH_ARGS passes options, e.g. BENCH_ARGS=--help.
.PHONY: bench-search bench-bookings
bench-search: install
	$(BIN)/python -m bench.search $(BENCH_ARGS)

bench-bookings: install
	$(BIN)/python -m bench.bookings $(BENCH_ARGS)

# Negotiation sockets: delivery latency across two daphne processes, then idle-socket memory
# (docs/benchmarks-negotiation.md). Needs PostgreSQL and Redis; run it on an otherwise idle machine.
.PHONY: bench-negotiation
bench-negotiation: install
	$(BIN)/python -m bench.negotiation $(NEGO_BENCH_ARGS)
	$(BIN)/python -m bench.negotiation_idle
	$(BIN)/python -m bench.negotiation_idle --endpoint negotiations

# Chat capacity of the embedded default (docs/benchmarks.md): rooms one daphne process holds
# on SQLite, then on PostgreSQL + Redis (own database parley_bench_chat; skipped if down).
# BENCH_ARGS="--duration 15 --rooms 10,20,40" for a shorter run.
.PHONY: bench-chat
bench-chat: install
	$(BIN)/python -m bench.chat_capacity $(BENCH_ARGS)

# Mixed load (search, quotes, bookings, negotiations over sockets) on daphne x2 + a Celery
# worker, then the invariants (docs/robustness.md). Own database parley_bench_load.
# BENCH_ARGS=--duration 30 for a short run; the default is 5 minutes.
.PHONY: bench-load
bench-load: install
	$(BIN)/python -m bench.load $(BENCH_ARGS)

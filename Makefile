# Time Bank: the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
SCALE ?= small

.PHONY: run test lint bench seed messages clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

## make run: install, migrate, load the demo city if the database is empty, serve on http://127.0.0.1:$(PORT)
## (DEBUG=1: a developer machine; production refuses to start on the built-in keys, see docs/operators.md)
run: $(VENV)/.installed
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo --scale $(SCALE) --if-empty
	DEBUG=1 $(PY) manage.py demo_logins
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

## make test: the whole suite, on PostgreSQL when reachable (DATABASE_URL or $(PG_URL)), else on SQLite
test: $(VENV)/.installed
	@url="$${DATABASE_URL:-}"; \
	if [ -z "$$url" ] && $(PY) -c "import psycopg; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then url="$(PG_URL)"; fi; \
	if [ -n "$$url" ] && [[ "$$url" == postgres* ]]; then \
	  echo "make test: using PostgreSQL ($$url)"; \
	  DATABASE_URL="$$url" $(PY) -m pytest; \
	else \
	  echo "make test: PostgreSQL is NOT reachable at $(PG_URL): running on SQLite."; \
	  echo "make test: tests marked 'postgres' (concurrency, raw-SQL invariants) are SKIPPED; the summary below lists each one."; \
	  DATABASE_URL="$${url:-sqlite:///$(CURDIR)/var/test.sqlite3}" $(PY) -m pytest; \
	fi

## make lint: ruff (with its security rules, S = bandit's checks), formatting, mypy, and Django's deployment
## checks plus ours (timebank/web/checks.py) under production settings with fresh random keys.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy timebank
	$(PY) -m timebank.web.production_env manage.py check --deploy --fail-level WARNING

## make bench: every benchmark in bench/ on the PostgreSQL server at 127.0.0.1:5432 (scratch databases tb_bench*);
## results in bench/RESULTS.md. BENCH_ARGS passes options, e.g. BENCH_ARGS="--seconds 15".
bench: $(VENV)/.installed
	BENCH_COMMAND="make bench$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')" PY=$(PY) bench/run_all.sh $(BENCH_ARGS)

messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l zh_Hans -l en --no-obsolete --ignore=.venv --ignore=bench --ignore=var --ignore=scripts --ignore=test-artifacts
	$(PY) manage.py compilemessages --ignore=.venv --ignore=bench --ignore=var

seed: $(VENV)/.installed
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo --scale $(SCALE)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache

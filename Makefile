# pcc_perf — the two commands a newcomer needs:
#   make run    install everything, load the demo and serve it on http://127.0.0.1:8000 (SQLite)
#   make test   install everything and run ruff, mypy, the migrations check and the whole test suite
#   make serve  run for real: gunicorn (gunicorn.conf.py) and the task worker, DEBUG off (see README)
# For the inner loop: make test-fast (no browser, PDF or whole-demo tests; stops at the first failure).
# Both are safe to run again: slow steps are skipped when nothing changed.

PYTHON_VERSION := $(shell cat .python-version)
PYENV_ROOT ?= $(HOME)/.pyenv
BASE_PYTHON ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/$(PYTHON_VERSION)/bin/python) $(shell command -v python3.12 2>/dev/null) python3)
UV_VERSION := 0.13.9
VENV := .venv
PY := $(VENV)/bin/python
SYSTEM_PACKAGES := chromium fonts-liberation poppler-utils libcairo2 libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 postgresql-client
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test test-fast install system-packages lint typecheck migrations-check pytest demo-data clean bench

run: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo
	@echo "pcc_perf: http://$(HOST):$(PORT)/  (demo log-ins in README.md); background worker started beside it"
	@DJANGO_DEBUG=1 $(PY) manage.py db_worker --no-reload --interval 1 & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  DJANGO_DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

# Running for real: gunicorn with gunicorn.conf.py (workers = cores + 1, keep-alive 75 s, persistent
# database connections) and the background task worker beside it. Needs DJANGO_SECRET_KEY,
# DJANGO_ALLOWED_HOSTS and DATABASE_URL in the environment; DEBUG stays off.
serve: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	@$(PY) manage.py db_worker --no-reload --interval 1 & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(VENV)/bin/gunicorn --config gunicorn.conf.py

test: install lint typecheck migrations-check pytest

test-fast: install
	$(VENV)/bin/pytest -q -x -m "not browser and not slow and not pdf" $(PYTEST_ARGS)

install: system-packages $(VENV)/.synced

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.synced: pyproject.toml uv.lock .python-version
	@$(BASE_PYTHON) -m uv --version 2>/dev/null | grep -q "$(UV_VERSION)" || $(BASE_PYTHON) -m pip install -q "uv==$(UV_VERSION)"
	UV_PYTHON=$(BASE_PYTHON) UV_PYTHON_DOWNLOADS=never $(BASE_PYTHON) -m uv sync --frozen
	@touch $@

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	DJANGO_SECRET_KEY=typecheck-only $(VENV)/bin/mypy .

# Models and migrations agree (a model change without its migration fails the build); no database needed.
migrations-check:
	DATABASE_URL=sqlite:///:memory: DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

# The whole suite, browser (Playwright + Debian Chromium), PDF and whole-demo tests included.
pytest:
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Re-make fixtures/demo from ../shared/data/published (then commit the result).
demo-data: install
	$(PY) scripts/extract_demo_data.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .mypy_cache .ruff_cache

# Benchmarks (figures, not pass/fail): each on a fresh SQLite file and, when reachable, PostgreSQL.
# Pages are timed with DEBUG off (as in production) and a throwaway secret key.
bench: export DJANGO_SECRET_KEY ?= bench-only-not-secret
BENCH_PG ?= postgres://postgres@127.0.0.1:5432/pcc_perf_bench
# The many-partnerships benchmark's databases (pcc_perf_scale1, pcc_perf_scale42) live on this server.
BENCH_PG_SERVER ?= postgres://postgres@127.0.0.1:5432
# The page cache the readers' server uses: this Redis when it answers, else each worker's memory.
BENCH_REDIS ?= redis://127.0.0.1:6379/0
BENCH_READERS ?= 50
bench: install
	@rm -f /tmp/pcc-perf-bench.sqlite3
	@echo "== returns: SQLite =="
	DATABASE_URL=sqlite:////tmp/pcc-perf-bench.sqlite3 DJANGO_DEBUG=1 $(PY) manage.py migrate -v0
	DATABASE_URL=sqlite:////tmp/pcc-perf-bench.sqlite3 DJANGO_DEBUG=1 $(PY) manage.py bench_returns
	@echo "== hostile and oversized files, each read in a fresh process: peak memory (limit 300 MB) =="
	DATABASE_URL=sqlite:////tmp/pcc-perf-bench.sqlite3 DJANGO_DEBUG=1 $(PY) manage.py bench_files
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "== returns: PostgreSQL =="; \
	  dropdb -h 127.0.0.1 -U postgres --if-exists pcc_perf_bench && createdb -h 127.0.0.1 -U postgres pcc_perf_bench && \
	  DATABASE_URL=$(BENCH_PG) DJANGO_DEBUG=1 $(PY) manage.py migrate -v0 && \
	  DATABASE_URL=$(BENCH_PG) DJANGO_DEBUG=1 $(PY) manage.py bench_returns; \
	else echo "PostgreSQL not reachable on 127.0.0.1:5432: skipped"; fi
	@$(PY) manage.py collectstatic --noinput -v0
	@echo "== dashboard pages, national-scale synthetic data: SQLite =="
	DATABASE_URL=sqlite:////tmp/pcc-perf-bench.sqlite3 $(PY) manage.py generate_national_dataset
	DATABASE_URL=sqlite:////tmp/pcc-perf-bench.sqlite3 $(PY) manage.py bench_pages
	@echo "== board packs: SQLite =="
	DATABASE_URL=sqlite:////tmp/pcc-perf-bench.sqlite3 $(PY) manage.py bench_pack --label "national-scale pack (60 metrics)"
	@# Issue 16's pack size: 32 metrics, 6 broken down by group, give a 40-chart board pack.
	@rm -f /tmp/pcc-perf-bench40.sqlite3
	DATABASE_URL=sqlite:////tmp/pcc-perf-bench40.sqlite3 $(PY) manage.py migrate -v0
	DATABASE_URL=sqlite:////tmp/pcc-perf-bench40.sqlite3 $(PY) manage.py generate_national_dataset --metrics 32 --broken-down 6
	DATABASE_URL=sqlite:////tmp/pcc-perf-bench40.sqlite3 $(PY) manage.py bench_pack --label "40-chart pack (32 metrics)"
	@rm -f /tmp/pcc-perf-demo.sqlite3
	DATABASE_URL=sqlite:////tmp/pcc-perf-demo.sqlite3 $(PY) manage.py migrate -v0
	DATABASE_URL=sqlite:////tmp/pcc-perf-demo.sqlite3 DJANGO_DEBUG=1 $(PY) manage.py seed_demo > /dev/null
	DATABASE_URL=sqlite:////tmp/pcc-perf-demo.sqlite3 $(PY) manage.py bench_pack --label "demo pack"
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "== dashboard pages, national-scale synthetic data: PostgreSQL =="; \
	  DATABASE_URL=$(BENCH_PG) $(PY) manage.py generate_national_dataset && \
	  DATABASE_URL=$(BENCH_PG) $(PY) manage.py bench_pages && \
	  echo "== $(BENCH_READERS) logged-in readers on gunicorn (make serve's set-up), PostgreSQL ==" && \
	  redis="" && if $(PY) -c "import redis, sys; redis.Redis.from_url('$(BENCH_REDIS)').ping()" 2>/dev/null; then redis="$(BENCH_REDIS)"; fi && \
	  DATABASE_URL=$(BENCH_PG) $(PY) manage.py bench_readers --readers $(BENCH_READERS) --duration 30 --redis "$$redis" && \
	  echo "== the priority page drawn in Chromium, against the overview (same server set-up) ==" && \
	  DATABASE_URL=$(BENCH_PG) $(PY) manage.py bench_browser --redis "$$redis" --full-bundle; \
	fi
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "== one partnership among 42 (60 measures each) against a single-partnership database of its size: PostgreSQL =="; \
	  for db in pcc_perf_scale_tpl pcc_perf_scale1 pcc_perf_scale42; do dropdb -h 127.0.0.1 -U postgres --if-exists $$db; done && \
	  createdb -h 127.0.0.1 -U postgres pcc_perf_scale_tpl && \
	  DATABASE_URL=$(BENCH_PG_SERVER)/pcc_perf_scale_tpl DJANGO_DEBUG=1 $(PY) manage.py migrate -v0 && \
	  createdb -h 127.0.0.1 -U postgres -T pcc_perf_scale_tpl pcc_perf_scale1 && \
	  createdb -h 127.0.0.1 -U postgres -T pcc_perf_scale_tpl pcc_perf_scale42 && \
	  DATABASE_URL=$(BENCH_PG_SERVER)/pcc_perf_scale1 $(PY) manage.py generate_partnerships_dataset --partnerships 1 --first 21 && \
	  DATABASE_URL=$(BENCH_PG_SERVER)/pcc_perf_scale42 $(PY) manage.py generate_partnerships_dataset --partnerships 42 && \
	  DATABASE_URL=$(BENCH_PG_SERVER)/pcc_perf_scale42 $(PY) manage.py bench_partnerships --many pcc_perf_scale42 --single pcc_perf_scale1 --partnership lcjb-21; \
	fi

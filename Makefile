# Two commands do all set-up on a machine with only python3: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The install stamps are named after a checksum of the requirements files, not compared by date:
# a checkout or copy that makes the files look newer than the stamp reinstalls nothing, and a
# real change to a requirements file gives a new name, so that install runs once.
REQ_SUM := $(firstword $(shell cat requirements.txt | cksum))
DEV_SUM := $(firstword $(shell cat requirements.txt requirements-dev.txt | cksum))
STAMP := $(VENV)/.installed-$(REQ_SUM)
DEV_STAMP := $(VENV)/.installed-dev-$(DEV_SUM)

.PHONY: run serve production-env test bench loadtest loadtest-sqlite venv dev-deps check clean messages

$(STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-[0-9]*
	touch $@

# Order-only: the base stamp must exist, its date does not matter.
$(DEV_STAMP): | $(STAMP)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-dev-*
	touch $@

venv: $(STAMP)

dev-deps: $(DEV_STAMP)

# The task worker (grading, regrades) runs beside the server and stops with it.
run: venv
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ with a task worker  (Ctrl-C stops both)"
	@DJANGO_DEBUG=1 $(PY) manage.py grading_worker --interval 0.2 --nice 10 -v 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	DJANGO_DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

# Production: settings from the environment (see the README), gunicorn on 127.0.0.1:8000
# (GUNICORN_BIND, GUNICORN_WORKERS) behind an HTTPS proxy.
serve: production-env venv
	DJANGO_DEBUG= $(PY) manage.py migrate --noinput
	DJANGO_DEBUG= $(PY) manage.py collectstatic --noinput
	DJANGO_DEBUG= exec $(VENV)/bin/gunicorn --config backprop_site/gunicorn.conf.py

production-env:
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make serve: set DJANGO_SECRET_KEY (a long random string)" >&2; exit 2; }
	@test -n "$$DJANGO_ALLOWED_HOSTS" || { echo "make serve: set DJANGO_ALLOWED_HOSTS (the site's host names, comma-separated)" >&2; exit 2; }

# Type checking first (mypy.ini), then the whole suite on the default database (SQLite), then again without the browser tests on the
# PostgreSQL named by TEST_DATABASE_URL (`.ci/with-postgres make test` starts a throwaway one).
# Without it the PostgreSQL run is skipped with a line saying so; in CI (CI set) that fails.
PURE := grading/engine/*,grading/marking/*,grading/formulas/*,grading/mistakes/*,grading/keyaudit/*,grading/grade/*,grading/figures/*

# Types first (mypy, configured in mypy.ini), then the whole suite on SQLite with coverage printed
# (.coveragerc); the pure packages must keep 95 % of their lines covered (confine.py runs only in
# the Q1 checker's forked child, where coverage is not collected: tests/test_sandbox.py watches it
# from outside).
test: dev-deps
	$(PY) -m mypy
	$(PY) -m pytest --cov --cov-report=term
	@printf 'The pure packages, %% of lines covered (95 required): '
	@$(PY) -m coverage report --include='$(PURE)' --omit=grading/formulas/confine.py --fail-under=95 --format=total
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== the suite again on PostgreSQL (TEST_DATABASE_URL; browser tests ran above)"; \
	  DATABASE_URL="$$TEST_DATABASE_URL" $(PY) -m pytest -m "not browser"; \
	elif [ -n "$$CI" ]; then \
	  echo "PostgreSQL run: TEST_DATABASE_URL is not set; in CI the suite must also run on PostgreSQL" >&2; exit 1; \
	else \
	  echo "PostgreSQL run skipped: TEST_DATABASE_URL is not set (.ci/with-postgres make test runs both)"; \
	fi

# The Thai catalogue: extract every marked string (templates, Python, the pure modules' messages,
# JavaScript), keep the translations made, and compile the .mo files (committed: serving needs no
# gettext). Needs GNU gettext (apt-get install gettext). tests/test_catalogue.py checks the result.
MAKEMESSAGES := $(PY) manage.py makemessages -l th --add-location=file --no-obsolete \
	-i .venv -i tests -i bench -i staticfiles -i locale
messages: dev-deps
	$(MAKEMESSAGES) -d django
	$(MAKEMESSAGES) -d djangojs
	$(PY) manage.py compilemessages -l th --ignore .venv

# Measurements, medians printed (never assertions): grading, marking, Q1, any network, variants,
# pages and requests, and a class-sized dry-run regrade (BENCH_ATTEMPTS, default 10,000).
bench: dev-deps
	$(PY) bench/bench_grading.py
	$(PY) bench/bench_marking.py
	$(PY) bench/bench_training.py
	$(PY) bench/bench_formulas.py
	$(PY) bench/bench_network.py
	$(PY) bench/bench_variants.py
	$(PY) bench/bench_pages.py
	$(PY) bench/bench_variant_pages.py
	$(PY) bench/bench_regrade.py
	$(PY) bench/bench_regrade_undecided.py
	$(PY) bench/bench_copying.py
	$(PY) bench/bench_exports.py

# A harsh deadline burst (STUDENTS, default 300, submitting within ±5 s of the due time, grace 0)
# through the production stack: nginx (Debian package) in front of 2 gunicorn and 2 task workers
# on a throwaway PostgreSQL; KILL=1 kills one gunicorn and one worker at the due time. Prints
# per-endpoint p50/p95/max, attempts sent against stored, on-time submits refused, grading lag.
loadtest: dev-deps
	$(PY) bench/loadtest/stack.py

# The older run without a proxy: gunicorn and one task worker on SQLite (LOADTEST_DATABASE_URL
# for another), submits in the last 10 s, then a login wave.
loadtest-sqlite: dev-deps
	$(PY) bench/loadtest/run.py

check: venv
	DJANGO_SECRET_KEY=check-$$RANDOM-$$RANDOM-a-long-enough-random-looking-secret-value-xyz \
	DJANGO_ALLOWED_HOSTS=grader.example.org $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles .pytest_cache

# Two commands do all set-up on a machine with only python3: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench venv dev-deps check clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

dev-deps: $(VENV)/.installed-dev

# The task worker (grading, regrades) runs beside the server and stops with it.
run: venv
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ with a task worker  (Ctrl-C stops both)"
	@DJANGO_DEBUG=1 $(PY) manage.py db_worker --interval 0.2 --no-reload -v 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	DJANGO_DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: dev-deps
	$(PY) -m pytest

bench: dev-deps
	$(PY) bench/bench_grading.py
	$(PY) bench/bench_marking.py
	$(PY) bench/bench_formulas.py
	$(PY) bench/bench_pages.py

check: dev-deps
	DJANGO_SECRET_KEY=check-$$RANDOM-$$RANDOM-a-long-enough-random-looking-secret-value-xyz \
	DJANGO_ALLOWED_HOSTS=grader.example.org $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles .pytest_cache

# Stageloop: `make run` to use it, `make test` to test it. Both set everything up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Embedded mode runs with DEBUG on (development secret key); production sets DEBUG=0 and SECRET_KEY.
export DEBUG ?= 1
export STAGELOOP_PORT ?= 8000

.PHONY: run test install install-dev migrate demo chromium lint format ci clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py seed_demo

## run: set up and start web + Celery worker + beat on http://127.0.0.1:8000 (Ctrl-C stops all)
run: demo
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	@echo "Stageloop on http://127.0.0.1:$(STAGELOOP_PORT)/ (Ctrl-C stops web, worker and beat)"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

## chromium: the system Chromium the browser tests drive (never a downloaded browser)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium from the system packages..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## test: install test tools and Chromium, run ruff and every test
test: install-dev chromium lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var

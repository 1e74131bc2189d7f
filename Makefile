# Stageloop: `make run` to use it, `make test` to test it. Both set everything up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The demo service and its e2e suite have their own environment, as a team's suite would.
DEMO_VENV := .venv-demo
# Embedded mode runs with DEBUG on (development secret key); production sets DEBUG=0 and SECRET_KEY.
export DEBUG ?= 1
export STAGELOOP_PORT ?= 8000

.PHONY: run serve admin test install install-dev install-demo migrate demo chromium lint format ci clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# The stageloop client (client/: CLI and pytest plugin), editable, as CI jobs install it.
$(VENV)/.installed-dev: requirements.txt requirements-dev.txt client/pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet -e ./client
	touch $@

$(DEMO_VENV)/.installed: demo/requirements.txt
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/pip install --quiet -r demo/requirements.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-demo: $(DEMO_VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --no-input

demo: migrate install-demo
	$(BIN)/python manage.py seed_demo --python "$(CURDIR)/$(DEMO_VENV)/bin/python"

## run: set up the demo and start web + Celery worker + beat on http://127.0.0.1:8000
## (Ctrl-C stops them and every demo service process that a deploy started)
run: demo
	@echo "Stageloop on http://127.0.0.1:$(STAGELOOP_PORT)/ (Ctrl-C stops web, worker, beat and deployed services)"
	@trap 'true' INT TERM; \
	  PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile; status=$$?; \
	  $(BIN)/python manage.py stop_local_services; exit $$status

## serve: production (DEBUG=0, gunicorn, no demo): the commands docker-compose.yml runs.
## Needs SECRET_KEY and ALLOWED_HOSTS; create the first admin with `make admin`.
serve: export DEBUG = 0
serve: install
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.production

## admin: create an administrator account (asks for its password)
admin: migrate
	$(BIN)/python manage.py createsuperuser

## chromium: the system Chromium the browser tests drive (never a downloaded browser)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium from the system packages..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## test: install test tools and Chromium, run ruff, mypy and every test
# LINT= skips the lint step (.ci/run lints once, then runs several test passes).
LINT ?= lint
test: install-dev chromium $(LINT)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_VENV) var

# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := launchpad.settings

.PHONY: run test install lint messages bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	mkdir -p var/broker var/broker-processed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Launchpad is starting on http://localhost:$(PORT)/"
	@echo "  Log in as demo / launchpad-demo (a change manager in the demo organisation)"
	@echo "  Admin: http://localhost:$(PORT)/admin/ as admin / launchpad-admin"
	@echo ""
	# Links in emails, images and QR codes follow the port, unless SITE_URL says otherwise.
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) SITE_URL="$${SITE_URL:-http://localhost:$(PORT)}" $(BIN)/honcho start

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Regenerate the Swedish catalogue after changing strings (needs gettext); the .mo is committed.
messages: install
	$(BIN)/python manage.py makemessages -l sv --no-obsolete --ignore=.venv --ignore=var --ignore=bench
	$(BIN)/python manage.py makemessages -d djangojs -l sv --no-obsolete --ignore=.venv --ignore=var --ignore=static/vendor
	$(BIN)/python manage.py compilemessages --ignore=.venv

bench: install
	$(BIN)/python -m bench

screenshots: install
	$(BIN)/python -m pytest tests/browser --screenshots

clean:
	rm -rf var/broker var/broker-processed var/outbox

# ECHoS Engage: `make run` for a local server, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi:app

.PHONY: run test install install-test compile translations translation-init lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

compile: install
	$(BIN)/pybabel compile -d translations

run: install compile
	$(BIN)/flask db upgrade
	$(BIN)/flask consent load
	$(BIN)/flask surveys load
	$(BIN)/flask demo load
	@echo "Serving on http://127.0.0.1:5000 (Ctrl+C to stop)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install-test compile
	$(BIN)/ruff check app tests bench migrations/env.py wsgi.py
	$(BIN)/pytest

lint: install-test
	$(BIN)/ruff check app tests bench migrations/env.py wsgi.py

# Extract every string, merge it into each catalogue, compile.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output --project "ECHoS Engage" .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --ignore-obsolete
	$(BIN)/pybabel compile -d translations

# Start a new language: make translation-init LANG=es
translation-init: install
	$(BIN)/pybabel init -i translations/messages.pot -d translations -l $(LANG)

bench: install-test compile
	$(BIN)/python bench/request_throughput.py
	$(BIN)/python bench/definition_load.py
	$(BIN)/python bench/respondent_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find . -name '*.mo' -delete

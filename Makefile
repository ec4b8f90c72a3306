# Shortcuts for the commands in README.md. `make help` lists them.
VENV := .venv
BIN := $(VENV)/bin
FAST := not browser and not lighthouse and not load
CASES := ../shared/clinical/vignettes.yaml tests/vignettes/*.yaml

.PHONY: help run test test-fast lint rules-check rules-test translations

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run:  ## Start the app on http://127.0.0.1:5000 (the README's run command)
	python3 -m venv $(VENV) && $(BIN)/pip install -e . && $(BIN)/flask --app symptomcheck run

# The test tools, installed once; `make test` and the others reuse them.
$(BIN)/pytest:
	python3 -m venv $(VENV)
	$(BIN)/pip install -e '.[test]'
	npm ci --no-audit --no-fund

test: $(BIN)/pytest  ## Run every test (browser, Lighthouse and load tests included)
	$(BIN)/python -m pytest

test-fast: $(BIN)/pytest  ## Run every test but the browser, Lighthouse and load tests
	$(BIN)/python -m pytest -m "$(FAST)"

lint: $(BIN)/pytest  ## ruff (lint and format) and strict mypy on the rules
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

rules-check: $(BIN)/pytest  ## Check rules.yaml
	$(BIN)/flask --app symptomcheck rules check

rules-test: $(BIN)/pytest  ## Run every worked case against rules.yaml
	$(BIN)/flask --app symptomcheck rules test $(CASES)

# Extract every patient text (templates, code, the questions, rules.yaml), update the Spanish catalog, compile it.
CATALOG := symptomcheck/translations
translations: $(BIN)/pytest  ## Extract every text, update the Spanish catalog and compile it
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext --no-location --sort-output -o $(CATALOG)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOG)/messages.pot -d $(CATALOG) --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(CATALOG)

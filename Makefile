# Shortcuts for the commands in README.md.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint rules-check rules-test translations

$(BIN)/flask:
	python3 -m venv $(VENV)
	$(BIN)/pip install -e '.[test]'
	npm ci

run: $(BIN)/flask
	$(BIN)/flask --app symptomcheck run

test: $(BIN)/flask
	$(BIN)/python -m pytest

lint: $(BIN)/flask
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

rules-check: $(BIN)/flask
	$(BIN)/flask --app symptomcheck rules check

rules-test: $(BIN)/flask
	$(BIN)/flask --app symptomcheck rules test ../shared/clinical/vignettes.yaml tests/vignettes/*.yaml

# Extract every patient text (templates, code, questions.py, rules.yaml), update the Spanish catalog, compile it.
CATALOG := symptomcheck/translations
translations: $(BIN)/flask
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext --no-location --sort-output -o $(CATALOG)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOG)/messages.pot -d $(CATALOG) --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(CATALOG)

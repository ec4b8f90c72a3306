# Shortcuts for the commands in README.md.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint rules-check rules-test

$(BIN)/flask:
	python3 -m venv $(VENV)
	$(BIN)/pip install -e '.[test]'

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

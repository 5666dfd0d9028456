# Set-up is part of every target: a fresh machine needs only Python >= 3.11 and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help setup chat test lint validate run bench seed clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)  ## create or update .venv from pyproject.toml

chat: $(STAMP)  ## talk to the bot in this terminal (no Telegram token needed)
	$(BIN)/navigator-bot chat

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check navigator_bot tests bench

validate: $(STAMP)  ## check the catalog
	$(BIN)/navigator-bot validate

test: lint validate  ## lint, validate the catalog, run the tests
	$(BIN)/python -m pytest

run: $(STAMP)  ## run the Telegram bot (needs NAVIGATOR_TELEGRAM_TOKEN)
	$(BIN)/navigator-bot run

seed: $(STAMP)  ## rewrite the packaged embedding seed after editing the shipped catalog
	$(BIN)/navigator-bot seed-embeddings

bench: $(STAMP)  ## print speed and memory figures
	$(BIN)/python bench/run_all.py

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache

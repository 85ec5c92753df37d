# Every target creates the virtualenv it needs, so each works on a fresh clone.
PYTHON_BOOTSTRAP ?= python3
VENV ?= venv
PYTHON := $(VENV)/bin/python
STACK ?= staging

.PHONY: render render-all test clean

$(VENV)/.runtime-installed: requirements.txt
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed requirements-dev.txt
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $@

## render: offline render of $(STACK) (default staging) into build/$(STACK)
render: $(VENV)/.runtime-installed
	$(PYTHON) -m tools.render $(STACK)

## render-all: both stacks
render-all: $(VENV)/.runtime-installed
	$(PYTHON) -m tools.render staging
	$(PYTHON) -m tools.render production

## test: the whole suite (unit, renders, validation against schemas)
test: $(VENV)/.dev-installed
	$(PYTHON) -m pytest

clean:
	rm -rf build .pytest_cache

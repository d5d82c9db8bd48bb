# Single entry point for developers and CI (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt
RESULTS ?= test-results
# Test processes (pytest-xdist). 0, the default, runs in one process; with
# 2 the lab tests are one unit of work on one of them and the rest go a
# module at a time to whichever is free (tests/conftest.py, LabScheduling).
# Not the default: on a 2-core machine the second process gained little
# and made a Keystone time out (doc/contributing.md, "Tests").
TEST_WORKERS ?= 0
XDIST := -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

.PHONY: venv browser lint test test-fast demo lab-down samples clean

# uv installs in a fraction of pip's time (doc/contributing.md); pip is the
# fallback when uv cannot be installed.
$(BIN)/.installed: pyproject.toml lab/pyproject.toml client/pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(PIP_INSTALL) uv || true
	if test -x $(BIN)/uv; then \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt \
	    -e '.[test]' -e ./lab -e './client[test]'; \
	else \
	  $(PIP_INSTALL) -e '.[test]' -e ./lab -e './client[test]'; \
	fi
	touch $@

venv: $(BIN)/.installed

# Debian's chromium and chromium-driver for the dashboard's browser tests.
browser:
	sh tools/ensure_browser.sh

# Style and errors of every package (one ruff configuration:
# pyproject.toml), the layering of the service ([tool.importlinter] there,
# doc/architecture.md "Layers"), the type hints of the modules listed under
# [tool.mypy] there, and the release notes (releasenotes/notes, reno). CI
# runs it first.
lint: venv
	$(BIN)/lint-imports
	$(BIN)/ruff check protector client dashboard lab tests tools
	$(BIN)/mypy
	$(BIN)/reno lint

# The whole suite: unit, functional (real Keystone, SQLite + MariaDB,
# RabbitMQ), the FlashArray simulator, the CLI, and the integration tests in
# the two-site lab (brought up if it is not running, and down afterwards).
test: venv browser
	mkdir -p $(RESULTS)
	$(BIN)/python -m pytest -ra $(XDIST) --junitxml=$(RESULTS)/junit.xml tests client/protectorclient/tests $(PYTEST_ARGS)

# Everything but the lab.
test-fast: venv
	$(BIN)/python -m pytest -ra $(XDIST) -m "not lab" tests client/protectorclient/tests $(PYTEST_ARGS)

# Bring the two-site lab up and run the DR drill through the real CLI.
demo: venv
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python tools/demo.py

lab-down: venv
	$(BIN)/protector-lab down

samples: venv
	$(BIN)/oslo-config-generator --config-file etc/protector/protector-config-generator.conf
	$(BIN)/oslopolicy-sample-generator --config-file etc/protector/protector-policy-generator.conf
	$(BIN)/python tools/gen_openapi.py

clean:
	rm -rf $(VENV) $(RESULTS) .pytest_cache

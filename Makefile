# Single entry point for developers and CI (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt
RESULTS ?= test-results
# Test processes (pytest-xdist). With 2, the default, the lab's tests are
# one unit of work on one process (they wait on the lab's clouds most of
# the time) while the other runs the rest a module at a time
# (tests/conftest.py, LabScheduling): on a 2-core machine CI took 28-31
# min instead of 48-51 in one process (doc/contributing.md, "Tests"). 0 runs
# everything in this process (the lab's tests last).
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder
# Without the lab, xdist's own order (the modules with the most tests
# first): less of a long module is left for the end, while the other
# process idles. (A module must pass whatever ran before it in its
# process: doc/contributing.md, "Tests".)
FAST_XDIST := -n $(TEST_WORKERS) --dist loadscope

.PHONY: venv browser lint test test-fast demo lab-down samples clean

# uv installs in a fraction of pip's time (doc/contributing.md); pip is the
# fallback when uv cannot be installed. --compile-bytecode: the .pyc files
# pip writes by default; without them every process compiles its imports
# again (and keeps nothing where PYTHONDONTWRITEBYTECODE is set).
$(BIN)/.installed: pyproject.toml lab/pyproject.toml client/pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(PIP_INSTALL) uv || true
	if test -x $(BIN)/uv; then \
	  $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt \
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
	$(BIN)/python -m pytest -ra $(FAST_XDIST) -m "not lab" tests client/protectorclient/tests $(PYTEST_ARGS)

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

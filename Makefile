# Set-up-free entry points: every target builds the venv (and Graphviz where it can) first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-pure lint bench docs grammar graphviz clean serve-demo accel

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[service,dev]'
	touch $(STAMP)

venv: $(STAMP)

# Graphviz's `dot` renders SVG/PNG/PDF. Installed from apt when missing; DOT text needs no binary.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "Graphviz 'dot' not found: installing it with apt-get"; \
	  ( $(SUDO) apt-get install -y -qq graphviz >/dev/null 2>&1 || \
	    ( $(SUDO) apt-get update -qq >/dev/null 2>&1 && $(SUDO) apt-get install -y -qq graphviz >/dev/null 2>&1 ) ) \
	  || echo "warning: could not install Graphviz; svg/png/pdf rendering will be unavailable"; }

# The hot modules of the compiler and of decomposition compiled with mypyc (om_dsl/accel,
# docs/architecture.md): 40% fewer instructions per compile (a 100k-line catalog in about
# 1.6 s).  Rebuilt when a source changed since the build, which is otherwise not used; skipped
# with a message where there is no C compiler (the package runs as Python).
# OM_DSL_REQUIRE_NATIVE=1 (CI) makes a failed build an error.
accel: $(STAMP)
	$(PY) -m om_dsl.accel build $(if $(filter-out 0,$(OM_DSL_REQUIRE_NATIVE)),--require)

# The suite runs on the native build, and the tests of what the build compiles (the compiler,
# decomposition, rules and expressions) run again as pure Python (what a plain `pip install`
# runs).  The pure run goes beside the build, whose C compile keeps one core busy for minutes,
# and the native run is spread over the cores by pytest-xdist (at most 4 workers; worksteal
# evens out the minute-long crash and benchmark tests).  PYTEST_JOBS= runs it in one process.
PYTEST_JOBS ?= -n auto --maxprocesses 4 --dist worksteal

test: $(STAMP) graphviz
	@echo "make test: the pure-Python run goes beside the native build; each shows its output when it ends"
	@$(MAKE) --no-print-directory -j2 --output-sync=target accel test-pure
	$(PY) -m pytest $(PYTEST_JOBS)

# test_native_build.py checks the build itself (it runs in the native run): not before it exists.
test-pure: $(STAMP)
	OM_DSL_PURE=1 $(PY) -m pytest tests/compiler tests/decomposition tests/rules tests/expr \
	  --ignore tests/compiler/test_native_build.py

lint: $(STAMP)
	$(VENV)/bin/ruff check om_dsl tests benchmarks examples
	$(VENV)/bin/ruff format --check om_dsl tests benchmarks examples
	$(VENV)/bin/mypy om_dsl
	$(VENV)/bin/om fmt --check examples/catalog

demo: $(STAMP) graphviz
	$(PY) -m om_dsl.demo

# The same example orders through the HTTP service (om serve): a CRM client, a field technician
# and a listener registered at POST /hub (om_dsl/service/demo.py, docs/service.md).
serve-demo: $(STAMP)
	$(PY) -m om_dsl.service.demo

bench: $(STAMP) accel
	$(PY) -m benchmarks

# Diagrams from the examples, and the code tables of the docs from om_dsl/codes.py.
docs: $(STAMP) graphviz
	$(PY) -m om_dsl.docs_build
	$(PY) -m om_dsl.codes

# After a change to om_dsl/grammar/om.lark: regenerate its parse table (om.tables.json).
grammar: $(STAMP)
	$(PY) -m om_dsl.syntax.tables

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache om_dsl/_accel.json
	find om_dsl -name '*.so' -delete

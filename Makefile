# merchflow — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-console lint openapi bench migrate mutate clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "merchflow needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

## run: install, migrate, seed the demo catalog on an empty database, serve on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/merch serve --demo

## test: install and run the whole suite against a real (embedded) PostgreSQL
test: $(STAMP)
	$(BIN)/python -m pytest

## test-console: the console's browser tests (tests/console): Debian's chromium (apt-get install chromium) driven by
## playwright against `merch serve --demo`; screenshots in .merchflow/console/
test-console: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[console]'
	$(BIN)/python -m pytest tests/console

migrate: $(STAMP)
	$(BIN)/merch migrate

## lint: ruff, mypy (strict) and a dependency audit (pip-audit; it says so when it could not audit)
lint: $(STAMP)
	$(BIN)/ruff check api domain tests bench tools
	$(BIN)/mypy
	$(BIN)/python tools/audit.py

## mutate: the kept list of mutants (tests/mutation.py), then generated mutants of the rule modules (at most 10
## per module), one at a time with the tests that cover it; prints the scores and the survivors
mutate: $(STAMP)
	$(BIN)/python -m tests.mutation; kept=$$?; $(BIN)/python -m tests.mutation --generated && exit $$kept

## openapi: regenerate the committed openapi/openapi.json and the README role table from the app
openapi: $(STAMP)
	$(BIN)/python -m api.openapi > openapi/openapi.json
	$(BIN)/python -m api.roles --update README.md
	$(BIN)/python -m api.problems --update README.md

## bench: the benchmarks of bench/ (never part of make test); figures go to bench/RESULTS.md by hand
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || echo "install wrk for the HTTP benchmark"
	$(BIN)/python -m bench.servers
	$(BIN)/python -m bench.completeness
	$(BIN)/python -m bench.stock
	$(BIN)/python -m bench.reads
	$(BIN)/python -m bench.storefront
	$(BIN)/python -m bench.replicas

clean:
	rm -rf $(VENV) *.egg-info

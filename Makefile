# One entry point for the dev loop. Needs only python3 and make; everything else is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

NPM_STAMP := tests/npm/node_modules/.installed

.PHONY: run setup test test-pg check lint typecheck schema seed bench soak clean npm-tools browser

$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

# Node tools the tests drive (GraphQL-over-HTTP audit, federation composition); skipped where npm is absent.
$(NPM_STAMP): tests/npm/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/npm && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: tests that need Node will skip"; fi

npm-tools:
	@$(MAKE) -s $(NPM_STAMP)

# Debian's Chromium for the GraphiQL browser test; installed only as root with apt, else that test skips.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (Debian) for the browser test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "could not install chromium: the browser test will skip"; \
	else echo "chromium not found and not installable here: the browser test will skip"; fi

setup: $(STAMP)
	$(BIN)/python cli.py setup

run: setup
	PORT=$(PORT) $(BIN)/python server.py

test: $(STAMP) npm-tools
	$(BIN)/python -m pytest -q

test-pg: $(STAMP) npm-tools
	ZHIYUAN_TEST_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

check: lint typecheck test

schema: $(STAMP)
	$(BIN)/python -c "from schema import schema; open('schema.graphql', 'w').write(schema.as_str() + '\n')"

seed: $(STAMP)
	$(BIN)/python cli.py seed-demo --volunteers $(or $(VOLUNTEERS),2000)

lock:
	$(BIN)/python -m pip install --quiet uv && $(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock

# Benchmark harness (bench/README.md): TIER=S|M, BACKEND=sqlite|postgres, DURATION seconds per measurement,
# BENCH_ARGS=--skip-generate to reuse bench/.data/. Writes bench/RESULTS.<tier>-<backend>.part.md and a PNG.
bench: $(STAMP)
	$(BIN)/python bench/run.py --tier $(or $(TIER),S) --backend $(or $(BACKEND),sqlite) --duration $(or $(DURATION),5) $(BENCH_ARGS)

# Memory soak (bench/README.md): SOAK seconds of mixed reads on the already generated tier, RSS every 5 s.
soak: $(STAMP)
	$(BIN)/python bench/run.py --tier $(or $(TIER),M) --backend $(or $(BACKEND),sqlite) --skip-generate --soak $(or $(SOAK),600) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Two commands for a fresh machine (Python 3.11+ and pip): `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KEEP ?= 0

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	infra/setup/system-packages.sh
	touch $(STAMP)

# Brings the embedded stack up (servers and both processors), generates a small
# synthetic province and publishes it through the SDK, waits for the processors to
# apply it, shows a household with its history and the rejections by reason, the
# province's indicators for 2025 and its population pyramid (read from ClickHouse
# while the processors run), replays the registry as of 2024-12-31 as known then and
# as known now (late registrations make the difference) from a checkpoint, lists what
# changed in one commune during 2025, verifies the live registry against the log, prints
# the province's annual report (PDF), projects its population to 2035 (stored for
# analysts) and prints the portal's address, then stops everything
# it started (KEEP=1 leaves it running, the portal with it).
demo: $(STAMP)
	@set -e; \
	if [ "$(KEEP)" != 1 ]; then trap '$(BIN)/popreg down' EXIT; fi; \
	$(BIN)/popreg up; \
	$(BIN)/popreg status; \
	$(BIN)/popreg synth --province 96 --households 2000 --years 2020-2025 --seed 7 \
	  --publish --output $${POPREG_DATA_DIR:-.popreg}/demo-events.jsonl; \
	$(BIN)/popreg wait; \
	$(BIN)/popreg household H96-000001; \
	$(BIN)/popreg rejections; \
	$(BIN)/popreg indicators --level province --code 96 --period 2025; \
	$(BIN)/popreg pyramid --level province --code 96 --on 2025-12-31; \
	$(BIN)/popreg checkpoint --settled-through 2024-06-30; \
	$(BIN)/popreg replay --as-of 2024-12-31 --known-at 2025-01-01T00:00:00Z \
	  --out $${POPREG_DATA_DIR:-.popreg}/replay/2024-as-known-then; \
	$(BIN)/popreg replay --as-of 2024-12-31 --out $${POPREG_DATA_DIR:-.popreg}/replay/2024-as-known-now; \
	$(BIN)/popreg audit diff --from 2024-12-31 --to 2025-12-31 --commune 32014 --limit 8; \
	$(BIN)/popreg audit verify; \
	$(BIN)/popreg report --province 96 --year 2025 --out $${POPREG_DATA_DIR:-.popreg}/reports/ca-mau-2025.pdf; \
	$(BIN)/popreg forecast --level province --code 96 --base-date 2025-12-31 --until 2035 --variant all --store; \
	$(BIN)/popreg status; \
	$(BIN)/python -c "from schemas.settings import Settings; s = Settings(); \
	  print(f'The portal: {s.portal_url} (users ca-mau and national; passwords in {s.portal_password_file(\"<user>\")})')"; \
	if [ "$(KEEP)" = 1 ]; then \
	  echo "The stack is still running (KEEP=1). Stop it with: $(BIN)/popreg down"; \
	fi

# Measures popreg against baselines taken in the same run, on a scratch stack;
# writes results.json, results.md and the stack's logs to bench/runs/latest-$(SCALE)/
# (rename a run worth keeping to bench/runs/<date>-<scale>[-<label>].{md,json}: see
# bench/README.md). SCALE=province for Cà Mau scale.
SCALE ?= small
bench: $(STAMP)
	$(BIN)/popreg bench --scale $(SCALE) --out bench/runs/latest-$(SCALE)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

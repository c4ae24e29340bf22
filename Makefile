# Dropflow. Quick start: `make demo` (local stack) and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
TEMPORAL_CLI_VERSION := v1.5.1
STATICCHECK_VERSION := v0.8.2
WORKFLOWCHECK_VERSION := v0.6.0
GOVULNCHECK_VERSION := v1.9.0
# The Go vulnerability database, as a module (vuln.go.dev is not reachable here).
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
export TEMPORAL_CLI := $(BIN)/temporal
# Go 1.27.3, fetched once from the module proxy: 1.26.8's standard library has
# advisories Dropflow's code reaches (govulncheck in `make lint`).
export GOTOOLCHAIN := go1.27.3

.PHONY: all build demo demo-snowflake test test-snowflake test-deps bench soak lint generate-data docker-up docker-down validate monitor clean

## all: build the binaries and the pinned Temporal CLI
all: build $(BIN)/temporal

## build: bin/worker and bin/starter
build:
	$(GO) build -o $(BIN)/worker ./worker
	$(GO) build -o $(BIN)/starter ./starter

# The pinned Temporal CLI (Server 1.29.1, UI 2.42.1), built from the module proxy once.
$(BIN)/temporal:
	@echo "building Temporal CLI $(TEMPORAL_CLI_VERSION) into bin/ (first time only, about 3 minutes)"
	GOTOOLCHAIN=local GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

## demo: start Temporal, a broker and the worker; run the pipeline; serve until Ctrl-C
demo: build $(BIN)/temporal
	$(BIN)/starter demo --data data --worker $(BIN)/worker --temporal-cli $(BIN)/temporal

## demo-snowflake: the same demo on the Snowflake path (gosnowflake against the local
## Snowflake-protocol server on 127.0.0.1:8085, DuckDB files in data/snowemu)
demo-snowflake: build $(BIN)/temporal
	$(BIN)/starter demo --snowflake-emulator --data data --worker $(BIN)/worker --temporal-cli $(BIN)/temporal

## test: every test, including the end-to-end pipeline on a real dev server
test: $(BIN)/temporal test-deps
	$(GO) test -count=1 -timeout 25m ./...
	@[ -n "$$SNOW_ACCOUNT" ] || echo "TestPipelineOnSnowflakeAccount: SKIPPED, NOT A PASS (no SNOW_ACCOUNT): see README, Snowflake"

## test-snowflake: the pipeline against a real Snowflake account (needs SNOW_ACCOUNT, SNOW_USER,
## SNOW_PASSWORD or SNOW_PRIVATE_KEY_PATH); fails rather than skips without them
test-snowflake: $(BIN)/temporal
	@test -n "$$SNOW_ACCOUNT" || { echo "test-snowflake: set SNOW_ACCOUNT, SNOW_USER and SNOW_PASSWORD or SNOW_PRIVATE_KEY_PATH"; exit 1; }
	$(GO) test -count=1 -timeout 20m -run '^TestPipelineOnSnowflakeAccount$$' -v ./internal/e2e

## test-deps: Debian's chromium (dashboard test) and prometheus (promtool), when missing
test-deps:
	@need=""; command -v chromium >/dev/null || need="$$need chromium"; command -v promtool >/dev/null || need="$$need prometheus"; command -v kcat >/dev/null || need="$$need kcat"; \
	if [ -n "$$need" ]; then \
	  echo "installing Debian packages:$$need"; SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$need >/dev/null; \
	fi

## bench: produce/ingest throughput, freshness and worker RSS against plain baselines in the
## same run (BENCH_EVENTS, default 1000000), then the Appender vs row-INSERT micro-benchmark;
## writes reports/bench.json
BENCH_EVENTS ?= 1000000
BENCH_FLEET_EVENTS ?= 100000
bench: $(BIN)/temporal
	set -o pipefail; BENCH_EVENTS=$(BENCH_EVENTS) $(GO) test -run '^$$' -bench BenchmarkPipeline -benchtime 1x -timeout 40m ./internal/bench/ | grep -v '^\s*bench_test.go'
	@# (no tee /dev/stderr: on a redirected make it would reopen, and truncate, the log)
	@out=$$($(GO) test -run '^$$' -bench BenchmarkLoadBatch -benchtime 5x ./internal/warehouse/duckdb/) || { echo "$$out"; exit 1; }; echo "$$out"; \
	  echo "$$out" | awk '/appender/ {a=$$3} /row-inserts-baseline/ {r=$$3} END { if (a && r) printf "batch load (Appender, 1 tx per 2,000 rows) speed-up over row inserts (prepared INSERT, 1 tx per 10 rows): %.0fx\n", r/a; else exit 1 }'
	@echo "Ingest on the Snowflake path (emulator) with 1 and 2 worker processes (same 2 cores: the overhead of spreading partitions, not a speed-up):"
	@BENCH_FLEET_EVENTS=$(BENCH_FLEET_EVENTS) $(GO) test -run '^$$' -bench BenchmarkSnowflakeWorkers -benchtime 1x -timeout 20m ./internal/bench/ 2>/dev/null | grep '^ingest'
	@echo "Snowflake load paths through gosnowflake against the local emulator (client side and round trips, not Snowflake's server time):"
	@# gosnowflake logs the setup's probe of a database not yet created on the benchmark's line: join name and figures.
	@$(GO) test -run '^$$' -bench BenchmarkSnowflakeLoadPaths -benchtime 3x ./internal/snowemu/ 2>/dev/null | sed 's/time=.*LOG_SESSION_ID=[0-9]*//' | \
	  awk '/^Benchmark/ { if ($$2 ~ /^[0-9]+$$/) print; else name = $$1; next } name && /ns\/op/ { print name, $$0; name = "" }'

## lint: gofmt, go vet, staticcheck, Temporal's workflowcheck, govulncheck (fails on any
## vulnerable symbol Dropflow calls, except those .govulncheck-allow explains)
lint: $(BIN)/vulndb/index/db.json
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	$(GO) run go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION) ./workflows/...
	set -o pipefail; $(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db file://$(BIN)/vulndb -format json ./... | $(GO) run ./internal/cmd/vulngate .govulncheck-allow

# The vulnerability database in govulncheck's file layout, indexed from the
# vulndb module's OSV files (about a minute, once).
$(BIN)/vulndb/index/db.json:
	@echo "indexing the Go vulnerability database $(VULNDB_VERSION) into bin/vulndb"
	@dir=$$(cd /tmp && $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'); \
	  test -d "$$dir/data/osv" || { echo "vulndb module has no data/osv"; exit 1; }; \
	  rm -rf $(BIN)/vulndb; $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$dir/data/osv" -out $(BIN)/vulndb

## soak: the chaos test at length, not in CI: 20 random SIGKILLs (worker, broker, Temporal)
## over a 1M-event run (CHAOS_WAREHOUSE=snowflake adds the warehouse; CHAOS_SEED repeats a run)
soak: $(BIN)/temporal
	CHAOS_SOAK=1 $(GO) test -count=1 -timeout 70m -run '^TestChaosSoak$$' -v ./internal/e2e/ | grep -E 'chaos_test|^(---|ok|FAIL)'

## generate-data: write data/seed/{customers,inventory,orders}.csv locally (no Temporal needed)
generate-data: build
	$(BIN)/starter generate --output-dir data/seed

## docker-up / docker-down: the same stack on Docker (Redpanda, Console, Temporal, worker)
docker-up:
	docker compose up -d --build
	@echo "Temporal UI http://localhost:8233 · Redpanda Console http://localhost:8081 · dashboard http://localhost:8080"

docker-down:
	docker compose down

## validate: run the validation against the running stack (exit 1 on FAIL)
validate: build
	$(BIN)/starter validate

## monitor: follow the dashboard's figures in the terminal (the page is http://127.0.0.1:8080)
monitor: build
	$(BIN)/starter monitor

clean:
	rm -rf $(BIN)/worker $(BIN)/starter data reports

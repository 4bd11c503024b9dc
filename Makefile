# ILP Kit. `make run` starts the kit, `make test` runs every test.
GO        ?= go
FUZZTIME  ?= 10s
BENCHTIME ?= 1s

.PHONY: all build run test vet fmt-check race bench bench-go bench-pg fuzz clean screenshots axe

all: build

build:
	$(GO) build -o bin/ilpkit ./cmd/ilpkit

# Runs the kit on the embedded SQLite database in ./data (http://localhost:3010).
run:
	$(GO) run ./cmd/ilpkit serve $(ARGS)

# The whole suite: formatting, vet, and every test under the race detector.
# scripts/with-pg runs the tests beside a throwaway PostgreSQL cluster (unix
# socket only, fsync off) and stops it afterwards, also when they fail;
# without PostgreSQL installed the PostgreSQL tests skip, unless CI=true.
test: fmt-check vet axe
	scripts/with-pg $(GO) test -race -count=1 -timeout 30m ./...

vet:
	$(GO) vet ./...

# axe-core from npm into .cache/axe-core/ for the UI's accessibility test
# (once; without npm the test skips, unless CI=true).
axe:
	@scripts/fetch-axe

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Benchmarks (performance targets live here, never in unit tests). The
# PostgreSQL ones run on a throwaway cluster with its durable settings
# (PG_FSYNC=on); each benchmark name states its durability mode. bench-pg
# then compares the PostgreSQL balance change with pgbench on that server.
bench:
	PG_FSYNC=on scripts/with-pg $(MAKE) --no-print-directory bench-go bench-pg

bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./... | tee bench.out | grep -E '^(Benchmark|ok|---|pkg:)'

# pgbench against backend/sql on the same server (starts its own fsync=on
# cluster when ILPKIT_TEST_POSTGRES is not set); PGBENCH_SECONDS per run.
bench-pg:
	GO=$(GO) scripts/bench-pg

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

# A PNG of every page of the web UI at 1280x800 and 375x812, written to
# screenshots/<page>-<width>.png (needs Chromium; make test runs the same
# visit, checking the 375 px layout, without writing files).
screenshots:
	mkdir -p screenshots
	ILPKIT_UI_SCREENSHOTS=$(CURDIR)/screenshots CI=true $(GO) test -count=1 -run '^TestUIScreenshots$$' ./cmd/ilpkit/

clean:
	rm -rf bin bench.out

# ILP Kit. `make run` starts the kit, `make test` runs every test.
GO        ?= go
FUZZTIME  ?= 10s
BENCHTIME ?= 1s

.PHONY: all build run test vet fmt-check race bench fuzz clean

all: build

build:
	$(GO) build -o bin/ilpkit ./cmd/ilpkit

run:
	$(GO) run ./cmd/ilpkit $(ARGS)

# The whole suite: formatting, vet, and every test under the race detector.
test: fmt-check vet
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Benchmarks (performance targets live here, never in unit tests).
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./... | tee bench.out | grep -E '^(Benchmark|ok|---|pkg:)'

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

clean:
	rm -rf bin bench.out

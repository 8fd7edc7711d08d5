# StackHub — build, run, test.
#
#   make run     build stackhub and start it (`stackhub up`): apps at
#                https://<app>.localhost, data in ./.data
#   make test    every test, on the real Docker Engine (CI runs this)
#   make compose the Compose CLI as bin/docker-compose (`bin/docker-compose ls`)
#   make bench   benchmarks
#   make fuzz    a short run of every fuzz target

GO      ?= go
BIN     := bin/stackhub
DATA    ?= $(CURDIR)/.data
DOMAIN  ?= localhost
# Extra flags for `stackhub up`, e.g. RUN_FLAGS="--https-port 8443".
RUN_FLAGS ?=
FUZZTIME ?= 20s

.PHONY: all build run compose test deps check bench fuzz lint clean

all: build

# Static (no cgo): on a Docker Swarm the binary is also the only file of
# the relay image (docs/SWARM.md).
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/stackhub

run: build
	$(BIN) up --domain $(DOMAIN) --data $(DATA) $(RUN_FLAGS)

# The Compose CLI, built from the Compose module StackHub itself uses (a Go
# tool of this module): apps are Compose projects, and hosts that have only
# the old docker-compose 1.x (Debian's) cannot read them.
compose:
	$(GO) build -o bin/docker-compose github.com/docker/compose/v5/cmd

# The tests need Go, and a Docker Engine the current user may use; deps
# checks both and says what to do when one is missing. Pebble (the ACME
# test CA) is a Go tool of this module, built by the tests themselves.
deps:
	@command -v $(GO) >/dev/null || { echo "Go is required: https://go.dev/dl/"; exit 1; }
	@command -v docker >/dev/null || { echo "Docker is required: install docker.io (Debian) and start it"; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "Docker is installed but not reachable: start it (systemctl start docker) or add your user to the docker group"; exit 1; }
	@# Chromium for the browser sign-in test (skipped without it, except in CI).
	@command -v chromium >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	  else echo "Chromium is needed by the browser test: sudo apt-get install -y chromium"; fi; }

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

# The end-to-end package runs after the others, alone: its browser test
# must not overlap Docker tests of other packages, whose network changes
# make Chromium abort page loads (ERR_NETWORK_CHANGED).
# Both runs happen even when the first fails, so every failing package is
# reported; make fails if either did.
test: deps lint
	@st=0; \
	$(GO) test -count=1 -timeout 40m $$($(GO) list ./... | grep -v '/cmd/stackhub$$') || st=1; \
	$(GO) test -count=1 -timeout 40m ./cmd/stackhub || st=1; \
	if [ $$st != 0 ]; then echo "make test: FAILED (the FAIL lines above name each failing package)"; fi; \
	exit $$st

# Go benchmarks, then the side-by-side comparisons (bench-* targets below).
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(MAKE) bench-dns
	$(MAKE) bench-gate

fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin

# Queries/s of StackHub's DNS zone server vs CoreDNS on the same zone of
# 1,000 names (dnsperf, installed with apt if missing; CoreDNS built with
# go install into a temporary folder). Settings: see dns/bench/run.sh.
.PHONY: bench-dns
bench-dns:
	GO=$(GO) dns/bench/run.sh

# Requests/s and p50/p99 of a private app behind stackhub_gate with a valid
# app cookie vs the same upstream behind a plain reverse_proxy site: same
# binary, same server, same run (goal: the gate keeps >= 95% of plain).
# Settings: BENCH_WORKERS (8), BENCH_ROUND (4s, three rounds each).
.PHONY: bench-gate
bench-gate:
	@out=$$(mktemp); STACKHUB_BENCH_GATE=1 $(GO) test -count=1 -run '^TestBenchGate$$' -v ./cmd/stackhub >$$out 2>&1; st=$$?; \
	  if [ $$st = 0 ]; then grep '^bench-gate' $$out; else cat $$out; fi; rm -f $$out; exit $$st

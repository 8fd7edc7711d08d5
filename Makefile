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
	@# Chromium for the browser tests (skipped without it, except in CI), and ip
	@# (iproute2) to run it in a network namespace of its own (internal/browsertest).
	@{ command -v chromium >/dev/null && command -v ip >/dev/null; } || { if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium iproute2; \
	  else echo "Chromium and iproute2 are needed by the browser tests: sudo apt-get install -y chromium iproute2"; fi; }
	@# restic (the backup engine), sshd and rclone (the SFTP and REST-server repositories of the backup tests).
	@{ command -v restic >/dev/null && test -x /usr/sbin/sshd && command -v rclone >/dev/null; } || { if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y restic openssh-server rclone; \
	  else echo "restic (the backup engine), openssh-server and rclone (for the backup tests) are missing: sudo apt-get install -y restic openssh-server rclone"; fi; }

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

# The swarm package runs alone after the others (it makes the engine a
# single-node Swarm for a while, which changes the engine's networks).
# The end-to-end package runs after the others, alone: its browser test
# must not overlap Docker tests of other packages, whose network changes
# make Chromium abort page loads (ERR_NETWORK_CHANGED).
# Both runs happen even when the first fails, so every failing package is
# reported; make fails if either did.
test: deps lint
	@st=0; \
	$(GO) test -count=1 -timeout 40m $$($(GO) list ./... | grep -v -e '/cmd/stackhub$$' -e '/swarm$$') || st=1; \
	$(GO) test -count=1 -timeout 20m ./swarm || st=1; \
	$(GO) test -count=1 -timeout 40m ./cmd/stackhub || st=1; \
	if [ $$st != 0 ]; then echo "make test: FAILED (the FAIL lines above name each failing package)"; fi; \
	exit $$st

# The benchmark harness (bench/, TestBench): every row of
# docs/BENCHMARKS.md measured against its baseline in the same run, in
# alternating rounds; writes docs/BENCHMARKS.md, bench/results.json and
# pprof profiles in bench/profiles/. About 10-15 minutes. Installs Debian's
# dnsperf when missing (as root) and builds CoreDNS once into ~/.cache.
# Settings: BENCH_ROUNDS (5), BENCH_DURATION (4s), STACKHUB_STORE_SAMPLES.
bench: deps
	STACKHUB_BENCH=1 $(GO) test -count=1 -timeout 30m -run '^TestBench$$' -v ./bench
	$(MAKE) bench-backup

# Go's own micro-benchmarks of every package (not part of `make bench`).
.PHONY: bench-go
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

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

# StackHub's backup of an app with 1 GB of mixed files (first, then
# incremental after 1% of the files changed) vs the plain `restic backup`
# CLI on the same folder in the same run, and the downtime of updates of the
# two-service test app. Settings: BENCH_BACKUP_MB (1024).
.PHONY: bench-backup
bench-backup:
	@out=$$(mktemp); STACKHUB_BENCH_BACKUP=1 $(GO) test -count=1 -timeout 30m -run '^TestBenchBackup$$' -v ./appctl >$$out 2>&1; st=$$?; \
	  if [ $$st = 0 ]; then grep '^bench-backup' $$out; else cat $$out; fi; rm -f $$out; exit $$st

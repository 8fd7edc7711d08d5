#!/usr/bin/env bash
# Queries per second of StackHub's zone server vs CoreDNS serving the same
# zone of 1,000 app names, side by side in one run, measured with the same
# load tool (dnsperf) and the same query file. `make bench-dns` runs it.
#
# Each server is measured alone (the other idles), in alternating rounds;
# the report gives the median of each. By default servers and dnsperf share
# every CPU, as a server would use all cores in production. PIN=1 pins the
# server to SERVER_CPUS (default 0) and dnsperf to LOAD_CPUS (default the
# rest) with taskset: less noise from the load tool, but a one-core server,
# which hurts a goroutine-per-query design such as CoreDNS's much more than
# ours (on a 2-CPU box: ~5x instead of ~1.7x), so it is not the default.
#
# Settings (environment):
#   DURATION=10        seconds of measured load per server and round
#   ROUNDS=3           rounds, alternating which server goes first
#   WARMUP=3           seconds of unmeasured load before each measure
#   NAMES=1000         app hosts in the zone
#   CLIENTS=8          dnsperf clients (source ports)
#   OUTSTANDING=100    dnsperf queries in flight
#   EDNS=0             1: queries carry an EDNS0 OPT record (dnsperf -e)
#   MODE=udp           udp or tcp
#   PIN=0              1: pin server and dnsperf to separate CPUs (see above)
#   COREDNS_VERSION=v1.15.0   built with `go install` into a temporary folder
#   COREDNS=/path/to/coredns  use this binary instead of building one
#   PORT_OURS=53531 PORT_COREDNS=53532
set -euo pipefail

cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-3}
NAMES=${NAMES:-1000}
CLIENTS=${CLIENTS:-8}
OUTSTANDING=${OUTSTANDING:-100}
EDNS=${EDNS:-0}
MODE=${MODE:-udp}
COREDNS_VERSION=${COREDNS_VERSION:-v1.15.0}
PORT_OURS=${PORT_OURS:-53531}
PORT_COREDNS=${PORT_COREDNS:-53532}
ZONE=bench.example.com
BOX=192.168.1.10
GO=${GO:-go}

if ! command -v dnsperf >/dev/null; then
	echo "dnsperf is missing: installing Debian's dnsperf package" >&2
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get install -y dnsperf >&2 || { $SUDO apt-get update >&2 && $SUDO apt-get install -y dnsperf >&2; }
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building the StackHub zone server (dns/bench)…" >&2
$GO build -o "$tmp/stackhub-dns" ./dns/bench

if [ -z "${COREDNS:-}" ]; then
	echo "building CoreDNS $COREDNS_VERSION with go install (a few minutes the first time)…" >&2
	if ! (cd "$tmp" && GOBIN="$tmp/bin" GOFLAGS= $GO install "github.com/coredns/coredns@$COREDNS_VERSION") >"$tmp/coredns-build.log" 2>&1; then
		echo "CoreDNS $COREDNS_VERSION did not build with $($GO version):" >&2
		tail -20 "$tmp/coredns-build.log" >&2
		exit 1
	fi
	COREDNS="$tmp/bin/coredns"
fi

# The same zone for both: SOA, NS, apex, my., ns1. and NAMES app hosts.
{
	printf '$ORIGIN %s.\n$TTL 60\n' "$ZONE"
	printf '@ IN SOA ns1.%s. hostmaster.%s. 1 3600 600 604800 60\n' "$ZONE" "$ZONE"
	printf '@ IN NS ns1.%s.\n@ IN A %s\nmy IN A %s\nns1 IN A %s\n' "$ZONE" "$BOX" "$BOX" "$BOX"
	for ((i = 0; i < NAMES; i++)); do printf 'app%04d IN A %s\n' "$i" "$BOX"; done
} >"$tmp/db.zone"
cat >"$tmp/Corefile" <<EOF
$ZONE:$PORT_COREDNS {
	bind 127.0.0.1
	file $tmp/db.zone
}
EOF

# The query mix: every app host (A), 10% unknown names (NXDOMAIN), 10%
# AAAA of app hosts (NODATA), and the apex and portal; shuffled the same
# way for both servers.
{
	for ((i = 0; i < NAMES; i++)); do printf 'app%04d.%s A\n' "$i" "$ZONE"; done
	for ((i = 0; i < NAMES / 10; i++)); do printf 'missing%04d.%s A\n' "$i" "$ZONE"; done
	for ((i = 0; i < NAMES / 10; i++)); do printf 'app%04d.%s AAAA\n' "$((i * 7 % NAMES))" "$ZONE"; done
	printf '%s A\n%s SOA\nmy.%s A\n' "$ZONE" "$ZONE" "$ZONE"
} | shuf --random-source=<(yes) >"$tmp/queries"

server_pin=() load_pin=()
if [ "${PIN:-0}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	SERVER_CPUS=${SERVER_CPUS:-0}
	if [ -z "${LOAD_CPUS:-}" ]; then
		LOAD_CPUS=1
		[ "$(nproc)" -gt 2 ] && LOAD_CPUS=1-$(($(nproc) - 1))
	fi
	server_pin=(taskset -c "$SERVER_CPUS")
	load_pin=(taskset -c "$LOAD_CPUS")
fi

perf_flags=(-m "$MODE" -s 127.0.0.1 -d "$tmp/queries" -c "$CLIENTS" -q "$OUTSTANDING" -t 2)
[ "$EDNS" = 1 ] && perf_flags+=(-e)

# measure NAME PORT: a WARMUP s warm-up, then DURATION seconds into $tmp/NAME.out.
measure() {
	"${load_pin[@]}" dnsperf "${perf_flags[@]}" -p "$2" -l "$WARMUP" >/dev/null 2>&1 || true
	"${load_pin[@]}" dnsperf "${perf_flags[@]}" -p "$2" -l "$DURATION" >"$tmp/$1.out" 2>&1
}

wait_port() { # wait until something answers on udp/tcp 127.0.0.1:$1
	for _ in $(seq 100); do
		if dnsperf -s 127.0.0.1 -p "$1" -d <(echo "$ZONE SOA") -n 1 -t 1 2>/dev/null | grep -q 'Queries completed: *1 '; then
			return 0
		fi
		sleep 0.1
	done
	echo "nothing answers on port $1" >&2
	return 1
}

echo "StackHub zone server on 127.0.0.1:$PORT_OURS…" >&2
"${server_pin[@]}" "$tmp/stackhub-dns" -listen "127.0.0.1:$PORT_OURS" -zone "$ZONE" -n "$NAMES" -addr "$BOX" >"$tmp/ours.log" 2>&1 &
pids+=($!)
echo "CoreDNS $("$COREDNS" -version | head -1) on 127.0.0.1:$PORT_COREDNS…" >&2
(cd "$tmp" && exec "${server_pin[@]}" "$COREDNS" -conf "$tmp/Corefile" -quiet) >"$tmp/coredns.log" 2>&1 &
pids+=($!)
wait_port "$PORT_OURS"
wait_port "$PORT_COREDNS"

# Rounds alternate the order, so background noise on a shared machine
# falls on both; an idle server takes no CPU while the other is measured.
field() { awk -v k="$2" 'index($0, k) { sub(/^[^:]*: */, ""); print; exit }' "$tmp/$1.out"; }
qps() { field "$1" "Queries per second:" | awk '{printf "%.0f", $1}'; }
all_ours=() all_core=()
for ((r = 1; r <= ROUNDS; r++)); do
	order=(ours coredns)
	((r % 2 == 0)) && order=(coredns ours)
	for s in "${order[@]}"; do
		port=$PORT_OURS
		[ "$s" = coredns ] && port=$PORT_COREDNS
		measure "$s" "$port"
		q=$(qps "$s")
		if [ -z "$q" ]; then
			echo "dnsperf gave no result for $s:" >&2
			cat "$tmp/$s.out" >&2
			exit 1
		fi
		lost=$(field "$s" 'Queries lost:' | awk '{print $1}')
		codes=$(field "$s" 'Response codes:')
		if [ "$s" = ours ]; then all_ours+=("$q"); else all_core+=("$q"); fi
		printf 'round %d  %-8s %9s q/s  lost %s  %s\n' "$r" "$s" "$q" "$lost" "$codes" >&2
	done
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
q_ours=$(median "${all_ours[@]}")
q_core=$(median "${all_core[@]}")

echo
echo "Zone of $NAMES app names, $(wc -l <"$tmp/queries") distinct queries (A hits, 10% NXDOMAIN, 10% AAAA NODATA), $MODE, EDNS=$EDNS"
echo "dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2}') -c $CLIENTS -q $OUTSTANDING; $ROUNDS rounds of ${DURATION}s per server; $(nproc) CPUs${SERVER_CPUS:+, servers pinned to CPU $SERVER_CPUS, dnsperf to CPU $LOAD_CPUS}; $($GO version | awk '{print $3}'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-20s %12s   %s\n' server "median q/s" "rounds"
printf '%-20s %12s   %s\n' "StackHub dns" "$q_ours" "${all_ours[*]}"
printf '%-20s %12s   %s\n' "CoreDNS ${COREDNS_VERSION}" "$q_core" "${all_core[*]}"
awk -v a="$q_ours" -v b="$q_core" 'BEGIN { printf "ratio StackHub / CoreDNS: %.2fx (goal >= 1.3x)\n", a / b }'

// Package bench is StackHub's benchmark harness (`make bench`): it measures
// each figure of docs/BENCHMARKS.md against its baseline side by side, in
// the same run, in alternating rounds, and writes that document and
// bench/results.json.
//
// Rows: proxy (the gate with a valid cookie vs a plain reverse_proxy),
// gate miss (signed-out and invalid-cookie requests vs a plain redirect),
// DNS (dns/bench/run.sh: our zone server vs CoreDNS), footprint (RSS,
// goroutines and start-to-ready of stackhub vs plain Caddy in the same
// binary), install latency (stackhub vs `docker compose up -d --wait`),
// route churn (app A under load while app B is installed and removed, vs a
// quiet run) and catalog (loading and searching stores vs reading their
// files).
//
// The harness runs inside `go test` (TestBench, and a quick smoke run in
// cmd/stackhub), because it reuses internal/dockertest, which labels and
// cleans up every Docker object it creates.
package bench

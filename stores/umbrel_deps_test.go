package stores

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// TestUmbrelExportsEvaluated runs an exports.sh in the shape of Umbrel's
// bitcoin app in the sandbox: plain, sourced and derived values are
// computed; what programs would compute is reported with its line.
func TestUmbrelExportsEvaluated(t *testing.T) {
	src, err := os.ReadFile("testdata/umbrel/bitcoin/exports.sh")
	if err != nil {
		t.Fatal(err)
	}
	compose, err := os.ReadFile("testdata/umbrel/bitcoin/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	exp, warns := evalExports(string(src), "bitcoin", compose, nil)
	want := map[string]string{
		"APP_BITCOIN_NODE_IP":            "bitcoind", // its fixed address is its service's
		"APP_BITCOIN_RPC_PORT":           "8332",
		"APP_BITCOIN_DATA_DIR":           "${APP_DATA_DIR}/data/bitcoin",
		"APP_BITCOIN_RPC_USER":           "umbrel", // written to .env, then sourced
		"APP_BITCOIN_NETWORK":            "mainnet",
		"APP_BITCOIN_NETWORK_ELECTRS":    "bitcoin", // changed after export
		"BITCOIN_DEFAULT_NETWORK":        "main",    // from an if/elif
		"APP_BITCOIN_RPC_HIDDEN_SERVICE": "notyetset.onion",
	}
	for k, v := range want {
		if got := exp.vars[k]; got.computed || got.expr != v {
			t.Errorf("%s = %+v, want %q", k, got, v)
		}
	}
	if !exp.vars["APP_BITCOIN_RPC_PASS"].computed {
		t.Errorf("APP_BITCOIN_RPC_PASS = %+v, want computed (rpcauth.py is not run)", exp.vars["APP_BITCOIN_RPC_PASS"])
	}
	if _, ok := exp.vars["BITCOIN_CHAIN"]; ok {
		t.Error("a variable that is not exported is exported")
	}
	joined := strings.Join(warns, "\n")
	for _, w := range []string{"line 28: rpcauth.py", "line 29: tail"} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings do not name %q:\n%s", w, joined)
		}
	}
}

// TestSandboxRunsNothingAndTouchesNoFile: a hostile exports.sh cannot run a
// program, read a host file or write one.
func TestSandboxRunsNothingAndTouchesNoFile(t *testing.T) {
	dir := t.TempDir()
	victim := dir + "/created"
	secret := dir + "/secret"
	os.WriteFile(secret, []byte("s3cret"), 0o600)
	src := `export A="$(cat ` + secret + `)"
export B="$(< ` + secret + `)"
touch ` + victim + `
echo x > ` + victim + `
/bin/sh -c "echo pwned > ` + victim + `"
export C="$(id -u)"
export D="$HOME"
`
	exp, warns := evalExports(src, "evil", nil, nil)
	if _, err := os.Stat(victim); err == nil {
		t.Fatal("the script created a file on the host")
	}
	for _, k := range []string{"A", "B", "C"} {
		if v := exp.vars[k]; !v.computed || v.expr != "" {
			t.Errorf("%s = %+v: want nothing read", k, v)
		}
	}
	if strings.Contains(exp.vars["D"].expr, "/root") || strings.Contains(exp.vars["D"].expr, "/home") {
		t.Errorf("HOME is the host's: %+v", exp.vars["D"])
	}
	joined := strings.Join(warns, "\n")
	for _, w := range []string{"line 1: cat", "open " + secret, "line 3: touch", "line 5: sh", "line 6: id"} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings do not name %q:\n%s", w, joined)
		}
	}
}

// TestUmbrelDependencies reads a store in which electrs depends on bitcoin:
// electrs is installable, requires bitcoin, and no longer asks for what
// bitcoin provides; bitcoin exports its node's container name for its
// fixed address, its data folder and a generated RPC password.
func TestUmbrelDependencies(t *testing.T) {
	apps, err := ReadStore(context.Background(), os.DirFS("testdata/umbrel"), FormatUmbrel)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]App{}
	for _, a := range apps {
		byID[a.ID] = a
	}
	btc, el := byID["bitcoin"], byID["electrs"]
	if btc.Unavailable != "" || el.Unavailable != "" {
		t.Fatalf("unavailable: bitcoin %q, electrs %q", btc.Unavailable, el.Unavailable)
	}
	if len(el.Requires) != 1 || el.Requires[0] != "bitcoin" {
		t.Errorf("electrs requires %v", el.Requires)
	}
	if s := strings.Join(el.InstallSummary(), "\n"); !strings.Contains(s, "Requires: bitcoin") {
		t.Errorf("store info of electrs:\n%s", s)
	}
	for k, v := range map[string]string{
		"APP_BITCOIN_NODE_IP":  "bitcoin_bitcoind_1",
		"APP_BITCOIN_DATA_DIR": "${APP_DATA_DIR}/data/bitcoin",
		"APP_BITCOIN_RPC_USER": "umbrel",
		"APP_BITCOIN_RPC_PASS": "${APP_BITCOIN_RPC_PASS}",
	} {
		if btc.Exports[k] != v {
			t.Errorf("bitcoin exports %s=%q, want %q", k, btc.Exports[k], v)
		}
	}
	pass := false
	for _, f := range btc.Fields {
		if f.Key == "APP_BITCOIN_RPC_PASS" && f.Random && f.Secret {
			pass = true
		}
	}
	if !pass {
		t.Errorf("bitcoin has no generated secret APP_BITCOIN_RPC_PASS: %+v", btc.Fields)
	}
	for _, f := range el.Fields {
		if strings.HasPrefix(f.Key, "APP_BITCOIN_") {
			t.Errorf("electrs asks for %s, which bitcoin provides", f.Key)
		}
	}

	// lightning's exports.sh builds lnd's command from what bitcoin
	// exports, as Umbrel sources bitcoin's exports.sh first: addresses are
	// bitcoin's container names, its generated password is filled in at
	// install.
	ln := byID["lightning"]
	if ln.Unavailable != "" {
		t.Fatalf("lightning unavailable: %s", ln.Unavailable)
	}
	p, err := LoadProject(context.Background(), ln, map[string]string{"APP_DATA_DIR": "/data/lightning", "APP_BITCOIN_RPC_PASS": "pw123"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := strings.Join(p.Services["lnd"].Command, " ")
	for _, want := range []string{"--tlsextraip=lnd", "--bitcoind.rpchost=bitcoin_bitcoind_1", "--bitcoind.rpcuser=umbrel", "--bitcoind.rpcpass=pw123", "--bitcoin.mainnet", "--bitcoin.node=bitcoind"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("lnd command %q lacks %s", cmd, want)
		}
	}

	// Without its dependency in the store, electrs is unavailable, saying why.
	alone, err := ReadStore(context.Background(), subFS(t, "testdata/umbrel", "electrs"), FormatUmbrel)
	if err != nil {
		t.Fatal(err)
	}
	if len(alone) != 1 || !strings.Contains(alone[0].Unavailable, "needs the app bitcoin") {
		t.Errorf("electrs alone: %+v", alone)
	}
}

// subFS is a store folder holding only the named app folders of dir.
func subFS(t *testing.T, dir string, apps ...string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	for _, a := range apps {
		entries, err := os.ReadDir(dir + "/" + a)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if b, err := os.ReadFile(dir + "/" + a + "/" + e.Name()); err == nil {
				m[a+"/"+e.Name()] = &fstest.MapFile{Data: b}
			}
		}
	}
	return m
}

package appctl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/stores"
)

// TestUmbrelAppWithDependencyInstalls installs electrs, which needs the
// bitcoin app (both in the shape of Umbrel's real apps): refused without
// agreement, listing bitcoin; then bitcoin is installed first and electrs
// gets the values bitcoin's exports.sh computes, reaches bitcoin's node by
// its Umbrel container name, and mounts its data read-only.
func TestUmbrelAppWithDependencyInstalls(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	apps, err := stores.ReadStore(ctx, os.DirFS(filepath.Join(storeFixtures, "umbrel")), stores.FormatUmbrel)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]stores.App{}
	for _, a := range apps {
		a.Store = "umbrel"
		byID[a.ID] = withTestImage(t, a)
	}
	bitcoin, electrs := byID["bitcoin"], byID["electrs"]

	_, err = h.m.Install(ctx, electrs, InstallOptions{}, nil)
	var needs *NeedsAppsError
	if !errors.As(err, &needs) || !slices.Equal(needs.Missing, []string{"bitcoin"}) {
		t.Fatalf("install without its dependency: %v", err)
	}
	h.unchanged(t, "electrs")
	h.unchanged(t, "bitcoin")

	rec, err := h.m.InstallWithRequired(ctx, electrs, []stores.App{bitcoin}, InstallOptions{}, nil)
	if err != nil {
		t.Fatalf("install with its dependency: %v", err)
	}
	t.Cleanup(func() {
		h.m.Remove(context.Background(), "electrs", false, nil)
		h.m.Remove(context.Background(), "bitcoin", false, nil)
	})
	// bitcoin cannot go while electrs needs it.
	if err := h.m.Remove(ctx, "bitcoin", false, nil); !errors.Is(err, ErrRequired) || !strings.Contains(err.Error(), "electrs") {
		t.Errorf("removing bitcoin under electrs: %v", err)
	}
	if st, err := h.m.Status(ctx, "bitcoin"); err != nil || st.State != StateInstalled || st.Health != "running" {
		t.Errorf("bitcoin after the refused removal: %+v, %v", st.State, err)
	}
	btc, err := h.m.Status(ctx, "bitcoin")
	if err != nil || btc.State != StateInstalled {
		t.Fatalf("bitcoin: %+v, %v", btc.State, err)
	}
	var btcRec Record
	if err := h.db.Get(recordKey("bitcoin"), &btcRec); err != nil {
		t.Fatal(err)
	}
	pass := btcRec.Values["APP_BITCOIN_RPC_PASS"]
	if len(pass) < 16 {
		t.Fatalf("bitcoin's RPC password was not generated: %q", pass)
	}
	if !slices.Contains(rec.Secrets, "APP_BITCOIN_RPC_PASS") {
		t.Errorf("electrs shows bitcoin's password: secrets %v", rec.Secrets)
	}

	node := h.inspectService(t, btcRec, "bitcoind")
	for _, kv := range []string{"RPC_USER=umbrel", "RPC_PASSWORD=" + pass} {
		if !hasEnv(node, kv) {
			t.Errorf("bitcoind env %v lacks %s", node.Config.Env, kv)
		}
	}
	btcData := filepath.Join(h.dataDir, "apps", "bitcoin", "data", "data", "bitcoin")
	if got := mountOf(node, "/data/.bitcoin"); got != btcData {
		t.Errorf("bitcoind data is mounted from %q, want %q", got, btcData)
	}
	depNet := btcRec.Project + "_default"
	if ep := node.NetworkSettings.Networks[depNet]; ep == nil || !slices.Contains(ep.Aliases, "bitcoin_bitcoind_1") {
		t.Errorf("bitcoind is not bitcoin_bitcoind_1 on %s: %+v", depNet, node.NetworkSettings.Networks)
	}

	ui := h.inspectService(t, rec, "app")
	for _, kv := range []string{"BITCOIN_HOST=bitcoin_bitcoind_1", "RPC_USER=umbrel", "RPC_PASSWORD=" + pass, "ELECTRS_HOST=electrs"} {
		if !hasEnv(ui, kv) {
			t.Errorf("electrs app env %v lacks %s", ui.Config.Env, kv)
		}
	}
	srv := h.inspectService(t, rec, "electrs")
	for _, kv := range []string{
		"ELECTRS_NETWORK=bitcoin",
		"ELECTRS_DAEMON_RPC_ADDR=bitcoin_bitcoind_1:8332",
		"ELECTRS_DAEMON_P2P_ADDR=bitcoin_bitcoind_1:8333",
		"ELECTRS_ELECTRUM_RPC_ADDR=0.0.0.0:50001",
		"ELECTRS_COOKIE_FILE=/data/.bitcoin/mainnet/.cookie",
	} {
		if !hasEnv(srv, kv) {
			t.Errorf("electrs env %v lacks %s", srv.Config.Env, kv)
		}
	}
	var ro bool
	for _, m := range srv.Mounts {
		if m.Destination == "/data/.bitcoin" {
			ro = m.Source == btcData && !m.RW
		}
	}
	if !ro {
		t.Errorf("electrs does not mount bitcoin's data %s read-only: %+v", btcData, srv.Mounts)
	}
	if _, ok := srv.NetworkSettings.Networks[depNet]; !ok {
		t.Errorf("electrs is not on bitcoin's network %s: %v", depNet, srv.NetworkSettings.Networks)
	}
	var bound []string
	for p, bs := range srv.HostConfig.PortBindings {
		for _, b := range bs {
			bound = append(bound, p.String()+"->"+b.HostIP.String()+":"+b.HostPort)
		}
	}
	if !slices.Equal(bound, []string{"50001/tcp->127.0.0.1:50001"}) {
		t.Errorf("electrs port bindings %v", bound)
	}
	if got := h.get(t, rec.Host, "/"); got == "" {
		t.Error("electrs is not routed")
	}
}

package stores

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The exported guard refuses what the store fetcher refuses: a folder
// store's URL on loopback, or one on another port than the store's own.
func TestGuardedClientRefusesLocalAddresses(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++; w.Write([]byte("ok")) }))
	defer srv.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer other.Close()
	for _, origin := range []string{"", "https://example.com/store.zip", other.URL + "/store.zip"} {
		c, err := GuardedClient(origin, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Get(srv.URL + "/icon.png")
		if !IsForbiddenAddress(err) {
			t.Errorf("origin %q: fetch of %s: %v, want a refusal", origin, srv.URL, err)
		}
	}
	if hits != 0 {
		t.Fatalf("%d requests reached the refused servers", hits)
	}
	c, _ := GuardedClient(srv.URL+"/store.zip", 5*time.Second)
	resp, err := c.Get(srv.URL + "/icon.png")
	if err != nil || resp.StatusCode != 200 || hits != 1 {
		t.Fatalf("fetch from the store's own origin: %v %v (hits %d)", resp, err, hits)
	}
	resp.Body.Close()
}

package adminapi

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGuardRefusesCrossSiteAndRemoteListeners(t *testing.T) {
	reached := 0
	h := guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }))
	do := func(local net.Addr, hdr map[string]string) int {
		r := httptest.NewRequest("POST", "http://127.0.0.1:2019/stackhub/users", nil)
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	loop := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2019}
	for _, hdr := range []map[string]string{
		{"Referer": "https://evil.example/page"},
		{"Referer": "http://127.0.0.1:2019.evil.example/"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Referer": "http://127.0.0.1:2019/x", "Sec-Fetch-Site": "same-site"},
	} {
		if code := do(loop, hdr); code != http.StatusForbidden {
			t.Errorf("%v: %d", hdr, code)
		}
	}
	if code := do(&net.TCPAddr{IP: net.IPv4(192, 168, 1, 2), Port: 2019}, nil); code != http.StatusForbidden {
		t.Errorf("LAN listener: %d", code)
	}
	if reached != 0 {
		t.Fatalf("%d refused requests reached the API", reached)
	}
	for _, c := range []struct {
		local net.Addr
		hdr   map[string]string
	}{
		{loop, nil},
		{loop, map[string]string{"Referer": "http://127.0.0.1:2019/"}},
		{loop, map[string]string{"Origin": "http://127.0.0.1:2019"}},
		{&net.UnixAddr{Name: "/run/stackhub-admin.sock", Net: "unix"}, nil},
	} {
		if code := do(c.local, c.hdr); code != http.StatusOK {
			t.Errorf("%v %v: %d", c.local, c.hdr, code)
		}
	}
}

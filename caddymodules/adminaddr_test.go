package caddymodules

import "testing"

func TestUpKeepsTheAdminEndpointLocal(t *testing.T) {
	for _, a := range []string{"localhost:2019", "127.0.0.1:2019", "[::1]:2019", "unix//run/stackhub.sock"} {
		if err := checkAdminAddress(a); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
	for _, a := range []string{"0.0.0.0:2019", ":2019", "192.168.1.5:2019", "[::]:2019", "admin.example.com:2019"} {
		if err := checkAdminAddress(a); err == nil {
			t.Errorf("%s accepted", a)
		}
	}
}

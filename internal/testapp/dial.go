package main

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// dial answers /dial?addr=HOST:PORT: it opens a TCP connection from inside
// the container and says "connected", or, with 502, why it could not. The
// isolation tests ask one app's container to reach another app's.
func dial(w http.ResponseWriter, r *http.Request) {
	addr := r.URL.Query().Get("addr")
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		http.Error(w, "dial "+addr+": "+err.Error(), http.StatusBadGateway)
		return
	}
	conn.Close()
	fmt.Fprintln(w, "connected")
}

package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// dial answers /dial?addr=HOST:PORT[&tries=N]: it opens TCP connections
// from inside the container, N times (default 1, 3 s each; 200 ms each when
// N > 1), and says "connected" as soon as one gets through, or, with 502,
// why none did. The isolation tests ask one app's container to reach
// another app's.
func dial(w http.ResponseWriter, r *http.Request) {
	addr := r.URL.Query().Get("addr")
	tries, _ := strconv.Atoi(r.URL.Query().Get("tries"))
	timeout := 200 * time.Millisecond
	if tries <= 1 {
		tries, timeout = 1, 3*time.Second
	}
	var err error
	for range tries {
		var conn net.Conn
		if conn, err = net.DialTimeout("tcp", addr, timeout); err == nil {
			conn.Close()
			fmt.Fprintln(w, "connected")
			return
		}
	}
	http.Error(w, fmt.Sprintf("dial %s (%d tries): %v", addr, tries, err), http.StatusBadGateway)
}

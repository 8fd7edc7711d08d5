// Command testapp is the web server of StackHub's integration tests. It is
// built statically and copied into a FROM scratch image, because no image
// can be pulled on a test machine.
//
//	testapp                 serve HTTP on $PORT (default 80)
//	testapp -probe URL      exit 0 when URL answers 2xx (healthchecks: a
//	                        scratch image has no shell and no curl)
//
// Routes: / (hello from $NAME), /headers (request headers as JSON),
// /health, /ws (WebSocket echo), /count (a counter kept in $DATA_DIR/count,
// or in $BACKEND's when set: a two-service app), /incr (increment the local
// counter), /file?path=P (the file P as the container sees it, 404 when it
// cannot read it: security tests check what a container reaches),
// /dial?addr=HOST:PORT[&tries=N] (open TCP connections from inside).
// With OIDC_CLIENT=1 it is an OpenID Connect client instead (oidc.go).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/websocket"
)

func main() {
	probe := flag.String("probe", "", "exit 0 when this URL answers 2xx")
	dump := flag.String("dump", "", "print this file and exit (versions.go)")
	load := flag.String("load", "", "write standard input to this file and exit (versions.go)")
	flag.Parse()
	if fileModes(*dump, *load) {
		return
	}
	if *probe != "" {
		c := http.Client{Timeout: 3 * time.Second}
		resp, err := c.Get(*probe)
		if err != nil || resp.StatusCode/100 != 2 {
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv("OIDC_CLIENT") == "1" { // an OpenID Connect relying party: oidc.go
		log.Fatal(serveOIDCClient())
	}
	name := envOr("NAME", "testapp")
	dataDir := envOr("DATA_DIR", "/data")
	backend := os.Getenv("BACKEND")
	migrate(dataDir)
	var mu sync.Mutex
	incr := func() (int, error) {
		mu.Lock()
		defer mu.Unlock()
		p := filepath.Join(dataDir, "count")
		n := 0
		if b, err := os.ReadFile(p); err == nil {
			n, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		n++
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return 0, err
		}
		return n, os.WriteFile(p, []byte(strconv.Itoa(n)), 0o644)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s at %s\n", name, r.URL.RequestURI())
	})
	mux.HandleFunc("/dial", dial)
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if healthFails() {
			http.Error(w, "broken on purpose (FAIL_HEALTH)", 503)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		h := map[string]any{"headers": r.Header, "host": r.Host, "uri": r.RequestURI}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(h)
	})
	mux.HandleFunc("/incr", func(w http.ResponseWriter, r *http.Request) {
		n, err := incr()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintln(w, n)
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		if backend == "" {
			n, err := incr()
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			fmt.Fprintln(w, n)
			return
		}
		resp, err := http.Get(backend + "/incr")
		if err != nil {
			http.Error(w, "backend: "+err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile(r.URL.Query().Get("path"))
		if err != nil {
			http.Error(w, err.Error(), 404)
			return
		}
		w.Write(b)
	})
	// Any origin: the proxy in front decides who gets here.
	mux.Handle("/ws", websocket.Server{
		Handshake: func(*websocket.Config, *http.Request) error { return nil },
		Handler:   func(ws *websocket.Conn) { io.Copy(ws, ws) },
	})
	addr := os.Getenv("LISTEN_HOST") + ":" + envOr("PORT", "80") // LISTEN_HOST=127.0.0.1 on the host's network
	log.Printf("%s listening on %s", name, addr)
	log.Fatal(http.ListenAndServe(addr, mux))
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

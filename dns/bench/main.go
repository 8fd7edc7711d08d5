// Command bench serves a benchmark zone with StackHub's dns package, for
// dns/bench/run.sh (`make bench-dns`): the zone <zone> with the apex,
// my.<zone>, ns1.<zone> and -n app hosts app0000.<zone> … (a static host
// set standing in for the app registry), all answering -addr.
//
//	go run ./dns/bench -listen 127.0.0.1:5300 -zone bench.example.com -n 1000
//
// It prints "ready <address>" once UDP and TCP listen, and serves until
// interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/stackhub/stackhub/dns"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5300", "UDP and TCP address to serve on")
	zone := flag.String("zone", "bench.example.com", "the zone")
	n := flag.Int("n", 1000, "number of app hosts (app0000.<zone> …)")
	addr := flag.String("addr", "192.168.1.10", "the box address every name answers")
	flag.Parse()

	hosts := make([]string, *n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("app%04d.%s", i, *zone)
	}
	box, err := netip.ParseAddr(*addr)
	if err != nil {
		log.Fatal(err)
	}
	s, err := dns.New(dns.Config{
		Zone:   *zone,
		Addrs:  []netip.Addr{box},
		Source: dns.NewHostSet(hosts...),
	})
	if err != nil {
		log.Fatal(err)
	}
	bound, err := s.Start(*listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready", bound)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
}

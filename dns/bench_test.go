package dns

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// benchServer serves a zone of 1,000 app hosts, as in the issue's
// comparison with CoreDNS.
func benchServer(b *testing.B) *Server {
	hosts := NewHostSet()
	for i := range 1000 {
		hosts.Add(fmt.Sprintf("app%d.home.example.com", i))
	}
	return newServer(b, testConfig(hosts))
}

var benchQueries = []struct{ label, name string }{
	{"fixed", "my.home.example.com."},
	{"app", "app537.home.example.com."},
	{"nxdomain", "nope.home.example.com."},
}

func packQuery(b *testing.B, name string, edns bool) []byte {
	m := (&mdns.Msg{}).SetQuestion(name, mdns.TypeA)
	if edns {
		m.SetEdns0(1232, false)
	}
	p, err := m.Pack()
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkAnswerWire is the in-process cost of the wire path, no sockets.
func BenchmarkAnswerWire(b *testing.B) {
	s := benchServer(b)
	out := make([]byte, mdns.MaxMsgSize)
	for _, q := range benchQueries {
		p := packQuery(b, q.name, true)
		b.Run(q.label, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if s.answerWire(p, out, true, true) == 0 {
					b.Fatal("wire path declined")
				}
			}
		})
	}
}

// BenchmarkAnswerMsg is the same through the message path (unpack, build,
// pack), for comparison.
func BenchmarkAnswerMsg(b *testing.B) {
	s := benchServer(b)
	out := make([]byte, mdns.MaxMsgSize)
	for _, q := range benchQueries {
		p := packQuery(b, q.name, true)
		b.Run(q.label, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if s.answerMsg(p, out, insider, true) == 0 {
					b.Fatal("no answer")
				}
			}
		})
	}
}

// BenchmarkServeUDP measures queries per second over loopback UDP: several
// clients, each with its own socket, one query in flight each.
func BenchmarkServeUDP(b *testing.B) {
	s := benchServer(b)
	addr := startServer(b, s)
	for _, q := range benchQueries {
		b.Run(q.label, func(b *testing.B) { loadUDP(b, addr, packQuery(b, q.name, true)) })
	}
}

// BenchmarkServeUDPMiekg serves the same zone with miekg/dns's own server
// calling ServeDNS, the architecture CoreDNS uses (a goroutine and an
// unpack/pack per query); the gap to BenchmarkServeUDP is the wire path's
// gain.
func BenchmarkServeUDPMiekg(b *testing.B) {
	s := benchServer(b)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &mdns.Server{PacketConn: pc, Handler: s}
	var started sync.WaitGroup
	started.Add(1)
	srv.NotifyStartedFunc = started.Done
	go func() { _ = srv.ActivateAndServe() }()
	started.Wait()
	b.Cleanup(func() { _ = srv.Shutdown() })
	for _, q := range benchQueries {
		b.Run(q.label, func(b *testing.B) { loadUDP(b, pc.LocalAddr().String(), packQuery(b, q.name, true)) })
	}
}

func loadUDP(b *testing.B, addr string, query []byte) {
	b.SetParallelism(4) // 4 × GOMAXPROCS clients keep the server busy
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("udp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		buf := make([]byte, 2048)
		for pb.Next() {
			if _, err := c.Write(query); err != nil {
				b.Error(err)
				return
			}
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			n, err := c.Read(buf)
			if err != nil || n < headerLen || buf[0] != query[0] || buf[1] != query[1] {
				b.Errorf("bad or missing answer: %v", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
}

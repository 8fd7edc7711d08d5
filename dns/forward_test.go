package dns

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// upstreamCounter counts the queries a test upstream received, per name.
type upstreamCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *upstreamCounter) get(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[name]
}

// startUpstream runs a second real DNS server on loopback (miekg/dns's own
// server, UDP and TCP on one port) acting as the upstream resolver.
func startUpstream(t testing.TB) (string, *upstreamCounter) {
	t.Helper()
	count := &upstreamCounter{n: map[string]int{}}
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		q := r.Question[0]
		name := strings.ToLower(q.Name)
		count.mu.Lock()
		count.n[name]++
		count.mu.Unlock()
		m := (&mdns.Msg{}).SetReply(r)
		m.RecursionAvailable = true
		soa := &mdns.SOA{Hdr: mdns.RR_Header{Name: "example.org.", Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: 300},
			Ns: "ns.example.org.", Mbox: "h.example.org.", Serial: 1, Refresh: 1, Retry: 1, Expire: 1, Minttl: 30}
		switch name {
		case "example.org.", "zero.example.org.":
			ttl := uint32(300)
			if name == "zero.example.org." {
				ttl = 0
			}
			if q.Qtype == mdns.TypeA {
				m.Answer = append(m.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: ttl}, A: net.IPv4(93, 184, 216, 34)})
			} else {
				m.Ns = append(m.Ns, soa)
			}
		case "many.example.org.":
			for i := range 60 {
				m.Answer = append(m.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 300}, A: net.IPv4(10, 0, 0, byte(i))})
			}
		case "slow.example.org.":
			time.Sleep(500 * time.Millisecond)
			m.Answer = append(m.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 0}, A: net.IPv4(10, 9, 9, 9)})
		case "fail.example.org.":
			m.Rcode = mdns.RcodeServerFailure
		default:
			m.Rcode = mdns.RcodeNameError
			m.Ns = append(m.Ns, soa)
		}
		if opt := r.IsEdns0(); opt != nil {
			m.SetEdns0(opt.UDPSize(), opt.Do())
		}
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			size := 512
			if opt := r.IsEdns0(); opt != nil {
				size = int(opt.UDPSize())
			}
			m.Truncate(size)
		}
		_ = w.WriteMsg(m)
	})
	var pc net.PacketConn
	var ln net.Listener
	for range 10 {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		pc = nil
	}
	if pc == nil {
		t.Fatal("no free port pair for the upstream")
	}
	udp := &mdns.Server{PacketConn: pc, Handler: h}
	tcp := &mdns.Server{Listener: ln, Handler: h}
	var started sync.WaitGroup
	started.Add(2)
	udp.NotifyStartedFunc = started.Done
	tcp.NotifyStartedFunc = started.Done
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	started.Wait()
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	})
	return pc.LocalAddr().String(), count
}

func TestForwardAndCache(t *testing.T) {
	upstream, count := startUpstream(t)
	cfg := testConfig(nil)
	cfg.Forward = []string{upstream}
	s := newServer(t, cfg)
	addr := startServer(t, s)

	r := exchange(t, addr, "udp", "Example.ORG.", mdns.TypeA, queryOpt{edns: 1232})
	if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 1 || !r.RecursionAvailable || r.Authoritative {
		t.Fatalf("forwarded answer:\n%v", r)
	}
	if r.Question[0].Name != "Example.ORG." || r.IsEdns0() == nil {
		t.Fatalf("question or OPT not ours:\n%v", r)
	}
	// Second query (other case, over TCP): from the cache.
	time.Sleep(1100 * time.Millisecond)
	r = exchange(t, addr, "tcp", "example.org.", mdns.TypeA, queryOpt{edns: 1232})
	if len(r.Answer) != 1 || r.Answer[0].Header().Ttl >= 300 {
		t.Fatalf("cached answer should have an aged TTL:\n%v", r)
	}
	if n := count.get("example.org."); n != 1 {
		t.Fatalf("upstream saw %d queries for example.org, want 1 (cache hit)", n)
	}
	// Negative answers are cached too (RFC 2308), for the SOA's minimum.
	for range 3 {
		if r := exchange(t, addr, "udp", "nx.example.org.", mdns.TypeA, queryOpt{}); r.Rcode != mdns.RcodeNameError || len(r.Ns) != 1 {
			t.Fatalf("forwarded NXDOMAIN:\n%v", r)
		}
	}
	if n := count.get("nx.example.org."); n != 1 {
		t.Fatalf("upstream saw %d queries for nx.example.org, want 1", n)
	}
	// TTL 0 is not cached.
	for range 2 {
		exchange(t, addr, "udp", "zero.example.org.", mdns.TypeA, queryOpt{})
	}
	if n := count.get("zero.example.org."); n != 2 {
		t.Fatalf("upstream saw %d queries for a TTL-0 name, want 2", n)
	}
	// Upstream SERVFAIL is passed on as SERVFAIL and not cached.
	for range 2 {
		if r := exchange(t, addr, "udp", "fail.example.org.", mdns.TypeA, queryOpt{}); r.Rcode != mdns.RcodeServerFailure {
			t.Fatalf("upstream failure: want SERVFAIL:\n%v", r)
		}
	}
	if n := count.get("fail.example.org."); n != 2 {
		t.Fatalf("upstream saw %d queries for a failing name, want 2", n)
	}
	// A big upstream answer: the upstream truncates, we retry it over TCP,
	// then truncate for our UDP client, who retries over TCP.
	r = exchange(t, addr, "udp", "many.example.org.", mdns.TypeA, queryOpt{})
	if !r.Truncated {
		t.Fatalf("60 A records over 512-byte UDP: want TC:\n%v", r)
	}
	if r = exchange(t, addr, "tcp", "many.example.org.", mdns.TypeA, queryOpt{}); len(r.Answer) != 60 {
		t.Fatalf("over TCP: %d records, want 60", len(r.Answer))
	}
	// Our zone is never forwarded.
	exchange(t, addr, "udp", "nope.home.example.com.", mdns.TypeA, queryOpt{})
	if n := count.get("nope.home.example.com."); n != 0 {
		t.Fatalf("a zone name reached the upstream %d times", n)
	}
}

// Identical questions in flight together share one upstream exchange.
func TestForwardSharesConcurrentQueries(t *testing.T) {
	upstream, count := startUpstream(t)
	cfg := testConfig(nil)
	cfg.Forward = []string{upstream}
	s := newServer(t, cfg)
	addr := startServer(t, s)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &mdns.Client{Timeout: 3 * time.Second}
			r, _, err := c.Exchange((&mdns.Msg{}).SetQuestion("slow.example.org.", mdns.TypeA), addr)
			if err != nil || len(r.Answer) != 1 {
				t.Errorf("shared answer: %v, %v", r, err)
			}
		}()
	}
	wg.Wait()
	// TTL 0 keeps the cache out of it; 20 queries within the upstream's
	// 500 ms should make one exchange (a few under heavy load).
	if n := count.get("slow.example.org."); n > 3 {
		t.Fatalf("upstream saw %d exchanges for 20 concurrent identical queries", n)
	}
}

func TestForwardFailureIsServfail(t *testing.T) {
	// A port nobody listens on: the exchange fails fast (ICMP unreachable)
	// or times out.
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.LocalAddr().String()
	dead.Close()
	cfg := testConfig(nil)
	cfg.Forward = []string{deadAddr}
	cfg.ForwardTimeout = 300 * time.Millisecond
	s := newServer(t, cfg)
	addr := startServer(t, s)
	r := exchange(t, addr, "udp", "example.org.", mdns.TypeA, queryOpt{})
	if r.Rcode != mdns.RcodeServerFailure || !r.RecursionAvailable {
		t.Fatalf("dead upstream: want SERVFAIL:\n%v", r)
	}
}

func TestForwardFallsBackToNextUpstream(t *testing.T) {
	upstream, count := startUpstream(t)
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.LocalAddr().String()
	dead.Close()
	cfg := testConfig(nil)
	cfg.Forward = []string{deadAddr, strings.TrimPrefix(upstream, "")}
	cfg.ForwardTimeout = 300 * time.Millisecond
	s := newServer(t, cfg)
	addr := startServer(t, s)
	if r := exchange(t, addr, "udp", "example.org.", mdns.TypeA, queryOpt{}); len(r.Answer) != 1 {
		t.Fatalf("second upstream not used:\n%v", r)
	}
	if count.get("example.org.") != 1 {
		t.Fatal("second upstream not asked")
	}
}

func TestCacheBounded(t *testing.T) {
	c := &cache{max: 3, m: map[cacheKey]*cacheEntry{}}
	now := time.Now()
	for i := range 10 {
		c.put(cacheKey{name: string(rune('a' + i))}, &cacheEntry{stored: now, expires: now.Add(time.Minute)})
	}
	if c.len() != 3 {
		t.Fatalf("cache holds %d entries, bound is 3", c.len())
	}
	c.put(cacheKey{name: "old"}, &cacheEntry{stored: now, expires: now.Add(-time.Second)})
	if c.get(cacheKey{name: "old"}, now) != nil {
		t.Fatal("expired entry returned")
	}
	_ = netip.Addr{}
}

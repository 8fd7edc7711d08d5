package dns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
)

// ErrServerClosed is returned by the Serve methods after [Server.Shutdown].
var ErrServerClosed = errors.New("dns: server closed")

const (
	// maxSlow bounds the goroutines answering UDP queries on the message
	// path (mostly forwarding, which waits on the network). Beyond it
	// queries are dropped and clients retry, instead of memory growing
	// under a flood.
	maxSlow = 1024
	// maxTCPConns bounds concurrent TCP connections for the same reason.
	maxTCPConns = 256
	// tcpIdle is how long a TCP connection may wait for its next query
	// (RFC 7766 suggests seconds, not minutes).
	tcpIdle = 10 * time.Second
	// tcpMaxQueries bounds the queries one TCP connection may pipeline.
	tcpMaxQueries = 1000
)

// Server is the zone server: the handler chain plus its UDP and TCP loops.
// Create it with [New]; it is safe for concurrent use.
type Server struct {
	set        *settings
	src        RecordSource
	srcVer     Versioner // nil when the source has no versions
	acme       *ACMEStore
	fwd        *forwarder // nil without upstreams
	log        *slog.Logger
	serialBase uint32

	snap    atomic.Pointer[snapshot]
	buildMu sync.Mutex // one rebuild at a time

	ctx     context.Context // cancelled by Shutdown, bounds forwarding
	cancel  context.CancelFunc
	lifeMu  sync.Mutex
	closed  bool
	closers map[io.Closer]struct{} // connections and listeners to close on Shutdown
	wg      sync.WaitGroup         // Serve calls, connections and message-path goroutines
	slow    chan struct{}
	tcpSem  chan struct{}
}

// New validates cfg and builds the server's first snapshot. It does not
// listen: call [Server.Start], or hand listeners to [Server.ServeUDP] and
// [Server.ServeTCP].
func New(cfg Config) (*Server, error) {
	st, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	s := &Server{
		set:        st,
		src:        cfg.Source,
		acme:       cfg.ACME,
		log:        cfg.Logger,
		serialBase: uint32(time.Now().Unix()),
		closers:    map[io.Closer]struct{}{},
		slow:       make(chan struct{}, maxSlow),
		tcpSem:     make(chan struct{}, maxTCPConns),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.acme == nil {
		s.acme = NewACMEStore()
	}
	if v, ok := cfg.Source.(Versioner); ok {
		s.srcVer = v
	}
	if len(st.forward) > 0 {
		s.fwd = newForwarder(st, s.log)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	av, recs := s.acme.snapshot()
	sn, err := s.build(s.sourceVersion(), av, recs)
	if err != nil {
		return nil, err
	}
	s.snap.Store(sn)
	return s, nil
}

// Zone returns the served zone as a lower-case FQDN ("home.example.com.").
func (s *Server) Zone() string { return s.set.zone }

// ACME returns the challenge store the server answers from, for the
// libdns provider.
func (s *Server) ACME() *ACMEStore { return s.acme }

// Allowed reports whether a client address is on the allow list, i.e. may
// get forwarding and, unless the zone is public, any answer at all.
// IPv4-mapped IPv6 addresses (from dual-stack sockets) count as IPv4.
func (s *Server) Allowed(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range s.set.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *Server) sourceVersion() uint64 {
	if s.srcVer == nil {
		return 0
	}
	return s.srcVer.Version()
}

// current returns the snapshot for the present versions, rebuilding it
// first if the source or the ACME store moved on. The check is two atomic
// loads, so the common case takes no lock.
func (s *Server) current() *snapshot {
	sn := s.snap.Load()
	sv, av := s.sourceVersion(), s.acme.Version()
	if sn.srcVer == sv && sn.acmeVer == av {
		return sn
	}
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	sn = s.snap.Load()
	av, recs := s.acme.snapshot()
	sv = s.sourceVersion()
	if sn.srcVer == sv && sn.acmeVer == av {
		return sn
	}
	next, err := s.build(sv, av, recs)
	if err != nil {
		// Values were validated on the way in, so this is a bug; keep
		// answering from the last good snapshot rather than failing.
		s.log.Error("dns: rebuilding zone", "error", err)
		return sn
	}
	s.snap.Store(next)
	return next
}

// track registers a closer for Shutdown and counts it in the wait group;
// false once the server is shut down.
func (s *Server) track(c io.Closer) bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return false
	}
	s.closers[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c io.Closer) {
	s.lifeMu.Lock()
	delete(s.closers, c)
	s.lifeMu.Unlock()
	s.wg.Done()
}

func (s *Server) isClosed() bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.closed
}

// Shutdown stops the server: it closes every connection and listener given
// to the Serve methods (and those Start opened), cancels forwarding in
// flight and waits for running handlers until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.lifeMu.Lock()
	s.closed = true
	for c := range s.closers {
		_ = c.Close()
	}
	s.lifeMu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dns: shutdown: %w", ctx.Err())
	}
}

// Start listens on addr ("127.0.0.1:53", ":53", "127.0.0.1:0") with UDP
// and TCP on the same port, serves both in the background and returns the
// bound address. For listeners managed elsewhere (Caddy's), use ServeUDP
// and ServeTCP instead.
func (s *Server) Start(addr string) (string, error) {
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return "", fmt.Errorf("dns: listen udp %s: %w", addr, err)
		}
		bound := pc.LocalAddr().String()
		ln, err := net.Listen("tcp", bound)
		if err != nil {
			_ = pc.Close()
			// With port 0 the kernel picked a UDP port whose TCP twin
			// may be taken; pick again.
			if _, port, _ := net.SplitHostPort(addr); port == "0" && attempt < 10 {
				continue
			}
			return "", fmt.Errorf("dns: listen tcp %s: %w", bound, err)
		}
		go func() {
			if err := s.ServeUDP(pc); err != nil && !errors.Is(err, ErrServerClosed) {
				s.log.Error("dns: serving udp", "addr", bound, "error", err)
			}
		}()
		go func() {
			if err := s.ServeTCP(ln); err != nil && !errors.Is(err, ErrServerClosed) {
				s.log.Error("dns: serving tcp", "addr", bound, "error", err)
			}
		}()
		return bound, nil
	}
}

// udpConn is the allocation-free part of *net.UDPConn.
type udpConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// unwrapUDP finds a udpConn under wrappers that expose Unwrap (Caddy's
// listeners do), so reads and writes avoid allocating a net.Addr.
func unwrapUDP(pc net.PacketConn) udpConn {
	for range 8 {
		if u, ok := pc.(udpConn); ok {
			return u
		}
		w, ok := pc.(interface{ Unwrap() net.PacketConn })
		if !ok {
			return nil
		}
		pc = w.Unwrap()
	}
	return nil
}

// ServeUDP answers queries arriving on pc until pc is closed or the server
// shut down; it returns nil then. Several goroutines read the socket at
// once (one per CPU) and answer plain zone queries in place; the rest go
// to a bounded pool of goroutines.
func (s *Server) ServeUDP(pc net.PacketConn) error {
	if !s.track(pc) {
		return ErrServerClosed
	}
	defer s.untrack(pc)
	uc := unwrapUDP(pc)
	workers := max(2, runtime.GOMAXPROCS(0))
	errc := make(chan error, workers)
	for range workers {
		go func() { errc <- s.udpWorker(pc, uc) }()
	}
	var first error
	for range workers {
		if err := <-errc; err != nil && first == nil {
			first = err
			_ = pc.Close() // stop the other workers too
		}
	}
	return first
}

func (s *Server) udpWorker(pc net.PacketConn, uc udpConn) error {
	in := make([]byte, mdns.MaxMsgSize)
	out := make([]byte, mdns.MaxMsgSize)
	failures := 0
	for {
		var (
			n    int
			from netip.AddrPort
			err  error
		)
		if uc != nil {
			n, from, err = uc.ReadFromUDPAddrPort(in)
		} else {
			var a net.Addr
			n, a, err = pc.ReadFrom(in)
			from = addrOf(a)
		}
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if failures++; failures > 100 {
				return fmt.Errorf("dns: reading udp: %w", err)
			}
			s.log.Warn("dns: reading udp", "error", err)
			time.Sleep(5 * time.Millisecond)
			continue
		}
		failures = 0
		allowed := s.Allowed(from.Addr())
		if m := s.answerWire(in[:n], out, allowed, true); m > 0 {
			s.writeUDP(pc, uc, out[:m], from)
			continue
		}
		if n < headerLen {
			continue // not even a header to answer
		}
		select {
		case s.slow <- struct{}{}:
		default:
			continue // overloaded: drop, the client will retry
		}
		pkt := append(make([]byte, 0, n), in[:n]...)
		s.wg.Add(1) // safe: this ServeUDP call holds the group above zero
		go func() {
			defer func() {
				<-s.slow
				s.wg.Done()
			}()
			defer s.recoverPanic(from)
			buf := make([]byte, mdns.MaxMsgSize)
			if m := s.answerMsg(pkt, buf, from, true); m > 0 {
				s.writeUDP(pc, uc, buf[:m], from)
			}
		}()
	}
}

func (s *Server) writeUDP(pc net.PacketConn, uc udpConn, b []byte, to netip.AddrPort) {
	var err error
	if uc != nil {
		_, err = uc.WriteToUDPAddrPort(b, to)
	} else {
		_, err = pc.WriteTo(b, net.UDPAddrFromAddrPort(to))
	}
	if err != nil && !s.isClosed() {
		s.log.Debug("dns: writing udp", "client", to, "error", err)
	}
}

// recoverPanic keeps one bad query from taking the process down. The fuzz
// target calls the handler without it, so a panic there is still found.
func (s *Server) recoverPanic(client netip.AddrPort) {
	if v := recover(); v != nil {
		s.log.Error("dns: panic answering query", "client", client, "panic", v)
	}
}

// ServeTCP answers queries on connections accepted from ln until ln is
// closed or the server shut down; it returns nil then.
func (s *Server) ServeTCP(ln net.Listener) error {
	if !s.track(ln) {
		return ErrServerClosed
	}
	defer s.untrack(ln)
	delay := time.Duration(0)
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors and the like: back off and retry,
			// as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("dns: accepting tcp", "error", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		select {
		case s.tcpSem <- struct{}{}:
		default:
			_ = c.Close()
			continue
		}
		if !s.track(c) {
			_ = c.Close()
			<-s.tcpSem
			return nil
		}
		go func() {
			defer func() { <-s.tcpSem }()
			defer s.untrack(c)
			defer c.Close()
			s.serveConn(c)
		}()
	}
}

// serveConn answers length-prefixed queries in order (RFC 7766).
func (s *Server) serveConn(c net.Conn) {
	remote := addrOf(c.RemoteAddr())
	defer s.recoverPanic(remote)
	in := make([]byte, mdns.MaxMsgSize)
	out := make([]byte, 2+mdns.MaxMsgSize)
	for range tcpMaxQueries {
		_ = c.SetReadDeadline(time.Now().Add(tcpIdle))
		if _, err := io.ReadFull(c, in[:2]); err != nil {
			return
		}
		l := int(binary.BigEndian.Uint16(in[:2]))
		if l < headerLen {
			return
		}
		if _, err := io.ReadFull(c, in[:l]); err != nil {
			return
		}
		n := s.handle(in[:l], out[2:], remote, false)
		if n == 0 {
			return // nothing sensible to say: a response sent to us, say
		}
		binary.BigEndian.PutUint16(out, uint16(n))
		_ = c.SetWriteDeadline(time.Now().Add(tcpIdle))
		if _, err := c.Write(out[:2+n]); err != nil {
			return
		}
	}
}

// handle answers one packet into out, by the wire path when it can and the
// message path otherwise; 0 means no answer is sent.
func (s *Server) handle(p, out []byte, remote netip.AddrPort, udp bool) int {
	if n := s.answerWire(p, out, s.Allowed(remote.Addr()), udp); n > 0 {
		return n
	}
	return s.answerMsg(p, out, remote, udp)
}

// answerMsg is the message path for one packet: unpack, then ServeDNS with
// a writer that packs into out.
func (s *Server) answerMsg(p, out []byte, remote netip.AddrPort, udp bool) int {
	r := &mdns.Msg{}
	if err := r.Unpack(p); err != nil {
		return formErr(p, out)
	}
	w := &memWriter{buf: out, remote: remote, udp: udp, log: s.log}
	s.ServeDNS(w, r)
	return w.n
}

// memWriter is a ResponseWriter that packs the response into a buffer;
// the caller decides where the bytes go.
type memWriter struct {
	buf    []byte
	n      int
	remote netip.AddrPort
	udp    bool
	log    *slog.Logger
}

func (w *memWriter) LocalAddr() net.Addr {
	if w.udp {
		return &net.UDPAddr{}
	}
	return &net.TCPAddr{}
}

func (w *memWriter) RemoteAddr() net.Addr {
	if w.udp {
		return net.UDPAddrFromAddrPort(w.remote)
	}
	return net.TCPAddrFromAddrPort(w.remote)
}

// WriteMsg packs m; if that fails, the client still gets a SERVFAIL
// instead of silence.
func (w *memWriter) WriteMsg(m *mdns.Msg) error {
	b, err := m.PackBuffer(w.buf)
	if err != nil {
		w.log.Error("dns: packing response", "error", err)
		if len(w.buf) < headerLen {
			return fmt.Errorf("dns: pack response: %w", err)
		}
		binary.BigEndian.PutUint16(w.buf[0:], m.Id)
		binary.BigEndian.PutUint16(w.buf[2:], flagQR|uint16(m.Opcode&0xF)<<11|mdns.RcodeServerFailure)
		clear(w.buf[4:headerLen])
		w.n = headerLen
		return fmt.Errorf("dns: pack response: %w", err)
	}
	if len(b) > len(w.buf) {
		return fmt.Errorf("dns: response of %d bytes exceeds the buffer", len(b))
	}
	w.n = copy(w.buf, b)
	return nil
}

func (w *memWriter) Write(b []byte) (int, error) {
	if len(b) > len(w.buf) {
		return 0, fmt.Errorf("dns: response of %d bytes exceeds the buffer", len(b))
	}
	w.n = copy(w.buf, b)
	return w.n, nil
}

func (w *memWriter) Close() error        { return nil }
func (w *memWriter) TsigStatus() error   { return nil }
func (w *memWriter) TsigTimersOnly(bool) {}
func (w *memWriter) Hijack()             {}

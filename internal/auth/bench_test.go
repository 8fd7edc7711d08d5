package auth

import (
	"fmt"
	"testing"
	"time"
)

// benchEnv returns a service with sessions × hosts live app tokens and one
// token to check on vault.
func benchEnv(b *testing.B, sessions int) (*env, string) {
	e := newEnv(b)
	e.addUser("alice", RoleAdmin, "family", "media")
	if err := e.s.SetTOTPRequired(false); err != nil {
		b.Fatal(err)
	}
	var tok string
	for i := range sessions {
		ch, err := e.s.Login("alice", pw, ipA)
		if err != nil {
			b.Fatal(err)
		}
		for j := range 4 {
			t := e.appToken(*ch.Session, fmt.Sprintf("app%d.home.example", j))
			_ = t
		}
		if i == 0 {
			tok = e.appToken(*ch.Session, vault)
		}
	}
	// The real clock: CheckApp's cost includes reading it.
	e.s.now = time.Now
	e.s.mu.Lock()
	for _, ls := range e.s.live {
		ls.lastSeen.Store(time.Now().UnixNano())
		ls.expires = time.Now().Add(time.Hour).UnixNano()
	}
	e.s.mu.Unlock()
	if _, ok := e.s.CheckApp(tok, vault); !ok {
		b.Fatal("token refused")
	}
	return e, tok
}

// BenchmarkCheckApp is the gate's per-request cost of a valid app cookie.
func BenchmarkCheckApp(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			e, tok := benchEnv(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, ok := e.s.CheckApp(tok, "vault.home.example:443"); !ok {
					b.Fatal("refused")
				}
			}
		})
	}
}

// BenchmarkCheckAppParallel checks one token from all cores at once (the
// worst case for shared cache lines: one hot session).
func BenchmarkCheckAppParallel(b *testing.B) {
	e, tok := benchEnv(b, 100)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := e.s.CheckApp(tok, vault); !ok {
				b.Error("refused")
				return
			}
		}
	})
}

// BenchmarkCheckAppInvalid is the cost of a forged cookie.
func BenchmarkCheckAppInvalid(b *testing.B) {
	e, tok := benchEnv(b, 1)
	forged := tok[:selectorLen] + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := e.s.CheckApp(forged, vault); ok {
			b.Fatal("accepted")
		}
	}
}

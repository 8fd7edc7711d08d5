package repotest

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is an S3-protocol server in this process (gofakes3, in memory) that
// checks each request's AWS signature against one access key.
type S3 struct {
	Backend *s3mem.Backend
	URL     string // http://127.0.0.1:PORT
	KeyID   string
	Secret  string
	refused *atomic.Int64
}

// Refused counts the requests refused for a wrong or missing key.
func (s S3) Refused() int64 { return s.refused.Load() }

// StartS3 starts an S3 server that accepts only keyID and secret.
func StartS3(t testing.TB, keyID, secret string) S3 {
	t.Helper()
	be := s3mem.New()
	fake := gofakes3.New(be, gofakes3.WithAutoBucket(false))
	s := S3{Backend: be, KeyID: keyID, Secret: secret, refused: new(atomic.Int64)}
	h := fake.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := VerifySigV4(r, keyID, secret); err != nil {
			s.refused.Add(1)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + err.Code + `</Code><Message>` + err.Message + `</Message></Error>`))
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

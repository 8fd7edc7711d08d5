package adminapi

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/declare"
)

// clientOf is a Client that sends its requests to the handler h.
func clientOf(h http.HandlerFunc) Client {
	return Client{Do: func(method, uri string, body io.Reader) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(method, uri, body))
		return rec.Result(), nil
	}}
}

// CheckDeclared passes a 200, hands back a 422's mistake as it is, and
// says "not checked" for every other answer and for no answer, so that
// `stackhub validate` checks the declarations itself.
func TestClientCheckDeclared(t *testing.T) {
	var got string
	answer := func(status int, body string) Client {
		return clientOf(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got = r.Method + " " + r.URL.Path + " " + string(b)
			w.WriteHeader(status)
			io.WriteString(w, body)
		})
	}
	req := DeclaredCheck{Data: "/srv/data", Apps: []declare.App{{Name: "w", From: "builtin/whoami"}}}
	if err := answer(http.StatusOK, `{"ok":true}`).CheckDeclared(req); err != nil {
		t.Errorf("200: %v", err)
	}
	if !strings.HasPrefix(got, "POST /stackhub/declared/check ") || !strings.Contains(got, `"data":"/srv/data"`) || !strings.Contains(got, `"name":"w"`) {
		t.Errorf("request sent: %s", got)
	}
	err := answer(http.StatusUnprocessableEntity, `{"error":"/etc/Caddyfile:3: app w: from builtin/nope: no app"}`).CheckDeclared(req)
	if err == nil || err.Error() != "/etc/Caddyfile:3: app w: from builtin/nope: no app" || errors.Is(err, ErrNotChecked) {
		t.Errorf("422: %v", err)
	}
	if err := answer(http.StatusUnprocessableEntity, "not json").CheckDeclared(req); err == nil || !strings.Contains(err.Error(), "not json") || errors.Is(err, ErrNotChecked) {
		t.Errorf("422 without an API error: %v", err)
	}
	for _, status := range []int{http.StatusConflict, http.StatusNotFound, http.StatusForbidden} {
		if err := answer(status, `{"error":"x"}`).CheckDeclared(req); !errors.Is(err, ErrNotChecked) {
			t.Errorf("%d: %v, want ErrNotChecked", status, err)
		}
	}
	down := Client{Do: func(string, string, io.Reader) (*http.Response, error) { return nil, errors.New("connection refused") }}
	if err := down.CheckDeclared(req); !errors.Is(err, ErrNotChecked) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("no answer: %v, want ErrNotChecked", err)
	}
}

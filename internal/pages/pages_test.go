package pages

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestPagesLookLikeThePortal renders the pages of an app host: the
// portal's stylesheet inline and allowed by the CSP (by its hash), a link to
// the portal, no Markdown backticks, and the Start button for admins only.
func TestPagesLookLikeThePortal(t *testing.T) {
	css := []byte("body{color:#123}\nbutton{background:#2f6fed}")
	r := New(css, "https://my.example.com:8443")
	render := func(f func(*httptest.ResponseRecorder) error) (*httptest.ResponseRecorder, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		if err := f(rec); err != nil {
			t.Fatal(err)
		}
		return rec, rec.Body.String()
	}
	admin, adminBody := render(func(w *httptest.ResponseRecorder) error { return r.Stopped(w, "vault", "ann", true) })
	_, memberBody := render(func(w *httptest.ResponseRecorder) error { return r.Stopped(w, "vault", "max", false) })
	none, noneBody := render(func(w *httptest.ResponseRecorder) error { return r.NoApp(w, "nope.example.com") })

	if admin.Code != 503 || none.Code != 404 {
		t.Errorf("status: stopped %d, no app %d", admin.Code, none.Code)
	}
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(adminBody)
	if style == nil || style[1] != string(css) {
		t.Fatalf("the stylesheet is not inlined as it is:\n%s", adminBody)
	}
	sum := sha256.Sum256([]byte(style[1]))
	if csp := admin.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q does not allow exactly the inline stylesheet", csp)
	}
	for name, body := range map[string]string{"admin": adminBody, "member": memberBody, "no app": noneBody} {
		if strings.Contains(body, "`") {
			t.Errorf("%s page has a backtick:\n%s", name, body)
		}
		if !strings.Contains(body, `href="https://my.example.com:8443/"`) {
			t.Errorf("%s page does not link to the portal:\n%s", name, body)
		}
	}
	if !strings.Contains(adminBody, `action="https://my.example.com:8443/admin/apps/vault/start"`) || !strings.Contains(adminBody, `id="start"`) {
		t.Errorf("admin's stopped page has no Start button:\n%s", adminBody)
	}
	if strings.Contains(memberBody, `id="start"`) || strings.Contains(memberBody, "/start") {
		t.Errorf("member's stopped page offers Start:\n%s", memberBody)
	}
	if !strings.Contains(noneBody, "nope.example.com") || !strings.Contains(noneBody, "<code>stackhub apps install ID</code>") {
		t.Errorf("no-app page:\n%s", noneBody)
	}
}

// The gate's pages speak the visitor's language: Accept-Language zh-CN
// gets the Chinese page with its lang, the app's name in the sentence.
func TestPagesInChinese(t *testing.T) {
	r := New([]byte("body{}"), "https://my.example.com")
	req := httptest.NewRequest("GET", "https://vault.example.com/", nil)
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
	rec := httptest.NewRecorder()
	if err := r.In(Lang(req)).Stopped(rec, "vault", "ann", true); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	for _, want := range []string{`<html lang="zh-CN">`, "应用 vault 已停止。", "<h1>应用已停止</h1>", "打开 StackHub 门户"} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in:\n%s", want, body)
		}
	}
	for _, english := range []string{"is stopped", "Open the StackHub portal", "App stopped"} {
		if strings.Contains(body, english) {
			t.Errorf("English %q left in:\n%s", english, body)
		}
	}
}

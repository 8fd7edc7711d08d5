package auth

import (
	"net/url"
	"strings"
	"testing"
)

func ourHosts(h string) bool {
	return h == "my.home.example" || h == "vault.home.example" || h == "wiki.home.example"
}

func TestSafeReturn(t *testing.T) {
	ok := []struct{ in, want string }{
		{"/", "/"},
		{"/some/page", "/some/page"},
		{"/some/page?x=1&y=%2F#frag", "/some/page?x=1&y=%2F#frag"},
		{"/files/Fotos%20%C3%A4", "/files/Fotos%20%C3%A4"},
		{"/ok%2Fpath", "/ok%2Fpath"},
		{"/x/../y/./z", "/x/../y/./z"},
		{"/login?next=https%3A%2F%2Fevil.example", "/login?next=https%3A%2F%2Fevil.example"}, // a path on our host
		{"https://vault.home.example/x?y=1", "https://vault.home.example/x?y=1"},
		{"https://vault.home.example", "https://vault.home.example"},
		{"HTTPS://Vault.Home.Example./x", "https://vault.home.example/x"},
		{"https://vault.home.example:8443/x", "https://vault.home.example:8443/x"},
		{"https://vault.home.example#@evil.example", "https://vault.home.example#@evil.example"},
	}
	for _, c := range ok {
		got, good := SafeReturn(c.in, ourHosts)
		if !good || got != c.want {
			t.Errorf("SafeReturn(%q) = %q, %v; want %q", c.in, got, good, c.want)
		}
	}

	bad := []string{
		"",
		// foreign hosts and scheme-relative URLs
		"https://evil.example/",
		"https://evil.example",
		"https://vault.home.example.evil.example/",
		"//evil.example",
		"//evil.example/path",
		"///evil.example",
		"/.//evil.example",
		"/x/..//evil.example",
		"/%2e//evil.example",
		"https://vault.home.example//evil.example",
		"https://vault.home.example/.//evil.example",
		"/\\evil.example",
		"\\\\evil.example",
		"\\/evil.example",
		"/\\/evil.example",
		"https:\\\\evil.example",
		"https://vault.home.example\\@evil.example",
		// userinfo tricks
		"https://vault.home.example@evil.example",
		"https://user:pass@vault.home.example/",
		"https://evil.example@vault.home.example/",
		"https://vault.home.example%40evil.example/",
		"https://vault.home.example%2eevil.example/",
		// other schemes and malformed absolute URLs
		"javascript:alert(1)",
		"JavaScript:alert(1)",
		"javascript://vault.home.example/%0aalert(1)",
		"data:text/html,<script>alert(1)</script>",
		"vbscript:msgbox",
		"http://vault.home.example/",
		"ftp://vault.home.example/",
		"https:vault.home.example",
		"https:/vault.home.example",
		"https:///evil.example",
		"https://",
		"https://:443/",
		"https://vault.home.example:99999999/",
		"https://vault.home.example:80a/",
		// not a path
		"evil.example",
		"evil.example/path",
		"?x=1",
		"#top",
		".",
		"../x",
		// whitespace, control and non-ASCII characters
		" /x",
		"/x y",
		"\t//evil.example",
		"/\t/evil.example",
		"java\tscript:alert(1)",
		"/x\r\nSet-Cookie: a=b",
		"/x\x00",
		"/\x7f",
		"/／evil.example",
		"https://vault.home.example\u3002evil.example/",
		// encoded variants
		"/%2f%2fevil.example",
		"/%2F%2Fevil.example",
		"%2f%2fevil.example",
		"/%2fevil.example",
		"/%5cevil.example",
		"/%5Cevil.example",
		"%5c%5cevil.example",
		"/%252f%252fevil.example",
		"/%25252f%25252fevil.example",
		"/%2525252f%2525252fevil.example",
		"/%09/evil.example",
		"/x%0d%0aSet-Cookie:a=b",
		"/x%00",
		"/%zz",
		"/%",
		"https://vault.home.example/%5c",
		"https%3A%2F%2Fevil.example",
		"javascript%3Aalert(1)",
		strings.Repeat("/a", 3000),
	}
	for _, in := range bad {
		if got, good := SafeReturn(in, ourHosts); good {
			t.Errorf("SafeReturn(%q) accepted as %q", in, got)
		}
	}
	// Without a host list only paths pass.
	if _, good := SafeReturn("https://vault.home.example/", nil); good {
		t.Error("absolute URL accepted without a host list")
	}
	if got, good := SafeReturn("/x", nil); !good || got != "/x" {
		t.Error("path refused without a host list")
	}
}

func TestSafeReturnScheme(t *testing.T) {
	if got, ok := SafeReturnScheme("http://vault.home.example/x", "http", ourHosts); !ok || got != "http://vault.home.example/x" {
		t.Fatalf("http platform: %q, %v", got, ok)
	}
	if _, ok := SafeReturnScheme("https://vault.home.example/x", "http", ourHosts); ok {
		t.Fatal("https accepted on an http platform")
	}
	if _, ok := SafeReturnScheme("javascript://vault.home.example/", "javascript", ourHosts); ok {
		t.Fatal("scheme javascript accepted")
	}
}

// checkSafeReturnResult asserts what SafeReturn promises about a result,
// independently of how it got there: resolved like a browser against our
// portal, it stays on our hosts, over https, without user info, and no
// decoding of it starts a second authority or smuggles a backslash or a
// control character.
func checkSafeReturnResult(t *testing.T, in, out string) {
	t.Helper()
	if out == "" || !printableASCII(out) || strings.Contains(out, "\\") {
		t.Fatalf("SafeReturn(%q) = %q: unsafe characters", in, out)
	}
	base, _ := url.Parse("https://my.home.example/login")
	ref, err := url.Parse(out)
	if err != nil {
		t.Fatalf("SafeReturn(%q) = %q: unparseable: %v", in, out, err)
	}
	u := base.ResolveReference(ref)
	if u.Scheme != "https" || u.User != nil || !ourHosts(u.Hostname()) || strings.HasPrefix(u.Path, "//") {
		t.Fatalf("SafeReturn(%q) = %q: leads to %q", in, out, u)
	}
	if ref.Host == "" {
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
			t.Fatalf("SafeReturn(%q) = %q: not a single-slash path", in, out)
		}
		s := out
		for range 4 {
			d, err := url.PathUnescape(s)
			if err != nil || d == s {
				break
			}
			if strings.HasPrefix(d, "//") || strings.ContainsAny(d, "\\\x00\r\n\t") {
				t.Fatalf("SafeReturn(%q) = %q: decodes to %q", in, out, d)
			}
			s = d
		}
	}
}

func FuzzSafeReturn(f *testing.F) {
	// More seeds are in testdata/fuzz/FuzzSafeReturn.
	for _, s := range []string{"/", "/a?b#c", "https://vault.home.example/x", "//evil.example", "/%2f%2fevil", "https://a@evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := SafeReturn(in, ourHosts)
		if !ok {
			if out != "" {
				t.Fatalf("refused %q but returned %q", in, out)
			}
			return
		}
		checkSafeReturnResult(t, in, out)
		// Idempotent: a returned address is accepted as is.
		if again, ok := SafeReturn(out, ourHosts); !ok || again != out {
			t.Fatalf("SafeReturn(%q) = %q, but SafeReturn(%q) = %q, %v", in, out, out, again, ok)
		}
	})
}

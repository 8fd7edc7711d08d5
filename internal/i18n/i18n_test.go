package i18n

import (
	"sort"
	"strings"
	"testing"
	"time"
)

// Every language has exactly the message IDs of English: a text added to
// one catalog only fails here.
func TestCatalogsHaveTheSameIDs(t *testing.T) {
	en, err := IDs("en")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, id := range en {
		want[id] = true
	}
	for _, l := range Languages[1:] {
		ids, err := IDs(l.Tag)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, id := range ids {
			got[id] = true
			if !want[id] {
				t.Errorf("%s has %q, English has not", l.Tag, id)
			}
		}
		var missing []string
		for id := range want {
			if !got[id] {
				missing = append(missing, id)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s lacks %d messages: %q", l.Tag, len(missing), missing)
		}
	}
}

// Chinese texts are Chinese: a message copied from English unchanged
// would show English on a Chinese page. Names that stay as they are
// (brands, formats) are listed.
func TestChineseCatalogIsTranslated(t *testing.T) {
	same := map[string]bool{"GiB": true}
	zh := New("zh-CN")
	for _, id := range mustIDs(t, "en") {
		if strings.HasPrefix(id, "N apps") {
			continue
		}
		if got := zh.T(id); got == id && !same[id] {
			t.Errorf("zh-CN %q is the English text", id)
		}
	}
}

func mustIDs(t *testing.T, lang string) []string {
	ids, err := IDs(lang)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestPluralsAndNumbers(t *testing.T) {
	en, zh := New("en"), New("zh-CN")
	if got := en.N("N apps on the domain", 1, "Domain", "example.org"); got != "1 app on example.org" {
		t.Errorf("en one: %q", got)
	}
	if got := en.N("N apps on the domain", 1200, "Domain", "example.org"); got != "1,200 apps on example.org" {
		t.Errorf("en other: %q", got)
	}
	if got := zh.N("N apps", 3); got != "3 个应用" {
		t.Errorf("zh: %q", got)
	}
	d := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	if got := zh.ShortDate(d); got != "3月4日 05:06" {
		t.Errorf("zh date: %q", got)
	}
	if got := en.ShortDate(d); got != "Mar 4 05:06" {
		t.Errorf("en date: %q", got)
	}
	if got := zh.T("an error of an app"); got != "an error of an app" {
		t.Errorf("unknown text changed: %q", got)
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct{ accept, saved, want string }{
		{"zh-CN,zh;q=0.9,en;q=0.8", "", "zh-CN"},
		{"zh", "", "zh-CN"},
		{"zh-Hans-CN", "", "zh-CN"},
		{"en-GB,en;q=0.9", "", "en"},
		{"fr-FR", "", "en"},
		{"", "", "en"},
		{"zh-CN", "en", "en"},
		{"en", "zh-CN", "zh-CN"},
		{"en", "klingon", "en"},
	} {
		if got := Match(c.accept, c.saved); got != c.want {
			t.Errorf("Match(%q, %q) = %q, want %q", c.accept, c.saved, got, c.want)
		}
	}
}

// Package i18n is StackHub's message catalog: every text the portal and
// the gate's pages show comes from catalog/<lang>.json through a Localizer
// (github.com/nicksnyder/go-i18n/v2). A message's ID is its English text,
// so a text missing from a catalog still reads sensibly, and the catalogs'
// test checks that every language has exactly the IDs of English.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed catalog/*.json
var catalogFS embed.FS

// Languages are the languages StackHub speaks, the first the default.
var Languages = []Language{
	{Tag: "en", Name: "English"},
	{Tag: "zh-CN", Name: "简体中文"},
}

// Language is one language of the switch: its BCP 47 tag and its own name.
type Language struct{ Tag, Name string }

var (
	bundle  = goi18n.NewBundle(language.English)
	matcher language.Matcher
)

func init() {
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	tags := make([]language.Tag, 0, len(Languages))
	for _, l := range Languages {
		if _, err := bundle.LoadMessageFileFS(catalogFS, "catalog/"+l.Tag+".json"); err != nil {
			panic(fmt.Sprintf("i18n: catalog %s: %v", l.Tag, err))
		}
		tags = append(tags, language.MustParse(l.Tag))
	}
	matcher = language.NewMatcher(tags)
}

// Supported reports whether tag is one of Languages (exact tag).
func Supported(tag string) bool {
	for _, l := range Languages {
		if l.Tag == tag {
			return true
		}
	}
	return false
}

// Match picks the language: the first of prefs that is supported exactly
// (a saved choice), else the best match of the Accept-Language header,
// else English.
func Match(acceptLanguage string, prefs ...string) string {
	for _, p := range prefs {
		if Supported(p) {
			return p
		}
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Languages[0].Tag
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return Languages[0].Tag
	}
	return Languages[i].Tag
}

// Localizer translates into one language.
type Localizer struct {
	Lang string
	l    *goi18n.Localizer
	p    *message.Printer
}

// New returns the Localizer of lang (one of Languages; others get English).
func New(lang string) *Localizer {
	if !Supported(lang) {
		lang = Languages[0].Tag
	}
	tag := language.MustParse(lang)
	return &Localizer{Lang: lang, l: goi18n.NewLocalizer(bundle, lang), p: message.NewPrinter(tag)}
}

// T translates id (its English text). args are name/value pairs of the
// message's {{.Name}} placeholders. An id missing from the catalog comes
// back as is: texts that are not ours (an app's error) pass unchanged.
func (lc *Localizer) T(id string, args ...any) string {
	return lc.localize(id, nil, args)
}

// N translates the plural message id for count n; {{.Count}} in the
// message is n, formatted for the language.
func (lc *Localizer) N(id string, n int, args ...any) string {
	return lc.localize(id, n, args)
}

func (lc *Localizer) localize(id string, count any, args []any) string {
	if id == "" {
		return ""
	}
	data := map[string]any{}
	for i := 0; i+1 < len(args); i += 2 {
		data[fmt.Sprint(args[i])] = args[i+1]
	}
	if count != nil {
		data["Count"] = lc.Number(count.(int))
	}
	s, err := lc.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil || s == "" {
		return id
	}
	return s
}

// Number formats n with the language's digit grouping.
func (lc *Localizer) Number(n int) string { return lc.p.Sprint(n) }

// dateLayouts are the languages' date layouts: full date and time, and a
// short one (month, day, time).
var dateLayouts = map[string][2]string{
	"en":    {"Jan 2, 2006 15:04", "Jan 2 15:04"},
	"zh-CN": {"2006年1月2日 15:04", "1月2日 15:04"},
}

// Date formats t as a full date and time of the language.
func (lc *Localizer) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(dateLayouts[lc.Lang][0])
}

// ShortDate formats t as month, day and time of the language.
func (lc *Localizer) ShortDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(dateLayouts[lc.Lang][1])
}

// IDs returns the message IDs of a catalog file's JSON (for tests and
// the page checks).
func IDs(lang string) ([]string, error) {
	b, err := catalogFS.ReadFile("catalog/" + lang + ".json")
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	return ids, nil
}

// Texts returns every text of lang's catalog (each plural form), for the
// checks that a page shows no text of another language.
func Texts(lang string) ([]string, error) {
	b, err := catalogFS.ReadFile("catalog/" + lang + ".json")
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var out []string
	for _, raw := range m {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, s)
			continue
		}
		var forms map[string]string
		if json.Unmarshal(raw, &forms) == nil {
			for k, v := range forms {
				if k != "description" {
					out = append(out, v)
				}
			}
		}
	}
	return out, nil
}

// Messages are what the portal's scripts show, in lang (English IDs to
// texts, placeholders left for the script to fill): the page hands them
// to the scripts as JSON. IDs lang lacks are left out.
func Messages(lang string, ids []string) map[string]string {
	raw := rawTexts(lang)
	m := make(map[string]string, len(ids))
	for _, id := range ids {
		if s, ok := raw[id]; ok {
			m[id] = s
		}
	}
	return m
}

// rawTexts reads lang's catalog as texts, unexecuted (plural messages by
// their "other" form).
func rawTexts(lang string) map[string]string {
	b, err := catalogFS.ReadFile("catalog/" + lang + ".json")
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for id, raw := range m {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out[id] = s
			continue
		}
		var forms map[string]string
		if json.Unmarshal(raw, &forms) == nil && strings.TrimSpace(forms["other"]) != "" {
			out[id] = forms["other"]
		}
	}
	return out
}

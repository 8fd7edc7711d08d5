package stores

import (
	"strings"

	"golang.org/x/text/language"
)

// AppText is an app's tagline and description in one language.
type AppText struct {
	Tagline     string `json:"tagline,omitempty"`
	Description string `json:"description,omitempty"`
}

// Text returns the app's tagline and description in lang (a BCP 47 tag such
// as "zh-CN"): the store's text of that language where it has one (the
// same language and script or region, e.g. zh_cn for zh-CN), else the
// default (English) text.
func (a App) Text(lang string) (tagline, description string) {
	tagline, description = a.Tagline, a.Description
	want, err := language.Parse(lang)
	if err != nil || len(a.Texts) == 0 {
		return
	}
	wb, ws, _ := want.Raw()
	for tag, t := range a.Texts {
		have, err := language.Parse(tag)
		if err != nil {
			continue
		}
		hb, hs, _ := have.Raw()
		wantScript, _ := want.Script()
		haveScript, _ := have.Script()
		if hb == wb && (hs == ws || haveScript == wantScript) {
			if t.Tagline != "" {
				tagline = t.Tagline
			}
			if t.Description != "" {
				description = t.Description
			}
			return
		}
	}
	return
}

// languageTexts collects the non-English texts of CasaOS language maps
// (tagline and description), keyed by BCP 47 tag (zh_cn → zh-CN).
func languageTexts(tagline, description any) map[string]AppText {
	out := map[string]AppText{}
	add := func(v any, set func(*AppText, string)) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, e := range m {
			tag, err := language.Parse(strings.ReplaceAll(k, "_", "-"))
			if err != nil {
				continue
			}
			if b, _ := tag.Base(); b.String() == "en" {
				continue
			}
			s := strings.TrimSpace(scalarString(e))
			if s == "" {
				continue
			}
			t := out[tag.String()]
			set(&t, s)
			out[tag.String()] = t
		}
	}
	add(tagline, func(t *AppText, s string) { t.Tagline = s })
	add(description, func(t *AppText, s string) { t.Description = s })
	if len(out) == 0 {
		return nil
	}
	return out
}

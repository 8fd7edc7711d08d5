package portal

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// themeColours reads the custom properties of a rule of style.css.
func themeColours(t *testing.T, css, selector string) map[string]string {
	t.Helper()
	i := strings.Index(css, selector+"{")
	if i < 0 {
		t.Fatalf("no rule %s in style.css", selector)
	}
	body := css[i+len(selector)+1:]
	body = body[:strings.Index(body, "}")]
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z0-9-]+):(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\b`).FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func luminance(hex string) float64 {
	hex = strings.TrimPrefix(hex, "#")
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	var c [3]float64
	for i := range 3 {
		v, _ := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		s := float64(v) / 255
		if s <= 0.03928 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

// Text colours reach WCAG AA (4.5:1) on the page and card backgrounds, and
// on their tinted boxes, in both themes; button text on its button too.
func TestThemeContrast(t *testing.T) {
	b, err := assetFS.ReadFile("assets/style.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	light := themeColours(t, css, ":root")
	dark := themeColours(t, css, ":root[data-theme=dark]")
	if len(dark) < 20 {
		t.Fatalf("dark theme has only %d colours", len(dark))
	}
	for name, th := range map[string]map[string]string{"light": light, "dark": dark} {
		for _, pair := range [][2]string{
			{"fg", "bg"}, {"fg", "card"}, {"fg2", "card"}, {"muted", "bg"}, {"muted", "card"},
			{"accent", "card"}, {"accent", "bg"}, {"accent", "accent-bg"}, {"on-accent", "accent"}, {"on-accent", "bad"},
			{"good", "good-bg"}, {"bad", "bad-bg"}, {"warn", "warn-bg"}, {"info", "info-bg"}, {"grey", "grey-bg"},
			{"bad", "card"}, {"fg2", "grey-bg"},
		} {
			fg, bg := th[pair[0]], th[pair[1]]
			if fg == "" || bg == "" {
				t.Errorf("%s theme lacks --%s or --%s", name, pair[0], pair[1])
				continue
			}
			if c := contrast(fg, bg); c < 4.5 {
				t.Errorf("%s theme: --%s %s on --%s %s has contrast %.2f, below 4.5", name, pair[0], fg, pair[1], bg, c)
			}
		}
	}
}

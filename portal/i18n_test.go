package portal

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/i18n"
)

// literalsAllowed are the literal words a template may show untranslated:
// names (of StackHub, of store formats), example values and commands.
var literalsAllowed = map[string]bool{
	"StackHub": true, "· StackHub": true, "CasaOS": true, "Runtipi": true, "Umbrel": true,
	"my.": true, "tcp": true, "notes": true, "/srv/apps/notes": true, "compose.yaml": true,
	"family-apps": true, "https://example.org/store.zip": true, "stackhub user add NAME --admin": true,
	"&lt;app&gt;.": true,
	// commands of the Nodes page
	"stackhub nodes join-token": true, "stackhub nodes label NODE KEY=VALUE": true,
	"stackhub apps move APP --node NAME": true, "docker swarm init": true,
	// the example compose file of the own-app page
	"services:&#10;  web:&#10;    image: nginx:alpine&#10;    ports: [&quot;80&quot;]": true,
}

// userAttrs are the attributes whose values people read or hear.
var userAttrs = map[string]bool{"placeholder": true, "aria-label": true, "title": true, "alt": true, "data-confirm": true, "value": false}

// untranslated returns the literal texts of a template tree that people
// see: text between tags and user-facing attribute values, with every
// action ({{…}}) cut out. A text with a letter that is not in
// literalsAllowed is an untranslated string.
func untranslated(root parse.Node) []string {
	var src strings.Builder
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.TextNode:
			src.Write(n.Text)
		case *parse.IfNode:
			src.WriteByte(0)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			src.WriteByte(0)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			src.WriteByte(0)
			walk(n.List)
			walk(n.ElseList)
		default:
			src.WriteByte(0)
		}
	}
	walk(root)
	return literalTexts(src.String())
}

var (
	letter = regexp.MustCompile(`[A-Za-z]`)
	attrRe = regexp.MustCompile(`^([a-zA-Z-]+)=(["'])`)
)

// literalTexts scans HTML (actions as NUL) for visible literal runs.
func literalTexts(s string) []string {
	var out []string
	var run strings.Builder
	flush := func(visible bool) {
		t := strings.TrimSpace(run.String())
		run.Reset()
		if visible && letter.MatchString(t) && !literalsAllowed[t] {
			out = append(out, t)
		}
	}
	state, attr, quote, inScript := "text", "", byte(0), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch state {
		case "text":
			if c == 0 {
				flush(!inScript)
				continue
			}
			if c == '<' {
				flush(!inScript)
				rest := strings.ToLower(s[i:])
				if strings.HasPrefix(rest, "<script") || strings.HasPrefix(rest, "<style") {
					inScript = true
				} else if strings.HasPrefix(rest, "</script") || strings.HasPrefix(rest, "</style") {
					inScript = false
				}
				state = "tag"
				continue
			}
			run.WriteByte(c)
		case "tag":
			if c == '>' {
				state = "text"
				continue
			}
			if m := attrRe.FindStringSubmatch(s[i:]); m != nil {
				attr, quote, state = strings.ToLower(m[1]), m[2][0], "attr"
				i += len(m[0]) - 1
			}
		case "attr":
			if c == 0 {
				flush(userAttrs[attr])
				continue
			}
			if c == quote {
				flush(userAttrs[attr])
				state = "tag"
				continue
			}
			run.WriteByte(c)
		}
	}
	flush(state == "text" && !inScript)
	return out
}

// No template shows a literal English text: every text goes through t or
// tn (and so through the catalog).
func TestTemplatesHaveNoLiteralText(t *testing.T) {
	for _, tpl := range pages.Templates() {
		if tpl.Tree == nil {
			continue
		}
		for _, s := range untranslated(tpl.Tree.Root) {
			t.Errorf("template %q shows the literal %q: wrap it in {{t \"…\"}} and add it to the catalogs", tpl.Name(), s)
		}
	}
}

// The check finds what it must: a literal text, a literal in an
// aria-label, a text beside an action; and passes translated ones.
func TestLiteralTextCheck(t *testing.T) {
	for src, want := range map[string]int{
		`<p>Hello</p>`:                                        1,
		`<p>{{t "Hello"}}</p>`:                                0,
		`<input aria-label="Search apps">`:                    1,
		`<input aria-label="{{t "Search"}}" id="x">`:          0,
		`<a href="/x" class="btn">{{.Name}} is installed</a>`: 1,
		`<span>StackHub</span>`:                               0,
		`<script>var a = "x"</script>`:                        0,
	} {
		tr, err := parse.Parse("x", src, "{{", "}}", map[string]any{"t": func(string) string { return "" }})
		if err != nil {
			t.Fatal(err)
		}
		if got := untranslated(tr["x"].Root); len(got) != want {
			t.Errorf("%s: found %q, want %d", src, got, want)
		}
	}
}

// Every id the templates translate is in the catalog: a t call with a
// text missing from it would show English on a Chinese page.
func TestTemplateTextsAreInTheCatalog(t *testing.T) {
	ids := map[string]bool{}
	for _, id := range mustIDs(t) {
		ids[id] = true
	}
	re := regexp.MustCompile(`\{\{tn? ("(?:[^"\\]|\\.)*")`)
	for _, tpl := range pages.Templates() {
		if tpl.Tree == nil {
			continue
		}
		for _, m := range re.FindAllStringSubmatch(tpl.Tree.Root.String(), -1) {
			id, err := strconv.Unquote(m[1])
			if err != nil {
				t.Fatal(err)
			}
			if !ids[id] {
				t.Errorf("template %q translates %q, which no catalog has", tpl.Name(), id)
			}
		}
	}
}

func mustIDs(t *testing.T) []string {
	ids, err := i18n.IDs("en")
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// Accept-Language picks the language; the switch saves another for this
// browser and for the signed-in user, whose next browser gets it too.
func TestLanguageAndThemeSwitch(t *testing.T) {
	e := newEnv(t)
	if _, err := e.a.CreateUser(auth.NewUser{Name: "max", Role: auth.RoleAdmin, Password: "max-password-1"}); err != nil {
		t.Fatal(err)
	}
	page := e.do("GET", "/login", nil, "Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")
	for _, want := range []string{`<html lang="zh-CN">`, "<h1>登录</h1>", `aria-label="语言"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("zh-CN sign-in page lacks %q:\n%s", want, page.body)
		}
	}
	if strings.Contains(page.body, ">Sign in<") || strings.Contains(page.body, "User name") {
		t.Errorf("English left on the zh-CN sign-in page:\n%s", page.body)
	}
	if en := e.do("GET", "/login", nil, "Accept-Language", "en-US"); !strings.Contains(en.body, `<html lang="en">`) || !strings.Contains(en.body, "<h1>Sign in</h1>") {
		t.Errorf("en sign-in page:\n%s", en.body)
	}

	e.signIn()
	r := e.do("GET", "/prefs?lang=zh-CN&theme=dark&rd=/account", nil, "Sec-Fetch-Site", "same-origin")
	if r.status != 303 || r.header.Get("Location") != "/account" {
		t.Fatalf("switch: %d %q", r.status, r.header.Get("Location"))
	}
	acc := e.do("GET", "/account", nil, "Accept-Language", "en")
	if !strings.Contains(acc.body, `<html lang="zh-CN" data-theme="dark">`) || !strings.Contains(acc.body, "你的账户") {
		t.Errorf("account page after the switch:\n%s", acc.body)
	}
	// Another browser of the same user: no cookies of its own but the session.
	delete(e.jar, LangCookie)
	delete(e.jar, ThemeCookie)
	acc = e.do("GET", "/account", nil, "Accept-Language", "en")
	if !strings.Contains(acc.body, `<html lang="zh-CN" data-theme="dark">`) {
		t.Errorf("the user's saved choice is not applied:\n%.400s", acc.body)
	}

	// Another site's link changes no account, and rd cannot leave the portal.
	r = e.do("GET", "/prefs?lang=en&rd=//evil.example/", nil, "Sec-Fetch-Site", "cross-site")
	if r.header.Get("Location") != "/" {
		t.Errorf("rd to another site: %q", r.header.Get("Location"))
	}
	if pr, _ := e.a.PrefsOf("ann"); pr.Lang != "zh-CN" || pr.Theme != "dark" {
		t.Errorf("a cross-site link changed the saved prefs: %+v", pr)
	}
	if r := e.do("GET", "/prefs?lang=xx", nil); r.status != 400 {
		t.Errorf("unknown language: %d", r.status)
	}
}

// Pages in Chinese show dates in Chinese.
func TestChineseDates(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	acc := e.do("GET", "/account", nil, "Accept-Language", "zh-CN")
	if !regexp.MustCompile(`\d+月\d+日 \d\d:\d\d`).MatchString(acc.body) {
		t.Errorf("no Chinese date on the account page:\n%s", acc.body)
	}
}

// Every text the scripts translate is in the catalog, and a Chinese page
// hands the scripts their Chinese texts.
func TestScriptTextsAreInTheCatalog(t *testing.T) {
	ids := map[string]bool{}
	for _, id := range mustIDs(t) {
		ids[id] = true
	}
	if len(scriptIDs) < 30 {
		t.Fatalf("only %d script texts found: is the t( call pattern still right?", len(scriptIDs))
	}
	for _, id := range scriptIDs {
		if !ids[id] {
			t.Errorf("the scripts translate %q, which no catalog has", id)
		}
	}
	m := scriptMessages("zh-CN")
	if m["Installing {{.Name}}…"] != "正在安装 {{.Name}}…" || m["running"] != "运行中" {
		t.Errorf("zh-CN script texts: %v", m)
	}
}

// Every control of the pages has a label: a <label for> naming its id,
// an enclosing <label>, or an aria-label / aria-labelledby.
func TestControlsAreLabelled(t *testing.T) {
	controlRe := regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	for _, tpl := range pages.Templates() {
		if tpl.Tree == nil {
			continue
		}
		src := tpl.Tree.Root.String()
		for _, loc := range controlRe.FindAllStringIndex(src, -1) {
			tag := src[loc[0]:loc[1]]
			if strings.Contains(tag, `type="hidden"`) || strings.Contains(tag, "aria-label") {
				continue
			}
			if m := regexp.MustCompile(`\bid="([^"]+)"`).FindStringSubmatch(tag); m != nil && strings.Contains(src, `for="`+m[1]+`"`) {
				continue
			}
			// Inside a <label> … </label>?
			before := src[:loc[0]]
			if strings.LastIndex(before, "<label") > strings.LastIndex(before, "</label>") {
				continue
			}
			t.Errorf("template %q: control without a label: %s", tpl.Name(), tag)
		}
	}
}

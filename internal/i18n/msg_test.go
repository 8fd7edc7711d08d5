package i18n

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// A message's English text is its ID with the args filled in, with or
// without the catalog; Chinese comes from the catalog, with the same args.
func TestMsgEnglishAndChinese(t *testing.T) {
	m := M("{{.Name}} now answers at {{.URL}}", "Name", "Notes", "URL", "https://notes.example.org")
	if got, want := m.English(), "Notes now answers at https://notes.example.org"; got != want {
		t.Errorf("English = %q, want %q", got, want)
	}
	if got, want := New("en").Msg(m), m.English(); got != want {
		t.Errorf("en Msg = %q, want %q", got, want)
	}
	if got, want := New("zh-CN").Msg(m), "Notes 现在在 https://notes.example.org 响应"; got != want {
		t.Errorf("zh-CN Msg = %q, want %q", got, want)
	}
	// A message the catalog lacks reads in English, args filled in.
	other := M("{{.App}} did something new", "App", "notes")
	if got := New("zh-CN").Msg(other); got != "notes did something new" {
		t.Errorf("zh-CN Msg of a message not in the catalog = %q", got)
	}
	if got := M("{{.N}} files", "N", 3).English(); got != "3 files" {
		t.Errorf("numbers: %q", got)
	}
}

// An *Error says its English message (the CLI's text), wraps its kind for
// errors.Is, and is found with errors.As under the context wrapped around
// it, as the portal finds it.
func TestErrorWrapsAndIsFound(t *testing.T) {
	kind := errors.New("not installed")
	err := fmt.Errorf("move notes: %w", Errorf(kind, "not installed: no app \"{{.App}}\" is installed; `stackhub apps list` shows the installed apps", "App", "notes"))
	if got, want := err.Error(), "move notes: not installed: no app \"notes\" is installed; `stackhub apps list` shows the installed apps"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, kind) {
		t.Error("errors.Is does not find the kind")
	}
	var le Localized
	if !errors.As(err, &le) {
		t.Fatal("errors.As does not find the Localized error")
	}
	got := New("zh-CN").Msg(le.Message())
	if got != "未安装：没有已安装的应用“notes”；应用列表显示已安装的应用" {
		t.Errorf("zh-CN = %q", got)
	}
}

// sources are the packages whose Go code makes catalog messages (appctl,
// the stores, the sign-in, the portal), and msgCalls the calls that make
// them, with the position of the message ID among their arguments (the
// name/value pairs follow it).
var (
	sources  = []string{"../../appctl", "../../stores", "../auth", "../../portal", "../../backup", "../domains"}
	msgCalls = map[string]int{"say": 1, "sayStatus": 1, "errorf": 1, "M": 0, "Errorf": 1, "eventSay": 2, "msgError": 1, "inputError": 0, "problem": 0}
)

// foundMsg is a catalog message made in Go code: its ID, the arg names
// given with it and where.
type foundMsg struct {
	id, at string
	args   []string
}

// madeMessages finds every catalog message the sources make with a
// literal ID.
func madeMessages(t *testing.T) []foundMsg {
	t.Helper()
	var out []foundMsg
	fset := token.NewFileSet()
	for _, dir := range sources {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			file, err := parser.ParseFile(fset, f, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				var name string
				switch fn := call.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
					if x, ok := fn.X.(*ast.Ident); ok && (name == "M" || name == "Errorf") && x.Name != "i18n" {
						return true // fmt.Errorf
					}
				}
				pos, ok := msgCalls[name]
				if !ok || len(call.Args) <= pos {
					return true
				}
				lit, ok := call.Args[pos].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				id, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				m := foundMsg{id: id, at: fset.Position(call.Pos()).String()}
				for i := pos + 1; i < len(call.Args); i += 2 {
					if k, ok := call.Args[i].(*ast.BasicLit); ok {
						s, _ := strconv.Unquote(k.Value)
						m.args = append(m.args, s)
					}
				}
				out = append(out, m)
				return true
			})
		}
	}
	return out
}

var placeholder = regexp.MustCompile(`\{\{\.(\w+)\}\}`)

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// Every message Go code makes (appctl's progress and errors, the stores'
// and the sign-in's errors) is in both catalogs; its args are the
// message's placeholders; and Chinese renders it with every arg's value
// and no English text of the catalog left (only names and values).
func TestMadeMessagesAreTranslated(t *testing.T) {
	found := madeMessages(t)
	if len(found) < 40 {
		t.Fatalf("found only %d messages in %v: does the scan still see the calls?", len(found), sources)
	}
	t.Logf("%d messages made in %v", len(found), sources)
	en, zh := New("en"), New("zh-CN")
	raw := rawTexts("zh-CN")
	enIDs := map[string]bool{}
	for _, id := range mustIDs(t, "en") {
		enIDs[id] = true
	}
	// English catalog texts long enough to be words of a sentence.
	var english []string
	for id := range enIDs {
		if txt := placeholder.ReplaceAllString(id, ""); len(strings.TrimSpace(txt)) > 12 {
			english = append(english, strings.TrimSpace(id))
		}
	}
	for _, m := range found {
		if !enIDs[m.id] {
			t.Errorf("%s: %q is not in the catalogs", m.at, m.id)
			continue
		}
		ph := placeholders(m.id)
		args := append([]string(nil), m.args...)
		sort.Strings(args)
		if strings.Join(ph, ",") != strings.Join(args, ",") {
			t.Errorf("%s: %q has placeholders %v but is given %v", m.at, m.id, ph, args)
		}
		if got := placeholders(raw[m.id]); strings.Join(got, ",") != strings.Join(ph, ",") {
			t.Errorf("zh-CN %q has placeholders %v, English %v", m.id, got, ph)
		}
		kv := []any{}
		for _, a := range ph {
			kv = append(kv, a, "‹"+a+"›")
		}
		msg := M(m.id, kv...)
		if en.Msg(msg) != msg.English() {
			t.Errorf("en %q = %q, want %q", m.id, en.Msg(msg), msg.English())
		}
		got := zh.Msg(msg)
		if got == msg.English() {
			t.Errorf("zh-CN %q is English: %q", m.id, got)
		}
		for _, a := range ph {
			if !strings.Contains(got, "‹"+a+"›") {
				t.Errorf("zh-CN %q = %q lacks {{.%s}}", m.id, got, a)
			}
		}
		for _, e := range english {
			if strings.Contains(got, placeholder.ReplaceAllString(e, "")) && !strings.Contains(e, "{{") {
				t.Errorf("zh-CN %q = %q contains the English %q", m.id, got, e)
			}
		}
		if strings.Contains(got, "{{") || strings.Contains(got, "<no value>") {
			t.Errorf("zh-CN %q = %q", m.id, got)
		}
	}
}

// A Word arg (an app's state) stays as is in English and is said in the
// page's language in Chinese, through JSON too (events are stored).
func TestWordArgsAreTranslated(t *testing.T) {
	m := M("app {{.App}} is {{.State}}, not installed", "App", "notes", "State", Word("removing"))
	if got, want := m.English(), "app notes is removing, not installed"; got != want {
		t.Errorf("English = %q, want %q", got, want)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Msg
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got := New("zh-CN").Msg(back)
	if !strings.Contains(got, "删除中") || strings.Contains(got, "removing") || !strings.Contains(got, "notes") {
		t.Errorf("zh-CN = %q", got)
	}
	if got := New("en").Msg(back); got != m.English() {
		t.Errorf("en = %q", got)
	}
}

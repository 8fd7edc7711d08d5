package stores

import "strings"

// Compose variable references, as compose-go reads them: $NAME, ${NAME},
// ${NAME:-default}, ${NAME-default}, ${NAME:?err}, ${NAME?err},
// ${NAME:+alt}, ${NAME+alt}; "$$" is a literal "$". The readers of foreign
// stores rewrite these references to StackHub's install variables.

// varRewrite says what becomes of one variable reference.
type varRewrite struct {
	// Rename keeps the reference but under another variable name.
	Rename string
	// Expr replaces the whole reference with compose text (which may hold
	// references itself, like "${APP_DATA_DIR}/shared").
	Expr string
	// Literal replaces the reference with a fixed value.
	Literal string
	kind    int
}

const (
	rwKeep = iota
	rwRename
	rwExpr
	rwLiteral
)

func renameVar(n string) varRewrite  { return varRewrite{Rename: n, kind: rwRename} }
func exprVar(e string) varRewrite    { return varRewrite{Expr: e, kind: rwExpr} }
func literalVar(v string) varRewrite { return varRewrite{Literal: v, kind: rwLiteral} }
func escapeDollars(s string) string  { return strings.ReplaceAll(s, "$", "$$") }
func isVarStart(c byte) bool         { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isVarChar(c byte) bool          { return isVarStart(c) || (c >= '0' && c <= '9') }

// rewriteVars rewrites the variable references of s with m; references m
// does not know (ok false) and malformed ones are kept as written.
func rewriteVars(s string, m func(name string) (varRewrite, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		next := s[i+1]
		switch {
		case next == '$':
			b.WriteString("$$")
			i += 2
		case isVarStart(next):
			j := i + 1
			for j < len(s) && isVarChar(s[j]) {
				j++
			}
			name := s[i+1 : j]
			rw, ok := m(name)
			if !ok {
				b.WriteString(s[i:j])
			} else {
				b.WriteString(applyRewrite(rw, name, "", "", m))
			}
			i = j
		case next == '{':
			end := closingBrace(s, i+1)
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			inner := s[i+2 : end]
			name, op, arg := splitBraced(inner)
			if name == "" {
				b.WriteString(s[i : end+1])
			} else if rw, ok := m(name); ok {
				b.WriteString(applyRewrite(rw, name, op, arg, m))
			} else if op != "" {
				b.WriteString("${" + name + op + rewriteVars(arg, m) + "}")
			} else {
				b.WriteString(s[i : end+1])
			}
			i = end + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// closingBrace returns the index of the '}' closing the '{' at open,
// counting nested ${…}; -1 if there is none.
func closingBrace(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitBraced splits the inside of ${…} into the name, the operator and
// its argument. name is empty when inner is not a valid reference.
func splitBraced(inner string) (name, op, arg string) {
	if inner == "" || !isVarStart(inner[0]) {
		return "", "", ""
	}
	j := 0
	for j < len(inner) && isVarChar(inner[j]) {
		j++
	}
	name, rest := inner[:j], inner[j:]
	if rest == "" {
		return name, "", ""
	}
	for _, o := range []string{":-", ":?", ":+", "-", "?", "+"} {
		if strings.HasPrefix(rest, o) {
			return name, o, rest[len(o):]
		}
	}
	return "", "", ""
}

func applyRewrite(rw varRewrite, name, op, arg string, m func(string) (varRewrite, bool)) string {
	switch rw.kind {
	case rwRename:
		if op == "" {
			return "${" + rw.Rename + "}"
		}
		return "${" + rw.Rename + op + rewriteVars(arg, m) + "}"
	case rwExpr:
		return rw.Expr
	case rwLiteral:
		v := rw.Literal
		switch op {
		case ":-":
			if v == "" {
				return rewriteVars(arg, m)
			}
		case ":+":
			if v == "" {
				return ""
			}
			return rewriteVars(arg, m)
		case "+":
			return rewriteVars(arg, m)
		}
		return escapeDollars(v)
	}
	if op == "" {
		return "${" + name + "}"
	}
	return "${" + name + op + rewriteVars(arg, m) + "}"
}

// referencedVars appends to out the variables s references (defaults and
// alternatives included) that seen does not hold yet, and marks them seen.
func referencedVars(s string, seen map[string]bool, out *[]string) {
	rewriteVars(s, func(name string) (varRewrite, bool) {
		if !seen[name] {
			seen[name] = true
			*out = append(*out, name)
		}
		return varRewrite{}, false
	})
}

// walkStrings calls f on every string scalar of a decoded YAML/JSON tree
// (map values and list items, not map keys) and stores what f returns.
func walkStrings(v any, f func(string) string) any {
	switch t := v.(type) {
	case string:
		return f(t)
	case map[string]any:
		for k, e := range t {
			t[k] = walkStrings(e, f)
		}
	case []any:
		for i, e := range t {
			t[i] = walkStrings(e, f)
		}
	}
	return v
}

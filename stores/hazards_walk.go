package stores

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// The hazard check is an allow-list: it walks every field of the loaded
// project's structs by reflection, and each field's compose key must be in
// the table of the struct it belongs to, with a rule that says the field is
// safe or checks its value. A set field whose key is not in the table (a
// setting this check has never heard of, say one a newer compose-go adds)
// is a hazard by itself: "unknown-setting".

// rule checks the value of one set field; key is its compose key.
type rule func(c *checker, at place, key string, v reflect.Value)

// fields maps the compose keys of one struct to their rules. Keys of fields
// the compose file cannot set (yaml:"-") are written "-GoName"; the inline
// extensions map is "#extensions".
type fields map[string]rule

// safe is the rule of a field that cannot reach beyond the app whatever its
// value (a command, an environment variable, a memory limit …), or whose
// value is checked by the code that walks the struct (marked "handled").
func safe(*checker, place, string, reflect.Value) {}

// handled marks a field the caller checks itself before walking.
var handled rule = safe

// nested walks a struct-valued field (or a pointer to one) with its own
// table.
func nested(t fields) rule {
	return func(c *checker, at place, key string, v reflect.Value) {
		c.walk(at.sub(key+"."), v, t)
	}
}

// flag is the rule of a field that is a hazard whenever it is set.
func flag(name, reason string) rule {
	return func(c *checker, at place, key string, v reflect.Value) {
		c.add(at, name, key+valueText(v), reason)
	}
}

// merge returns the union of tables (later ones win).
func merge(ts ...fields) fields {
	out := fields{}
	for _, t := range ts {
		for k, r := range t {
			out[k] = r
		}
	}
	return out
}

// walk checks the set fields of the struct v (through pointers) against t.
// Embedded inline structs (ContainerSpec in ServiceConfig, say) are walked
// with the same table, as their keys sit at the same level in the file.
func (c *checker) walk(at place, v reflect.Value, t fields) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	typ := v.Type()
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		key, inline := fieldKey(f)
		fv := v.Field(i)
		if inline {
			c.walk(at, fv, t)
			continue
		}
		if isEmpty(fv) {
			continue
		}
		r, ok := t[key]
		if !ok {
			c.add(at, "unknown-setting", key, "a setting StackHub does not know, so it cannot tell what it lets the app do; approve only if you know it is harmless")
			continue
		}
		r(c, at, key, fv)
	}
}

// fieldKey is the compose key of a struct field, and whether the field is an
// embedded struct whose keys are inlined.
func fieldKey(f reflect.StructField) (key string, inline bool) {
	name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if f.Anonymous && name == "" && strings.Contains(","+opts+",", ",inline,") {
		return "", true
	}
	switch name {
	case "-":
		return "-" + f.Name, false
	case "":
		return strings.ToLower(f.Name), false
	}
	return name, false
}

// isEmpty reports whether v is unset: its zero value, or an empty map or
// slice.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Map, reflect.Slice:
		return v.Len() == 0
	}
	return v.IsZero()
}

// valueText shows a field's value after its key in a finding's Setting:
// ": value" for scalars and lists of scalars, ": k1, k2" for maps, nothing
// for booleans and structs.
func valueText(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Bool, reflect.Struct:
		return ""
	case reflect.String:
		return ": " + v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return fmt.Sprintf(": %v", v.Interface())
	case reflect.Slice:
		var parts []string
		for i := 0; i < v.Len(); i++ {
			if t := valueText(v.Index(i)); t != "" {
				parts = append(parts, strings.TrimPrefix(t, ": "))
			}
		}
		if len(parts) == 0 {
			return ""
		}
		return ": " + strings.Join(parts, ", ")
	case reflect.Map:
		var keys []string
		for _, k := range v.MapKeys() {
			keys = append(keys, fmt.Sprint(k.Interface()))
		}
		sort.Strings(keys)
		return ": " + strings.Join(keys, ", ")
	}
	return ""
}

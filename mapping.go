package scimkit

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scimkit/internal/schema"
)

// Mapping turns a provisioned [User] into the host's own struct T and
// back, declared once with struct tags on T's fields:
//
//	type ProductUser struct {
//		Login  string `scim:"userName,transform=lower"`
//		Email  string `scim:"emails[type eq \"work\"].value"`
//		Dept   string `scim:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department,default=Unassigned"`
//		Seats  int    `scim:"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:seats,default=1"`
//		Active bool   `scim:"active"`
//	}
//
// A tag is a SCIM attribute path as IdPs name it in their mapping screens
// (see [User.Value]), then options: default=V (used when the user has no
// value; for a string, the rest of the tag) and transform=NAME (applied
// SCIM → host to strings: lower, upper, trim, or one registered with
// [WithTransform]). Field types: string, bool, signed integers, floats,
// time.Time and []string.
//
// Struct tags rather than a builder: the host's struct already exists and
// is the one place a reader looks for "where does this field come from";
// a tag keeps path and field side by side, needs no per-field closures,
// and is checked once by [NewMapping] (unknown options, unsupported field
// types, unparseable defaults and, with [ForPreset], paths the IdP never
// sends all fail there, not per user). Code-only behaviour (transforms)
// is named in the tag and registered as an option.
//
// A Mapping is immutable and safe for concurrent use.
type Mapping[T any] struct {
	fields []fieldMap
}

type fieldMap struct {
	index     []int
	name      string
	path      string
	def       string
	hasDef    bool
	transform func(string) string
}

// MappingOption configures [NewMapping].
type MappingOption struct{ apply func(*mappingConfig) error }

type mappingConfig struct {
	transforms map[string]func(string) string
	preset     *Preset
}

// WithTransform registers a transform a tag can name with transform=name.
func WithTransform(name string, f func(string) string) MappingOption {
	return MappingOption{func(c *mappingConfig) error {
		if name == "" || f == nil {
			return fmt.Errorf("scim: transform needs a name and a function")
		}
		c.transforms[name] = f
		return nil
	}}
}

// ForPreset checks the mapping against an IdP preset: every tag must name
// an attribute the preset's IdP sends ([Preset.Targets]), so a field the
// IdP never fills is caught when the mapping is built.
func ForPreset(p Preset) MappingOption {
	return MappingOption{func(c *mappingConfig) error { c.preset = &p; return nil }}
}

// NewMapping compiles the `scim` tags of T (a struct type). Fields without
// a tag are left alone.
func NewMapping[T any](opts ...MappingOption) (*Mapping[T], error) {
	cfg := mappingConfig{transforms: map[string]func(string) string{
		"lower": strings.ToLower, "upper": strings.ToUpper, "trim": strings.TrimSpace,
	}}
	for _, o := range opts {
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("scim: mapping: %s is not a struct", t)
	}
	m := &Mapping[T]{}
	for _, f := range reflect.VisibleFields(t) {
		tag, ok := f.Tag.Lookup("scim")
		if !ok || tag == "-" || !f.IsExported() {
			continue
		}
		fm := fieldMap{index: f.Index, name: f.Name}
		path, rest := splitTag(tag)
		fm.path = path
		if _, err := parsePath(path); err != nil {
			return nil, fmt.Errorf("scim: mapping field %s: %w", f.Name, err)
		}
		for rest != "" {
			var opt string
			if strings.HasPrefix(rest, "default=") {
				opt, rest = rest, ""
				if f.Type.Kind() != reflect.String {
					opt, rest, _ = strings.Cut(opt, ",")
				}
			} else {
				opt, rest, _ = strings.Cut(rest, ",")
			}
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "default":
				fm.def, fm.hasDef = v, true
			case "transform":
				tf := cfg.transforms[v]
				if tf == nil {
					return nil, fmt.Errorf("scim: mapping field %s: unknown transform %q", f.Name, v)
				}
				fm.transform = tf
			default:
				return nil, fmt.Errorf("scim: mapping field %s: unknown tag option %q", f.Name, opt)
			}
		}
		if err := checkFieldType(f.Type); err != nil {
			return nil, fmt.Errorf("scim: mapping field %s: %w", f.Name, err)
		}
		if fm.hasDef {
			if err := setField(reflect.New(f.Type).Elem(), fm.def); err != nil {
				return nil, fmt.Errorf("scim: mapping field %s: default %q: %w", f.Name, fm.def, err)
			}
		}
		if cfg.preset != nil && !cfg.preset.sends(path) {
			return nil, fmt.Errorf("scim: mapping field %s: %s does not send %q (it sends %s)", f.Name, cfg.preset.Name, path, strings.Join(cfg.preset.Targets(), ", "))
		}
		m.fields = append(m.fields, fm)
	}
	if len(m.fields) == 0 {
		return nil, fmt.Errorf("scim: mapping: %s has no scim tags", t)
	}
	return m, nil
}

// splitTag cuts the path from the options at the first comma outside
// quotes and brackets.
func splitTag(tag string) (path, opts string) {
	depth, quoted := 0, false
	for i := 0; i < len(tag); i++ {
		switch c := tag[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == ',' && depth == 0:
			return tag[:i], tag[i+1:]
		}
	}
	return tag, ""
}

var timeType = reflect.TypeFor[time.Time]()

func checkFieldType(t reflect.Type) error {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return nil
		}
	case reflect.Struct:
		if t == timeType {
			return nil
		}
	}
	return fmt.Errorf("unsupported field type %s", t)
}

// FromUser fills a T from u. A value of the wrong type (text in an int
// field) is an error naming the field and path.
func (m *Mapping[T]) FromUser(u *User) (T, error) {
	var out T
	v := reflect.ValueOf(&out).Elem()
	for _, f := range m.fields {
		fv := v.FieldByIndex(f.index)
		raw := u.Value(f.path)
		if raw == nil {
			if f.hasDef {
				_ = setField(fv, f.def) // checked by NewMapping
			}
			continue
		}
		if err := assign(fv, raw, f.transform); err != nil {
			return out, fmt.Errorf("scim: mapping field %s from %s: %w", f.name, f.path, err)
		}
	}
	return out, nil
}

// ToSCIM builds a SCIM User document (RFC 7643 §4.1) from v: each tagged
// field's value at its path, zero values left out, "schemas" listing the
// core schema and every extension used. Filtered paths create the element
// they select (`emails[type eq "work"].value` gives {"type":"work",
// "value":...}). Encode it as a POST or PUT body, or compare it with what
// is stored.
func (m *Mapping[T]) ToSCIM(v *T) map[string]any {
	doc := map[string]any{}
	rv := reflect.ValueOf(v).Elem()
	exts := map[string]bool{}
	for _, f := range m.fields {
		val := scimValue(rv.FieldByIndex(f.index))
		if val == nil {
			continue
		}
		p, _ := parsePath(f.path) // checked by NewMapping
		if p.urn != "" {
			exts[p.urn] = true
		}
		p.set(doc, val)
	}
	schemas := []any{schema.UserURN}
	for _, u := range sortedKeys(exts) {
		schemas = append(schemas, u)
	}
	doc["schemas"] = schemas
	return doc
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func scimValue(v reflect.Value) any {
	if v.IsZero() {
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Slice:
		var out []any
		for i := range v.Len() {
			out = append(out, v.Index(i).String())
		}
		return out
	}
	return v.Interface().(time.Time).UTC().Format(time.RFC3339Nano)
}

func setField(fv reflect.Value, s string) error { return assign(fv, s, nil) }

// assign stores a decoded JSON value (or a default's text) into fv.
func assign(fv reflect.Value, raw any, transform func(string) string) error {
	if s, ok := raw.(string); ok && transform != nil {
		raw = transform(s)
	}
	switch fv.Kind() {
	case reflect.String:
		switch x := raw.(type) {
		case string:
			fv.SetString(x)
		case bool:
			fv.SetString(strconv.FormatBool(x))
		case float64:
			fv.SetString(strconv.FormatFloat(x, 'f', -1, 64))
		default:
			return fmt.Errorf("want a string, got %T", raw)
		}
	case reflect.Bool:
		switch x := raw.(type) {
		case bool:
			fv.SetBool(x)
		case string:
			b, err := strconv.ParseBool(x)
			if err != nil {
				return fmt.Errorf("want a boolean, got %q", x)
			}
			fv.SetBool(b)
		default:
			return fmt.Errorf("want a boolean, got %T", raw)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n int64
		switch x := raw.(type) {
		case float64:
			if x != float64(int64(x)) {
				return fmt.Errorf("want an integer, got %v", x)
			}
			n = int64(x)
		case string:
			var err error
			if n, err = strconv.ParseInt(x, 10, 64); err != nil {
				return fmt.Errorf("want an integer, got %q", x)
			}
		default:
			return fmt.Errorf("want an integer, got %T", raw)
		}
		if fv.OverflowInt(n) {
			return fmt.Errorf("%d overflows %s", n, fv.Type())
		}
		fv.SetInt(n)
	case reflect.Float32, reflect.Float64:
		switch x := raw.(type) {
		case float64:
			fv.SetFloat(x)
		case string:
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return fmt.Errorf("want a number, got %q", x)
			}
			fv.SetFloat(f)
		default:
			return fmt.Errorf("want a number, got %T", raw)
		}
	case reflect.Slice:
		var out []string
		list, ok := raw.([]any)
		if !ok {
			list = []any{raw}
		}
		for _, x := range list {
			s, ok := x.(string)
			if !ok {
				if m, isMap := x.(map[string]any); isMap {
					s, ok = m["value"].(string)
				}
			}
			if !ok {
				return fmt.Errorf("want strings, got %T", x)
			}
			if transform != nil {
				s = transform(s)
			}
			out = append(out, s)
		}
		fv.Set(reflect.ValueOf(out))
	default: // time.Time
		s, ok := raw.(string)
		if !ok {
			return fmt.Errorf("want a dateTime, got %T", raw)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("want an RFC 3339 dateTime, got %q", s)
		}
		fv.Set(reflect.ValueOf(t))
	}
	return nil
}

// attrPath is a parsed value path: [urn:] attr [ "[" sub eq value "]" ] [. sub]
type attrPath struct {
	urn      string // extension URN, "" for core
	attr     string
	filtAttr string // the filter's sub-attribute, "" without a filter
	filtVal  any    // string or bool
	sub      string
}

// parsePath reads the value paths IdPs use in their mapping screens: a
// core or extension attribute, a sub-attribute, and an optional equality
// filter on a multi-valued attribute (RFC 7644 §3.10 valuePath, limited to
// one `eq`).
func parsePath(p string) (attrPath, error) {
	var ap attrPath
	body := p
	if len(p) > 4 && strings.EqualFold(p[:4], "urn:") {
		head := p
		if i := strings.IndexByte(head, '['); i >= 0 {
			head = head[:i]
		}
		i := strings.LastIndexByte(head, ':')
		if i < 0 || i == len(head)-1 {
			return ap, fmt.Errorf("path %q names no attribute after its URN", p)
		}
		ap.urn, body = p[:i], p[i+1:]
		if strings.EqualFold(ap.urn, schema.UserURN) {
			ap.urn = ""
		}
	}
	if i := strings.IndexByte(body, '['); i >= 0 {
		j := strings.LastIndexByte(body, ']')
		if j < i {
			return ap, fmt.Errorf("path %q: unclosed [", p)
		}
		f := strings.Fields(body[i+1 : j])
		if len(f) != 3 || !strings.EqualFold(f[1], "eq") {
			return ap, fmt.Errorf("path %q: only a filter of the form [attr eq value] is supported", p)
		}
		ap.filtAttr = f[0]
		switch v := f[2]; {
		case strings.EqualFold(v, "true"), strings.EqualFold(v, "false"):
			ap.filtVal = strings.EqualFold(v, "true")
		case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
			ap.filtVal = v[1 : len(v)-1]
		default:
			return ap, fmt.Errorf("path %q: the filter value must be a quoted string or a boolean", p)
		}
		rest := body[j+1:]
		body = body[:i]
		if rest != "" {
			if rest[0] != '.' || len(rest) == 1 {
				return ap, fmt.Errorf("path %q: want .sub after ]", p)
			}
			ap.sub = rest[1:]
		}
	} else if a, s, ok := strings.Cut(body, "."); ok {
		body, ap.sub = a, s
	}
	if !attrName.MatchString(body) || ap.sub != "" && !attrName.MatchString(ap.sub) {
		return ap, fmt.Errorf("path %q: invalid attribute name", p)
	}
	ap.attr = body
	return ap, nil
}

// lookupPath evaluates a value path on a decoded document.
func lookupPath(doc map[string]any, p string) (any, bool) {
	ap, err := parsePath(p)
	if err != nil {
		return nil, false
	}
	o := obj(doc)
	if ap.urn != "" {
		o = o.sub(ap.urn)
	}
	v := o.get(ap.attr)
	if v == nil {
		return nil, false
	}
	if list, ok := v.([]any); ok && (ap.filtAttr != "" || ap.sub != "") {
		v = pick(list, ap)
		if v == nil {
			return nil, false
		}
	}
	if ap.sub != "" {
		v = obj(asMap(v)).get(ap.sub)
	} else if m, ok := v.(map[string]any); ok && ap.urn != "" {
		// An extension's complex attribute (manager) reads as its value.
		if x, has := m["value"]; has {
			v = x
		}
	}
	return v, v != nil
}

// pick selects the element of a multi-valued attribute: the first that
// matches the filter, or without one the primary, else the first.
func pick(list []any, ap attrPath) any {
	for _, x := range list {
		m := obj(asMap(x))
		if ap.filtAttr != "" {
			got := m.get(ap.filtAttr)
			if s, ok := ap.filtVal.(string); ok {
				if gs, isStr := got.(string); isStr && strings.EqualFold(gs, s) {
					return x
				}
			} else if b, _ := m.boolean(ap.filtAttr); b == ap.filtVal && got != nil {
				return x
			}
			continue
		}
		if b, _ := m.boolean("primary"); b {
			return x
		}
	}
	if ap.filtAttr == "" && len(list) > 0 {
		return list[0]
	}
	return nil
}

// set writes val at the path in doc, creating what is missing.
func (ap attrPath) set(doc map[string]any, val any) {
	target := doc
	if ap.urn != "" {
		t, _ := doc[ap.urn].(map[string]any)
		if t == nil {
			t = map[string]any{}
			doc[ap.urn] = t
		}
		target = t
	}
	multi := ap.filtAttr != "" || isMultiValued(ap.attr)
	switch {
	case multi:
		list, _ := target[ap.attr].([]any)
		var elem map[string]any
		for _, x := range list {
			if m := asMap(x); m != nil && (ap.filtAttr == "" || m[ap.filtAttr] == ap.filtVal) {
				elem = m
				break
			}
		}
		if elem == nil {
			elem = map[string]any{}
			if ap.filtAttr != "" {
				elem[ap.filtAttr] = ap.filtVal
			}
			list = append(list, elem)
			target[ap.attr] = list
		}
		sub := ap.sub
		if sub == "" {
			sub = "value"
		}
		elem[sub] = val
	case ap.sub != "":
		m, _ := target[ap.attr].(map[string]any)
		if m == nil {
			m = map[string]any{}
			target[ap.attr] = m
		}
		m[ap.sub] = val
	case strings.EqualFold(ap.attr, "manager") && strings.EqualFold(ap.urn, schema.EnterpriseUserURN):
		target[ap.attr] = map[string]any{"value": val}
	default:
		target[ap.attr] = val
	}
}

// isMultiValued reports whether a core User attribute is multi-valued
// (RFC 7643 §4.1.2).
func isMultiValued(attr string) bool {
	switch strings.ToLower(attr) {
	case "emails", "phonenumbers", "ims", "photos", "addresses", "groups", "entitlements", "roles", "x509certificates":
		return true
	}
	return false
}

package schema

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/scim2/filter-parser/v2"

	"github.com/scimkit/scimkit/storage"
)

// entraValuePathCompare matches Entra's non-RFC filter form
// `emails[type eq "work"].value eq "x"`, rewritten to the RFC form
// `emails[type eq "work" and value eq "x"]` (IDP.md §1).
var entraValuePathCompare = regexp.MustCompile(`(?is)^\s*([a-z0-9:._$-]+)\[([^\]]*)\]\.([a-z0-9_$-]+)\s+(eq|ne|co|sw|ew|gt|ge|lt|le)\s+(.+?)\s*$`)

// MaxFilterLength bounds a filter's size (a parse is O(length)).
const MaxFilterLength = 4096

// ParseFilter parses and resolves a list filter (RFC 7644 §3.4.2.2). It
// returns the filter and, when the filter is a conjunction containing an
// equality on an indexed attribute, the lookup a backend can answer from
// its index.
func (rt *ResourceType) ParseFilter(raw string) (storage.Filter, *storage.Lookup, error) {
	if len(raw) > MaxFilterLength {
		return nil, nil, errorf("invalidFilter", "filter longer than %d bytes", MaxFilterLength)
	}
	if m := entraValuePathCompare.FindStringSubmatch(raw); m != nil {
		raw = m[1] + "[" + m[2] + " and " + m[3] + " " + m[4] + " " + m[5] + "]"
	}
	exp, ok := parseSimple(raw)
	if !ok {
		var err error
		if exp, err = filter.ParseFilter([]byte(raw)); err != nil {
			return nil, nil, errorf("invalidFilter", "cannot parse filter %q", raw)
		}
	}
	f, err := rt.convert(exp, nil)
	if err != nil {
		return nil, nil, err
	}
	return f, lookupOf(f), nil
}

// ParseValueFilter parses the filter inside a PATCH path's brackets; its
// attribute paths name sub-attributes of parent.
func (rt *ResourceType) ParseValueFilter(raw string, ext *Schema, parent *Attr) (storage.Filter, error) {
	exp, ok := parseSimple(raw)
	if !ok {
		var err error
		if exp, err = filter.ParseFilter([]byte(raw)); err != nil {
			return nil, errorf("invalidPath", "cannot parse value filter %q", raw)
		}
	}
	f, err := rt.convert(exp, &scope{ext: ext, attr: parent})
	if err != nil {
		return nil, &Error{ScimType: "invalidPath", Detail: err.(*Error).Detail}
	}
	return f, nil
}

// scope is the multi-valued attribute a value filter's paths live in.
type scope struct {
	ext  *Schema
	attr *Attr
}

func (rt *ResourceType) convert(exp filter.Expression, sc *scope) (storage.Filter, error) {
	switch e := exp.(type) {
	case *filter.LogicalExpression:
		l, err := rt.convert(e.Left, sc)
		if err != nil {
			return nil, err
		}
		r, err := rt.convert(e.Right, sc)
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(string(e.Operator), "or") {
			return storage.Or{Left: l, Right: r}, nil
		}
		return storage.And{Left: l, Right: r}, nil
	case *filter.NotExpression:
		x, err := rt.convert(e.Expression, sc)
		if err != nil {
			return nil, err
		}
		return storage.Not{X: x}, nil
	case *filter.ValuePath:
		if sc != nil {
			return nil, errorf("invalidFilter", "nested value filter")
		}
		ext, attr, sub, ok := rt.Resolve(e.AttributePath.String())
		if !ok || sub != nil || !attr.IsComplex() || !attr.MultiValued {
			return nil, errorf("invalidFilter", "%q is not a multi-valued complex attribute", e.AttributePath.String())
		}
		inner, err := rt.convert(e.ValueFilter, &scope{ext: ext, attr: attr})
		if err != nil {
			return nil, err
		}
		return storage.ValuePath{Path: Path(ext, attr, nil), Filter: inner}, nil
	case *filter.AttributeExpression:
		return rt.compare(*e, sc)
	}
	return nil, errorf("invalidFilter", "unsupported filter expression")
}

func (rt *ResourceType) compare(e filter.AttributeExpression, sc *scope) (storage.Filter, error) {
	key := e.AttributePath.String()
	var p storage.AttrPath
	if sc != nil {
		sub := sc.attr.SubAttr(key)
		if sub == nil || e.AttributePath.SubAttribute != nil || e.AttributePath.URIPrefix != nil {
			return nil, errorf("invalidFilter", "unknown attribute %q in %s[...]", key, sc.attr.Name)
		}
		p = Path(sc.ext, sc.attr, sub)
	} else {
		ext, attr, sub, ok := rt.Resolve(key)
		if !ok {
			return nil, errorf("invalidFilter", "unknown attribute %q", key)
		}
		if attr.Returned == "never" || attr == schemasAttr || attr == metaAttr && (sub == nil || sub.Name == "location" || sub.Name == "version") {
			// Secrets, and what is derived at render time rather than
			// stored, cannot be filtered.
			return nil, errorf("invalidFilter", "attribute %q cannot be filtered", key)
		}
		if attr.IsComplex() && sub == nil && attr.SubAttr("value") == nil {
			return nil, errorf("invalidFilter", "complex attribute %q needs a sub-attribute", key)
		}
		p = Path(ext, attr, sub)
	}
	op := storage.Operator(strings.ToLower(string(e.Operator)))
	var v any
	switch x := e.CompareValue.(type) {
	case nil:
	case string:
		v = unescape(x)
	case bool:
		v = x
	case int:
		v = float64(x)
	case float64:
		v = x
	default:
		return nil, errorf("invalidFilter", "unsupported value in filter on %q", key)
	}
	if err := checkOperand(p, op, v, key); err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok && sc == nil && p.Schema == "" && p.Sub == "" && p.Name == rt.NameAttr {
		v = canonicalNameOperand(op, s)
	}
	return storage.Compare{Path: p, Op: op, Value: v}, nil
}

func checkOperand(p storage.AttrPath, op storage.Operator, v any, key string) error {
	switch op {
	case storage.OpPresent:
		return nil
	case storage.OpEq, storage.OpNe, storage.OpCo, storage.OpSw, storage.OpEw,
		storage.OpGt, storage.OpGe, storage.OpLt, storage.OpLe:
	default:
		return errorf("invalidFilter", "unknown operator %q", op)
	}
	if v == nil {
		if op == storage.OpEq || op == storage.OpNe {
			return nil
		}
		return errorf("invalidFilter", "operator %q needs a value", op)
	}
	switch p.Type {
	case storage.TypeBoolean:
		if _, ok := v.(bool); !ok || (op != storage.OpEq && op != storage.OpNe) {
			return errorf("invalidFilter", "%q is boolean: use eq or ne with true or false", key)
		}
	case storage.TypeInteger, storage.TypeDecimal:
		if _, ok := v.(float64); !ok {
			return errorf("invalidFilter", "%q is a number", key)
		}
		switch op {
		case storage.OpCo, storage.OpSw, storage.OpEw:
			return errorf("invalidFilter", "operator %q does not apply to numbers", op)
		}
	default:
		if _, ok := v.(string); !ok {
			return errorf("invalidFilter", "%q is a string", key)
		}
		if p.Type == storage.TypeBinary {
			return errorf("invalidFilter", "binary attribute %q cannot be filtered", key)
		}
	}
	return nil
}

// lookupOf finds an indexed equality in the top-level conjunction of f.
func lookupOf(f storage.Filter) *storage.Lookup {
	var best *storage.Lookup
	rank := func(l *storage.Lookup) int { return int(l.Field) }
	var walk func(storage.Filter)
	walk = func(f storage.Filter) {
		var l *storage.Lookup
		switch f := f.(type) {
		case storage.And:
			walk(f.Left)
			walk(f.Right)
			return
		case storage.Compare:
			l = indexed(f)
		case storage.ValuePath:
			l = indexedValuePath(f)
		}
		if l != nil && (best == nil || rank(l) < rank(best)) {
			best = l
		}
	}
	walk(f)
	return best
}

func indexed(c storage.Compare) *storage.Lookup {
	s, ok := c.Value.(string)
	if !ok || c.Op != storage.OpEq || c.Path.Schema != "" {
		return nil
	}
	switch {
	case c.Path.Name == "id":
		return &storage.Lookup{Field: storage.LookupID, Value: s}
	case c.Path.Name == "userName", c.Path.Name == "displayName" && !c.Path.MultiValued && c.Path.Sub == "":
		return &storage.Lookup{Field: storage.LookupName, Value: s}
	case c.Path.Name == "externalId":
		return &storage.Lookup{Field: storage.LookupExternalID, Value: s}
	case c.Path.Name == "emails" && (c.Path.Sub == "value" || c.Path.Sub == ""):
		return &storage.Lookup{Field: storage.LookupEmail, Value: s}
	case c.Path.Name == "members" && (c.Path.Sub == "value" || c.Path.Sub == ""):
		return &storage.Lookup{Field: storage.LookupMember, Value: s}
	}
	return nil
}

func indexedValuePath(v storage.ValuePath) *storage.Lookup {
	field := map[string]storage.LookupField{"emails": storage.LookupEmail, "members": storage.LookupMember}[v.Path.Name]
	if v.Path.Schema != "" || field == 0 {
		return nil
	}
	var found *storage.Lookup
	var walk func(storage.Filter)
	walk = func(f storage.Filter) {
		switch f := f.(type) {
		case storage.And:
			walk(f.Left)
			walk(f.Right)
		case storage.Compare:
			if s, ok := f.Value.(string); ok && f.Op == storage.OpEq && f.Path.Sub == "value" {
				found = &storage.Lookup{Field: field, Value: s}
			}
		}
	}
	walk(v.Filter)
	return found
}

// unescape decodes the JSON escapes that filter-parser leaves in string
// values (`"a\"b"` is the three characters a"b, RFC 7644 §3.4.2.2 uses
// JSON strings).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out string
	if json.Unmarshal([]byte(`"`+s+`"`), &out) != nil {
		return s
	}
	return out
}

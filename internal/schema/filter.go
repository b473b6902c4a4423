package schema

import (
	"strings"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// MaxFilterLength bounds a filter's size (a parse is O(length)).
const MaxFilterLength = 4096

// ParseFilter parses and resolves a list filter (RFC 7644 §3.4.2.2; see
// filterParser for the grammar). It returns the filter and, when the
// filter is a conjunction containing an equality that one of the
// backend's indexes can answer, that lookup. When the lookup alone
// answers the whole filter (the filter is exactly that equality and the
// index compares as the attribute's schema says), the filter returned is
// nil, so the backend answers from the index without decoding documents
// (PERF.md trap 1). opt.StrictBooleans off lets "True"/"False" compare
// with boolean attributes, as Entra sends them. Errors are *Error with
// scimType invalidFilter.
func (rt *ResourceType) ParseFilter(raw string, opt Options) (storage.Filter, *storage.Lookup, error) {
	f, err := rt.parseFilter(raw, nil, opt)
	if err != nil {
		return nil, nil, err
	}
	l, whole := rt.lookupOf(f)
	if whole {
		return nil, l, nil
	}
	return f, l, nil
}

// ParseValueFilter parses the filter inside a PATCH path's brackets; its
// attribute paths name sub-attributes of parent. Errors are *Error with
// scimType invalidPath (RFC 7644 §3.5.2).
func (rt *ResourceType) ParseValueFilter(raw string, ext *Schema, parent *Attr, opt Options) (storage.Filter, error) {
	f, err := rt.parseFilter(raw, &scope{ext: ext, attr: parent}, opt)
	if err != nil {
		e := *err.(*Error)
		e.ScimType = "invalidPath"
		return nil, &e
	}
	return f, nil
}

// renderedOnly reports whether attr is computed when a resource is
// rendered rather than stored in its document: a User's groups (RFC 7643
// §4.1.2, readOnly, answered from the member index). Filters cannot
// name it; a host lists a group's members with members[value eq "id"]
// on /Groups instead.
func renderedOnly(ext *Schema, attr *Attr) bool {
	return ext == nil && attr.Name == "groups" && attr.Mutability == "readOnly"
}

// scope is the multi-valued attribute a value filter's paths live in.
type scope struct {
	ext  *Schema
	attr *Attr
}

// compareAt resolves the comparison "key op v"; inside a value filter
// (sc non-nil) key names a sub-attribute of sc's attribute.
func (rt *ResourceType) compareAt(key string, op storage.Operator, v any, sc *scope, opt Options) (storage.Filter, *Error) {
	var p storage.AttrPath
	if sc != nil {
		var sub *Attr
		if !strings.ContainsAny(key, ".:") {
			sub = sc.attr.SubAttr(key)
		}
		if sub == nil {
			return nil, errorf("invalidFilter", "unknown attribute %q in %s[...]", key, sc.attr.Name)
		}
		p = Path(sc.ext, sc.attr, sub)
	} else {
		ext, attr, sub, ok := rt.Resolve(key)
		if !ok {
			return nil, errorf("invalidFilter", "unknown attribute %q", key)
		}
		if attr.Returned == "never" || attr == schemasAttr || renderedOnly(ext, attr) || attr == metaAttr && (sub == nil && op != storage.OpPresent || sub != nil && (sub.Name == "location" || sub.Name == "version")) {
			// Secrets, and what is derived at render time rather than
			// stored, cannot be filtered.
			return nil, errorf("invalidFilter", "attribute %q cannot be filtered", key)
		}
		if attr.IsComplex() && sub == nil && attr.SubAttr("value") == nil && op != storage.OpPresent {
			// "name pr" is fine: a complex attribute is present when
			// one of its sub-attributes is.
			return nil, errorf("invalidFilter", "complex attribute %q needs a sub-attribute", key)
		}
		p = Path(ext, attr, sub)
	}
	if s, ok := v.(string); ok {
		switch {
		case p.Type == storage.TypeBoolean && !opt.StrictBooleans:
			// Entra's "True"/"False", accepted wherever values are.
			if strings.EqualFold(s, "true") {
				v = true
				opt.Report.note(NoteStringBoolean, key)
			} else if strings.EqualFold(s, "false") {
				v = false
				opt.Report.note(NoteStringBoolean, key)
			}
		case p.Type == storage.TypeDateTime && op != storage.OpCo && op != storage.OpSw && op != storage.OpEw && op != storage.OpPresent:
			t, ok := parseDateTime(s)
			if !ok {
				return nil, errorf("invalidFilter", "%q is a dateTime: %q is not an RFC 3339 date-time", key, s)
			}
			v = t.Format(time.RFC3339Nano)
		}
	}
	if err := checkOperand(p, op, v, key); err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok && sc == nil && p.Schema == "" && p.Sub == "" && p.Name == rt.NameAttr {
		v = canonicalNameOperand(op, s)
	}
	return storage.Compare{Path: p, Op: op, Value: v}, nil
}

func checkOperand(p storage.AttrPath, op storage.Operator, v any, key string) *Error {
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

// lookupOf finds an indexed equality in the top-level conjunction of f;
// whole tells that the index answers f exactly.
func (rt *ResourceType) lookupOf(f storage.Filter) (best *storage.Lookup, whole bool) {
	switch f := f.(type) {
	case storage.Compare:
		return rt.indexed(f)
	case storage.ValuePath:
		return rt.indexedValuePath(f)
	}
	var walk func(storage.Filter)
	walk = func(f storage.Filter) {
		var l *storage.Lookup
		switch f := f.(type) {
		case storage.And:
			walk(f.Left)
			walk(f.Right)
			return
		case storage.Compare:
			l, _ = rt.indexed(f)
		case storage.ValuePath:
			l, _ = rt.indexedValuePath(f)
		}
		if l != nil && (best == nil || l.Field < best.Field) {
			best = l
		}
	}
	walk(f)
	return best, false
}

// indexFolds tells how each index compares: true for the case-folded
// (name, email), false for the exact ones (id, externalId, member).
func indexFolds(f storage.LookupField) bool {
	return f == storage.LookupName || f == storage.LookupEmail
}

// indexed returns the lookup that gives candidates for c, if any, and
// whether it answers c exactly. A folded index can narrow a case-exact
// comparison (the filter is still checked); an exact index can never
// answer a case-insensitive one.
func (rt *ResourceType) indexed(c storage.Compare) (*storage.Lookup, bool) {
	s, ok := c.Value.(string)
	if !ok || c.Op != storage.OpEq || c.Path.Schema != "" || c.Path.Type != storage.TypeString && c.Path.Type != storage.TypeReference ||
		s == "" || // absent values are indexed as "": "eq" never matches them
		strings.IndexByte(s, 0) >= 0 { // PostgreSQL text cannot hold NUL: no index probe with it
		return nil, false
	}
	var field storage.LookupField
	switch p := c.Path; {
	case p.Name == "id" && p.Sub == "":
		field = storage.LookupID
	case p.Name == "externalId" && p.Sub == "":
		field = storage.LookupExternalID
	case p.Name == rt.NameAttr && p.Sub == "" && !p.MultiValued:
		// userName for Users, displayName for Groups.
		field = storage.LookupName
	case rt.Kind == storage.KindUser && p.Name == "emails" && (p.Sub == "value" || p.Sub == ""):
		field = storage.LookupEmail
	case rt.Kind == storage.KindGroup && p.Name == "members" && (p.Sub == "value" || p.Sub == ""):
		field = storage.LookupMember
	default:
		return nil, false
	}
	folds := indexFolds(field)
	if !folds && !c.Path.CaseExact {
		return nil, false
	}
	return &storage.Lookup{Field: field, Value: s}, folds == !c.Path.CaseExact
}

// indexedValuePath is indexed for emails[...] and members[...]: an
// equality on "value" in the value filter's top-level conjunction.
func (rt *ResourceType) indexedValuePath(v storage.ValuePath) (*storage.Lookup, bool) {
	if v.Path.Schema != "" || !(rt.Kind == storage.KindUser && v.Path.Name == "emails" || rt.Kind == storage.KindGroup && v.Path.Name == "members") {
		return nil, false
	}
	if c, ok := v.Filter.(storage.Compare); ok {
		if c.Path.Sub != "value" {
			return nil, false
		}
		return rt.indexed(c)
	}
	var found *storage.Lookup
	var walk func(storage.Filter)
	walk = func(f storage.Filter) {
		switch f := f.(type) {
		case storage.And:
			walk(f.Left)
			walk(f.Right)
		case storage.Compare:
			if f.Path.Sub == "value" {
				if l, _ := rt.indexed(f); l != nil {
					found = l
				}
			}
		}
	}
	walk(v.Filter)
	return found, false
}

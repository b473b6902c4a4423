package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// Error is a client error found while reading a request: ScimType is one
// of RFC 7644 §3.12's keywords (invalidSyntax, invalidValue, invalidFilter,
// invalidPath, noTarget, mutability, uniqueness, tooMany).
type Error struct {
	ScimType string
	Detail   string
}

func (e *Error) Error() string { return "scim: " + e.Detail }

func errorf(scimType, format string, args ...any) *Error {
	return &Error{ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// Options tune how tolerant normalisation is.
type Options struct {
	// StrictBooleans rejects "True"/"False" strings for boolean attributes
	// (Entra's default job sends them) and numeric strings ("3") for
	// integer and decimal ones.
	StrictBooleans bool
	// IgnoreUnknown drops attributes no schema defines instead of failing.
	IgnoreUnknown bool
}

// Normalize turns a decoded request body (RFC 7644 §3.3 POST, §3.5.1 PUT)
// into the canonical document: canonical attribute names, extension
// attributes nested under their URN (whether or not the client listed the
// URN in "schemas", and also from flat full-URN keys), values coerced to
// their types (bare strings for complex attributes with a "value"
// sub-attribute, "True"/"False"), nulls and empty values dropped, readOnly
// attributes (id, meta, groups) ignored, returned:never attributes
// (password) never stored. "schemas" is recomputed. The document keeps
// externalId; it never holds id, meta or members.
func (rt *ResourceType) Normalize(in map[string]any, opt Options) (map[string]any, error) {
	doc := make(map[string]any, len(in))
	for k, v := range in {
		if err := rt.SetTop(doc, k, v, opt, false); err != nil {
			return nil, err
		}
	}
	if err := rt.Check(doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// SetTop sets a top-level key of a request body (or of a path-less PATCH
// value) into doc: "schemas", "id" and "meta" are skipped; an extension URN
// key merges (patch) or replaces its object; a flat "urn:...:attr" or
// dotted "name.givenName" key sets that attribute.
func (rt *ResourceType) SetTop(doc map[string]any, key string, v any, opt Options, merge bool) error {
	switch strings.ToLower(key) {
	case "schemas", "id", "meta":
		return nil
	case "members":
		if rt.Kind == storage.KindGroup {
			return nil // handled by the caller as member changes
		}
	}
	ext, rest, ok := rt.SplitURN(key)
	if !ok {
		if opt.IgnoreUnknown {
			return nil
		}
		return errorf("invalidSyntax", "unknown schema in attribute %q", key)
	}
	if ext != nil && rest == "" {
		if v == nil {
			if !merge {
				delete(doc, ext.URN)
			}
			return nil
		}
		obj, isObj := v.(map[string]any)
		if !isObj {
			return errorf("invalidValue", "%q must be an object", key)
		}
		target, _ := doc[ext.URN].(map[string]any)
		if target == nil || !merge {
			target = map[string]any{}
		}
		for k, x := range obj {
			if err := rt.setAttr(target, ext, k, x, opt, merge); err != nil {
				return err
			}
		}
		setOrDelete(doc, ext.URN, target)
		return nil
	}
	if ext != nil {
		target, _ := doc[ext.URN].(map[string]any)
		if target == nil {
			target = map[string]any{}
		}
		if err := rt.setAttr(target, ext, rest, v, opt, merge); err != nil {
			return err
		}
		setOrDelete(doc, ext.URN, target)
		return nil
	}
	return rt.setAttr(doc, nil, rest, v, opt, merge)
}

func setOrDelete(doc map[string]any, key string, m map[string]any) {
	if len(m) == 0 {
		delete(doc, key)
	} else {
		doc[key] = m
	}
}

// setAttr sets "attr" or "attr.sub" of schema ext (nil: core) in target.
func (rt *ResourceType) setAttr(target map[string]any, ext *Schema, key string, v any, opt Options, merge bool) error {
	name, subName, dotted := strings.Cut(key, ".")
	var a *Attr
	if ext != nil {
		a = ext.Attr(name)
	} else {
		switch strings.ToLower(name) {
		case "externalid":
			a = externalIDAttr
		case "id", "meta", "schemas":
			return nil
		default:
			a = rt.Core.Attr(name)
		}
	}
	if a == nil {
		if opt.IgnoreUnknown {
			return nil
		}
		return errorf("invalidSyntax", "unknown attribute %q", key)
	}
	if a.Mutability == "readOnly" || a.Returned == "never" {
		return nil // readOnly values from clients are ignored (RFC 7644 §3.5.1); secrets are never kept
	}
	if dotted {
		s := a.SubAttr(subName)
		if s == nil || a.MultiValued {
			return errorf("invalidPath", "unknown attribute %q", key)
		}
		obj, _ := target[a.Name].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
		}
		nv, err := coerce(s, v, opt, key)
		if err != nil {
			return err
		}
		if nv == nil {
			delete(obj, s.Name)
		} else {
			obj[s.Name] = nv
		}
		setOrDelete(target, a.Name, obj)
		return nil
	}
	nv, err := Value(a, v, opt, key)
	if err != nil {
		return err
	}
	if merge && nv != nil {
		// add/replace of a complex single-valued attribute merges its
		// sub-attributes (RFC 7644 §3.5.2.1, §3.5.2.3).
		if old, ok := target[a.Name].(map[string]any); ok && !a.MultiValued {
			if m, ok := nv.(map[string]any); ok {
				for k, x := range m {
					old[k] = x
				}
				return nil
			}
		}
	}
	if nv == nil {
		delete(target, a.Name)
	} else {
		target[a.Name] = nv
	}
	return nil
}

// Value coerces a client value for attribute a (whole attribute: a list
// for a multi-valued one). It returns nil for null and empty values.
func Value(a *Attr, v any, opt Options, key string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if !a.MultiValued {
		if l, ok := v.([]any); ok {
			if len(l) == 0 {
				return nil, nil
			}
			if len(l) != 1 {
				return nil, errorf("invalidValue", "%q is single-valued", key)
			}
			v = l[0]
		}
		return coerce(a, v, opt, key)
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]any, 0, len(list))
	for _, x := range list {
		nx, err := coerce(a, x, opt, key)
		if err != nil {
			return nil, err
		}
		if nx != nil {
			out = append(out, nx)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// coerce checks and converts one (non-list) value of attribute a.
func coerce(a *Attr, v any, opt Options, key string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case storage.TypeComplex:
		m, ok := v.(map[string]any)
		if !ok {
			// Entra sends manager as a bare id; any complex attribute
			// with a "value" sub-attribute accepts the bare value.
			if s, isStr := v.(string); isStr && a.SubAttr("value") != nil {
				if s == "" {
					return nil, nil
				}
				return map[string]any{"value": s}, nil
			}
			return nil, errorf("invalidValue", "%q must be an object", key)
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			s := a.SubAttr(k)
			if s == nil {
				if k == "$ref" || opt.IgnoreUnknown {
					continue
				}
				return nil, errorf("invalidSyntax", "unknown attribute %q", key+"."+k)
			}
			if s.Mutability == "readOnly" {
				continue
			}
			nx, err := coerce(s, x, opt, key+"."+s.Name)
			if err != nil {
				return nil, err
			}
			if nx != nil {
				out[s.Name] = nx
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case storage.TypeBoolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if !opt.StrictBooleans {
				switch strings.ToLower(b) {
				case "true":
					return true, nil
				case "false":
					return false, nil
				}
			}
		}
		return nil, errorf("invalidValue", "%q must be a boolean", key)
	case storage.TypeInteger, storage.TypeDecimal:
		f, ok := v.(float64)
		if !ok {
			if n, isNum := v.(json.Number); isNum {
				var err error
				if f, err = n.Float64(); err == nil {
					ok = true
				}
			}
		}
		if !ok && !opt.StrictBooleans {
			f, ok = numericString(v) // "3", as Entra sends numbers; same switch as "True"
		}
		if !ok || a.Type == storage.TypeInteger && f != math.Trunc(f) {
			return nil, errorf("invalidValue", "%q must be a%s", key, map[bool]string{true: "n integer", false: " number"}[a.Type == storage.TypeInteger])
		}
		return f, nil
	case storage.TypeDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, errorf("invalidValue", "%q must be a dateTime string", key)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, errorf("invalidValue", "%q must be an xsd:dateTime (RFC 3339)", key)
		}
		return s, nil
	default: // string, reference, binary
		s, ok := v.(string)
		if !ok {
			return nil, errorf("invalidValue", "%q must be a string", key)
		}
		if s == "" {
			return nil, nil
		}
		return s, nil
	}
}

// Check verifies the required attributes of a normalised document.
func (rt *ResourceType) Check(doc map[string]any) error {
	for _, a := range rt.Core.Attrs {
		if a.Required && a.Mutability != "readOnly" {
			if _, ok := doc[a.Name]; !ok {
				return errorf("invalidValue", "attribute %q is required", a.Name)
			}
		}
	}
	if _, ok := doc[rt.NameAttr].(string); !ok {
		return errorf("invalidValue", "attribute %q is required", rt.NameAttr)
	}
	return nil
}

// WriteSchemas appends the "schemas" member of a stored document: the core
// URN and the URN of every extension with data (RFC 7643 §3). It finds
// extensions by their key in data, without decoding it: a URN followed by
// `":` can only be an object key.
func (rt *ResourceType) WriteSchemas(b *bytes.Buffer, data []byte) {
	b.WriteString(`"schemas":["`)
	b.WriteString(rt.Core.URN)
	b.WriteByte('"')
	for i, e := range rt.Extensions {
		if bytes.Contains(data, rt.extKeys[i]) {
			b.WriteString(`,"`)
			b.WriteString(e.URN)
			b.WriteByte('"')
		}
	}
	b.WriteByte(']')
}

// Encode encodes doc as r.Data, with its index keys. "schemas" is not
// stored: it follows from the extension keys present and is written by
// [ResourceType.WriteSchemas] when the resource is rendered.
func (rt *ResourceType) Encode(doc map[string]any, r *storage.Resource) error {
	delete(doc, "schemas")
	data, err := Marshal(doc)
	if err != nil {
		return err
	}
	r.Data = data
	r.Kind = rt.Kind
	r.Name, _ = doc[rt.NameAttr].(string)
	r.ExternalID, _ = doc["externalId"].(string)
	r.Emails = r.Emails[:0]
	if emails, ok := doc["emails"].([]any); ok {
		for _, e := range emails {
			if m, ok := e.(map[string]any); ok {
				if s, ok := m["value"].(string); ok {
					r.Emails = append(r.Emails, s)
				}
			}
		}
	}
	if len(r.Emails) == 0 {
		r.Emails = nil
	}
	return nil
}

// SortedKeys returns m's keys in order (for deterministic output).
func SortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Marshal encodes v as JSON without HTML escaping, so values are stored
// and returned as the client sent them ("R&D", not "R\u0026D").
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

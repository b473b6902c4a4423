package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/scimkit/scimkit/storage"
)

// Error is a client error found while reading a request: ScimType is one
// of RFC 7644 §3.12's keywords (invalidSyntax, invalidValue, invalidFilter,
// invalidPath, noTarget, mutability, uniqueness, tooMany).
type Error struct {
	ScimType string
	Detail   string
	unknown  bool // the error names an attribute no schema defines
}

// Error implements error with the detail.
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
	// StrictAttributes rejects attributes and sub-attributes no schema
	// defines (400 invalidSyntax in a body, invalidPath in a PATCH path)
	// instead of dropping them and noting each drop in Report.
	StrictAttributes bool
	// Report, when not nil, receives what normalisation did that the
	// document does not show (drops, the password).
	Report *Report

	// work counts what one PATCH's operations cost (set by ApplyPatch;
	// see MaxPatchFilterWork and MaxPatchCompareBytes).
	work *patchWork
}

// unknownAttr handles an attribute no schema defines: an error when
// strict, else a note. attr is the attribute as the client spelled it.
func unknownAttr(opt Options, format, attr string) error {
	if opt.StrictAttributes {
		return errorf("invalidSyntax", format, attr)
	}
	opt.Report.note(NoteDropped, attr)
	return nil
}

// Normalize turns a decoded request body (RFC 7644 §3.3 POST, §3.5.1 PUT)
// into the canonical document: canonical attribute names, extension
// attributes nested under their URN (whether or not the client listed the
// URN in "schemas", and also from flat full-URN keys), values coerced to
// their types (bare strings for complex attributes with a "value"
// sub-attribute, "True"/"False"), nulls and empty values dropped, readOnly
// attributes (id, meta, groups) ignored, returned:never attributes
// (password) never stored (the password goes to opt.Report), attributes no
// schema defines dropped (or refused with opt.StrictAttributes), at most
// one primary element per multi-valued attribute (the first), and the
// unique name in its [CanonicalUserName] form. Two keys naming one
// attribute in different case are refused (invalidSyntax). "schemas" is
// recomputed. The document keeps externalId; it never holds id, meta or
// members.
func (rt *ResourceType) Normalize(in map[string]any, opt Options) (map[string]any, error) {
	keys, err := rt.orderKeys(in)
	if err != nil {
		return nil, err
	}
	doc := make(map[string]any, len(in))
	for _, k := range keys {
		if err := rt.setTop(doc, k, in[k], opt); err != nil {
			return nil, err
		}
	}
	rt.keepOnePrimaryAll(doc, opt.Report)
	if err := rt.Check(doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// keyID is the identity of a body key: the lower-cased URN of its schema
// ("" for core, also when the key carries the core URN; "?" and the whole
// key for an unknown schema) and the lower-cased attribute path after it.
// Keys with one identity name one attribute, as attribute names are
// case-insensitive (RFC 7643 §2.1).
type keyID struct{ schema, path string }

func (a keyID) less(b keyID) bool {
	if a.schema != b.schema {
		return a.schema < b.schema
	}
	return a.path < b.path
}

func (rt *ResourceType) keyID(key string) keyID {
	ext, rest, ok := rt.SplitURN(key)
	switch {
	case !ok:
		return keyID{"?", strings.ToLower(key)}
	case ext != nil:
		return keyID{ext.urnFold, strings.ToLower(rest)}
	}
	return keyID{"", strings.ToLower(rest)}
}

// orderKeys returns the keys of a body (or path-less PATCH value) in the
// order they are applied: by identity, so an attribute given whole
// ("name", an extension object) comes before its parts ("name.givenName",
// a flat "urn:...:costCenter" key), which then merge into it, whatever the
// order of Go's map. It refuses two keys that name one attribute, or one
// sub-attribute (an extension object's "costCenter" and a flat
// ".../enterprise:2.0:User:costCenter" key): which one won would be chance.
// Keys inside objects are compared only when some key names a part of an
// attribute (dotted or flat); otherwise a repeat inside one object is
// found where the object is read (coerce, setTop).
func (rt *ResourceType) orderKeys(in map[string]any) ([]string, error) {
	type keyed struct {
		id  keyID
		key string
	}
	order := make([]keyed, 0, len(in))
	parts := false
	for k, v := range in {
		id := rt.keyID(k)
		order = append(order, keyed{id, k})
		switch {
		case id.schema == "?":
		case id.path == "": // a whole extension: do its keys name parts?
			if m, ok := v.(map[string]any); ok {
				for mk := range m {
					parts = parts || strings.IndexByte(mk, '.') >= 0
				}
			}
		case id.schema != "" || strings.IndexByte(id.path, '.') >= 0:
			parts = true // a flat extension attribute or a dotted key
		}
	}
	slices.SortFunc(order, func(a, b keyed) int {
		switch {
		case a.id.less(b.id):
			return -1
		case b.id.less(a.id):
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	var ids map[keyID]string
	if parts {
		ids = make(map[keyID]string, 2*len(in))
	}
	keys := make([]string, len(order))
	for i, o := range order {
		keys[i] = o.key
		if !parts {
			if i > 0 && order[i-1].id == o.id {
				if err := rt.dupKeys(order[i-1].key, o.key); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := rt.claim(ids, o.id, o.key, in[o.key]); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// dupKeys is the error for two keys naming one attribute; nil when that
// attribute is unknown, as both are then dropped (or refused as unknown).
func (rt *ResourceType) dupKeys(a, b string) error {
	if ext, rest, ok := rt.SplitURN(a); !ok || rest != "" || ext == nil {
		if _, _, _, known := rt.Resolve(a); !known {
			return nil
		}
	}
	if b < a {
		a, b = b, a
	}
	if a == b {
		return errorf("invalidSyntax", "attribute %q is given twice (as an object member and as a flat key)", a)
	}
	return errorf("invalidSyntax", "keys %q and %q name the same attribute (attribute names are case-insensitive, RFC 7643 §2.1)", a, b)
}

// claim records identity id for key and, when v is an object, the
// identities of its keys (sub-attributes, or an extension's attributes),
// failing on one claimed before. The work is one pass over the value.
func (rt *ResourceType) claim(ids map[keyID]string, id keyID, key string, v any) error {
	if prev, dup := ids[id]; dup {
		return rt.dupKeys(prev, key)
	}
	ids[id] = key
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	for k, x := range m {
		sub, shown := id, key+"."+k
		if id.path == "" && id.schema != "" && id.schema != "?" { // a whole extension: its keys are attributes
			sub.path, shown = strings.ToLower(k), key+":"+k
		} else {
			sub.path += "." + strings.ToLower(k)
		}
		if err := rt.claim(ids, sub, shown, x); err != nil {
			return err
		}
	}
	return nil
}

// foldSorted returns m's keys ordered case-insensitively (then as sent),
// so a whole attribute comes before its dotted parts.
func foldSorted(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := compareFold(a, b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys
}

// compareFold compares a and b as strings.ToLower(a) and strings.ToLower(b)
// would compare, without building them.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra, rb = unicode.ToLower(ra), unicode.ToLower(rb); ra != rb {
			if ra < rb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// setTop sets a top-level key of a request body into doc: "schemas", "id"
// and "meta" are skipped; an extension URN key replaces its object; a flat
// "urn:...:attr" or dotted "name.givenName" key sets that attribute.
func (rt *ResourceType) setTop(doc map[string]any, key string, v any, opt Options) error {
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
		return unknownAttr(opt, "unknown schema in attribute %q", key)
	}
	noteFlat(opt, ext, rest, key)
	if ext != nil && rest == "" {
		if v == nil {
			delete(doc, ext.URN)
			return nil
		}
		obj, isObj := v.(map[string]any)
		if !isObj {
			return errorf("invalidValue", "%q must be an object", key)
		}
		target := map[string]any{}
		keys := foldSorted(obj)
		for i, k := range keys {
			if i > 0 && strings.EqualFold(keys[i-1], k) {
				if err := rt.dupKeys(ext.URN+":"+keys[i-1], ext.URN+":"+k); err != nil {
					return err
				}
			}
			if err := rt.setAttr(target, ext, k, obj[k], opt); err != nil {
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
		if err := rt.setAttr(target, ext, rest, v, opt); err != nil {
			return err
		}
		setOrDelete(doc, ext.URN, target)
		return nil
	}
	return rt.setAttr(doc, nil, rest, v, opt)
}

// noteFlat notes a top-level key of a body or path-less PATCH value that
// names a part of an attribute: a flat extension key, or a dotted one.
func noteFlat(opt Options, ext *Schema, rest, key string) {
	switch {
	case ext != nil && rest != "":
		opt.Report.note(NoteFlatExtension, key)
	case strings.IndexByte(rest, '.') >= 0:
		opt.Report.note(NoteDottedKey, key)
	}
}

func setOrDelete(doc map[string]any, key string, m map[string]any) {
	if len(m) == 0 {
		delete(doc, key)
	} else {
		doc[key] = m
	}
}

// setAttr sets "attr" or "attr.sub" of schema ext (nil: core) in target.
func (rt *ResourceType) setAttr(target map[string]any, ext *Schema, key string, v any, opt Options) error {
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
	shown := key
	if ext != nil {
		shown = ext.URN + ":" + key
	}
	if a == nil {
		return unknownAttr(opt, "unknown attribute %q", shown)
	}
	if a.Returned == "never" {
		// Secrets are never kept (RFC 7643 §4.1.1); the password goes to
		// the host through the report.
		if dotted {
			return nil
		}
		nv, err := Value(a, v, opt, key)
		if s, ok := nv.(string); ok && ext == nil && a.Name == "password" {
			opt.Report.password(s)
		}
		return err
	}
	if a.Mutability == "readOnly" {
		return nil // readOnly values from clients are ignored (RFC 7644 §3.5.1)
	}
	if dotted {
		if a.MultiValued {
			return errorf("invalidPath", "%q: a multi-valued attribute's sub-attribute cannot be set in a body", key)
		}
		s := a.SubAttr(subName)
		if s == nil {
			return unknownAttr(opt, "unknown attribute %q", shown)
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
	return coerceAt(a, v, opt, key, "")
}

// coerceAt is coerce of attribute key or, when sub is not "", of its
// sub-attribute sub: the name key.sub that notes and errors give is built
// only when one needs it.
func coerceAt(a *Attr, v any, opt Options, parent, sub string) (any, error) {
	key := func() string {
		if sub == "" {
			return parent
		}
		return parent + "." + sub
	}
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
				opt.Report.note(NoteBareValue, key())
				return map[string]any{"value": s}, nil
			}
			return nil, errorf("invalidValue", "%q must be an object", key())
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			s := a.SubAttr(k)
			if s == nil {
				if k == "$ref" {
					continue
				}
				if err := unknownAttr(opt, "unknown attribute %q", key()+"."+k); err != nil {
					return nil, err
				}
				continue
			}
			if s.Mutability == "readOnly" {
				continue
			}
			nx, err := coerceAt(s, x, opt, key(), s.Name)
			if err != nil {
				return nil, err
			}
			if nx != nil {
				if _, dup := out[s.Name]; dup {
					// Only a second key in another case can get here;
					// which one won would be chance (Go's map order).
					return nil, errorf("invalidSyntax", "%q is given twice (attribute names are case-insensitive, RFC 7643 §2.1)", key()+"."+s.Name)
				}
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
					opt.Report.note(NoteStringBoolean, key())
					return true, nil
				case "false":
					opt.Report.note(NoteStringBoolean, key())
					return false, nil
				}
			}
		}
		return nil, errorf("invalidValue", "%q must be a boolean", key())
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
			if ok {
				opt.Report.note(NoteNumericString, key())
			}
		}
		if !ok || a.Type == storage.TypeInteger && f != math.Trunc(f) {
			return nil, errorf("invalidValue", "%q must be a%s", key(), map[bool]string{true: "n integer", false: " number"}[a.Type == storage.TypeInteger])
		}
		return f, nil
	case storage.TypeDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, errorf("invalidValue", "%q must be a dateTime string", key())
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, errorf("invalidValue", "%q must be an xsd:dateTime (RFC 3339)", key())
		}
		return s, nil
	default: // string, reference, binary
		s, ok := v.(string)
		if !ok {
			return nil, errorf("invalidValue", "%q must be a string", key())
		}
		if s == "" {
			return nil, nil
		}
		return s, nil
	}
}

// Check verifies the required attributes of a normalised document and
// puts its unique name (userName, a Group's displayName) in the
// [CanonicalUserName] form, which every write then stores.
func (rt *ResourceType) Check(doc map[string]any) error {
	for _, a := range rt.Core.Attrs {
		if a.Required && a.Mutability != "readOnly" {
			if _, ok := doc[a.Name]; !ok {
				return errorf("invalidValue", "attribute %q is required", a.Name)
			}
		}
	}
	name, ok := doc[rt.NameAttr].(string)
	if !ok {
		return errorf("invalidValue", "attribute %q is required", rt.NameAttr)
	}
	c, err := CanonicalUserName(name)
	if err != nil {
		return errorf("invalidValue", "attribute %q must not be empty or only white space", rt.NameAttr)
	}
	doc[rt.NameAttr] = c
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
// The values a decoded document holds are encoded here, byte for byte as
// encoding/json would (keys sorted); anything else goes to encoding/json.
func Marshal(v any) ([]byte, error) {
	out, err := appendJSON(make([]byte, 0, 512), v, 0)
	if err != nil {
		return marshalSlow(v)
	}
	return out, nil
}

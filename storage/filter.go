package storage

import (
	"strings"
	"time"
)

// Filter is a list filter (RFC 7644 §3.4.2.2) resolved against the schema:
// every attribute is canonical and carries its type and case-exactness, so
// a backend can evaluate or translate it without knowing SCIM schemas. It
// is one of [Compare], [And], [Or], [Not] and [ValuePath].
type Filter interface{ filter() }

// AttrType is a SCIM attribute data type (RFC 7643 §2.3).
type AttrType string

// The attribute types.
const (
	TypeString    AttrType = "string"
	TypeBoolean   AttrType = "boolean"
	TypeDecimal   AttrType = "decimal"
	TypeInteger   AttrType = "integer"
	TypeDateTime  AttrType = "dateTime"
	TypeReference AttrType = "reference"
	TypeBinary    AttrType = "binary"
	TypeComplex   AttrType = "complex"
)

// AttrPath names an attribute: Schema is "" for core attributes (and id,
// externalId, meta) or an extension URN; Name the canonical attribute name;
// Sub the canonical sub-attribute, if any. Type and CaseExact describe the
// attribute the path ends at; MultiValued tells whether Name is.
type AttrPath struct {
	Schema      string
	Name        string
	Sub         string
	Type        AttrType
	CaseExact   bool
	MultiValued bool
}

// String returns the path in filter syntax ("urn:...:User:manager.value").
func (p AttrPath) String() string {
	s := p.Name
	if p.Sub != "" {
		s += "." + p.Sub
	}
	if p.Schema != "" {
		s = p.Schema + ":" + s
	}
	return s
}

// Operator is a comparison operator (RFC 7644 §3.4.2.2, Table 3).
type Operator string

// The comparison operators.
const (
	OpEq      Operator = "eq"
	OpNe      Operator = "ne"
	OpCo      Operator = "co"
	OpSw      Operator = "sw"
	OpEw      Operator = "ew"
	OpGt      Operator = "gt"
	OpGe      Operator = "ge"
	OpLt      Operator = "lt"
	OpLe      Operator = "le"
	OpPresent Operator = "pr"
)

// Compare is "Path Op Value". Value is a string, bool, float64 or nil
// (for OpPresent and for "eq null").
type Compare struct {
	Path  AttrPath
	Op    Operator
	Value any
}

// And matches when both sides match.
type And struct{ Left, Right Filter }

// Or matches when either side matches.
type Or struct{ Left, Right Filter }

// Not matches when X does not.
type Not struct{ X Filter }

// ValuePath is "Path[Filter]": it matches when one element of the
// multi-valued complex attribute Path (or the value of a single-valued
// one, Path.MultiValued false) satisfies Filter, whose paths name
// sub-attributes of Path (RFC 7644 §3.4.2.2 "valuePath").
type ValuePath struct {
	Path   AttrPath
	Filter Filter
}

func (Compare) filter()   {}
func (And) filter()       {}
func (Or) filter()        {}
func (Not) filter()       {}
func (ValuePath) filter() {}

// Uses reports whether f refers to the top-level attribute name (core
// schema), e.g. Uses(f, "members") tells a backend it must supply members
// to [Match].
func Uses(f Filter, name string) bool {
	switch f := f.(type) {
	case Compare:
		return f.Path.Schema == "" && f.Path.Name == name
	case ValuePath:
		return f.Path.Schema == "" && f.Path.Name == name
	case And:
		return Uses(f.Left, name) || Uses(f.Right, name)
	case Or:
		return Uses(f.Left, name) || Uses(f.Right, name)
	case Not:
		return Uses(f.X, name)
	}
	return false
}

// Match evaluates f on a resource whose Data was decoded into doc (with
// encoding/json defaults: numbers as float64). id, externalId and meta are
// taken from r; every other attribute from doc, so a backend that filters
// on members puts them in doc["members"] as []any of
// map[string]any{"value":..., "display":..., "type":...}.
func Match(f Filter, r *Resource, doc map[string]any) bool {
	switch f := f.(type) {
	case nil:
		return true
	case And:
		return Match(f.Left, r, doc) && Match(f.Right, r, doc)
	case Or:
		return Match(f.Left, r, doc) || Match(f.Right, r, doc)
	case Not:
		return !Match(f.X, r, doc)
	case ValuePath:
		for _, el := range asList(attrValue(f.Path.Schema, f.Path.Name, r, doc)) {
			sub, ok := el.(map[string]any)
			if ok && matchElement(f.Filter, sub) {
				return true
			}
		}
		return false
	case Compare:
		v := attrValue(f.Path.Schema, f.Path.Name, r, doc)
		return compareAny(f, v)
	}
	return false
}

// matchElement evaluates a value filter on one element of a multi-valued
// complex attribute; paths inside name its sub-attributes.
func matchElement(f Filter, el map[string]any) bool {
	switch f := f.(type) {
	case And:
		return matchElement(f.Left, el) && matchElement(f.Right, el)
	case Or:
		return matchElement(f.Left, el) || matchElement(f.Right, el)
	case Not:
		return !matchElement(f.X, el)
	case Compare:
		name := f.Path.Sub
		if name == "" {
			name = f.Path.Name
		}
		return compareLeaf(f, el[name])
	}
	return false
}

func attrValue(schema, name string, r *Resource, doc map[string]any) any {
	if schema == "" {
		switch name {
		case "id":
			return r.ID
		case "externalId":
			if r.ExternalID == "" {
				return nil
			}
			return r.ExternalID
		case "meta":
			// Timestamps stay time.Time: compareLeaf compares them as
			// instants, or as their rendered text for co, sw and ew.
			return map[string]any{
				"created":      r.Created,
				"lastModified": r.Modified,
				"resourceType": string(r.Kind),
			}
		}
		return doc[name]
	}
	ext, _ := doc[schema].(map[string]any)
	return ext[name]
}

func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

// compareAny applies a comparison to an attribute value that may be
// multi-valued or complex: a multi-valued attribute matches when any value
// does (RFC 7644 §3.4.2.2); a complex one without a sub-attribute is
// compared through its "value" sub-attribute.
func compareAny(f Compare, v any) bool {
	if f.Op == OpPresent {
		return present(v, f.Path.Sub)
	}
	vals := asList(v)
	if len(vals) == 0 {
		return f.Op == OpNe && f.Value != nil || f.Op == OpEq && f.Value == nil
	}
	for _, x := range vals {
		if m, ok := x.(map[string]any); ok {
			key := f.Path.Sub
			if key == "" {
				key = "value"
			}
			x = m[key]
		}
		if compareLeaf(f, x) {
			return true
		}
	}
	return false
}

func present(v any, sub string) bool {
	for _, x := range asList(v) {
		if sub != "" {
			m, _ := x.(map[string]any)
			x = m[sub]
		}
		switch x := x.(type) {
		case nil:
		case string:
			if x != "" {
				return true
			}
		case []any:
			if len(x) > 0 {
				return true
			}
		case map[string]any:
			if len(x) > 0 {
				return true
			}
		default:
			return true
		}
	}
	return false
}

func compareLeaf(f Compare, x any) bool {
	if f.Op == OpPresent {
		return present(x, "")
	}
	if f.Value == nil {
		switch f.Op {
		case OpEq:
			return x == nil
		case OpNe:
			return x != nil
		}
		return false
	}
	if x == nil {
		return f.Op == OpNe
	}
	switch want := f.Value.(type) {
	case bool:
		got, ok := x.(bool)
		if !ok {
			return f.Op == OpNe
		}
		switch f.Op {
		case OpEq:
			return got == want
		case OpNe:
			return got != want
		}
		return false
	case float64:
		got, ok := x.(float64)
		if !ok {
			return f.Op == OpNe
		}
		return orderOp(f.Op, cmpFloat(got, want))
	case string:
		var got string
		switch x := x.(type) {
		case string:
			got = x
		case time.Time:
			if f.Op != OpCo && f.Op != OpSw && f.Op != OpEw {
				if tw, err := time.Parse(time.RFC3339Nano, want); err == nil {
					return orderOp(f.Op, x.Compare(tw))
				}
			}
			got = x.UTC().Format(time.RFC3339Nano)
		default:
			return f.Op == OpNe
		}
		// Order and equality of dateTimes compare instants; co, sw and
		// ew stay substring tests on the text.
		if f.Path.Type == TypeDateTime && f.Op != OpCo && f.Op != OpSw && f.Op != OpEw {
			if c, ok := cmpTime(got, want); ok {
				return orderOp(f.Op, c)
			}
		}
		if !f.Path.CaseExact {
			got, want = strings.ToLower(got), strings.ToLower(want)
		}
		switch f.Op {
		case OpCo:
			return strings.Contains(got, want)
		case OpSw:
			return strings.HasPrefix(got, want)
		case OpEw:
			return strings.HasSuffix(got, want)
		}
		return orderOp(f.Op, strings.Compare(got, want))
	}
	return false
}

func orderOp(op Operator, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpTime(a, b string) (int, bool) {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return ta.Compare(tb), true
}

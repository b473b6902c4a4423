package difftest

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The reference evaluator: RFC 7644 §3.4.2.2 read literally, over the
// JSON documents the server returns, with the attribute definitions the
// server publishes at /Schemas. It shares no code with the engine
// (storage.Match, internal/schema, storage/sqlstore).
//
// Readings the RFC leaves open, decided here once:
//   - A multi-valued attribute matches when any of its values does. For a
//     sub-attribute of a multi-valued complex attribute ("emails.type")
//     each element contributes its sub-attribute's value, or null when the
//     element lacks it. A complex attribute compared without a
//     sub-attribute ("emails co x", "manager eq x") is compared through its
//     "value" sub-attribute.
//   - An unassigned attribute is null (RFC 7643 §2.5). Null satisfies "ne"
//     and nothing else, so "title ne x" matches a user without a title:
//     "ne" means "not identical", and an absent value is not identical to
//     x. This makes "a ne x" and "not (a eq x)" agree on single-valued a.
//   - "pr" holds when the attribute has a non-empty value: not null, not
//     "", not [] or {}; a complex attribute is present when any of its
//     sub-attributes is ("name pr", issue 8.5).
//   - Strings compare by the attribute's caseExact; case-insensitive
//     comparison is on strings.ToLower of both sides. Order (gt, ge, lt,
//     le) is lexicographic by Unicode code point.
//   - dateTime attributes compare instants (eq, ne and order alike); the
//     value must parse as an xsd:dateTime with a zone.
//   - gt, ge, lt and le on a boolean or binary attribute make the whole
//     filter invalid (RFC 7644 §3.4.2.2: "return invalidFilter"), wherever
//     the comparison sits.
//   - The strings "True" and "False" (any case) compare as booleans on a
//     boolean attribute, because the server accepts them as boolean values
//     by default (issue 8.6).
//   - Comparisons of binary values (x509Certificates.value) may be
//     rejected as unsupported (RFC 7644 §3.12).
//   - "eq null" and "ne null", and comparisons the RFC does not define for
//     the attribute's type, may be rejected with invalidFilter; when the
//     server answers them, each value is compared: "eq null" holds for a
//     value that is not present (as "pr" reads it), "ne null" for one that
//     is; so "emails.primary eq null" matches a user with an email that
//     has no primary.

// attrDef is one attribute as /Schemas publishes it.
type attrDef struct {
	Name        string     `json:"name"`
	Type        string     `json:"type"`
	MultiValued bool       `json:"multiValued"`
	CaseExact   bool       `json:"caseExact"`
	Mutability  string     `json:"mutability"`
	SubAttrs    []*attrDef `json:"subAttributes"`
}

func (a *attrDef) sub(name string) *attrDef {
	for _, s := range a.SubAttrs {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// schemaDef is one schema of /Schemas.
type schemaDef struct {
	ID         string     `json:"id"`
	Attributes []*attrDef `json:"attributes"`
}

func (s *schemaDef) attr(name string) *attrDef {
	for _, a := range s.Attributes {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// commonAttrs are the attributes every resource has (RFC 7643 §3.1),
// which /Schemas does not list: id and externalId are caseExact strings,
// meta's resourceType, location and version caseExact too.
func commonAttrs() *schemaDef {
	str := func(n string) *attrDef { return &attrDef{Name: n, Type: "string", CaseExact: true} }
	return &schemaDef{Attributes: []*attrDef{
		str("id"), str("externalId"),
		{Name: "meta", Type: "complex", SubAttrs: []*attrDef{
			str("resourceType"),
			{Name: "created", Type: "dateTime"},
			{Name: "lastModified", Type: "dateTime"},
			{Name: "location", Type: "reference", CaseExact: true},
			str("version"),
		}},
	}}
}

// resType is a resource type: its core schema and extensions.
type resType struct {
	Endpoint string
	Core     *schemaDef
	Exts     []*schemaDef
	Common   *schemaDef
}

// resolved is an attribute path resolved against a resource type: Ext is
// the extension URN under which the attribute sits in a document ("" for
// core and common attributes).
type resolved struct {
	Ext  string
	Attr *attrDef
	Sub  *attrDef
}

// leaf is the definition the compared value has.
func (r resolved) leaf() *attrDef {
	if r.Sub != nil {
		return r.Sub
	}
	return r.Attr
}

// resolve finds p's definition: "urn:...:name.sub" names an attribute of
// the schema with that id; a bare name one of the core schema or a common
// attribute.
func (rt *resType) resolve(p path) (resolved, error) {
	var r resolved
	switch {
	case p.URN == "":
		if r.Attr = rt.Core.attr(p.Name); r.Attr == nil {
			r.Attr = rt.Common.attr(p.Name)
		}
	case strings.EqualFold(p.URN, rt.Core.ID):
		r.Attr = rt.Core.attr(p.Name)
	default:
		for _, e := range rt.Exts {
			if strings.EqualFold(p.URN, e.ID) {
				r.Ext, r.Attr = e.ID, e.attr(p.Name)
			}
		}
	}
	if r.Attr == nil {
		return r, fmt.Errorf("unknown attribute %s", p)
	}
	if p.Sub != "" {
		if r.Sub = r.Attr.sub(p.Sub); r.Sub == nil {
			return r, fmt.Errorf("unknown sub-attribute %s", p)
		}
	}
	return r, nil
}

// outcome is what the reference expects of a filter: Invalid means the
// server must answer 400 invalidFilter; MayReject that it may; otherwise
// (and when it answers a MayReject filter) the result set is the one
// match gives.
type outcome struct {
	Invalid   string
	MayReject string
}

func (o *outcome) invalid(format string, a ...any) {
	if o.Invalid == "" {
		o.Invalid = fmt.Sprintf(format, a...)
	}
}

func (o *outcome) mayReject(format string, a ...any) {
	if o.MayReject == "" {
		o.MayReject = fmt.Sprintf(format, a...)
	}
}

// check decides statically whether a filter is valid for rt.
func (rt *resType) check(n node) outcome {
	var o outcome
	rt.checkInto(&o, n, nil)
	return o
}

func (rt *resType) checkInto(o *outcome, n node, scope *attrDef) {
	switch n := n.(type) {
	case *cmpNode:
		d, err := rt.resolveIn(n.Path, scope)
		if err != nil {
			o.invalid("%v", err)
			return
		}
		if scope == nil {
			mayRejectRendered(o, d)
		}
		checkCmp(o, d, n.Op, n.Val)
	case *logicNode:
		rt.checkInto(o, n.Left, scope)
		rt.checkInto(o, n.Right, scope)
	case *notNode:
		rt.checkInto(o, n.X, scope)
	case *parenNode:
		rt.checkInto(o, n.X, scope)
	case *valuePathNode:
		r, err := rt.resolve(n.Path)
		if err != nil || r.Sub != nil || r.Attr.Type != "complex" {
			o.invalid("value path on %s", n.Path)
			return
		}
		mayRejectRendered(o, r)
		rt.checkInto(o, n.F, r.Attr)
	case *entraNode:
		r, err := rt.resolve(n.Path)
		if err != nil || r.Sub != nil || r.Attr.Type != "complex" {
			o.invalid("value path on %s", n.Path)
			return
		}
		mayRejectRendered(o, r)
		rt.checkInto(o, n.F, r.Attr)
		sub := r.Attr.sub(n.Sub)
		if sub == nil {
			o.invalid("unknown sub-attribute %s", n.Sub)
			return
		}
		checkCmp(o, resolved{Attr: sub}, n.Op, n.Val)
	}
}

// mayRejectRendered: a User's groups is readOnly and "managed by the
// service provider" (RFC 7643 §4.1.2): a server that computes it from
// group membership when rendering, rather than storing it, may refuse to
// filter on it (RFC 7644 §3.12 invalidFilter: "the specified attribute
// and filter comparison combination is not supported").
func mayRejectRendered(o *outcome, r resolved) {
	if r.Ext == "" && strings.EqualFold(r.Attr.Name, "groups") && r.Attr.Mutability == "readOnly" {
		o.mayReject("%s is rendered from group membership", r.Attr.Name)
	}
}

// resolveIn resolves a path at top level, or inside a value path whose
// attribute is scope (where paths name sub-attributes).
func (rt *resType) resolveIn(p path, scope *attrDef) (resolved, error) {
	if scope == nil {
		return rt.resolve(p)
	}
	if p.URN != "" || p.Sub != "" {
		return resolved{}, fmt.Errorf("%s inside a value path", p)
	}
	s := scope.sub(p.Name)
	if s == nil {
		return resolved{}, fmt.Errorf("unknown sub-attribute %s", p.Name)
	}
	return resolved{Attr: s}, nil
}

// cmpType is the type a comparison applies to: the leaf's, or for a
// complex attribute compared without sub-attribute its "value"'s.
func cmpType(r resolved) *attrDef {
	l := r.leaf()
	if l.Type == "complex" {
		return l.sub("value")
	}
	return l
}

func checkCmp(o *outcome, r resolved, op string, v *lit) {
	op = strings.ToLower(op)
	if op == "pr" {
		return
	}
	d := cmpType(r)
	if d == nil {
		o.mayReject("%s has no value sub-attribute to compare", r.leaf().Name)
		return
	}
	ordered := op == "gt" || op == "ge" || op == "lt" || op == "le"
	if ordered && (d.Type == "boolean" || d.Type == "binary") {
		o.invalid("%s on the %s attribute %s", op, d.Type, d.Name)
		return
	}
	if v.Kind == litNull {
		o.mayReject("comparison with null")
		return
	}
	substr := op == "co" || op == "sw" || op == "ew"
	switch d.Type {
	case "binary":
		// RFC 7644 §3.4.2.2 forbids only order on binary; a server may
		// still refuse to compare binary values (§3.12: "comparison
		// combination is not supported").
		o.mayReject("%s on a binary attribute", op)
	case "string", "reference":
		if v.Kind != litString {
			o.mayReject("non-string value for %s", d.Name)
		}
	case "boolean":
		if substr {
			o.mayReject("%s on a boolean", op)
		} else if _, ok := boolOf(v); !ok {
			o.mayReject("non-boolean value for %s", d.Name)
		}
	case "integer", "decimal":
		if substr || v.Kind != litNumber {
			o.mayReject("%s %s on a number", op, v)
		}
	case "dateTime":
		if substr {
			o.mayReject("%s on a dateTime", op)
		} else if _, err := parseTime(v.Str); v.Kind != litString || err != nil {
			o.mayReject("value %s is no dateTime", v)
		}
	}
}

// boolOf is a value's boolean, accepting "True"/"False" strings.
func boolOf(v *lit) (bool, bool) {
	switch {
	case v.Kind == litBool:
		return v.Bool, true
	case v.Kind == litString && strings.EqualFold(v.Str, "true"):
		return true, true
	case v.Kind == litString && strings.EqualFold(v.Str, "false"):
		return false, true
	}
	return false, false
}

// parseTime parses an xsd:dateTime with a zone (RFC 3339 form).
func parseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// match evaluates a valid filter on one document.
func (rt *resType) match(n node, doc map[string]any) bool {
	switch n := n.(type) {
	case *cmpNode:
		r, _ := rt.resolve(n.Path)
		return compare(r, n.Op, n.Val, rt.value(r, doc))
	case *logicNode:
		if isOr(n.Op) {
			return rt.match(n.Left, doc) || rt.match(n.Right, doc)
		}
		return rt.match(n.Left, doc) && rt.match(n.Right, doc)
	case *notNode:
		return !rt.match(n.X, doc)
	case *parenNode:
		return rt.match(n.X, doc)
	case *valuePathNode:
		r, _ := rt.resolve(n.Path)
		for _, e := range elements(rt.value(r, doc)) {
			if matchElem(r.Attr, n.F, e) {
				return true
			}
		}
		return false
	case *entraNode:
		r, _ := rt.resolve(n.Path)
		sub := r.Attr.sub(n.Sub)
		for _, e := range elements(rt.value(r, doc)) {
			if matchElem(r.Attr, n.F, e) && compare(resolved{Attr: sub}, n.Op, n.Val, lookup(e, sub.Name)) {
				return true
			}
		}
		return false
	}
	panic(fmt.Sprintf("difftest: unknown node %T", n))
}

// matchElem evaluates a value path's filter on one element of parent.
func matchElem(parent *attrDef, n node, e map[string]any) bool {
	switch n := n.(type) {
	case *cmpNode:
		s := parent.sub(n.Path.Name)
		return compare(resolved{Attr: s}, n.Op, n.Val, lookup(e, s.Name))
	case *logicNode:
		if isOr(n.Op) {
			return matchElem(parent, n.Left, e) || matchElem(parent, n.Right, e)
		}
		return matchElem(parent, n.Left, e) && matchElem(parent, n.Right, e)
	case *notNode:
		return !matchElem(parent, n.X, e)
	case *parenNode:
		return matchElem(parent, n.X, e)
	}
	panic(fmt.Sprintf("difftest: %T inside a value path", n))
}

// value is the attribute r names in doc (nil when absent), before any
// sub-attribute is taken.
func (rt *resType) value(r resolved, doc map[string]any) any {
	var container any = doc
	if r.Ext != "" {
		container = lookup(doc, r.Ext)
	}
	return lookup(container, r.Attr.Name)
}

// lookup reads key from a JSON object case-insensitively (RFC 7643 §2.1:
// attribute names are case-insensitive).
func lookup(v any, key string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	if x, ok := m[key]; ok {
		return x
	}
	for k, x := range m {
		if strings.EqualFold(k, key) {
			return x
		}
	}
	return nil
}

// elements lists a complex attribute's elements (one for single-valued).
func elements(v any) []map[string]any {
	var out []map[string]any
	switch v := v.(type) {
	case map[string]any:
		out = append(out, v)
	case []any:
		for _, x := range v {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// compare applies "op val" to the attribute value v (as value returned it).
func compare(r resolved, op string, val *lit, v any) bool {
	op = strings.ToLower(op)
	a := r.Attr
	if op == "pr" {
		if r.Sub == nil {
			return present(v)
		}
		for _, e := range leaves(a, v, r.Sub.Name) {
			if present(e) {
				return true
			}
		}
		return false
	}
	d := cmpType(r)
	if d == nil && val.Kind != litNull {
		return false // a complex attribute without "value" (check says mayReject)
	}
	sub := ""
	if r.Sub != nil {
		sub = r.Sub.Name
	} else if a.Type == "complex" {
		sub = "value"
	}
	for _, x := range leaves(a, v, sub) {
		if val.Kind == litNull && present(x) == (op == "ne") || val.Kind != litNull && compareLeaf(d, op, val, x) {
			return true
		}
	}
	return false
}

// leaves lists the values compared: the attribute's values, or each
// element's sub-attribute (null where missing); at least one (null).
func leaves(a *attrDef, v any, sub string) []any {
	var xs []any
	if list, ok := v.([]any); ok {
		xs = append(xs, list...)
	} else if v != nil {
		xs = []any{v}
	}
	if sub != "" {
		for i, x := range xs {
			xs[i] = lookup(x, sub)
		}
	}
	if len(xs) == 0 {
		return []any{nil}
	}
	return xs
}

// present: not null, not "", not an empty array or object; a complex
// value is present when any of its members is.
func present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		for _, x := range v {
			if present(x) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, x := range v {
			if present(x) {
				return true
			}
		}
		return false
	}
	return true
}

func compareLeaf(d *attrDef, op string, val *lit, x any) bool {
	if x == nil {
		return op == "ne"
	}
	var c int
	switch d.Type {
	case "boolean":
		got, ok1 := x.(bool)
		want, ok2 := boolOf(val)
		if !ok1 || !ok2 {
			return op == "ne"
		}
		if got == want {
			c = 0
		} else {
			c = 1
		}
	case "integer", "decimal":
		got, ok := x.(float64)
		want, err := strconv.ParseFloat(val.Num, 64)
		if !ok || err != nil {
			return op == "ne"
		}
		c = cmp.Compare(got, want)
	case "dateTime":
		s, _ := x.(string)
		got, err1 := parseTime(s)
		want, err2 := parseTime(val.Str)
		if err1 != nil || err2 != nil {
			return op == "ne"
		}
		c = got.Compare(want)
	default:
		got, ok := x.(string)
		if !ok {
			return op == "ne"
		}
		want := val.Str
		if !d.CaseExact {
			got, want = strings.ToLower(got), strings.ToLower(want)
		}
		switch op {
		case "co":
			return strings.Contains(got, want)
		case "sw":
			return strings.HasPrefix(got, want)
		case "ew":
			return strings.HasSuffix(got, want)
		}
		c = strings.Compare(got, want) // UTF-8 byte order is code point order
	}
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

package sqlstore

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimkit/scimkit/storage"
)

// builder translates a [storage.Filter] into a WHERE condition on the
// resource row r, with every value bound as a parameter. The condition
// gives the answer [storage.Match] gives; where SQL cannot (an order
// comparison of dateTime values held as text, a substring test on meta
// dates), the builder returns a condition that matches a superset and
// reports it as inexact, and the caller checks each candidate with Match.
type builder struct {
	d     Dialect
	kind  storage.Kind
	args  []any
	alias int
}

// cond is a translated condition; exact is false when it only narrows
// the candidates.
type cond struct {
	sql   string
	exact bool
}

func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return "?"
}

func (b *builder) newAlias() string {
	b.alias++
	return fmt.Sprintf("e%d", b.alias)
}

func (b *builder) lit(v bool) cond {
	if v {
		return cond{b.d.True(), true}
	}
	return cond{b.d.False(), true}
}

// superset is the condition of a part SQL cannot decide.
func (b *builder) superset() cond { return cond{b.d.True(), false} }

func (b *builder) filter(f storage.Filter) cond {
	return b.logic(f, func(f storage.Filter) cond {
		switch f := f.(type) {
		case nil:
			return b.lit(true)
		case storage.ValuePath:
			return b.valuePath(f)
		case storage.Compare:
			return b.compare(f)
		}
		return b.superset()
	})
}

// logic translates the And, Or and Not of f and hands every other node to
// term.
func (b *builder) logic(f storage.Filter, term func(storage.Filter) cond) cond {
	switch f := f.(type) {
	case storage.And:
		l, r := b.logic(f.Left, term), b.logic(f.Right, term)
		return cond{"(" + l.sql + " AND " + r.sql + ")", l.exact && r.exact}
	case storage.Or:
		l, r := b.logic(f.Left, term), b.logic(f.Right, term)
		return cond{"(" + l.sql + " OR " + r.sql + ")", l.exact && r.exact}
	case storage.Not:
		n := len(b.args)
		x := b.logic(f.X, term)
		if !x.exact {
			// The complement of a superset is a subset: give up on
			// narrowing rather than lose matches, and drop the
			// arguments of the condition given up, which would shift
			// every later placeholder.
			b.args = b.args[:n]
			return b.superset()
		}
		return cond{"NOT " + x.sql, true}
	}
	return term(f)
}

// compare translates a top-level comparison (RFC 7644 §3.4.2.2): a
// multi-valued attribute matches when any value does; one with no values
// matches "ne" and "eq null" only.
func (b *builder) compare(f storage.Compare) cond {
	p := f.Path
	if p.Schema == "" {
		switch {
		case p.Name == "id":
			return b.column(f, "r.id", "", false)
		case p.Name == "externalId":
			return b.column(f, "r.external_id", "", true)
		case p.Name == "meta":
			return b.meta(f)
		case p.Name == "members" && b.kind == storage.KindGroup:
			return b.members(f)
		case p.Sub == "" && !p.CaseExact && p.Type == storage.TypeString &&
			(p.Name == "userName" && b.kind == storage.KindUser || p.Name == "displayName" && b.kind == storage.KindGroup):
			// The indexed, case-folded name column holds the same value.
			return b.column(f, "r.name", "r.name_fold", false)
		}
	}
	keys := []string{p.Name}
	if p.Schema != "" {
		keys = []string{p.Schema, p.Name}
	}
	root := b.d.Root(keys...)
	// A complex value without a sub-attribute compares through its
	// "value" (RFC 7644 §3.4.2.2); the path carries value's type then.
	at := func(l Loc) Loc {
		switch {
		case p.Sub != "":
			return b.d.Child(l, p.Sub)
		case f.Op != storage.OpPresent:
			return b.d.ValueOf(l)
		}
		return l
	}
	if !p.MultiValued {
		return b.leaf(at(root), f)
	}
	from, e := b.d.Elements(root, b.newAlias())
	c := b.leaf(at(e), f)
	exists := cond{"EXISTS (SELECT 1 FROM " + from + " WHERE " + c.sql + ")", c.exact}
	if !emptyMatches(f) {
		return exists
	}
	from2, _ := b.d.Elements(root, b.newAlias())
	return cond{"(" + exists.sql + " OR NOT EXISTS (SELECT 1 FROM " + from2 + "))", exists.exact}
}

// emptyMatches tells whether f matches an attribute without values.
func emptyMatches(f storage.Compare) bool {
	return f.Op == storage.OpNe && f.Value != nil || f.Op == storage.OpEq && f.Value == nil
}

// valuePath translates "attr[filter]": one element must match the whole
// inner filter.
func (b *builder) valuePath(f storage.ValuePath) cond {
	p := f.Path
	if p.Schema == "" && p.Name == "members" && b.kind == storage.KindGroup {
		a := b.newAlias()
		c := b.memberFilter(f.Filter, a)
		return cond{"EXISTS (SELECT 1 FROM " + memberFrom(a) + " WHERE " + c.sql + ")", c.exact}
	}
	keys := []string{p.Name}
	if p.Schema != "" {
		keys = []string{p.Schema, p.Name}
	}
	root := b.d.Root(keys...)
	if !p.MultiValued {
		c := b.elementFilter(f.Filter, root)
		return cond{"(NOT " + b.d.IsNull(root) + " AND " + c.sql + ")", c.exact}
	}
	from, e := b.d.Elements(root, b.newAlias())
	c := b.elementFilter(f.Filter, e)
	return cond{"EXISTS (SELECT 1 FROM " + from + " WHERE " + c.sql + ")", c.exact}
}

// elementFilter translates the filter inside a value path on element e.
func (b *builder) elementFilter(f storage.Filter, e Loc) cond {
	return b.logic(f, func(f storage.Filter) cond {
		c, ok := f.(storage.Compare)
		if !ok {
			return b.superset()
		}
		name := c.Path.Sub
		if name == "" {
			name = c.Path.Name
		}
		return b.leaf(b.d.Child(e, name), c)
	})
}

// leaf compares the single JSON value at l (absent or null: no value).
// The result is never NULL, so NOT stays a complement.
func (b *builder) leaf(l Loc, f storage.Compare) cond {
	d := b.d
	if f.Op == storage.OpPresent {
		return cond{d.Present(l), true}
	}
	if f.Value == nil {
		switch f.Op {
		case storage.OpEq:
			return cond{d.IsNull(l), true}
		case storage.OpNe:
			return cond{"NOT " + d.IsNull(l), true}
		}
		return b.lit(false)
	}
	// A value of another type (or none) matches "ne" only.
	ne := f.Op == storage.OpNe
	var test string
	switch want := f.Value.(type) {
	case bool:
		if f.Op != storage.OpEq && !ne {
			return b.lit(false)
		}
		if want {
			test = d.IsTrue(l)
		} else {
			test = d.IsFalse(l)
		}
	case float64:
		op := sqlOp(f.Op)
		if ne {
			op = "="
		}
		test = "COALESCE(" + d.Number(l) + " " + op + " " + b.arg(want) + ", " + d.False() + ")"
	case string:
		if f.Path.Type == storage.TypeDateTime && !substringOp(f.Op) {
			// Instants, not text, are compared; the text forms vary.
			return b.superset()
		}
		if strings.IndexByte(want, 0) >= 0 {
			// PostgreSQL cannot bind text holding NUL; Match decides.
			return b.superset()
		}
		test = "(" + d.IsString(l) + " AND COALESCE(" + b.stringTest(d.Text(l, !f.Path.CaseExact), f, want) + ", " + d.False() + "))"
	default:
		return b.lit(ne)
	}
	if ne {
		return cond{"NOT " + test, true}
	}
	return cond{test, true}
}

// stringTest compares the text expression s with want; "ne" is given as
// its "eq", which the caller negates.
func (b *builder) stringTest(s string, f storage.Compare, want string) string {
	if !f.Path.CaseExact {
		want = strings.ToLower(want)
	}
	n := utf8.RuneCountInString(want)
	switch f.Op {
	case storage.OpCo:
		if n == 0 {
			return b.d.True()
		}
		return strings.Replace(b.d.Contains(s), "?", b.arg(want), 1)
	case storage.OpSw:
		if n == 0 {
			return b.d.True()
		}
		return strings.Replace(b.d.HasPrefix(s, n), "?", b.arg(want), 1)
	case storage.OpEw:
		if n == 0 {
			return b.d.True()
		}
		return strings.Replace(b.d.HasSuffix(s, n), "?", b.arg(want), 1)
	case storage.OpNe, storage.OpEq:
		return s + " = " + b.arg(want)
	}
	return s + b.d.Collate() + " " + sqlOp(f.Op) + " " + b.arg(want)
}

func substringOp(op storage.Operator) bool {
	return op == storage.OpCo || op == storage.OpSw || op == storage.OpEw
}

func sqlOp(op storage.Operator) string {
	switch op {
	case storage.OpEq:
		return "="
	case storage.OpNe:
		return "<>"
	case storage.OpGt:
		return ">"
	case storage.OpGe:
		return ">="
	case storage.OpLt:
		return "<"
	case storage.OpLe:
		return "<="
	}
	return "="
}

// column compares a text column; fold names its lower-cased twin ("" when
// there is none, which makes a case-insensitive comparison inexact), and
// emptyIsAbsent treats "" as no value (externalId).
func (b *builder) column(f storage.Compare, col, fold string, emptyIsAbsent bool) cond {
	absent := b.d.False()
	if emptyIsAbsent {
		absent = "(" + col + " = '')"
	}
	if f.Op == storage.OpPresent {
		return cond{"(" + col + " <> '')", true}
	}
	if f.Value == nil {
		switch f.Op {
		case storage.OpEq:
			return cond{absent, true}
		case storage.OpNe:
			return cond{"NOT " + absent, true}
		}
		return b.lit(false)
	}
	want, ok := f.Value.(string)
	if !ok {
		return b.lit(f.Op == storage.OpNe)
	}
	if strings.IndexByte(want, 0) >= 0 {
		return b.superset() // as in leaf
	}
	s := col
	if !f.Path.CaseExact {
		if fold == "" {
			return b.superset()
		}
		s = fold
	}
	test := "(NOT " + absent + " AND " + b.stringTest(s, f, want) + ")"
	if f.Op == storage.OpNe {
		return cond{"NOT " + test, true}
	}
	return cond{test, true}
}

// meta translates comparisons on meta: created and lastModified are
// columns (compared as instants, RFC 7643 §2.3.5); resourceType is the
// query's kind; the rest does not depend on the row.
func (b *builder) meta(f storage.Compare) cond {
	var col string
	switch f.Path.Sub {
	case "created":
		col = "r.created"
	case "lastModified":
		col = "r.modified"
	default:
		return b.lit(storage.Match(f, &storage.Resource{Kind: b.kind}, nil))
	}
	if f.Op == storage.OpPresent {
		return b.lit(true)
	}
	switch want := f.Value.(type) {
	case nil:
		return b.lit(f.Op == storage.OpNe)
	case string:
		t, err := time.Parse(time.RFC3339Nano, want)
		if err != nil || substringOp(f.Op) {
			return b.superset()
		}
		return b.micros(col, f.Op, t)
	default:
		return b.lit(f.Op == storage.OpNe)
	}
}

// micros compares col, microseconds since the Unix epoch, with the
// instant t, exactly for every year from 0001 to 9999 (an int64 of
// nanoseconds would overflow beyond 1678-2262): t is split into whole
// microseconds m (rounded down) and a remainder, so that col < t is
// col <= m when t has a remainder, col < m when it has none, and so on.
func (b *builder) micros(col string, op storage.Operator, t time.Time) cond {
	m, frac := t.UnixMicro(), t.Nanosecond()%1000 != 0
	if frac {
		switch op {
		case storage.OpEq:
			return b.lit(false)
		case storage.OpNe:
			return b.lit(true)
		case storage.OpLt:
			op = storage.OpLe
		case storage.OpGe:
			op = storage.OpGt
		}
	}
	return cond{"(" + col + " " + sqlOp(op) + " " + b.arg(m) + ")", true}
}

// memberFrom is the FROM item over the current group's member rows: m is
// the membership, the alias itself the member's resource row.
func memberFrom(a string) string {
	return "scimkit_members m" + a + " JOIN scimkit_resources " + a + " ON " + a + ".rid = m" + a + ".member_rid AND m" + a + ".group_rid = r.rid"
}

// members translates a comparison on a group's members (multi-valued).
func (b *builder) members(f storage.Compare) cond {
	a := b.newAlias()
	if f.Op == storage.OpPresent && f.Path.Sub == "" {
		return cond{"EXISTS (SELECT 1 FROM " + memberFrom(a) + ")", true}
	}
	c := b.memberLeaf(f, a)
	exists := cond{"EXISTS (SELECT 1 FROM " + memberFrom(a) + " WHERE " + c.sql + ")", c.exact}
	if !emptyMatches(f) {
		return exists
	}
	a2 := b.newAlias()
	return cond{"(" + exists.sql + " OR NOT EXISTS (SELECT 1 FROM " + memberFrom(a2) + "))", exists.exact}
}

// memberFilter translates the filter of members[...] on member row a.
func (b *builder) memberFilter(f storage.Filter, a string) cond {
	return b.logic(f, func(f storage.Filter) cond {
		if c, ok := f.(storage.Compare); ok {
			return b.memberLeaf(c, a)
		}
		return b.superset()
	})
}

// memberLeaf compares one sub-attribute of member row a: value (the
// member's id), type (its kind) or display ("" when absent).
func (b *builder) memberLeaf(f storage.Compare, a string) cond {
	sub := f.Path.Sub
	if sub == "" && f.Path.Name != "members" {
		sub = f.Path.Name // inside members[...]
	}
	switch sub {
	case "", "value":
		return b.column(f, a+".id", "", false)
	case "type":
		// Kinds are ASCII, so SQL's lower() folds them as Go does.
		return b.column(f, a+".kind", "lower("+a+".kind)", false)
	case "display":
		return b.column(f, "m"+a+".display", "m"+a+".display_fold", true)
	}
	// Any other sub-attribute is absent from every member.
	return b.lit(storage.Match(storage.Compare{Path: storage.AttrPath{Name: "x", Type: f.Path.Type}, Op: f.Op, Value: f.Value}, &storage.Resource{}, map[string]any{}))
}

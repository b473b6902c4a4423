package difftest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// gen generates filters over the whole RFC 7644 §3.4.2.2 grammar for one
// resource type, drawing most values from the population so that results
// are rarely empty.
type gen struct {
	r      *rand.Rand
	rt     *resType
	paths  []genPath
	vpaths []genPath          // complex attributes, for value paths
	seen   map[string][]any   // observed leaf values by path key
	elems  map[string][]elemT // observed elements of complex attributes
	names  []any              // observed userNames (drawn for other attributes too)
}

type elemT = map[string]any

// genPath is a comparable attribute: its definition and the URN that
// qualifies it ("" for common attributes).
type genPath struct {
	r      resolved
	urn    string
	weight int
}

func key(r resolved) string {
	k := r.Ext + "|" + r.Attr.Name
	if r.Sub != nil {
		k += "." + r.Sub.Name
	}
	return k
}

// newGen lists rt's attributes and the values docs hold.
func newGen(r *rand.Rand, rt *resType, docs []map[string]any) *gen {
	g := &gen{r: r, rt: rt, seen: map[string][]any{}, elems: map[string][]elemT{}}
	add := func(res resolved, urn string) {
		if res.leaf().Name == "$ref" || res.leaf().Name == "password" || res.Attr.Name == "meta" && res.Sub != nil && res.Sub.Name != "created" && res.Sub.Name != "lastModified" && res.Sub.Name != "resourceType" {
			// $ref and meta.location hold the test server's random port (a
			// seed would not replay), meta.version is not filterable,
			// password is never returned.
			return
		}
		for _, d := range docs {
			v := rt.value(res, d)
			if res.Attr.Type == "complex" && res.Sub == nil {
				for _, e := range elements(v) {
					g.elems[key(res)] = append(g.elems[key(res)], e)
				}
			}
			sub := ""
			if res.Sub != nil {
				sub = res.Sub.Name
			} else if res.Attr.Type == "complex" {
				sub = "value"
			}
			for _, x := range leaves(res.Attr, v, sub) {
				if x != nil {
					g.seen[key(res)] = append(g.seen[key(res)], x)
				}
			}
		}
		w := 1
		if len(g.seen[key(res)]) > 0 || len(g.elems[key(res)]) > 0 {
			w = 6
		}
		g.paths = append(g.paths, genPath{r: res, urn: urn, weight: w})
		if res.Attr.Type == "complex" && res.Sub == nil && res.Attr.Name != "meta" && len(g.elems[key(res)]) > 0 {
			g.vpaths = append(g.vpaths, genPath{r: res, urn: urn, weight: w})
		}
	}
	schemas := append([]*schemaDef{rt.Core}, rt.Exts...)
	for i, s := range append(schemas, rt.Common) {
		urn := s.ID
		for _, a := range s.Attributes {
			ext := ""
			if i > 0 && s != rt.Common {
				ext = s.ID
			}
			add(resolved{Ext: ext, Attr: a}, urn)
			for _, sa := range a.SubAttrs {
				add(resolved{Ext: ext, Attr: a, Sub: sa}, urn)
			}
		}
	}
	for _, d := range docs {
		if u, ok := d["userName"]; ok {
			g.names = append(g.names, u)
		}
	}
	return g
}

func (g *gen) chance(n, of int) bool { return g.r.IntN(of) < n }

// filter returns a random filter of at most depth levels of and/or/not.
func (g *gen) filter(depth int) node {
	n := g.r.IntN(100)
	if depth <= 0 {
		n = g.r.IntN(100)*45/100 + 55 // a leaf
	}
	switch {
	case n < 18:
		return &logicNode{Op: g.logicOp("and"), Left: g.filter(depth - 1), Right: g.filter(depth - 1)}
	case n < 32:
		return &logicNode{Op: g.logicOp("or"), Left: g.filter(depth - 1), Right: g.filter(depth - 1)}
	case n < 40:
		return &notNode{X: g.filter(depth - 1), Tight: g.chance(1, 8)}
	case n < 44:
		return &parenNode{X: g.filter(depth - 1)}
	case n < 54 && len(g.vpaths) > 0:
		return g.valuePath()
	case n < 58 && len(g.vpaths) > 0:
		return g.entra()
	}
	return g.cmp()
}

// logicOp writes and/or, now and then in upper case (ABNF literals are
// case-insensitive, RFC 5234 §2.3).
func (g *gen) logicOp(op string) string {
	if g.chance(1, 15) {
		return strings.ToUpper(op)
	}
	return op
}

func (g *gen) pickPath(ps []genPath) genPath {
	total := 0
	for _, p := range ps {
		total += p.weight
	}
	n := g.r.IntN(total)
	for _, p := range ps {
		if n -= p.weight; n < 0 {
			return p
		}
	}
	return ps[len(ps)-1]
}

// writeName writes an attribute name, in its canonical case or not
// (attribute names are case-insensitive, RFC 7643 §2.1).
func (g *gen) writeName(name string) string {
	switch g.r.IntN(10) {
	case 0:
		return strings.ToLower(name)
	case 1:
		return strings.ToUpper(name)
	case 2:
		return swapCase(g.r, name)
	}
	return name
}

// writePath writes a genPath: extension attributes always with their URN,
// core attributes sometimes, common attributes never.
func (g *gen) writePath(p genPath) path {
	w := path{Name: g.writeName(p.r.Attr.Name)}
	if p.r.Sub != nil {
		w.Sub = g.writeName(p.r.Sub.Name)
	}
	if p.r.Ext != "" || (p.urn != "" && p.urn != g.rt.Common.ID && g.chance(1, 6)) {
		w.URN = p.urn
	}
	return w
}

func (g *gen) cmp() node {
	p := g.pickPath(g.paths)
	d := cmpType(p.r)
	op, val := g.opValue(d, g.seen[key(p.r)])
	return &cmpNode{Path: g.writePath(p), Op: op, Val: val}
}

// opValue picks an operator fit for the attribute type d (now and then
// one the RFC forbids, which must give invalidFilter) and a value.
func (g *gen) opValue(d *attrDef, seen []any) (string, *lit) {
	var ops []string
	typ := "complex"
	if d != nil {
		typ = d.Type
	}
	switch typ {
	case "string", "reference":
		ops = []string{"eq", "eq", "eq", "eq", "eq", "ne", "ne", "co", "co", "co", "sw", "sw", "sw", "ew", "ew", "gt", "ge", "lt", "le", "pr", "pr"}
	case "binary":
		ops = []string{"eq", "eq", "ne", "pr", "gt", "le"}
	case "boolean":
		ops = []string{"eq", "eq", "eq", "eq", "ne", "ne", "pr", "gt", "ge", "lt", "le"}
	case "integer", "decimal", "dateTime":
		ops = []string{"eq", "eq", "ne", "gt", "gt", "ge", "ge", "lt", "lt", "le", "le", "pr"}
	default: // complex without a value sub-attribute
		ops = []string{"pr"}
	}
	op := pick(g.r, ops)
	written := op
	if g.chance(1, 12) {
		written = strings.ToUpper(op)
	}
	if op == "pr" {
		return written, nil
	}
	if (op == "eq" || op == "ne") && g.chance(1, 30) {
		return written, &lit{Kind: litNull}
	}
	return written, g.value(typ, op, seen)
}

func (g *gen) enc() int {
	switch n := g.r.IntN(20); {
	case n < 12:
		return 0
	case n < 16:
		return 1
	case n < 19:
		return 2
	}
	return 3
}

// value draws a comparison value for an attribute of type typ.
func (g *gen) value(typ, op string, seen []any) *lit {
	switch typ {
	case "boolean":
		b := g.chance(1, 2)
		if len(seen) > 0 && g.chance(1, 2) {
			b, _ = pick(g.r, seen).(bool)
		}
		if g.chance(1, 7) {
			s := strconv.FormatBool(b)
			return &lit{Kind: litString, Str: strings.ToUpper(s[:1]) + s[1:]} // Entra's "True"
		}
		return &lit{Kind: litBool, Bool: b}
	case "integer", "decimal":
		f := float64(g.r.IntN(3000) - 1000)
		if len(seen) > 0 && g.chance(2, 3) {
			f, _ = pick(g.r, seen).(float64)
		}
		s := strconv.FormatFloat(f, 'f', -1, 64)
		switch g.r.IntN(8) {
		case 0:
			if !strings.Contains(s, ".") {
				s += ".0"
			}
		case 1:
			s = strconv.FormatFloat(f, 'e', -1, 64)
		case 2:
			s = strconv.FormatFloat(f+0.5, 'f', -1, 64)
		}
		return &lit{Kind: litNumber, Num: s}
	case "dateTime":
		return &lit{Kind: litString, Str: g.date(seen), Enc: g.enc()}
	}
	return &lit{Kind: litString, Str: g.str(op, seen), Enc: g.enc()}
}

// date is an observed instant written differently, a neighbour of one, or
// a date from the edges of the range.
func (g *gen) date(seen []any) string {
	if len(seen) > 0 && g.chance(3, 4) {
		s, _ := pick(g.r, seen).(string)
		t, err := parseTime(s)
		if err != nil {
			return s
		}
		switch g.r.IntN(5) {
		case 0:
			return s
		case 1:
			t = t.Add(time.Microsecond)
		case 2:
			t = t.Add(-time.Microsecond)
		case 3:
			t = t.Add(time.Duration(g.r.IntN(7200)-3600) * time.Second)
		}
		return formatTime(g.r, t)
	}
	return pick(g.r, []string{
		"0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999Z", "1600-01-01T00:00:00Z",
		"1969-12-31T23:59:59.999999Z", "1970-01-01T00:00:00Z", "2000-02-29T12:00:00.5+01:00", "2038-01-19T03:14:08Z",
		"2262-04-11T23:47:16.854775807Z", "1677-09-21T00:12:43.145224192Z", "2024-06-01T00:00:00-14:00", "0100-01-01T00:00:00Z",
	})
}

// str is an observed string, changed in case or cut to fit co/sw/ew, or a
// userName (to catch answers taken from the wrong attribute), or an odd
// string.
func (g *gen) str(op string, seen []any) string {
	var s string
	switch n := g.r.IntN(20); {
	case n < 13 && len(seen) > 0:
		s, _ = pick(g.r, seen).(string)
	case n < 16 && len(g.names) > 0:
		s, _ = pick(g.r, g.names).(string)
	default:
		s = pick(g.r, append(oddStrings(), `CORP\tom`, `CORP\\tom`, "é", "\u00e9mile", "zoë", `"`, `\`, "x"))
	}
	if g.chance(1, 3) {
		s = swapCase(g.r, s)
	}
	rs := []rune(s)
	if len(rs) > 1 {
		switch op {
		case "co":
			i := g.r.IntN(len(rs))
			j := i + 1 + g.r.IntN(len(rs)-i)
			s = string(rs[i:j])
		case "sw":
			s = string(rs[:1+g.r.IntN(len(rs))])
		case "ew":
			s = string(rs[g.r.IntN(len(rs)):])
		}
	}
	return s
}

func swapCase(r *rand.Rand, s string) string {
	rs := []rune(s)
	for i, c := range rs {
		if r.IntN(2) == 0 {
			if unicode.IsUpper(c) {
				rs[i] = unicode.ToLower(c)
			} else {
				rs[i] = unicode.ToUpper(c)
			}
		}
	}
	return string(rs)
}

// valuePath is "attr[filter]" over a complex attribute.
func (g *gen) valuePath() node {
	p := g.pickPath(g.vpaths)
	w := g.writePath(p)
	return &valuePathNode{Path: w, F: g.inner(p, 2)}
}

// entra is Entra's "attr[filter].sub op value".
func (g *gen) entra() node {
	p := g.pickPath(g.vpaths)
	w := g.writePath(p)
	sub := p.r.Attr.sub("value")
	if sub == nil || g.chance(1, 4) {
		sub = pick(g.r, subAttrs(p.r.Attr))
	}
	op, val := g.opValue(sub, g.subSeen(p, sub))
	if val == nil { // pr has no place in this form
		op, val = "eq", g.value(sub.Type, "eq", g.subSeen(p, sub))
	}
	return &entraNode{Path: w, F: g.inner(p, 1), Sub: g.writeName(sub.Name), Op: op, Val: val}
}

func (g *gen) subSeen(p genPath, sub *attrDef) []any {
	var out []any
	for _, e := range g.elems[key(p.r)] {
		if v := lookup(e, sub.Name); v != nil {
			out = append(out, v)
		}
	}
	return out
}

// inner is a value path's filter over p's sub-attributes, with and, or,
// not and parentheses.
func (g *gen) inner(p genPath, depth int) node {
	n := g.r.IntN(100)
	if depth <= 0 {
		n = 60
	}
	switch {
	case n < 20:
		return &logicNode{Op: g.logicOp("and"), Left: g.inner(p, depth-1), Right: g.inner(p, depth-1)}
	case n < 34:
		return &logicNode{Op: g.logicOp("or"), Left: g.inner(p, depth-1), Right: g.inner(p, depth-1)}
	case n < 42:
		return &notNode{X: g.inner(p, depth-1), Tight: g.chance(1, 8)}
	case n < 47:
		return &parenNode{X: g.inner(p, depth-1)}
	}
	sub := pick(g.r, subAttrs(p.r.Attr))
	op, val := g.opValue(sub, g.subSeen(p, sub))
	return &cmpNode{Path: path{Name: g.writeName(sub.Name)}, Op: op, Val: val}
}

// String describes a genPath in errors.
func (p genPath) String() string { return fmt.Sprint(key(p.r)) }

// subAttrs lists a's sub-attributes but $ref (which holds the test
// server's random port, so a seed would not replay the same filters).
func subAttrs(a *attrDef) []*attrDef {
	var subs []*attrDef
	for _, s := range a.SubAttrs {
		if s.Name != "$ref" {
			subs = append(subs, s)
		}
	}
	return subs
}

package difftest

import (
	"strings"
)

// shrink returns a smallest filter it can find that still fails: it tries
// simpler variants (a subtree in place of its parent, one side of an
// and/or, a value path flattened, a shorter or plainly escaped value, the
// canonical spelling of a name) and keeps the first that fails, until none
// does. fails runs the filter against the server and the reference.
func shrink(rt *resType, f node, fails func(node) bool) node {
	for range 500 {
		better := false
		for _, c := range candidates(rt, f) {
			if fails(c) {
				f, better = c, true
				break
			}
		}
		if !better {
			break
		}
	}
	return f
}

// candidates lists the one-step simplifications of n.
func candidates(rt *resType, n node) []node {
	var out []node
	switch n := n.(type) {
	case *logicNode:
		out = append(out, n.Left, n.Right)
		for _, c := range candidates(rt, n.Left) {
			out = append(out, &logicNode{Op: n.Op, Left: c, Right: n.Right})
		}
		for _, c := range candidates(rt, n.Right) {
			out = append(out, &logicNode{Op: n.Op, Left: n.Left, Right: c})
		}
		if lo := strings.ToLower(n.Op); lo != n.Op {
			out = append(out, &logicNode{Op: lo, Left: n.Left, Right: n.Right})
		}
	case *notNode:
		out = append(out, n.X)
		for _, c := range candidates(rt, n.X) {
			out = append(out, &notNode{X: c, Tight: n.Tight})
		}
		if n.Tight {
			out = append(out, &notNode{X: n.X})
		}
	case *parenNode:
		out = append(out, n.X)
		for _, c := range candidates(rt, n.X) {
			out = append(out, &parenNode{X: c})
		}
	case *valuePathNode:
		out = append(out, flatten(n.Path, n.F)...)
		for _, c := range innerCandidates(n.F) {
			out = append(out, &valuePathNode{Path: n.Path, F: c})
		}
		if p := canonical(rt, n.Path); p != n.Path {
			out = append(out, &valuePathNode{Path: p, F: n.F})
		}
	case *entraNode:
		last := &cmpNode{Path: path{Name: n.Sub}, Op: n.Op, Val: n.Val}
		out = append(out,
			&valuePathNode{Path: n.Path, F: last},
			&valuePathNode{Path: n.Path, F: &logicNode{Op: "and", Left: n.F, Right: last}},
			&cmpNode{Path: path{URN: n.Path.URN, Name: n.Path.Name, Sub: n.Sub}, Op: n.Op, Val: n.Val})
		for _, c := range innerCandidates(n.F) {
			out = append(out, &entraNode{Path: n.Path, F: c, Sub: n.Sub, Op: n.Op, Val: n.Val})
		}
		for _, v := range simplerValues(n.Val) {
			out = append(out, &entraNode{Path: n.Path, F: n.F, Sub: n.Sub, Op: n.Op, Val: v})
		}
	case *cmpNode:
		if p := canonical(rt, n.Path); p != n.Path {
			out = append(out, &cmpNode{Path: p, Op: n.Op, Val: n.Val})
		}
		if lo := strings.ToLower(n.Op); lo != n.Op {
			out = append(out, &cmpNode{Path: n.Path, Op: lo, Val: n.Val})
		}
		for _, v := range simplerValues(n.Val) {
			out = append(out, &cmpNode{Path: n.Path, Op: n.Op, Val: v})
		}
	}
	return out
}

// innerCandidates simplifies a value path's filter (whose paths are
// sub-attribute names, left as they are).
func innerCandidates(n node) []node {
	var out []node
	switch n := n.(type) {
	case *logicNode:
		out = append(out, n.Left, n.Right)
		for _, c := range innerCandidates(n.Left) {
			out = append(out, &logicNode{Op: n.Op, Left: c, Right: n.Right})
		}
		for _, c := range innerCandidates(n.Right) {
			out = append(out, &logicNode{Op: n.Op, Left: n.Left, Right: c})
		}
	case *notNode:
		out = append(out, n.X)
		for _, c := range innerCandidates(n.X) {
			out = append(out, &notNode{X: c, Tight: n.Tight})
		}
	case *parenNode:
		out = append(out, n.X)
		for _, c := range innerCandidates(n.X) {
			out = append(out, &parenNode{X: c})
		}
	case *cmpNode:
		if lo := strings.ToLower(n.Path.Name); lo != n.Path.Name {
			out = append(out, &cmpNode{Path: path{Name: lo}, Op: n.Op, Val: n.Val})
		}
		for _, v := range simplerValues(n.Val) {
			out = append(out, &cmpNode{Path: n.Path, Op: n.Op, Val: v})
		}
	}
	return out
}

// flatten turns the comparisons of a value path into top-level ones:
// attr[sub op v] becomes attr.sub op v.
func flatten(p path, n node) []node {
	var out []node
	switch n := n.(type) {
	case *cmpNode:
		out = append(out, &cmpNode{Path: path{URN: p.URN, Name: p.Name, Sub: n.Path.Name}, Op: n.Op, Val: n.Val})
	case *logicNode:
		out = append(out, flatten(p, n.Left)...)
		out = append(out, flatten(p, n.Right)...)
	case *notNode:
		out = append(out, flatten(p, n.X)...)
	case *parenNode:
		out = append(out, flatten(p, n.X)...)
	}
	return out
}

// canonical writes p as the schema names it, without the core URN.
func canonical(rt *resType, p path) path {
	r, err := rt.resolve(p)
	if err != nil {
		return p
	}
	c := path{URN: r.Ext, Name: r.Attr.Name}
	if r.Sub != nil {
		c.Sub = r.Sub.Name
	}
	return c
}

// simplerValues lists simpler spellings and shorter versions of a value.
func simplerValues(v *lit) []*lit {
	if v == nil || v.Kind != litString {
		return nil
	}
	var out []*lit
	if v.Enc != 0 {
		out = append(out, &lit{Kind: litString, Str: v.Str})
	}
	rs := []rune(v.Str)
	if _, err := parseTime(v.Str); err == nil || len(rs) == 0 {
		return out
	}
	with := func(s string) { out = append(out, &lit{Kind: litString, Str: s, Enc: v.Enc}) }
	if len(rs) > 2 {
		with(string(rs[:len(rs)/2]))
		with(string(rs[len(rs)/2:]))
	}
	with(string(rs[1:]))
	with(string(rs[:len(rs)-1]))
	return out
}

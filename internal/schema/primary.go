package schema

import (
	"reflect"
	"sort"

	"github.com/scimkit/scimkit/storage"
)

// RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more
// than once" in a multi-valued attribute, and RFC 7644 §3.5.2: a value
// newly set primary makes the server set the others' primary to false.
// Every write keeps that rule here: Normalize (POST, PUT) once per body and
// ApplyPatch after each operation, so the operation that made an element
// primary wins over the elements that were primary before it. The work is
// one pass over the attribute's values.

// hasPrimary reports whether a is a multi-valued complex attribute with a
// boolean "primary" sub-attribute.
func hasPrimary(a *Attr) bool {
	if !a.MultiValued || !a.IsComplex() {
		return false
	}
	p := a.SubAttr("primary")
	return p != nil && p.Type == storage.TypeBoolean
}

// primarySet holds the elements that were primary before an operation, by
// identity (the maps themselves are kept so their addresses stay theirs).
type primarySet map[uintptr]map[string]any

// primaries returns the elements of list whose primary is true.
func primaries(list []any) primarySet {
	var p primarySet
	for _, el := range list {
		if m, ok := el.(map[string]any); ok && m["primary"] == true {
			if p == nil {
				p = primarySet{}
			}
			p[reflect.ValueOf(m).Pointer()] = m
		}
	}
	return p
}

// keepOnePrimary leaves at most one element of list primary: the first
// one that was not primary before (the request made it primary), or, when
// the request made none primary, the first one. The others get primary
// false. It returns how many elements the request itself made primary
// beyond the one kept.
func keepOnePrimary(list []any, before primarySet) (extra int) {
	var winner map[string]any
	winnerNew, n := false, 0
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok || m["primary"] != true {
			continue
		}
		n++
		_, old := before[reflect.ValueOf(m).Pointer()]
		if !old && winnerNew {
			extra++
		}
		if winner == nil || !old && !winnerNew {
			winner, winnerNew = m, !old
		}
	}
	if n <= 1 {
		return 0
	}
	for _, el := range list {
		if m, ok := el.(map[string]any); ok && m["primary"] == true && reflect.ValueOf(m).Pointer() != reflect.ValueOf(winner).Pointer() {
			m["primary"] = false
		}
	}
	return extra
}

// primaryAttr is a multi-valued attribute with a primary sub-attribute:
// ext is nil for a core attribute.
type primaryAttr struct {
	ext  *Schema
	attr *Attr
}

func primaryAttrs(core *Schema, exts []*Schema) []primaryAttr {
	var out []primaryAttr
	for _, s := range append([]*Schema{core}, exts...) {
		var ext *Schema
		if s != core {
			ext = s
		}
		for _, k := range sortedAttrNames(s.Attrs) {
			if a := s.Attrs[k]; hasPrimary(a) {
				out = append(out, primaryAttr{ext: ext, attr: a})
			}
		}
	}
	return out
}

func sortedAttrNames(m map[string]*Attr) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// keepOnePrimaryAll applies the primary rule to every such attribute of a
// whole document (POST, PUT): the first primary element of each wins.
func (rt *ResourceType) keepOnePrimaryAll(doc map[string]any, rep *Report) {
	for _, pa := range rt.primaryAttrs {
		container := doc
		if pa.ext != nil {
			container, _ = doc[pa.ext.URN].(map[string]any)
		}
		list, _ := container[pa.attr.Name].([]any)
		if len(list) < 2 {
			continue
		}
		if keepOnePrimary(list, nil) > 0 {
			name := pa.attr.Name
			if pa.ext != nil {
				name = pa.ext.URN + ":" + name
			}
			rep.note(NotePrimary, name)
		}
	}
}

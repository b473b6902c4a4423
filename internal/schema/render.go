package schema

import (
	"github.com/scimkit/scimkit/storage"
	"strings"
)

// Projection is a parsed attributes / excludedAttributes pair (RFC 7644
// §3.4.2.5, §3.9).
type Projection struct {
	include bool
	paths   []projPath
	// Members tells whether a Group's members must be loaded.
	Members bool
}

type projPath struct {
	urn  string // extension URN or ""
	name string // canonical attribute name ("" = the whole extension)
	sub  string
}

// ParseProjection parses the two query parameters. Unknown attribute names
// are ignored (RFC 7644 leaves them undefined; IdPs send a fixed list).
func (rt *ResourceType) ParseProjection(attributes, excluded string) *Projection {
	list, include := attributes, true
	if strings.TrimSpace(attributes) == "" {
		list, include = excluded, false
	}
	p := &Projection{include: include, Members: rt.Kind == storage.KindGroup}
	if strings.TrimSpace(list) == "" {
		return p
	}
	wantMembers := false
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		ext, rest, ok := rt.SplitURN(raw)
		if !ok {
			continue
		}
		if ext != nil && rest == "" {
			p.paths = append(p.paths, projPath{urn: ext.URN})
			continue
		}
		key := rest
		if ext != nil {
			key = ext.URN + ":" + rest
		}
		_, attr, sub, ok := rt.Resolve(key)
		if !ok {
			continue
		}
		pp := projPath{name: attr.Name}
		if ext != nil {
			pp.urn = ext.URN
		}
		if sub != nil {
			pp.sub = sub.Name
		}
		if ext == nil && attr.Name == "members" {
			wantMembers = true
		}
		p.paths = append(p.paths, pp)
	}
	if rt.Kind == storage.KindGroup {
		p.Members = wantMembers == include
	}
	return p
}

// Trivial reports whether the projection leaves the default response as
// it is (apart from members, which the caller leaves out when !Members).
func (p *Projection) Trivial() bool {
	if p.include {
		return len(p.paths) == 0
	}
	for _, pp := range p.paths {
		if pp.urn != "" || pp.name != "members" {
			return false
		}
	}
	return true
}

// Apply projects a full resource document in place. id and schemas are
// returned always (RFC 7643 §7 "returned").
func (p *Projection) Apply(doc map[string]any) {
	if p.Trivial() {
		return
	}
	if !p.include {
		for _, pp := range p.paths {
			container := doc
			if pp.urn != "" {
				if pp.name == "" {
					delete(doc, pp.urn)
					continue
				}
				container, _ = doc[pp.urn].(map[string]any)
			}
			if container == nil || pp.name == "id" || pp.name == "schemas" && pp.urn == "" {
				continue
			}
			if pp.sub == "" {
				delete(container, pp.name)
				continue
			}
			removeSub(container, pp.name, pp.sub)
		}
		return
	}
	keep := map[string]any{}
	for _, k := range []string{"id", "schemas"} {
		if v, ok := doc[k]; ok {
			keep[k] = v
		}
	}
	for _, pp := range p.paths {
		src, dst := doc, keep
		if pp.urn != "" {
			if pp.name == "" {
				if v, ok := doc[pp.urn]; ok {
					keep[pp.urn] = v
				}
				continue
			}
			src, _ = doc[pp.urn].(map[string]any)
			if src == nil {
				continue
			}
			d, _ := keep[pp.urn].(map[string]any)
			if d == nil {
				d = map[string]any{}
				keep[pp.urn] = d
			}
			dst = d
		}
		v, ok := src[pp.name]
		if !ok {
			continue
		}
		if pp.sub == "" {
			dst[pp.name] = v
			continue
		}
		if sv := pickSub(v, pp.sub); sv != nil {
			mergeInto(dst, pp.name, sv)
		}
	}
	for k := range doc {
		delete(doc, k)
	}
	for k, v := range keep {
		doc[k] = v
	}
}

func removeSub(container map[string]any, name, sub string) {
	switch v := container[name].(type) {
	case map[string]any:
		delete(v, sub)
	case []any:
		for _, el := range v {
			if m, ok := el.(map[string]any); ok {
				delete(m, sub)
			}
		}
	}
}

func pickSub(v any, sub string) any {
	switch v := v.(type) {
	case map[string]any:
		if x, ok := v[sub]; ok {
			return map[string]any{sub: x}
		}
	case []any:
		var out []any
		for _, el := range v {
			if m, ok := el.(map[string]any); ok {
				if x, ok := m[sub]; ok {
					out = append(out, map[string]any{sub: x})
				}
			}
		}
		if out != nil {
			return out
		}
	}
	return nil
}

func mergeInto(dst map[string]any, name string, v any) {
	old, ok := dst[name]
	if !ok {
		dst[name] = v
		return
	}
	switch o := old.(type) {
	case map[string]any:
		for k, x := range v.(map[string]any) {
			o[k] = x
		}
	case []any:
		nv := v.([]any)
		for i := range o {
			if i < len(nv) {
				for k, x := range nv[i].(map[string]any) {
					o[i].(map[string]any)[k] = x
				}
			}
		}
	}
}

// Package schema compiles SCIM schemas (RFC 7643 §7), described with
// elimity-com/scim's schema model, into lookup tables that the server uses
// on every request: attribute resolution by case-insensitive name,
// normalisation of resource bodies, PATCH path and filter resolution.
package schema

import (
	"strings"
	"unicode/utf8"

	escim "github.com/elimity-com/scim/schema"

	"github.com/scimkit/scimkit/storage"
)

// URNs of the schemas and messages scimkit serves (RFC 7643 §8.7, RFC 7644 §3).
const (
	UserURN           = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupURN          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ListResponseURN   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchOpURN        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	ErrorURN          = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// Attr is one compiled attribute definition.
type Attr struct {
	Name        string // canonical name
	Type        storage.AttrType
	MultiValued bool
	CaseExact   bool
	Required    bool
	Mutability  string // readWrite, readOnly, immutable, writeOnly
	Returned    string // always, never, default, request
	Sub         map[string]*Attr
}

// IsComplex reports whether a has sub-attributes.
func (a *Attr) IsComplex() bool { return a.Type == storage.TypeComplex }

// SubAttr returns the sub-attribute named (case-insensitively) name.
func (a *Attr) SubAttr(name string) *Attr { return lookupFold(a.Sub, name) }

// lookupFold returns m[strings.ToLower(name)] without allocating for the
// short ASCII names attributes have (every filter resolves a few).
func lookupFold(m map[string]*Attr, name string) *Attr {
	var buf [64]byte
	if len(name) > len(buf) {
		return m[strings.ToLower(name)]
	}
	b := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= utf8.RuneSelf:
			return m[strings.ToLower(name)]
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return m[string(b)]
}

// Schema is one compiled schema.
type Schema struct {
	URN     string
	Source  escim.Schema
	Attrs   map[string]*Attr // by lower-case name
	urnFold string           // strings.ToLower(URN)
}

// Attr returns the attribute named (case-insensitively) name, or nil.
func (s *Schema) Attr(name string) *Attr { return lookupFold(s.Attrs, name) }

// Document is the schema's representation for /Schemas (RFC 7643 §7):
// the source definition with every caseExact taken from the compiled
// attributes, so that what /Schemas publishes is the rule every filter
// comparison applies.
func (s *Schema) Document() map[string]any {
	m := s.Source.ToMap()
	if attrs, ok := m["attributes"].([]map[string]any); ok {
		publishCaseExact(attrs, s.Attrs)
	}
	return m
}

func publishCaseExact(raw []map[string]any, compiled map[string]*Attr) {
	for _, r := range raw {
		name, _ := r["name"].(string)
		a := lookupFold(compiled, name)
		if a == nil {
			continue
		}
		if _, ok := r["caseExact"]; ok {
			r["caseExact"] = a.CaseExact
		}
		if subs, ok := r["subAttributes"].([]map[string]any); ok {
			publishCaseExact(subs, a.Sub)
		}
	}
}

// Compile compiles an elimity schema definition.
func Compile(s escim.Schema) *Schema {
	c := &Schema{URN: s.ID, Source: s, Attrs: make(map[string]*Attr, len(s.Attributes)), urnFold: strings.ToLower(s.ID)}
	for _, a := range s.Attributes {
		ca := compileAttr(a)
		c.Attrs[strings.ToLower(ca.Name)] = ca
	}
	return c
}

func compileAttr(a escim.CoreAttribute) *Attr {
	ca := &Attr{
		Name:        a.Name(),
		Type:        storage.AttrType(a.AttributeType()),
		MultiValued: a.MultiValued(),
		CaseExact:   a.CaseExact(),
		Required:    a.Required(),
		Mutability:  a.Mutability(),
		Returned:    a.Returned(),
	}
	if a.HasSubAttributes() {
		ca.Sub = make(map[string]*Attr)
		for _, s := range a.SubAttributes() {
			cs := compileAttr(s)
			ca.Sub[strings.ToLower(cs.Name)] = cs
		}
	}
	return ca
}

// ResourceType is a compiled resource type (RFC 7643 §6): its core schema
// and the extensions it allows.
type ResourceType struct {
	Kind       storage.Kind
	Endpoint   string // "/Users"
	Core       *Schema
	Extensions []*Schema
	extByURN   map[string]*Schema // lower-case URN
	extKeys    [][]byte           // `"<URN>":` of each extension, as it appears in stored data
	// NameAttr is the unique attribute: userName or displayName.
	NameAttr string
	// primaryAttrs are the multi-valued attributes with a primary
	// sub-attribute (RFC 7643 §2.4).
	primaryAttrs []primaryAttr
}

// NewResourceType compiles a resource type.
func NewResourceType(kind storage.Kind, endpoint string, core escim.Schema, exts ...escim.Schema) *ResourceType {
	rt := &ResourceType{Kind: kind, Endpoint: endpoint, Core: Compile(core), extByURN: map[string]*Schema{}}
	for _, e := range exts {
		ce := Compile(e)
		rt.Extensions = append(rt.Extensions, ce)
		rt.extByURN[strings.ToLower(ce.URN)] = ce
		rt.extKeys = append(rt.extKeys, []byte(`"`+ce.URN+`":`))
	}
	rt.primaryAttrs = primaryAttrs(rt.Core, rt.Extensions)
	rt.NameAttr = "userName"
	if kind == storage.KindGroup {
		rt.NameAttr = "displayName"
	}
	// members.value holds ids, which are case-exact (RFC 7643 §3.1), and
	// a member is resolved by its exact id, so `members[value eq "id"]`
	// is an exact index lookup. RFC 7643 §8.7.1 prints caseExact false
	// here; /Schemas publishes true (see Document), the rule filters use.
	if m := rt.Core.Attr("members"); m != nil {
		if v := m.SubAttr("value"); v != nil {
			v.CaseExact = true
		}
	}
	return rt
}

// Extension returns the extension with the given URN (case-insensitive).
func (rt *ResourceType) Extension(urn string) *Schema { return rt.extByURN[strings.ToLower(urn)] }

// SplitURN splits a key such as "urn:...:enterprise:2.0:User:manager.value"
// into the extension it names and the rest ("manager.value"). It also
// accepts the core URN prefix. ext is nil for a core attribute; ok is false
// when the key starts with "urn:" but names no known schema.
func (rt *ResourceType) SplitURN(key string) (ext *Schema, rest string, ok bool) {
	if len(key) < 4 || !strings.EqualFold(key[:4], "urn:") {
		return nil, key, true
	}
	lk := strings.ToLower(key)
	if core := strings.ToLower(rt.Core.URN); strings.HasPrefix(lk, core+":") {
		return nil, key[len(core)+1:], true
	}
	// The longest matching extension URN wins.
	for _, e := range rt.Extensions {
		u := strings.ToLower(e.URN)
		if lk == u {
			return e, "", true
		}
		if strings.HasPrefix(lk, u+":") && (ext == nil || len(u) > len(ext.URN)) {
			ext, rest = e, key[len(u)+1:]
		}
	}
	if ext != nil {
		return ext, rest, true
	}
	return nil, key, false
}

// Common attributes (RFC 7643 §3.1) resolved outside the schemas.
var (
	idAttr         = &Attr{Name: "id", Type: storage.TypeString, CaseExact: true, Mutability: "readOnly", Returned: "always"}
	externalIDAttr = &Attr{Name: "externalId", Type: storage.TypeString, CaseExact: true, Mutability: "readWrite", Returned: "default"}
	metaAttr       = &Attr{Name: "meta", Type: storage.TypeComplex, Mutability: "readOnly", Returned: "default", Sub: map[string]*Attr{
		"resourcetype": {Name: "resourceType", Type: storage.TypeString, CaseExact: true, Mutability: "readOnly"},
		"created":      {Name: "created", Type: storage.TypeDateTime, Mutability: "readOnly"},
		"lastmodified": {Name: "lastModified", Type: storage.TypeDateTime, Mutability: "readOnly"},
		"location":     {Name: "location", Type: storage.TypeReference, CaseExact: true, Mutability: "readOnly"},
		"version":      {Name: "version", Type: storage.TypeString, CaseExact: true, Mutability: "readOnly"},
	}}
	schemasAttr = &Attr{Name: "schemas", Type: storage.TypeReference, MultiValued: true, CaseExact: true, Mutability: "readOnly", Returned: "always"}
)

// Resolve finds the attribute named by a path key without a filter, e.g.
// "userName", "name.givenName", "urn:...:enterprise:2.0:User:manager",
// "emails.value" or "meta.lastModified". ext is the extension (nil for
// core/common); sub is nil when the path names the top-level attribute.
func (rt *ResourceType) Resolve(key string) (ext *Schema, attr, sub *Attr, ok bool) {
	ext, rest, ok := rt.SplitURN(key)
	if !ok || rest == "" {
		return nil, nil, nil, false
	}
	name, subName, dotted := strings.Cut(rest, ".")
	if ext != nil {
		attr = ext.Attr(name)
	} else {
		switch {
		case strings.EqualFold(name, "id"):
			attr = idAttr
		case strings.EqualFold(name, "externalId"):
			attr = externalIDAttr
		case strings.EqualFold(name, "meta"):
			attr = metaAttr
		case strings.EqualFold(name, "schemas"):
			attr = schemasAttr
		default:
			attr = rt.Core.Attr(name)
		}
	}
	if attr == nil {
		return nil, nil, nil, false
	}
	if dotted {
		if !attr.IsComplex() {
			return nil, nil, nil, false
		}
		if sub = attr.SubAttr(subName); sub == nil {
			return nil, nil, nil, false
		}
	}
	return ext, attr, sub, true
}

// Path builds the storage path of a resolved attribute.
func Path(ext *Schema, attr, sub *Attr) storage.AttrPath {
	p := storage.AttrPath{Name: attr.Name, Type: attr.Type, CaseExact: attr.CaseExact, MultiValued: attr.MultiValued}
	if ext != nil {
		p.Schema = ext.URN
	}
	if sub != nil {
		p.Sub, p.Type, p.CaseExact = sub.Name, sub.Type, sub.CaseExact
	} else if attr.IsComplex() {
		// A complex attribute without a sub-attribute compares through
		// "value" (RFC 7644 §3.4.2.2).
		if v := attr.SubAttr("value"); v != nil {
			p.Type, p.CaseExact = v.Type, v.CaseExact
		}
	}
	return p
}

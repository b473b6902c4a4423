package scimkit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/scimkit/scimkit/internal/schema"
	"github.com/scimkit/scimkit/storage"
)

// EnterpriseUserURN is the schema URN of the enterprise User extension
// (RFC 7643 §4.3), which every [Server] registers.
const EnterpriseUserURN = schema.EnterpriseUserURN

// User is a typed, read-only view of a provisioned SCIM User (RFC 7643
// §4.1 and the enterprise extension, §4.3), for a host that wants its own
// product's user rather than a SCIM document. Build one with
// [UserFromResource] from what a store returns, or with [Server.User] from
// the id a provisioning event carries. Absent attributes are zero values.
type User struct {
	ID         string
	ExternalID string
	UserName   string
	Name       Name
	// DisplayName, NickName, ProfileURL, Title, UserType,
	// PreferredLanguage, Locale and Timezone are RFC 7643 §4.1.1's
	// singular strings.
	DisplayName, NickName, ProfileURL, Title, UserType string
	PreferredLanguage, Locale, Timezone                string
	// Active is the user's administrative status; true when absent, as
	// the server treats it.
	Active bool
	// Emails, PhoneNumbers, IMs, Photos, Roles, Entitlements and
	// X509Certificates are RFC 7643 §4.1.2's multi-valued attributes.
	Emails, PhoneNumbers, IMs, Photos, Roles, Entitlements, X509Certificates []MultiValue
	Addresses                                                                []Address
	// Groups are the groups the user is a direct member of (the readOnly
	// "groups" attribute, RFC 7643 §4.1.2). [Server.User] fills it from
	// the member index; stored documents never hold it, so
	// [UserFromResource] leaves it empty; [UserFromJSON] reads what the
	// body holds.
	Groups []GroupRef
	// Enterprise holds the enterprise extension (RFC 7643 §4.3).
	Enterprise EnterpriseUser
	// Created, Modified and Version are the resource's meta data.
	Created, Modified time.Time
	Version           int64

	doc map[string]any
}

// Name is a user's name (RFC 7643 §4.1.1 "name").
type Name struct {
	Formatted, FamilyName, GivenName, MiddleName, HonorificPrefix, HonorificSuffix string
}

// MultiValue is one value of a multi-valued attribute (RFC 7643 §2.4):
// emails, phoneNumbers, roles, entitlements, ...
type MultiValue struct {
	Value, Display, Type string
	Primary              bool
}

// Address is one of a user's addresses (RFC 7643 §4.1.2 "addresses").
type Address struct {
	Formatted, StreetAddress, Locality, Region, PostalCode, Country, Type string
	Primary                                                               bool
}

// GroupRef names a group the user belongs to.
type GroupRef struct {
	Value   string // the group's id
	Display string // its displayName
}

// EnterpriseUser is the enterprise User extension (RFC 7643 §4.3).
type EnterpriseUser struct {
	EmployeeNumber, CostCenter, Organization, Division, Department string
	// ManagerID is manager.value: the id of the user's manager.
	ManagerID string
}

// Group is a typed, read-only view of a provisioned SCIM Group (RFC 7643
// §4.2). Build one with [GroupFromResource] or [Server.Group].
type Group struct {
	ID, ExternalID, DisplayName string
	// Members is filled by [Server.Group]; [GroupFromResource] cannot
	// see members (stores keep them apart from the document).
	Members           []storage.Member
	Created, Modified time.Time
	Version           int64
}

// UserFromResource reads a stored User document. It fails when r is not a
// User or its Data is not a JSON object.
func UserFromResource(r *storage.Resource) (*User, error) {
	if r == nil || r.Kind != storage.KindUser {
		return nil, fmt.Errorf("scim: resource is not a User")
	}
	var doc map[string]any
	if err := json.Unmarshal(r.Data, &doc); err != nil {
		return nil, fmt.Errorf("scim: user %q: %w", r.ID, err)
	}
	return userFromDoc(r.ID, doc, r.Created, r.Modified, r.Version), nil
}

// UserFromJSON reads a User from a SCIM request or response body (RFC
// 7643 §4.1), as an IdP sends it: extension attributes nested under their
// URN or as flat full-URN keys. Values are read as they are, without the
// server's normalisation; use it for tests, examples and imports.
func UserFromJSON(body []byte) (*User, error) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("scim: user: %w", err)
	}
	nested := map[string]map[string]any{}
	for k, v := range doc {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "urn:") {
			continue
		}
		if m, ok := v.(map[string]any); ok && isSchemaURN(k) {
			if nested[lk] == nil {
				nested[lk] = map[string]any{}
			}
			for a, x := range m {
				nested[lk][a] = x
			}
			delete(doc, k)
			continue
		}
		if i := strings.LastIndexByte(k, ':'); i > 0 {
			u := strings.ToLower(k[:i])
			if nested[u] == nil {
				nested[u] = map[string]any{}
			}
			nested[u][k[i+1:]] = v
			delete(doc, k)
		}
	}
	for u, m := range nested {
		doc[u] = m
	}
	id, _ := doc["id"].(string)
	return userFromDoc(id, doc, time.Time{}, time.Time{}, 0), nil
}

// isSchemaURN tells a schema URN ("urn:...:enterprise:2.0:User") from a
// flat attribute key ("urn:...:enterprise:2.0:User:manager"): in a schema
// URN the segment before the last is a version.
func isSchemaURN(k string) bool {
	segs := strings.Split(k, ":")
	if len(segs) < 3 {
		return false
	}
	v := segs[len(segs)-2]
	return v != "" && strings.Trim(v, "0123456789.") == ""
}

func userFromDoc(id string, doc map[string]any, created, modified time.Time, version int64) *User {
	d := obj(doc)
	u := &User{
		ID: id, ExternalID: d.str("externalId"), UserName: d.str("userName"),
		DisplayName: d.str("displayName"), NickName: d.str("nickName"), ProfileURL: d.str("profileUrl"),
		Title: d.str("title"), UserType: d.str("userType"), PreferredLanguage: d.str("preferredLanguage"),
		Locale: d.str("locale"), Timezone: d.str("timezone"),
		Active:           true,
		Emails:           d.multi("emails"),
		PhoneNumbers:     d.multi("phoneNumbers"),
		IMs:              d.multi("ims"),
		Photos:           d.multi("photos"),
		Roles:            d.multi("roles"),
		Entitlements:     d.multi("entitlements"),
		X509Certificates: d.multi("x509Certificates"),
		Created:          created, Modified: modified, Version: version,
		doc: doc,
	}
	if b, ok := d.boolean("active"); ok {
		u.Active = b
	}
	n := d.sub("name")
	u.Name = Name{Formatted: n.str("formatted"), FamilyName: n.str("familyName"), GivenName: n.str("givenName"),
		MiddleName: n.str("middleName"), HonorificPrefix: n.str("honorificPrefix"), HonorificSuffix: n.str("honorificSuffix")}
	for _, x := range d.list("addresses") {
		a := obj(asMap(x))
		p, _ := a.boolean("primary")
		u.Addresses = append(u.Addresses, Address{Formatted: a.str("formatted"), StreetAddress: a.str("streetAddress"),
			Locality: a.str("locality"), Region: a.str("region"), PostalCode: a.str("postalCode"), Country: a.str("country"),
			Type: a.str("type"), Primary: p})
	}
	for _, x := range d.list("groups") {
		g := obj(asMap(x))
		u.Groups = append(u.Groups, GroupRef{Value: g.str("value"), Display: g.str("display")})
	}
	e := d.sub(schema.EnterpriseUserURN)
	u.Enterprise = EnterpriseUser{EmployeeNumber: e.str("employeeNumber"), CostCenter: e.str("costCenter"),
		Organization: e.str("organization"), Division: e.str("division"), Department: e.str("department")}
	switch m := e.get("manager").(type) {
	case string:
		u.Enterprise.ManagerID = m
	case map[string]any:
		u.Enterprise.ManagerID = obj(m).str("value")
	}
	return u
}

// PrimaryEmail returns the primary e-mail address, else the first one,
// else "".
func (u *User) PrimaryEmail() string { return primary(u.Emails) }

// Email returns the value of the first e-mail of the given type ("work",
// "home"; case-insensitive), as the path `emails[type eq "work"].value`
// selects it, or "".
func (u *User) Email(typ string) string {
	for _, e := range u.Emails {
		if strings.EqualFold(e.Type, typ) {
			return e.Value
		}
	}
	return ""
}

func primary(vs []MultiValue) string {
	for _, v := range vs {
		if v.Primary {
			return v.Value
		}
	}
	if len(vs) > 0 {
		return vs[0].Value
	}
	return ""
}

// Extension returns typed access to the attributes of the extension with
// the given URN (case-insensitive); an extension the user has no data for
// reads as empty.
func (u *User) Extension(urn string) ExtensionValues {
	return ExtensionValues{m: obj(u.doc).sub(urn)}
}

// Value returns the raw JSON value (string, float64, bool, []any,
// map[string]any) at a SCIM attribute path as IdPs name them: "userName",
// "name.givenName", `emails[type eq "work"].value`, "emails.value" (the
// primary or first), "urn:...:enterprise:2.0:User:manager" (its value) or
// "urn:...:Acme:2.0:User:seats". It returns nil when absent or when the
// path has a form it does not know.
func (u *User) Value(path string) any {
	v, _ := lookupPath(u.doc, path)
	return v
}

// ExtensionValues reads one extension's attributes with the type the host
// expects. Names are case-insensitive. Each getter reports false when the
// attribute is absent or of another type.
type ExtensionValues struct{ m obj }

// Has reports whether the attribute has a value.
func (x ExtensionValues) Has(name string) bool { return x.m.get(name) != nil }

// String returns a string attribute, or "".
func (x ExtensionValues) String(name string) string { return x.m.str(name) }

// Strings returns a multi-valued string attribute (a single value reads as
// a list of one).
func (x ExtensionValues) Strings(name string) []string {
	var out []string
	for _, v := range x.m.list(name) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Int returns an integer attribute.
func (x ExtensionValues) Int(name string) (int64, bool) {
	f, ok := x.m.get(name).(float64)
	if !ok || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// Ints returns a multi-valued integer attribute.
func (x ExtensionValues) Ints(name string) []int64 {
	var out []int64
	for _, v := range x.m.list(name) {
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			out = append(out, int64(f))
		}
	}
	return out
}

// Decimal returns a decimal (or integer) attribute.
func (x ExtensionValues) Decimal(name string) (float64, bool) {
	f, ok := x.m.get(name).(float64)
	return f, ok
}

// Bool returns a boolean attribute.
func (x ExtensionValues) Bool(name string) (bool, bool) { return x.m.boolean(name) }

// Time returns a dateTime attribute (RFC 3339).
func (x ExtensionValues) Time(name string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, x.m.str(name))
	return t, err == nil
}

// obj reads a decoded JSON object by case-insensitive key.
type obj map[string]any

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func (o obj) get(k string) any {
	if v, ok := o[k]; ok {
		return v
	}
	for kk, v := range o {
		if strings.EqualFold(kk, k) {
			return v
		}
	}
	return nil
}

func (o obj) str(k string) string { s, _ := o.get(k).(string); return s }

func (o obj) sub(k string) obj { return obj(asMap(o.get(k))) }

func (o obj) boolean(k string) (bool, bool) {
	switch b := o.get(k).(type) {
	case bool:
		return b, true
	case string: // a document read with UserFromJSON may hold Entra's "False"
		switch strings.ToLower(b) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

func (o obj) list(k string) []any {
	switch v := o.get(k).(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

func (o obj) multi(k string) []MultiValue {
	var out []MultiValue
	for _, x := range o.list(k) {
		m := obj(asMap(x))
		if m == nil {
			if s, ok := x.(string); ok {
				out = append(out, MultiValue{Value: s})
			}
			continue
		}
		p, _ := m.boolean("primary")
		v := m.get("value")
		s, _ := v.(string)
		if s == "" && v != nil {
			if b, err := json.Marshal(v); err == nil {
				s = string(b)
			}
		}
		out = append(out, MultiValue{Value: s, Display: m.str("display"), Type: m.str("type"), Primary: p})
	}
	return out
}

// GroupFromResource reads a stored Group document.
func GroupFromResource(r *storage.Resource) (*Group, error) {
	if r == nil || r.Kind != storage.KindGroup {
		return nil, fmt.Errorf("scim: resource is not a Group")
	}
	var doc map[string]any
	if err := json.Unmarshal(r.Data, &doc); err != nil {
		return nil, fmt.Errorf("scim: group %q: %w", r.ID, err)
	}
	d := obj(doc)
	return &Group{ID: r.ID, ExternalID: d.str("externalId"), DisplayName: d.str("displayName"),
		Created: r.Created, Modified: r.Modified, Version: r.Version}, nil
}

// maxUserGroups bounds the groups [Server.User] reads for one user.
const maxUserGroups = 1000

// User reads the user id of tenant, with its groups (the readOnly
// "groups" attribute, RFC 7643 §4.1.2, answered by one member-index
// lookup; at most 1000). It is what a provisioning hook calls with the
// event's Tenant and ID. Errors wrap the store's (storage.ErrNotFound
// when absent).
func (s *Server) User(ctx context.Context, tenant, id string) (*User, error) {
	res, err := s.store.Get(ctx, tenant, storage.KindUser, id)
	if err != nil {
		return nil, err
	}
	u, err := UserFromResource(res)
	if err != nil {
		return nil, err
	}
	gs, err := s.userGroups(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	u.Groups = u.Groups[:0]
	for _, g := range gs {
		u.Groups = append(u.Groups, GroupRef{Value: g.Value, Display: g.Display})
	}
	return u, nil
}

// userGroups returns the groups whose members include the user id (at
// most maxUserGroups, in creation order) as Members, for the readOnly
// "groups" attribute (RFC 7643 §4.1.2): one member-index lookup.
func (s *Server) userGroups(ctx context.Context, tenant, id string) ([]storage.Member, error) {
	page, err := s.store.List(ctx, tenant, storage.Query{Kind: storage.KindGroup,
		Lookup: &storage.Lookup{Field: storage.LookupMember, Value: id}, StartIndex: 1, Count: maxUserGroups})
	if err != nil {
		return nil, err
	}
	out := make([]storage.Member, 0, len(page.Resources))
	for i := range page.Resources {
		g, err := GroupFromResource(&page.Resources[i])
		if err != nil {
			return nil, err
		}
		out = append(out, storage.Member{Value: g.ID, Type: storage.KindGroup, Display: g.DisplayName})
	}
	return out, nil
}

// Group reads the group id of tenant with its members.
func (s *Server) Group(ctx context.Context, tenant, id string) (*Group, error) {
	res, err := s.store.Get(ctx, tenant, storage.KindGroup, id)
	if err != nil {
		return nil, err
	}
	g, err := GroupFromResource(res)
	if err != nil {
		return nil, err
	}
	if g.Members, err = s.store.ListMembers(ctx, tenant, id); err != nil {
		return nil, err
	}
	return g, nil
}

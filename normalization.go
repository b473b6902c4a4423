package scimkit

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"sync"
	"unicode/utf8"

	"github.com/scimkit/scimkit/internal/schema"
)

// NormalizationKind names one way the server changed a request to accept
// it rather than refuse it. More kinds may be added; code that reads
// [Server.Normalizations] should tolerate kinds it does not know.
type NormalizationKind string

// The kinds of normalisations counted.
const (
	// DroppedAttribute: the request carried an attribute or
	// sub-attribute that no registered schema defines (for example
	// Entra's "roles.displayName", or an unregistered extension), in a
	// POST or PUT body, a PATCH value, or as a PATCH path; it was dropped
	// and the rest of the request applied. [WithStrictAttributes] refuses
	// such requests instead.
	DroppedAttribute NormalizationKind = "droppedAttribute"
	// ClearedPrimary: one request value marked more than one element of a
	// multi-valued attribute primary (a POST or PUT body, or one PATCH
	// operation's value); the first was kept and the others stored with
	// primary false (RFC 7643 §2.4: "true" MUST appear no more than once).
	// A new primary replacing an older one is the normal rule (RFC 7644
	// §3.5.2) and is not counted.
	ClearedPrimary NormalizationKind = "clearedPrimary"
	// StringBoolean: a boolean attribute (or a filter operand compared
	// with one) was sent as the string "True" or "False", as Entra's
	// default job does, and accepted as a boolean. [WithStrictBooleans]
	// refuses it.
	StringBoolean NormalizationKind = "stringBoolean"
	// NumericString: an integer or decimal attribute was sent as a
	// string ("3") and accepted as the number. [WithStrictBooleans]
	// refuses it.
	NumericString NormalizationKind = "numericString"
	// DottedKey: a key of a POST or PUT body or of a path-less PATCH
	// value named a sub-attribute with a dot ("name.givenName"), as
	// Entra's aadOptscim062020 job does; it was set like the nested form.
	DottedKey NormalizationKind = "dottedKey"
	// FlatExtensionKey: such a key named an extension attribute by its
	// full URN ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")
	// instead of nesting it under the extension's object.
	FlatExtensionKey NormalizationKind = "flatExtensionKey"
	// BareStringValue: a complex attribute with a "value" sub-attribute
	// was sent as a bare string and stored as {"value": ...}: Entra's
	// manager ("urn:...:enterprise:2.0:User:manager").
	BareStringValue NormalizationKind = "bareStringValue"
	// RemoveMembersWithValue: a PATCH remove of "members" carried the
	// members in its value (Entra's default job) rather than in a
	// members[value eq "..."] path (RFC 7644 §3.5.2.2).
	RemoveMembersWithValue NormalizationKind = "removeMembersWithValue"
	// SanitizedUserName: a [UserNamePolicy] rewrote the userName sent
	// (Attribute is "userName").
	SanitizedUserName NormalizationKind = "sanitizedUserName"
	// ValuePathFilter: a list filter used Entra's form
	// emails[type eq "work"].value eq "x", which RFC 7644 §3.4.2.2's
	// grammar lacks; it was read as emails[type eq "work" and value eq "x"].
	ValuePathFilter NormalizationKind = "valuePathFilter"
	// CapitalisedOp: a PATCH op name was not lower case ("Replace", as
	// Entra's default job sends); Attribute is the op as sent. Op names
	// are compared case-insensitively.
	CapitalisedOp NormalizationKind = "capitalisedOp"
)

// Normalization counts how often one kind of normalisation happened to
// one attribute in one tenant's requests.
type Normalization struct {
	Kind NormalizationKind
	// Attribute is the attribute as the client spelled it, e.g.
	// "roles.displayName" or "urn:ietf:params:scim:schemas:extension:Acme:2.0:User:tag",
	// cut to 200 bytes. A PATCH path is given without its value filter.
	// Once a tenant has 256 distinct attributes for a kind, further ones
	// are counted under "*".
	Attribute string
	// Count is the number of requests that were changed this way.
	Count int64
}

// Normalizations returns how often the server changed tenant's requests
// to accept them (see [NormalizationKind]), counted since the server was
// created, for requests that succeeded, sorted by kind and attribute. The
// counts live in this Server's memory: each instance of a replicated
// deployment counts its own requests. Each normalisation is also logged
// at info level with the tenant and attribute, never the value (see
// [WithLogger]).
func (s *Server) Normalizations(tenant string) []Normalization {
	return s.norms.list(tenant)
}

const (
	maxNormAttrs   = 256 // distinct attributes per tenant and kind
	maxNormAttrLen = 200 // bytes of an attribute name kept
)

type normKey struct {
	kind NormalizationKind
	attr string
}

// normCounts counts normalisations per tenant, with bounded memory.
type normCounts struct {
	mu      sync.Mutex
	tenants map[string]map[normKey]int64         // guarded by mu
	attrs   map[string]map[NormalizationKind]int // guarded by mu; distinct attributes per tenant and kind
}

func (c *normCounts) add(tenant string, notes []schema.Note) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tenants == nil {
		c.tenants = map[string]map[normKey]int64{}
		c.attrs = map[string]map[NormalizationKind]int{}
	}
	m := c.tenants[tenant]
	if m == nil {
		m = map[normKey]int64{}
		c.tenants[tenant] = m
		c.attrs[tenant] = map[NormalizationKind]int{}
	}
	for _, n := range notes {
		k := normKey{kind: NormalizationKind(n.Kind), attr: truncate(n.Attr, maxNormAttrLen)}
		if _, ok := m[k]; !ok {
			if c.attrs[tenant][k.kind] >= maxNormAttrs {
				k.attr = "*"
			} else {
				c.attrs[tenant][k.kind]++
			}
		}
		m[k]++
	}
}

// drop forgets tenant's counts.
func (c *normCounts) drop(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tenants, tenant)
	delete(c.attrs, tenant)
}

func (c *normCounts) list(tenant string) []Normalization {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Normalization
	for k, n := range c.tenants[tenant] {
		out = append(out, Normalization{Kind: k.kind, Attribute: k.attr, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Attribute < out[j].Attribute
	})
	return out
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// noteNormalizations counts and logs what normalisation did to a request
// that succeeded: one info line per kind, with the attribute names, never
// their values. It also records the request's shapes in the tenant's IdP
// profile.
func (s *Server) noteNormalizations(ctx context.Context, r *http.Request, tenant string, rep *schema.Report) {
	q, _ := ctx.Value(reqKey{}).(*request)
	if q != nil {
		resource, _, _ := classify(r.Method, q.path)
		s.profiles.record(tenant, writeSignals(r.Method, resource, rep), q.now)
	}
	if len(rep.Notes) == 0 {
		return
	}
	// One count per request and attribute, however often the request
	// named it.
	seen := make(map[schema.Note]bool, len(rep.Notes))
	notes := rep.Notes[:0:0]
	for _, n := range rep.Notes {
		if !seen[n] {
			seen[n] = true
			notes = append(notes, n)
		}
	}
	s.norms.add(tenant, notes)
	if q != nil {
		for _, n := range notes {
			q.notes = append(q.notes, NormalizationKind(n.Kind))
			q.auditNotes = append(q.auditNotes, string(n.Kind)+" "+truncate(n.Attr, maxNormAttrLen))
		}
	}
	if !s.cfg.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	var kinds []schema.NoteKind
	for _, n := range notes {
		if !slices.Contains(kinds, n.Kind) {
			kinds = append(kinds, n.Kind)
		}
	}
	for _, kind := range kinds {
		var attrs []string
		for _, n := range notes {
			if n.Kind == kind {
				attrs = append(attrs, truncate(n.Attr, maxNormAttrLen))
			}
		}
		msg := "scim: normalised request (" + string(kind) + ")"
		switch kind {
		case schema.NoteDropped:
			msg = "scim: dropped attributes no schema defines"
		case schema.NotePrimary:
			msg = "scim: kept the first of several primary values"
		}
		s.cfg.logger.InfoContext(ctx, msg, "tenant", tenant, "method", r.Method, "path", r.URL.Path, "attributes", attrs, "more", rep.Omitted)
	}
}

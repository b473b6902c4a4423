// Package storage is the contract between the scimkit server and the
// backends that persist SCIM resources: value types, the store interfaces,
// the typed list query and the sentinel errors. It imports no database
// driver; backends live in their own packages (storage/memory,
// storage/sqlite, storage/postgres) and are checked by the shared
// conformance suite in storage/storagetest.
//
// # Tenants
//
// Every method takes the tenant as an explicit argument. A backend must keep
// the data of one tenant invisible to every other: the same id in two
// tenants names two unrelated resources, and an operation on an id that
// exists only in another tenant returns [ErrNotFound].
//
// # Documents
//
// The server owns the SCIM schema. It hands a backend each resource as a
// canonical JSON document ([Resource.Data]) plus the few values the backend
// must index ([Resource.Name], [Resource.ExternalID], [Resource.Emails]). A backend
// stores the document as it is and returns it byte for byte; it never has to
// understand SCIM attributes except to evaluate a [Filter] it cannot answer
// from an index (see [Match]).
package storage

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them with %w (keeping the driver's cause);
// callers test with errors.Is.
var (
	// ErrNotFound: the resource does not exist in this tenant.
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict: a uniqueness constraint would be violated (userName
	// or group displayName, compared case-insensitively, RFC 7643 §2.1;
	// a credential id within its tenant; a token hash across tenants).
	ErrConflict = errors.New("storage: conflict")
	// ErrVersionMismatch: the resource changed since the version the caller
	// read (RFC 7644 §3.14 preconditions; optimistic concurrency).
	ErrVersionMismatch = errors.New("storage: version mismatch")
	// ErrInvalidMember: a member value names no User or Group of the tenant.
	ErrInvalidMember = errors.New("storage: invalid member")
	// ErrUnavailable: the backend cannot serve now (connection lost, pool
	// closed); the request may be retried later. The server answers 503.
	ErrUnavailable = errors.New("storage: unavailable")
)

// Kind is the resource type of a [Resource] (RFC 7643 §3 "resourceType").
type Kind string

// The resource kinds scimkit serves.
const (
	KindUser  Kind = "User"
	KindGroup Kind = "Group"
)

// Resource is one stored SCIM resource. Backends copy it on the way in and
// on the way out: a caller may change a Resource it passed in or got back
// without touching stored state.
type Resource struct {
	Kind Kind
	// ID is the server-assigned id (RFC 7643 §3.1), set by the caller.
	ID string
	// ExternalID is the client's id for the resource ("" when absent).
	// Indexed for exact lookups; not unique.
	ExternalID string
	// Name is the unique, case-insensitive name: userName for a User,
	// displayName for a Group. Backends enforce its uniqueness per tenant
	// and kind with a case-folded index and return ErrConflict.
	Name string
	// Emails are the values of the User's emails, indexed (case-folded)
	// for exact lookups.
	Emails []string
	// Version increases by one on every write; Create stores version 1.
	Version int64
	// Created and Modified are the meta timestamps (RFC 7643 §3.1).
	Created, Modified time.Time
	// Data is the JSON object holding every attribute but id, meta and
	// (for groups) members. Backends store it verbatim.
	Data []byte
	// Members, on Create of a Group, are its initial members, stored in
	// the same atomic step as the group (as ChangeMembers would add them:
	// set semantics, ErrInvalidMember for a value naming no User or Group
	// of the tenant, and then nothing is stored). Create keeps Version 1
	// whatever the members. Ignored by every other method and never set
	// on the way out: read members with ListMembers.
	Members []Member
	// Seat is set on a User that occupies one of its tenant's seats (an
	// active user; see [Tenants] for the seat limit). Backends store it
	// and count it from an index.
	Seat bool
	// State, on Create or Replace of a User by a backend implementing
	// [UserStates], is the user's lifecycle state to store in the same
	// atomic step as the write (State.ID and State.Tenant are ignored):
	// an empty State.State removes the stored state, nil leaves it
	// alone. Ignored by every other method and never set on the way out.
	State *UserState
}

// Member is one member of a Group (RFC 7643 §4.2 "members").
type Member struct {
	// Value is the id of the member, a User or Group of the same tenant.
	Value string
	// Type is "User" or "Group"; set by the backend when ChangeMembers
	// adds the member.
	Type Kind
	// Display is the display name the client sent, if any.
	Display string
}

// Query is a typed list request (RFC 7644 §3.4.2).
type Query struct {
	Kind Kind
	// Filter is the parsed filter, resolved against the schema; nil means
	// no condition beyond Lookup.
	Filter Filter
	// Lookup, when non-nil, is an equality that an index can answer and
	// that every match must satisfy (the filter implies it). A backend
	// uses it to pick candidates and still checks Filter on them. When the
	// client's filter was exactly this equality, with the comparison the
	// index makes (LookupID, LookupExternalID and LookupMember exact,
	// LookupName and LookupEmail case-insensitive), the server sends it
	// as Lookup alone with a nil Filter, so the common IdP lookup costs
	// one index probe and no document decoding. LookupName is sent only
	// for the kind's own name attribute: userName for Users, displayName
	// for Groups.
	Lookup *Lookup
	// StartIndex is 1-based (values below 1 mean 1).
	StartIndex int
	// Count is the page size: 0 (the zero value) means [DefaultCount], a
	// negative value means no limit. Backends read it through
	// [Query.PageSize].
	Count int
	// TotalOnly asks for Page.Total alone, with no resources (a client's
	// count=0, RFC 7644 §3.4.2.4); Count is then ignored.
	TotalOnly bool
	// WithMembers asks for the members of the Groups on the page (in
	// Page.Members). When false a backend must not read them: Entra lists
	// groups with excludedAttributes=members, and reading every member
	// of every group on a page would make that list cost O(members).
	WithMembers bool
}

// DefaultCount is the page size of a [Query] whose Count is 0, so the zero
// Query asks for a bounded page.
const DefaultCount = 100

// PageSize returns how many resources q asks for: 0 with TotalOnly,
// [DefaultCount] when Count is 0, -1 (no limit) when Count is negative,
// else Count.
func (q Query) PageSize() int {
	switch {
	case q.TotalOnly:
		return 0
	case q.Count == 0:
		return DefaultCount
	case q.Count < 0:
		return -1
	}
	return q.Count
}

// LookupField names an indexed field.
type LookupField int

// The indexed fields.
const (
	LookupID LookupField = iota + 1
	LookupExternalID
	LookupName  // case-insensitive
	LookupEmail // case-insensitive
	// LookupMember finds the Groups whose members include the id Value
	// (`members[value eq "id"]`); backends answer it from the membership
	// rows, never by reading every group's members.
	LookupMember
)

// Lookup is an equality on an indexed field.
type Lookup struct {
	Field LookupField
	Value string
}

// Page is one page of a list. Resources are in a stable order (creation
// order), so consecutive pages neither repeat nor skip a resource while the
// set is unchanged.
type Page struct {
	Total     int
	Resources []Resource
	// Members holds, for a Group query with WithMembers, the members of
	// each group on the page by group id (absent or empty: no members).
	Members map[string][]Member
}

// Resources persists Users and Groups. Implementations must be safe for
// concurrent use.
type Resources interface {
	// Create stores r, with r.Members for a Group, and appends ev to the
	// outbox (see [Outbox]), all in one atomic step. It returns
	// ErrConflict when the tenant already has a resource of r.Kind with
	// r.Name (case-insensitively) or r.ID, ErrInvalidMember as
	// ChangeMembers does, and (a backend implementing [Tenants])
	// ErrSeatLimit when r.Seat is set and the tenant's seats are taken;
	// then nothing is stored.
	Create(ctx context.Context, tenant string, r *Resource, ev ...Event) error
	// Get returns the resource or ErrNotFound.
	Get(ctx context.Context, tenant string, kind Kind, id string) (*Resource, error)
	// Replace stores r over the resource with the same kind and ID, as one
	// atomic compare-and-swap: r.Version must be the stored version (the
	// one the caller read), else it returns ErrVersionMismatch. On success
	// the stored version, and r.Version, become r.Version+1. It returns
	// ErrNotFound when absent and ErrConflict when r.Name is taken by
	// another resource, and ErrSeatLimit as Create does when it sets Seat
	// on a resource stored without it. Members are untouched; Created is
	// kept. The events ev are appended to the outbox in the same atomic
	// step.
	Replace(ctx context.Context, tenant string, r *Resource, ev ...Event) error
	// Delete removes the resource, its members (for a Group) and every
	// membership that names it, and appends ev to the outbox, in one
	// atomic step. It returns ErrNotFound when absent.
	Delete(ctx context.Context, tenant string, kind Kind, id string, ev ...Event) error
	// List returns one page of the resources of q.Kind matching q.
	List(ctx context.Context, tenant string, q Query) (Page, error)
}

// Members persists group membership as a set of member ids per group, so a
// change costs O(changed members), never O(group).
type Members interface {
	// ChangeMembers applies ch to the group atomically: either all of it
	// or nothing. It returns ErrNotFound when the group is absent,
	// ErrInvalidMember when an added value names no User or Group of the
	// tenant, and, with ch.Group set, ErrVersionMismatch or ErrConflict as
	// Replace does. A change sets the group's Modified to ch.Modified and
	// bumps its Version by one, even when the member set ends up the same.
	ChangeMembers(ctx context.Context, tenant, groupID string, ch MemberChange) error
	// ListMembers returns the group's members in the order they were
	// added, or ErrNotFound when the group is absent.
	ListMembers(ctx context.Context, tenant, groupID string) ([]Member, error)
}

// MemberChange is a delta on a group's member set (RFC 7644 §3.5.2). It is
// applied in order: ReplaceAll first (clearing the set), then Remove, then
// Add. Set semantics: adding a present id keeps its position and updates its
// Display; removing an absent id is a no-op.
type MemberChange struct {
	ReplaceAll bool
	Remove     []string
	Add        []Member
	Modified   time.Time
	// Group, when non-nil, holds new attributes for the group, stored in
	// the same atomic step with Replace's checks (version, name
	// uniqueness), so a PATCH that renames a group and changes its members
	// applies both or neither. On success Group.Version is the new
	// version. Group.Modified is ignored in favour of Modified.
	Group *Resource
	// Events are appended to the outbox in the same atomic step as the
	// change (see [Outbox]).
	Events []Event
}

// Credential is one API token of a tenant: what a backend stores beside the
// token's hash. The token itself is never stored, and no method returns
// the hash. A tenant has any number of credentials, each valid until it
// expires or is revoked (deleted).
type Credential struct {
	// ID names the credential within its tenant (the caller sets it; an
	// admin revokes by it). It is not secret.
	ID string
	// Tenant owns the credential; backends set it on the way out.
	Tenant string
	// Label is what an admin calls the credential ("Entra production").
	Label string
	// Created is when the credential was made.
	Created time.Time
	// Expires is the first instant at which the credential no longer
	// authenticates; zero means never.
	Expires time.Time
	// LastUsed is the latest use recorded with TouchCredential; zero
	// means none recorded.
	LastUsed time.Time
}

// Expired reports whether c no longer authenticates at at: Expires is set
// and at is not before it.
func (c Credential) Expired(at time.Time) bool {
	return !c.Expires.IsZero() && !at.Before(c.Expires)
}

// Credentials persists tenants' API credentials. A backend stores, per
// credential, the [Credential] fields and the hash of its token, unique
// across all tenants and indexed: authentication is one lookup by hash on
// every request. Times keep (at least) microsecond precision. Backends
// evaluate no expiry: the caller compares Expires with its own clock.
// Implementations must be safe for concurrent use.
type Credentials interface {
	// CreateCredential stores c for tenant (c.Tenant is ignored) with
	// the hash of its token. It returns ErrConflict when the tenant has
	// a credential with c.ID, or when any tenant has one with hash.
	CreateCredential(ctx context.Context, tenant string, c Credential, hash []byte) error
	// CredentialByHash returns the credential whose token hash is hash,
	// expired or not, with its Tenant set, or ErrNotFound.
	CredentialByHash(ctx context.Context, hash []byte) (Credential, error)
	// ListCredentials returns the tenant's credentials, expired ones
	// included, ordered by Created then ID; none is not an error.
	ListCredentials(ctx context.Context, tenant string) ([]Credential, error)
	// ExpireCredential sets the credential's Expires to at, unless it
	// already expires at or before at (a rotation never extends a
	// credential). It returns ErrNotFound when absent.
	ExpireCredential(ctx context.Context, tenant, id string, at time.Time) error
	// RevokeCredential deletes the credential and its hash: its token
	// stops resolving at once. It returns ErrNotFound when absent.
	RevokeCredential(ctx context.Context, tenant, id string) error
	// TouchCredential records a use at at: LastUsed becomes at unless it
	// is already later (touches may arrive out of order, from several
	// servers). An absent credential is not an error: it may have been
	// revoked since the use.
	TouchCredential(ctx context.Context, tenant, id string, at time.Time) error
}

// Store is everything a scimkit server needs from a backend.
type Store interface {
	Resources
	Members
	Credentials
	Outbox
	Tenants
	UserStates
	AuditLog
}

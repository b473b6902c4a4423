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
// must index ([Resource.UserName], [Resource.ExternalID], ...). A backend
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
	// or group displayName, compared case-insensitively; RFC 7643 §2.1).
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
}

// Member is one member of a Group (RFC 7643 §4.2 "members").
type Member struct {
	// Value is the id of the member, a User or Group of the same tenant.
	Value string
	// Type is "User" or "Group"; set by the backend on AddMembers.
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
	// Count is the page size; 0 asks only for the total, a negative value
	// means no limit.
	Count int
	// WithMembers asks for the members of the Groups on the page (in
	// Page.Members). When false a backend must not read them: Entra lists
	// groups with excludedAttributes=members (PERF.md trap 3).
	WithMembers bool
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
	// Create stores r. It returns ErrConflict when the tenant already has
	// a resource of r.Kind with r.Name (case-insensitively) or r.ID.
	Create(ctx context.Context, tenant string, r *Resource) error
	// Get returns the resource or ErrNotFound.
	Get(ctx context.Context, tenant string, kind Kind, id string) (*Resource, error)
	// Replace stores r over the resource with the same kind and ID, as one
	// atomic compare-and-swap: r.Version must be the stored version (the
	// one the caller read), else it returns ErrVersionMismatch. On success
	// the stored version, and r.Version, become r.Version+1. It returns
	// ErrNotFound when absent and ErrConflict when r.Name is taken by
	// another resource. Members are untouched; Created is kept.
	Replace(ctx context.Context, tenant string, r *Resource) error
	// Delete removes the resource, its members (for a Group) and every
	// membership that names it. It returns ErrNotFound when absent.
	Delete(ctx context.Context, tenant string, kind Kind, id string) error
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
}

// Tokens persists the hash of each tenant's API token (never the token).
// A tenant has at most one token; setting a new one invalidates the old.
// Implementations must be safe for concurrent use.
type Tokens interface {
	// SetTokenHash stores hash as the tenant's only token hash.
	SetTokenHash(ctx context.Context, tenant string, hash []byte) error
	// TokenHash returns the tenant's token hash, or ErrNotFound.
	TokenHash(ctx context.Context, tenant string) ([]byte, error)
	// TenantByTokenHash returns the tenant whose token hash is hash, or
	// ErrNotFound.
	TenantByTokenHash(ctx context.Context, hash []byte) (string, error)
	// DeleteTokenHash removes the tenant's token; absent is not an error.
	DeleteTokenHash(ctx context.Context, tenant string) error
}

// Store is everything a scimkit server needs from a backend.
type Store interface {
	Resources
	Members
	Tokens
}

package storage

import (
	"context"
	"errors"
	"time"
)

// ErrSeatLimit: the write would make the tenant hold more seats than its
// [TenantSettings.SeatLimit]. Nothing was written.
var ErrSeatLimit = errors.New("storage: seat limit reached")

// TenantSettings is what a backend keeps for a tenant beside its
// resources: the server's policy document and the one value of it the
// backend enforces itself, the seat limit.
type TenantSettings struct {
	// Policy is the server's JSON policy document, stored verbatim.
	Policy []byte
	// SeatLimit is the most Users with [Resource.Seat] set the tenant may
	// hold; 0 means no limit. Backends enforce it atomically (see
	// [Resources]).
	SeatLimit int
	// Version increases by one on every PutTenant; 0 means never stored.
	Version int64
	// Modified is when the settings were last stored.
	Modified time.Time
}

// Tenants persists tenant settings and removes whole tenants.
// Implementations must be safe for concurrent use.
//
// # Seat limit
//
// A backend implementing Tenants enforces the seat limit in the same
// atomic step as the write: Create of a Resource with Seat set, and
// Replace setting Seat on a resource stored without it, return
// [ErrSeatLimit] and write nothing when the tenant already holds
// SeatLimit (or more) seated Users. Two such writes racing at
// SeatLimit-1 seats never both succeed, on any number of server
// instances. A write that keeps or drops a seat is never refused (a
// limit lowered below the current count refuses only new seats). The
// count comes from an index or counter, never from reading documents.
type Tenants interface {
	// GetTenant returns the tenant's settings, or ErrNotFound when none
	// were stored.
	GetTenant(ctx context.Context, tenant string) (TenantSettings, error)
	// PutTenant stores s as one compare-and-swap: s.Version must be the
	// stored version (0 when none is stored), else it returns
	// ErrVersionMismatch. On success the stored version, and s.Version,
	// become s.Version+1.
	PutTenant(ctx context.Context, tenant string, s *TenantSettings) error
	// DeleteTenant removes everything of the tenant in one atomic step:
	// resources, memberships, credentials, settings, user states, audit
	// entries and outbox events (delivered or not: no event of a deleted
	// tenant is delivered afterwards). Deleting a tenant that has nothing is not an error.
	DeleteTenant(ctx context.Context, tenant string) error
}

// Lifecycle states of a User beyond what its active flag says (see
// [UserState]).
const (
	// StatePending: provisioned, active, and not yet logged in.
	StatePending = "pending"
	// StatePreserved: deactivated or deleted by the IdP (or preserved by
	// an admin); its data is kept until [UserState.Until].
	StatePreserved = "preserved"
)

// UserState is the lifecycle state a backend keeps for a User whose state
// is not just its active flag. A User without a UserState is active or
// suspended, as its active attribute says.
type UserState struct {
	// ID is the User's id.
	ID string
	// Tenant owns the state; backends set it on the way out.
	Tenant string
	// State is StatePending or StatePreserved.
	State string
	// Until is when a preserved user is due to be purged; zero means
	// never.
	Until time.Time
	// ByAdmin is set when an admin, not the IdP, preserved the user.
	ByAdmin bool
	// Deleted is set when the IdP deleted the user and the Resource was
	// removed: Name and Data then hold its last userName and document.
	Deleted bool
	Name    string
	Data    []byte
}

// UserStates persists [UserState]s. Implementations must be safe for
// concurrent use.
type UserStates interface {
	// PutUserState stores st (st.Tenant is ignored), replacing the
	// user's previous state, and appends ev to the outbox (see [Outbox])
	// in the same atomic step. With st.Deleted set it also deletes the
	// User st.ID in that step, as [Resources.Delete] does (ev at the
	// version the User had), and returns ErrNotFound, storing nothing,
	// when the User is absent.
	PutUserState(ctx context.Context, tenant string, st UserState, ev ...Event) error
	// GetUserState returns the user's state, or ErrNotFound when none is
	// stored.
	GetUserState(ctx context.Context, tenant, id string) (UserState, error)
	// DeleteUserState removes the user's state, and appends ev to the
	// outbox in the same atomic step (at version 0: the user may be gone);
	// an absent state is not an error (ev are appended all the same).
	DeleteUserState(ctx context.Context, tenant, id string, ev ...Event) error
	// ListUserStates returns up to limit states of the tenant with ID
	// greater than after, ordered by ID.
	ListUserStates(ctx context.Context, tenant, after string, limit int) ([]UserState, error)
	// DueUserStates returns up to limit states of any tenant whose Until
	// is set and not after at, from an index (Tenant is set).
	DueUserStates(ctx context.Context, at time.Time, limit int) ([]UserState, error)
}

// AuditEntry is one audited SCIM request. Its JSON form (camelCase
// names) is what an admin API can return as it is.
type AuditEntry struct {
	// Time is when the request was answered.
	Time time.Time `json:"time"`
	// Credential is the id of the credential that authenticated the
	// request (never the token).
	Credential string `json:"credential"`
	// Operation is the HTTP method and the endpoint ("PATCH /Users").
	Operation string `json:"operation"`
	// ResourceID is the id of the resource written or refused; "" when
	// none.
	ResourceID string `json:"resourceId,omitempty"`
	// Status is the HTTP status of the response.
	Status int `json:"status"`
	// ScimType is the scimType of an error response (RFC 7644 §3.12).
	ScimType string `json:"scimType,omitempty"`
	// Detail is an error response's detail, or what the lifecycle policy
	// did ("preserved until 2025-01-31").
	Detail string `json:"detail,omitempty"`
	// Normalizations lists what the server changed to accept the
	// request ("DroppedAttribute roles.displayName").
	Normalizations []string `json:"normalizations,omitempty"`
}

// AuditLog persists the audit log of each tenant. Implementations must be
// safe for concurrent use.
type AuditLog interface {
	// AppendAudit stores entries for tenant, in one atomic step.
	AppendAudit(ctx context.Context, tenant string, entries []AuditEntry) error
	// ListAudit returns up to limit entries of the tenant with Time at or
	// after since and before until (zero until: no upper bound), oldest
	// first, from an index on (tenant, time).
	ListAudit(ctx context.Context, tenant string, since, until time.Time, limit int) ([]AuditEntry, error)
	// PruneAudit removes the entries of every tenant older than before,
	// from an index on time, and returns how many it removed.
	PruneAudit(ctx context.Context, before time.Time) (int, error)
}

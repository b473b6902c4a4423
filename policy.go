package scimkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/scimkit/scimkit/storage"
)

// Policy is a tenant's provisioning policy: what the server admits from
// the tenant's IdP and what deactivation and deletion do. It is stored
// with the tenant ([Server.SetPolicy]) and validated when set. The zero
// Policy admits everything and behaves like a plain SCIM server: no seat
// limit, active=false suspends, DELETE deletes.
type Policy struct {
	// SeatLimit is the most active Users the tenant may have; 0 means no
	// limit. A create or a reactivation (PUT or PATCH of active to true)
	// that would exceed it is refused with 403 and changes nothing. The
	// store enforces it atomically: two creates racing for the last seat
	// never both succeed, on any number of server instances.
	SeatLimit int `json:"seatLimit,omitempty"`
	// Protected lists userNames (compared case-insensitively) or ids of
	// Users the IdP may never deactivate or delete, such as the account
	// owner: such a request is refused with 403 and changes nothing. A
	// user protected by its userName (and not by its id) cannot be renamed
	// either, since the rename would lift the protection; list the id to
	// protect a user whatever its name.
	Protected []string `json:"protected,omitempty"`
	// AllowedDomains, when not empty, lists the only domains a User's
	// userName may be in (the part after the last "@", compared
	// case-insensitively and exactly: "example.com" does not admit
	// "eu.example.com"). Checked on create and whenever userName changes.
	AllowedDomains []string `json:"allowedDomains,omitempty"`
	// Deactivation is what active=false does: [Suspend] (the default,
	// event provisioning.Deactivated) or [Preserve] (event
	// provisioning.Preserved instead, stored with the write).
	Deactivation Disposition `json:"deactivation,omitempty"`
	// Deletion is what DELETE of a User does: [Delete] (the default,
	// event provisioning.Deleted) or [Preserve] (event
	// provisioning.Preserved instead, stored with the write). Entra sends DELETE only after its own soft-delete
	// period (30 days), so Preserve keeps the data for RetentionDays more.
	Deletion Disposition `json:"deletion,omitempty"`
	// RetentionDays is how long a preserved User is kept before
	// [Server.Purge] removes it; 0 means until an admin purges it.
	RetentionDays int `json:"retentionDays,omitempty"`
	// IdPMayReactivatePreserved lets the IdP reactivate a User an admin
	// preserved ([Server.PreserveUser]). By default such a reactivation
	// is refused with 403: the admin's decision wins.
	IdPMayReactivatePreserved bool `json:"idpMayReactivatePreserved,omitempty"`
	// PendingUntilLogin keeps each provisioned User in state
	// [StatePending] until the host calls [Server.MarkLoggedIn].
	PendingUntilLogin bool `json:"pendingUntilLogin,omitempty"`
	// Defaults are product-side defaults for new accounts (e.g.
	// "quotaGB": "50", "role": "member") that the host reads from the
	// policy when it creates the account for a provisioned User. The
	// server stores and validates them but never adds them to SCIM
	// resources: the IdP owns the SCIM attributes.
	Defaults map[string]string `json:"defaults,omitempty"`
}

// Disposition is what deactivation or deletion does to a User.
type Disposition string

// The dispositions.
const (
	// Suspend (deactivation only): the User is kept with active=false and
	// holds no seat; it stays until the IdP deletes it.
	Suspend Disposition = "suspend"
	// Delete (deletion only): the User and its memberships are removed.
	Delete Disposition = "delete"
	// Preserve: the User holds no seat, its data is kept and it is
	// purged RetentionDays later. After DELETE the IdP sees it as
	// deleted (404, its userName free again) while the data is kept.
	Preserve Disposition = "preserve"
)

// Bounds of a [Policy], so that a policy costs bounded work per request.
const (
	maxPolicyList     = 1000 // entries of Protected and AllowedDomains
	maxPolicyDefaults = 100
	maxPolicyString   = 256
	maxRetentionDays  = 3650
)

// PolicyError is the error [Server.SetPolicy] returns for an invalid
// [Policy]: Field is the JSON name of the offending field.
type PolicyError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *PolicyError) Error() string { return "scim: policy " + e.Field + ": " + e.Reason }

// ErrNoPolicyStore is returned by the policy methods of a [Server] whose
// [ResourceHandler] does not also implement [PolicyStore].
var ErrNoPolicyStore = errors.New("scim: the resource handler does not store tenant policies (it must implement scimkit.PolicyStore)")

// PolicyStore is what the policy features need from the store: every
// backend under storage/ implements it. When the [ResourceHandler]
// given to [New] also implements PolicyStore, the server applies each
// tenant's [Policy], keeps users' lifecycle states and writes the audit
// log; otherwise those methods return [ErrNoPolicyStore] and requests are
// served without policy.
type PolicyStore interface {
	storage.Tenants
	storage.UserStates
	storage.AuditLog
}

// Validate checks p and returns a *[PolicyError] naming the first invalid
// field.
func (p *Policy) Validate() error {
	bad := func(field, reason string, args ...any) error {
		return &PolicyError{Field: field, Reason: fmt.Sprintf(reason, args...)}
	}
	switch {
	case p.SeatLimit < 0:
		return bad("seatLimit", "must be 0 (no limit) or positive, not %d", p.SeatLimit)
	case len(p.Protected) > maxPolicyList:
		return bad("protected", "lists %d entries, more than %d", len(p.Protected), maxPolicyList)
	case len(p.AllowedDomains) > maxPolicyList:
		return bad("allowedDomains", "lists %d entries, more than %d", len(p.AllowedDomains), maxPolicyList)
	case p.Deactivation != "" && p.Deactivation != Suspend && p.Deactivation != Preserve:
		return bad("deactivation", "must be %q or %q, not %q", Suspend, Preserve, p.Deactivation)
	case p.Deletion != "" && p.Deletion != Delete && p.Deletion != Preserve:
		return bad("deletion", "must be %q or %q, not %q", Delete, Preserve, p.Deletion)
	case p.RetentionDays < 0 || p.RetentionDays > maxRetentionDays:
		return bad("retentionDays", "must be between 0 (keep until purged by an admin) and %d, not %d", maxRetentionDays, p.RetentionDays)
	case len(p.Defaults) > maxPolicyDefaults:
		return bad("defaults", "has %d keys, more than %d", len(p.Defaults), maxPolicyDefaults)
	}
	for i, v := range p.Protected {
		if strings.TrimSpace(v) == "" || len(v) > maxPolicyString {
			return bad("protected", "entry %d must be a userName or id of 1 to %d bytes", i, maxPolicyString)
		}
	}
	for i, d := range p.AllowedDomains {
		if d == "" || len(d) > maxPolicyString || strings.ContainsAny(d, "@ /") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
			return bad("allowedDomains", "entry %d (%q) must be a domain name such as \"example.com\"", i, d)
		}
	}
	for k, v := range p.Defaults {
		if k == "" || len(k) > maxPolicyString || len(v) > maxPolicyString {
			return bad("defaults", "keys must be 1 to %d bytes and values at most %d", maxPolicyString, maxPolicyString)
		}
	}
	return nil
}

// retentionDays of a preserved user: the policy's, as a duration.
func (p *Policy) deactivation() Disposition {
	if p.Deactivation == "" {
		return Suspend
	}
	return p.Deactivation
}

func (p *Policy) deletion() Disposition {
	if p.Deletion == "" {
		return Delete
	}
	return p.Deletion
}

// policyStore returns the store's PolicyStore, or nil.
func (s *Server) policyStore() PolicyStore {
	ps, _ := s.store.(PolicyStore)
	return ps
}

// SetPolicy validates p and stores it as tenant's policy, replacing the
// previous one; it applies to requests from then on. An invalid policy
// gives a *[PolicyError] and changes nothing. Lowering SeatLimit below the
// number of active users refuses new seats only: no user is deactivated.
func (s *Server) SetPolicy(ctx context.Context, tenant string, p Policy) error {
	ps := s.policyStore()
	if ps == nil {
		return ErrNoPolicyStore
	}
	if err := validTenant(tenant); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	doc, err := json.Marshal(p)
	if err != nil {
		return err
	}
	for try := 0; ; try++ {
		ts, err := ps.GetTenant(ctx, tenant)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		ts.Policy, ts.SeatLimit, ts.Modified = doc, p.SeatLimit, s.cfg.now()
		err = ps.PutTenant(ctx, tenant, &ts)
		if !errors.Is(err, storage.ErrVersionMismatch) || try >= maxRetries {
			return err
		}
	}
}

// Policy returns tenant's policy: the zero Policy when none was set.
func (s *Server) Policy(ctx context.Context, tenant string) (Policy, error) {
	ps := s.policyStore()
	if ps == nil {
		return Policy{}, ErrNoPolicyStore
	}
	return s.loadPolicy(ctx, ps, tenant)
}

func (s *Server) loadPolicy(ctx context.Context, ps PolicyStore, tenant string) (Policy, error) {
	var p Policy
	ts, err := ps.GetTenant(ctx, tenant)
	if errors.Is(err, storage.ErrNotFound) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(ts.Policy, &p); err != nil {
		return p, fmt.Errorf("scim: stored policy of tenant %q: %w", tenant, err)
	}
	p.SeatLimit = ts.SeatLimit
	return p, nil
}

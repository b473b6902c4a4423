package scimkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/scimkit/scimkit/storage"
)

// ErrPolicy is the refusal of a write by the tenant's provisioning policy
// (seat limit, protected user, userName domain, a host's
// [AdmissionRule]): 403 Forbidden without a scimType, and a detail that
// tells the IdP admin what to change. RFC 7644 §3.12 has no scimType for
// a policy refusal; 403 ("operation is not permitted", RFC 7644 §3.12,
// RFC 9110 §15.5.4) says the request was understood and will not succeed
// by retrying it unchanged, unlike 400 (which points at the payload) or
// 409 (which Entra and Okta read as a uniqueness clash and answer by
// matching). Entra logs the detail in its provisioning logs and retries
// the object in later cycles; it quarantines a job for failing
// credentials (401), not for refusals of single objects. Refine it with
// WithDetail; errors.Is(err, ErrPolicy) holds for every refusal.
var ErrPolicy = &Error{status: http.StatusForbidden, detail: "the tenant's provisioning policy refuses this change"}

// Operation is the kind of write an [AdmissionRule] is asked about.
type Operation string

// The operations admission decides on.
const (
	// OpCreate: POST of a User or Group (a Group's initial members are in
	// [Admission.Members]).
	OpCreate Operation = "create"
	// OpReactivate: PUT or PATCH setting a User's active from false to
	// true.
	OpReactivate Operation = "reactivate"
	// OpDeactivate: PUT or PATCH setting a User's active from true to
	// false.
	OpDeactivate Operation = "deactivate"
	// OpDelete: DELETE of a User or Group.
	OpDelete Operation = "delete"
	// OpAddMembers: PUT or PATCH of a Group adding members.
	OpAddMembers Operation = "addMembers"
)

// Admission is one write an [AdmissionRule] decides on, before anything
// is written.
type Admission struct {
	Tenant string
	Op     Operation
	Kind   storage.Kind
	// ID is the resource's id (for OpCreate, the id it will get).
	ID string
	// Before is the stored resource's attributes (nil for OpCreate), After
	// the attributes to be stored (nil for OpDelete): JSON values as
	// encoding/json decodes them, without id, meta and members.
	Before, After map[string]any
	// Members holds the ids a Group write adds.
	Members []string
	// Policy is the tenant's policy.
	Policy Policy
}

// AdmissionRule is a host's own admission rule. It returns nil to admit
// the write or an error to refuse it: a *[Error] is sent to the IdP as
// it is (use [ErrPolicy].WithDetail for a policy refusal); any other
// error is logged and answered 500. A rule may run more than once for one
// request (a write retried after a concurrent change) and must be safe
// for concurrent use.
type AdmissionRule func(ctx context.Context, a Admission) error

// WithAdmissionRule adds a host admission rule; rules run in the order
// given, after the built-in checks of the tenant's [Policy] (protected
// users, userName domains; the seat limit is checked by the store as the
// write happens). A nil rule is an error at [New].
func WithAdmissionRule(rule AdmissionRule) Option {
	return optionFunc(func(c *config) error {
		if rule == nil {
			return errors.New("scim: nil admission rule")
		}
		c.admission = append(c.admission, rule)
		return nil
	})
}

// admit runs the built-in checks of the policy and the host's rules.
func (s *Server) admit(ctx context.Context, a Admission) error {
	p := &a.Policy
	if a.Kind == storage.KindUser {
		if a.Op == OpDeactivate || a.Op == OpDelete {
			if name, ok := p.protects(a.ID, a.Before); ok {
				verb := "deactivated"
				if a.Op == OpDelete {
					verb = "deleted"
				}
				return ErrPolicy.WithDetail(fmt.Sprintf("user %q is protected by this tenant's provisioning policy and cannot be %s through SCIM; nothing was changed (remove it from the protected users in the product's admin settings first)", name, verb))
			}
		}
		if a.After != nil && len(p.AllowedDomains) > 0 {
			name, _ := a.After["userName"].(string)
			before := ""
			if a.Before != nil {
				before, _ = a.Before["userName"].(string)
			}
			if (a.Before == nil || name != before) && !p.allowsDomain(name) {
				return ErrPolicy.WithDetail(fmt.Sprintf("userName %q is not in a domain this tenant allows (%s); nothing was changed", name, strings.Join(p.AllowedDomains, ", ")))
			}
		}
	}
	for _, rule := range s.cfg.admission {
		if err := rule(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// protects reports whether the policy protects the user with id and
// attributes doc, and the name to report.
func (p *Policy) protects(id string, doc map[string]any) (string, bool) {
	name, _ := doc["userName"].(string)
	for _, v := range p.Protected {
		if v == id || name != "" && strings.EqualFold(v, name) {
			if name == "" {
				name = id
			}
			return name, true
		}
	}
	return "", false
}

// protectedByName reports whether the policy protects the user id named
// name by its userName alone, not by its id: a rename would lift the
// protection.
func (p *Policy) protectedByName(id, name string) bool {
	byName := false
	for _, v := range p.Protected {
		if v == id {
			return false
		}
		byName = byName || name != "" && strings.EqualFold(v, name)
	}
	return byName
}

// allowsDomain reports whether userName is in an allowed domain.
func (p *Policy) allowsDomain(userName string) bool {
	i := strings.LastIndexByte(userName, '@')
	if i < 0 {
		return false
	}
	dom := userName[i+1:]
	for _, d := range p.AllowedDomains {
		if strings.EqualFold(d, dom) {
			return true
		}
	}
	return false
}

// seatError is the refusal of a write that needed a seat.
func seatError(p *Policy, op Operation, err error) error {
	what := "create"
	if op == OpReactivate {
		what = "reactivation"
	}
	return ErrPolicy.WithDetail(fmt.Sprintf("seat limit reached: this tenant's plan allows %d active users and all seats are taken; the %s was refused and nothing was changed (deactivate a user or raise the seat limit in the product's admin settings)", p.SeatLimit, what)).WithCause(err)
}

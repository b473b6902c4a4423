package scimkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimkit/scimkit/internal/schema"
	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
)

// State is the lifecycle state of a provisioned User (see the README's
// lifecycle diagram).
type State string

// The lifecycle states.
const (
	// StateActive: active=true; holds a seat.
	StateActive State = "active"
	// StatePending: active=true and provisioned under a policy with
	// PendingUntilLogin, not yet logged in ([Server.MarkLoggedIn]);
	// holds a seat.
	StatePending State = "pending"
	// StateSuspended: active=false under the Suspend disposition; holds
	// no seat; the IdP may reactivate it.
	StateSuspended State = "suspended"
	// StatePreserved: deactivated or deleted under the Preserve
	// disposition, or preserved by an admin; holds no seat; its data is
	// kept until it is purged.
	StatePreserved State = "preserved"
)

// Lifecycle is the state of one User.
type Lifecycle struct {
	State State
	// PreservedUntil is when a preserved user is due to be purged
	// ([Server.Purge]); zero when not preserved or kept until an admin
	// purges it ([Server.PurgeUser]).
	PreservedUntil time.Time
	// ByAdmin is set when an admin preserved the user
	// ([Server.PreserveUser]).
	ByAdmin bool
	// Deleted is set when the IdP deleted the user under the Preserve
	// disposition: the IdP sees the user as deleted (GET 404, absent from
	// lists and filters, its userName free for a new user), and the data
	// is kept until the purge.
	Deleted bool
	// UserName is the user's userName.
	UserName string
}

// UserState returns the lifecycle state of tenant's User id, also of a
// user the IdP deleted under the Preserve disposition (until it is
// purged). It returns an error wrapping [storage.ErrNotFound] when there
// is no such user.
func (s *Server) UserState(ctx context.Context, tenant, id string) (Lifecycle, error) {
	ps := s.policyStore()
	if ps == nil {
		return Lifecycle{}, ErrNoPolicyStore
	}
	st, err := ps.GetUserState(ctx, tenant, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return Lifecycle{}, err
	}
	if err == nil && st.Deleted {
		return Lifecycle{State: StatePreserved, PreservedUntil: st.Until, ByAdmin: st.ByAdmin, Deleted: true, UserName: st.Name}, nil
	}
	res, rerr := s.store.Get(ctx, tenant, storage.KindUser, id)
	if rerr != nil {
		return Lifecycle{}, rerr
	}
	lc := Lifecycle{State: StateActive, UserName: res.Name}
	switch {
	case err == nil && st.State == storage.StatePreserved:
		lc.State, lc.PreservedUntil, lc.ByAdmin = StatePreserved, st.Until, st.ByAdmin
	case !docActive(res.Data):
		lc.State = StateSuspended
	case err == nil && st.State == storage.StatePending:
		lc.State = StatePending
	}
	return lc, nil
}

// MarkLoggedIn ends the pending state of tenant's User id (the host calls
// it on the user's first login); for a user in any other state it does
// nothing.
func (s *Server) MarkLoggedIn(ctx context.Context, tenant, id string) error {
	ps := s.policyStore()
	if ps == nil {
		return ErrNoPolicyStore
	}
	st, err := ps.GetUserState(ctx, tenant, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil || st.State != storage.StatePending {
		return err
	}
	return ps.DeleteUserState(ctx, tenant, id)
}

// PreserveUser preserves tenant's User id on an admin's decision: it sets
// active to false (the IdP sees that), frees its seat and keeps it until
// the policy's retention ends. Unless the policy sets
// IdPMayReactivatePreserved, the IdP's reactivation is then refused with
// 403. The user, its state and a [provisioning.Preserved] event (with
// Until) are one write; hooks are told after it.
func (s *Server) PreserveUser(ctx context.Context, tenant, id string) error {
	ps := s.policyStore()
	if ps == nil {
		return ErrNoPolicyStore
	}
	pol, err := s.loadPolicy(ctx, ps, tenant)
	if err != nil {
		return err
	}
	unlock, err := s.locks.lock(ctx, tenant, id)
	if err != nil {
		return storeError(err)
	}
	defer unlock()
	var res *storage.Resource
	var evs []provisioning.Event
	for try := 0; ; try++ {
		old, err := s.store.Get(ctx, tenant, storage.KindUser, id)
		if err != nil {
			return err
		}
		doc := map[string]any{}
		if err := json.Unmarshal(old.Data, &doc); err != nil {
			return err
		}
		doc["active"] = false
		now := s.cfg.now()
		res = &storage.Resource{ID: old.ID, Version: old.Version, Created: old.Created, Modified: now}
		if err := s.users.Encode(doc, res); err != nil {
			return err
		}
		// The user, its state and the event are one write.
		until := pol.purgeAt(now)
		res.State = &storage.UserState{State: storage.StatePreserved, ByAdmin: true, Until: until}
		if s.eventsOn() {
			next := *res
			next.Version++
			e := s.preservedEvent(tenant, &next, now, until)
			e.Changes = changes(old.Data, res.Data)
			evs = []provisioning.Event{e}
		}
		recs, err := s.records(evs)
		if err != nil {
			return err
		}
		err = s.store.Replace(ctx, tenant, res, recs...)
		if err == nil {
			break
		}
		if !errors.Is(err, storage.ErrVersionMismatch) || try >= maxRetries {
			return err
		}
		backoff(try)
	}
	s.notify(ctx, res.Version, evs)
	return nil
}

// PurgeUser removes tenant's preserved User id now, whatever its
// retention: the resource (if the IdP had not deleted it) and its state.
// A [provisioning.Purged] event is stored with the removal (see
// [Server.Purge]). A user that is not preserved is
// left alone and gives an error wrapping [storage.ErrNotFound].
func (s *Server) PurgeUser(ctx context.Context, tenant, id string) error {
	ps := s.policyStore()
	if ps == nil {
		return ErrNoPolicyStore
	}
	st, err := ps.GetUserState(ctx, tenant, id)
	if err == nil && st.State != storage.StatePreserved {
		err = fmt.Errorf("scim: user %q is not preserved: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return err
	}
	st.Tenant = tenant
	_, err = s.purge(ctx, ps, st)
	return err
}

// purgeBatch bounds the states one step of Purge reads.
const purgeBatch = 100

// Purge removes every preserved User whose retention ended at or before
// now, in every tenant, with a [provisioning.Purged] event for each,
// stored with the write that removes it (the resource's deletion, or the
// state's for a user the IdP had deleted; the state of a user it deletes
// is removed in a second step, and a crash between the two makes a later
// Purge tell Purged again),
// and prunes audit entries older than the audit retention
// ([WithAuditRetention]). It returns how many users it purged. The host
// calls it periodically (say hourly) from one goroutine of its own; a
// user the IdP reactivated in the meantime is kept. Calls from several
// instances at once are safe: a user is purged once.
func (s *Server) Purge(ctx context.Context, now time.Time) (int, error) {
	ps := s.policyStore()
	if ps == nil {
		return 0, ErrNoPolicyStore
	}
	n := 0
	for {
		due, err := ps.DueUserStates(ctx, now, purgeBatch)
		if err != nil {
			return n, err
		}
		progress := false
		for _, st := range due {
			done, err := s.purge(ctx, ps, st)
			if err != nil {
				return n, err
			}
			if done {
				n++
			}
			progress = true
		}
		if len(due) < purgeBatch || !progress {
			break
		}
	}
	if s.cfg.auditRetention > 0 {
		if _, err := ps.PruneAudit(ctx, now.Add(-s.cfg.auditRetention)); err != nil {
			return n, err
		}
	}
	return n, nil
}

// purge removes one preserved user and its state; it reports false for a
// user found reactivated (whose stale state it drops).
func (s *Server) purge(ctx context.Context, ps PolicyStore, st storage.UserState) (bool, error) {
	unlock, err := s.locks.lock(ctx, st.Tenant, st.ID)
	if err != nil {
		return false, err
	}
	defer unlock()
	cur, err := ps.GetUserState(ctx, st.Tenant, st.ID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && cur.State != storage.StatePreserved {
		return false, nil // reactivated or purged meanwhile
	}
	if err != nil {
		return false, err
	}
	// The Purged event is stored with the write that removes the user:
	// the resource's deletion when the IdP had only deactivated it, else
	// the state's.
	res := &storage.Resource{Kind: storage.KindUser, ID: st.ID, Name: cur.Name, Data: cur.Data}
	purged := func(res *storage.Resource) ([]provisioning.Event, []storage.Event, error) {
		if !s.eventsOn() {
			return nil, nil, nil
		}
		e := s.event(st.Tenant, provisioning.Purged, res, s.cfg.now())
		e.Active = false
		evs := []provisioning.Event{e}
		recs, err := s.records(evs)
		return evs, recs, err
	}
	if !cur.Deleted {
		old, err := s.store.Get(ctx, st.Tenant, storage.KindUser, st.ID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return false, err
		case docActive(old.Data):
			return false, ps.DeleteUserState(ctx, st.Tenant, st.ID) // reactivated
		default:
			evs, recs, err := purged(old)
			if err != nil {
				return false, err
			}
			if err := s.store.Delete(ctx, st.Tenant, storage.KindUser, st.ID, recs...); err != nil {
				return false, err
			}
			// Not one step with the deletion: a crash here leaves the
			// state, and the next Purge finds the user gone and tells
			// Purged again (hosts apply it idempotently).
			if err := ps.DeleteUserState(ctx, st.Tenant, st.ID); err != nil {
				return false, err
			}
			s.notify(ctx, 0, evs)
			return true, nil
		}
	}
	evs, recs, err := purged(res)
	if err != nil {
		return false, err
	}
	if err := ps.DeleteUserState(ctx, st.Tenant, st.ID, recs...); err != nil {
		return false, err
	}
	s.notify(ctx, 0, evs)
	return true, nil
}

// preservedEvent returns the Preserved event of res (at its version after
// the write) preserved until until.
func (s *Server) preservedEvent(tenant string, res *storage.Resource, at, until time.Time) provisioning.Event {
	e := s.event(tenant, provisioning.Preserved, res, at)
	e.Active, e.Until = false, until
	return e
}

// purgeAt is when a user preserved at now is due to be purged.
func (p *Policy) purgeAt(now time.Time) time.Time {
	if p.RetentionDays == 0 {
		return time.Time{}
	}
	return now.AddDate(0, 0, p.RetentionDays)
}

// docActive reads the active flag of a stored document (true when absent).
func docActive(data []byte) bool {
	if active, ok := scanActive(data); ok {
		return active
	}
	var v struct {
		Active *bool `json:"active"`
	}
	if json.Unmarshal(data, &v) != nil || v.Active == nil {
		return true
	}
	return *v.Active
}

// writePolicy returns the tenant's policy for a write request, loaded once
// per request (the zero Policy when the store keeps none).
func (s *Server) writePolicy(ctx context.Context, q *request) (*Policy, error) {
	if q.policy != nil {
		return q.policy, nil
	}
	q.policy = new(Policy)
	if ps := s.policyStore(); ps != nil {
		p, err := s.loadPolicy(ctx, ps, q.tenant)
		if err != nil {
			q.policy = nil
			return nil, err
		}
		*q.policy = p
	}
	return q.policy, nil
}

// userChange is what admission learned about a User write, for the
// lifecycle step after it.
type userChange struct {
	was, is bool
	// preserved is the user's preserved state found on reactivation.
	preserved bool
	// preserving: the write preserves the user until until (set by
	// lifecycleWrite).
	preserving bool
	until      time.Time
}

// admitCreate decides a POST before anything is written.
func (s *Server) admitCreate(ctx context.Context, q *request, rt *schema.ResourceType, id string, doc map[string]any, ms []storage.Member) error {
	pol, err := s.writePolicy(ctx, q)
	if err != nil {
		return err
	}
	a := Admission{Tenant: q.tenant, Op: OpCreate, Kind: rt.Kind, ID: id, After: doc, Policy: *pol}
	for _, m := range ms {
		a.Members = append(a.Members, m.Value)
	}
	return s.admit(ctx, a)
}

// admitChange decides a PUT or PATCH before it is written; it may run
// more than once for one request.
func (s *Server) admitChange(ctx context.Context, q *request, rt *schema.ResourceType, old *storage.Resource, doc map[string]any, ch *storage.MemberChange, uc *userChange) error {
	pol, err := s.writePolicy(ctx, q)
	if err != nil {
		return err
	}
	a := Admission{Tenant: q.tenant, Kind: rt.Kind, ID: old.ID, After: doc, Policy: *pol}
	before := func() map[string]any {
		if len(s.cfg.admission) == 0 {
			return map[string]any{"userName": old.Name} // all the built-in checks read
		}
		m := map[string]any{}
		if err := json.Unmarshal(old.Data, &m); err != nil {
			return map[string]any{"userName": old.Name}
		}
		return m
	}
	if rt.Kind == storage.KindGroup {
		if ch == nil || len(ch.Add) == 0 || len(s.cfg.admission) == 0 {
			return nil
		}
		a.Op, a.Before = OpAddMembers, before()
		for _, m := range ch.Add {
			a.Members = append(a.Members, m.Value)
		}
		return s.admit(ctx, a)
	}
	if name, _ := doc["userName"].(string); !strings.EqualFold(name, old.Name) && pol.protectedByName(old.ID, old.Name) {
		// Else a rename, then a deactivation or DELETE, would get past
		// the protection in two requests.
		return ErrPolicy.WithDetail(fmt.Sprintf("user %q is protected by this tenant's provisioning policy by its userName and cannot be renamed through SCIM; nothing was changed (protect it by its id in the product's admin settings to allow renames)", old.Name))
	}
	uc.is, uc.preserved = active(doc), false
	if s.policyStore() != nil {
		uc.was = old.Seat // a PolicyStore keeps Seat: no decoding
	} else {
		uc.was = docActive(old.Data)
	}
	switch {
	case uc.was && !uc.is:
		a.Op = OpDeactivate
	case !uc.was && uc.is:
		a.Op = OpReactivate
		if ps := s.policyStore(); ps != nil {
			st, err := ps.GetUserState(ctx, q.tenant, old.ID)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if err == nil && st.State == storage.StatePreserved {
				if st.ByAdmin && !pol.IdPMayReactivatePreserved {
					return ErrPolicy.WithDetail(fmt.Sprintf("user %q was preserved by an admin of this tenant and the provisioning policy does not let the IdP reactivate it; nothing was changed (an admin must restore the user in the product)", old.Name))
				}
				uc.preserved = true
			}
		}
	default:
		// A plain update: only the userName domain is checked, when
		// userName changes.
		if name, _ := doc["userName"].(string); len(pol.AllowedDomains) > 0 && name != old.Name && !pol.allowsDomain(name) {
			return ErrPolicy.WithDetail(fmt.Sprintf("userName %q is not in a domain this tenant allows (%s); nothing was changed", name, strings.Join(pol.AllowedDomains, ", ")))
		}
		return nil
	}
	a.Before = before()
	return s.admit(ctx, a)
}

// pendingOnCreate gives a User about to be created the pending state
// when the tenant's policy keeps new users pending until first login; the
// store keeps the state in the same write as the user.
func (s *Server) pendingOnCreate(q *request, res *storage.Resource) {
	if s.policyStore() == nil || res.Kind != storage.KindUser || !res.Seat || q.policy == nil || !q.policy.PendingUntilLogin {
		return
	}
	res.State = &storage.UserState{State: storage.StatePending}
}

// lifecycleWrite applies the lifecycle policy to the write of res, a User
// whose PUT or PATCH admission described in q.life, before it is stored:
// a deactivation the policy preserves stores the preserved state in the
// same write and turns the write's Deactivated event into Preserved; the
// reactivation of a preserved user removes its state in the same write.
func (s *Server) lifecycleWrite(q *request, res *storage.Resource, evs []provisioning.Event) {
	res.State = nil
	uc := q.life
	if uc == nil || s.policyStore() == nil || res.Kind != storage.KindUser || q.policy == nil {
		return
	}
	uc.preserving = false
	switch {
	case uc.was && !uc.is && q.policy.deactivation() == Preserve:
		uc.preserving, uc.until = true, q.policy.purgeAt(res.Modified)
		res.State = &storage.UserState{State: storage.StatePreserved, Until: uc.until}
		for i, e := range evs {
			if e.Type == provisioning.Deactivated {
				evs[i].Type, evs[i].Until = provisioning.Preserved, uc.until
			}
		}
	case !uc.was && uc.is && uc.preserved:
		res.State = &storage.UserState{} // remove the preserved state
	}
}

// afterChange notes in the audit log what the lifecycle policy did to a
// stored User write.
func (s *Server) afterChange(q *request, uc *userChange) {
	if uc.preserving {
		q.auditDetail = preservedDetail(uc.until)
	}
}

func preservedDetail(until time.Time) string {
	if until.IsZero() {
		return "preserved until an admin purges it"
	}
	return "preserved until " + until.UTC().Format(time.RFC3339)
}

// deleteUser answers DELETE of a User under the tenant's policy:
// protected users are refused, Preserve keeps the data (the IdP sees the
// user deleted) and Delete removes it. old is the stored user.
func (s *Server) deleteUser(ctx context.Context, q *request, old *storage.Resource) ([]provisioning.Event, error) {
	pol, err := s.writePolicy(ctx, q)
	if err != nil {
		return nil, err
	}
	a := Admission{Tenant: q.tenant, Op: OpDelete, Kind: storage.KindUser, ID: old.ID, Policy: *pol}
	if len(s.cfg.admission) > 0 {
		a.Before = map[string]any{}
		_ = json.Unmarshal(old.Data, &a.Before)
	} else {
		a.Before = map[string]any{"userName": old.Name}
	}
	if err := s.admit(ctx, a); err != nil {
		return nil, err
	}
	ps := s.policyStore()
	if ps != nil && pol.deletion() == Preserve {
		now := s.cfg.now()
		until := pol.purgeAt(now)
		var evs []provisioning.Event
		if s.eventsOn() {
			evs = []provisioning.Event{s.preservedEvent(q.tenant, old, now, until)}
		}
		recs, err := s.records(evs)
		if err != nil {
			return nil, err
		}
		// One write: the resource goes, its preserved state and the
		// Preserved event are stored.
		st := storage.UserState{ID: old.ID, State: storage.StatePreserved, Until: until, Deleted: true, Name: old.Name, Data: old.Data}
		if err := ps.PutUserState(ctx, q.tenant, st, recs...); err != nil {
			return nil, notFound(err, s.users, old.ID)
		}
		q.auditDetail = preservedDetail(until)
		return evs, nil
	}
	evs := s.deleteEvents(q.tenant, old)
	recs, err := s.records(evs)
	if err != nil {
		return nil, err
	}
	if err := s.store.Delete(ctx, q.tenant, storage.KindUser, old.ID, recs...); err != nil {
		return nil, notFound(err, s.users, old.ID)
	}
	if ps != nil {
		// Not one step with the deletion (Delete carries no state): a
		// crash here leaves the state of a gone user behind. A pending
		// one is never read (UserState finds no user); a preserved one
		// with a retention is cleared by Purge, which then tells a
		// second, redundant Purged.
		if err := ps.DeleteUserState(ctx, q.tenant, old.ID); err != nil {
			s.cfg.logger.ErrorContext(ctx, "scim: clear user state", "tenant", q.tenant, "id", old.ID, "err", err)
		}
	}
	return evs, nil
}

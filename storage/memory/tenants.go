package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// checkSeat returns [storage.ErrSeatLimit] when tn may take no more seats.
// The caller holds the tenant's write lock, which makes check and count
// one step.
func (s *Store) checkSeat(tenant string, tn *tenant) error {
	limit := tn.settings.SeatLimit
	if limit > 0 && tn.seats >= limit {
		return fmt.Errorf("memory: tenant %q holds %d of %d seats: %w", tenant, tn.seats, limit, storage.ErrSeatLimit)
	}
	return nil
}

// seatDelta is how the seat count changes when a user goes from seat was
// to seat is.
func seatDelta(was, is bool) int {
	switch {
	case was && !is:
		return -1
	case !was && is:
		return 1
	}
	return 0
}

// errNoSettings is GetTenant's answer for a tenant without settings.
var errNoSettings = fmt.Errorf("memory: no tenant settings: %w", storage.ErrNotFound)

// GetTenant returns the tenant's settings, or [storage.ErrNotFound].
func (s *Store) GetTenant(_ context.Context, tenantName string) (storage.TenantSettings, error) {
	var ts storage.TenantSettings
	err := s.tenantView(tenantName, func(tn *tenant) error {
		if tn == nil || !tn.settingsOK {
			return errNoSettings // every write of a tenant without settings asks
		}
		ts = tn.settings
		ts.Policy = slices.Clone(ts.Policy)
		return nil
	})
	return ts, err
}

// PutTenant stores a copy of ts if ts.Version is the stored version.
func (s *Store) PutTenant(_ context.Context, tenantName string, ts *storage.TenantSettings) error {
	c := *ts
	c.Policy = slices.Clone(ts.Policy)
	return s.tenantTx(tenantName, true, func(tn *tenant) error {
		if v := tn.settings.Version; v != ts.Version {
			return fmt.Errorf("memory: settings of tenantName %q are at version %d, not %d: %w", tenantName, v, ts.Version, storage.ErrVersionMismatch)
		}
		c.Version++
		tn.settings, tn.settingsOK = c, true
		ts.Version = c.Version
		return nil
	})
}

// DeleteTenant removes everything of the tenantName. It waits for the
// tenantName's writes in progress (lock order: tenantName, then the store, then
// the outbox).
func (s *Store) DeleteTenant(_ context.Context, tenant string) error {
	if tn := s.tenant(tenant, false); tn != nil {
		tn.mu.Lock()
		defer tn.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tenants, tenant)
	for _, cr := range s.creds[tenant] {
		delete(s.credByHash, cr.hash)
	}
	delete(s.creds, tenant)
	s.outMu.Lock()
	defer s.outMu.Unlock()
	s.dropTenantEvents(tenant)
	return nil
}

func copyState(st storage.UserState) storage.UserState {
	st.Data = slices.Clone(st.Data)
	return st
}

// PutUserState stores a copy of st.
func (s *Store) PutUserState(_ context.Context, tenantName string, st storage.UserState, ev ...storage.Event) error {
	st = copyState(st)
	st.Tenant = tenantName
	return s.tenantTx(tenantName, true, func(tn *tenant) error {
		if st.Deleted {
			if err := s.deleteIn(tn, tenantName, storage.KindUser, st.ID, ev); err != nil {
				return err
			}
			ev = nil
		}
		tn.putState(st)
		s.appendEvents(tenantName, 0, ev)
		return nil
	})
}

// putState stores st (a copy, Tenant set) for a caller holding the
// tenantName's write lock.
func (tn *tenant) putState(st storage.UserState) {
	if tn.states == nil {
		tn.states = make(map[string]storage.UserState)
	}
	tn.states[st.ID] = st
}

// stateOnWrite applies r.State of a User write (see
// [storage.Resource.State]) for a caller holding the tenant's write lock.
func (tn *tenant) stateOnWrite(tenant string, r *storage.Resource) {
	if r.State == nil || r.Kind != storage.KindUser {
		return
	}
	if r.State.State == "" {
		delete(tn.states, r.ID)
		return
	}
	st := copyState(*r.State)
	st.ID, st.Tenant = r.ID, tenant
	tn.putState(st)
}

// GetUserState returns the user's state, or [storage.ErrNotFound].
func (s *Store) GetUserState(_ context.Context, tenantName, id string) (storage.UserState, error) {
	var st storage.UserState
	err := s.tenantView(tenantName, func(tn *tenant) error {
		var ok bool
		if tn != nil {
			st, ok = tn.states[id]
		}
		if !ok {
			return fmt.Errorf("memory: state of user %q: %w", id, storage.ErrNotFound)
		}
		st = copyState(st)
		return nil
	})
	return st, err
}

// DeleteUserState removes the user's state.
func (s *Store) DeleteUserState(_ context.Context, tenantName, id string, ev ...storage.Event) error {
	return s.tenantTx(tenantName, false, func(tn *tenant) error {
		if tn != nil {
			delete(tn.states, id)
		}
		s.appendEvents(tenantName, 0, ev)
		return nil
	})
}

// ListUserStates returns up to limit states with ID after after, by ID.
// It sorts the tenantName's states: the memory store is for tests and small
// deployments.
func (s *Store) ListUserStates(_ context.Context, tenantName, after string, limit int) ([]storage.UserState, error) {
	var out []storage.UserState
	err := s.tenantView(tenantName, func(tn *tenant) error {
		if tn == nil {
			return nil
		}
		for id, st := range tn.states {
			if id > after {
				out = append(out, copyState(st))
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b storage.UserState) int { return cmp.Compare(a.ID, b.ID) })
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// DueUserStates returns up to limit states whose Until is set and not
// after at.
func (s *Store) DueUserStates(_ context.Context, at time.Time, limit int) ([]storage.UserState, error) {
	var out []storage.UserState
	var err error
	for _, tn := range s.allTenants() {
		tn.mu.RLock()
		for _, st := range tn.states {
			if !st.Until.IsZero() && !st.Until.After(at) {
				out = append(out, copyState(st))
			}
		}
		tn.mu.RUnlock()
	}
	slices.SortFunc(out, func(a, b storage.UserState) int {
		return cmp.Or(a.Until.Compare(b.Until), cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.ID, b.ID))
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// AppendAudit stores copies of entries.
func (s *Store) AppendAudit(_ context.Context, tenantName string, entries []storage.AuditEntry) error {
	return s.tenantTx(tenantName, true, func(tn *tenant) error {
		for _, e := range entries {
			e.Normalizations = slices.Clone(e.Normalizations)
			log := tn.audit
			// Keep the log in time order; entries nearly always come last.
			i := len(log)
			for i > 0 && log[i-1].Time.After(e.Time) {
				i--
			}
			tn.audit = slices.Insert(log, i, e)
		}
		return nil
	})
}

// ListAudit returns up to limit entries with since <= Time < until,
// oldest first (binary search on the time-ordered log).
func (s *Store) ListAudit(_ context.Context, tenantName string, since, until time.Time, limit int) ([]storage.AuditEntry, error) {
	var out []storage.AuditEntry
	err := s.tenantView(tenantName, func(tn *tenant) error {
		if tn == nil {
			return nil
		}
		log := tn.audit
		i, _ := slices.BinarySearchFunc(log, since, func(e storage.AuditEntry, t time.Time) int {
			if e.Time.Before(t) {
				return -1
			}
			return 1
		})
		for ; i < len(log) && (limit < 0 || len(out) < limit); i++ {
			if !until.IsZero() && !log[i].Time.Before(until) {
				break
			}
			e := log[i]
			e.Normalizations = slices.Clone(e.Normalizations)
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// PruneAudit removes entries older than before.
func (s *Store) PruneAudit(_ context.Context, before time.Time) (int, error) {
	n := 0
	var err error
	for _, tn := range s.allTenants() {
		tn.mu.Lock()
		log := tn.audit
		i, _ := slices.BinarySearchFunc(log, before, func(e storage.AuditEntry, t time.Time) int {
			if e.Time.Before(t) {
				return -1
			}
			return 1
		})
		n += i
		if i == len(log) {
			tn.audit = nil
		} else if i > 0 {
			tn.audit = slices.Clone(log[i:])
		}
		tn.mu.Unlock()
	}
	return n, err
}

// allTenants returns the tenants stored now (each to be locked by the
// caller in turn).
func (s *Store) allTenants() []*tenant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*tenant, 0, len(s.tenants))
	for _, tn := range s.tenants {
		out = append(out, tn)
	}
	return out
}

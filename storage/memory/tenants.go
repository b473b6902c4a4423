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
// The caller holds the write lock, which makes check and count one step.
func (s *Store) checkSeat(tenant string, tn *tenant) error {
	limit := s.settings[tenant].SeatLimit
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

// GetTenant returns the tenant's settings, or [storage.ErrNotFound].
func (s *Store) GetTenant(_ context.Context, tenant string) (storage.TenantSettings, error) {
	var ts storage.TenantSettings
	err := s.view(func() error {
		var ok bool
		if ts, ok = s.settings[tenant]; !ok {
			return fmt.Errorf("memory: settings of tenant %q: %w", tenant, storage.ErrNotFound)
		}
		ts.Policy = slices.Clone(ts.Policy)
		return nil
	})
	return ts, err
}

// PutTenant stores a copy of ts if ts.Version is the stored version.
func (s *Store) PutTenant(_ context.Context, tenant string, ts *storage.TenantSettings) error {
	c := *ts
	c.Policy = slices.Clone(ts.Policy)
	return s.tx(func() error {
		if v := s.settings[tenant].Version; v != ts.Version {
			return fmt.Errorf("memory: settings of tenant %q are at version %d, not %d: %w", tenant, v, ts.Version, storage.ErrVersionMismatch)
		}
		c.Version++
		s.settings[tenant] = c
		ts.Version = c.Version
		return nil
	})
}

// DeleteTenant removes everything of the tenant.
func (s *Store) DeleteTenant(_ context.Context, tenant string) error {
	return s.tx(func() error {
		delete(s.tenants, tenant)
		for _, cr := range s.creds[tenant] {
			delete(s.credByHash, cr.hash)
		}
		delete(s.creds, tenant)
		delete(s.settings, tenant)
		delete(s.states, tenant)
		delete(s.audit, tenant)
		s.dropTenantEvents(tenant)
		return nil
	})
}

func copyState(st storage.UserState) storage.UserState {
	st.Data = slices.Clone(st.Data)
	return st
}

// PutUserState stores a copy of st.
func (s *Store) PutUserState(_ context.Context, tenant string, st storage.UserState, ev ...storage.Event) error {
	st = copyState(st)
	st.Tenant = tenant
	return s.tx(func() error {
		if st.Deleted {
			if err := s.deleteLocked(tenant, storage.KindUser, st.ID, ev); err != nil {
				return err
			}
			ev = nil
		}
		s.putStateLocked(tenant, st)
		s.appendEvents(tenant, 0, ev)
		return nil
	})
}

// putStateLocked stores st (a copy, Tenant set) for a caller holding the
// write lock.
func (s *Store) putStateLocked(tenant string, st storage.UserState) {
	m := s.states[tenant]
	if m == nil {
		m = make(map[string]storage.UserState)
		s.states[tenant] = m
	}
	m[st.ID] = st
}

// stateOnWrite applies r.State of a User write (see
// [storage.Resource.State]) for a caller holding the write lock.
func (s *Store) stateOnWrite(tenant string, r *storage.Resource) {
	if r.State == nil || r.Kind != storage.KindUser {
		return
	}
	if r.State.State == "" {
		delete(s.states[tenant], r.ID)
		return
	}
	st := copyState(*r.State)
	st.ID, st.Tenant = r.ID, tenant
	s.putStateLocked(tenant, st)
}

// GetUserState returns the user's state, or [storage.ErrNotFound].
func (s *Store) GetUserState(_ context.Context, tenant, id string) (storage.UserState, error) {
	var st storage.UserState
	err := s.view(func() error {
		var ok bool
		if st, ok = s.states[tenant][id]; !ok {
			return fmt.Errorf("memory: state of user %q: %w", id, storage.ErrNotFound)
		}
		st = copyState(st)
		return nil
	})
	return st, err
}

// DeleteUserState removes the user's state.
func (s *Store) DeleteUserState(_ context.Context, tenant, id string, ev ...storage.Event) error {
	return s.tx(func() error {
		delete(s.states[tenant], id)
		s.appendEvents(tenant, 0, ev)
		return nil
	})
}

// ListUserStates returns up to limit states with ID after after, by ID.
// It sorts the tenant's states: the memory store is for tests and small
// deployments.
func (s *Store) ListUserStates(_ context.Context, tenant, after string, limit int) ([]storage.UserState, error) {
	var out []storage.UserState
	err := s.view(func() error {
		for id, st := range s.states[tenant] {
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
	err := s.view(func() error {
		for _, m := range s.states {
			for _, st := range m {
				if !st.Until.IsZero() && !st.Until.After(at) {
					out = append(out, copyState(st))
				}
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b storage.UserState) int {
		return cmp.Or(a.Until.Compare(b.Until), cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.ID, b.ID))
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// AppendAudit stores copies of entries.
func (s *Store) AppendAudit(_ context.Context, tenant string, entries []storage.AuditEntry) error {
	return s.tx(func() error {
		for _, e := range entries {
			e.Normalizations = slices.Clone(e.Normalizations)
			log := s.audit[tenant]
			// Keep the log in time order; entries nearly always come last.
			i := len(log)
			for i > 0 && log[i-1].Time.After(e.Time) {
				i--
			}
			s.audit[tenant] = slices.Insert(log, i, e)
		}
		return nil
	})
}

// ListAudit returns up to limit entries with since <= Time < until,
// oldest first (binary search on the time-ordered log).
func (s *Store) ListAudit(_ context.Context, tenant string, since, until time.Time, limit int) ([]storage.AuditEntry, error) {
	var out []storage.AuditEntry
	err := s.view(func() error {
		log := s.audit[tenant]
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
	err := s.tx(func() error {
		for tenant, log := range s.audit {
			i, _ := slices.BinarySearchFunc(log, before, func(e storage.AuditEntry, t time.Time) int {
				if e.Time.Before(t) {
					return -1
				}
				return 1
			})
			n += i
			if i == len(log) {
				delete(s.audit, tenant)
			} else if i > 0 {
				s.audit[tenant] = slices.Clone(log[i:])
			}
		}
		return nil
	})
	return n, err
}

package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// credential is one stored credential with the hash of its token.
type credential struct {
	c    storage.Credential
	hash string
	// lastUsed is a later LastUsed than c's, set by TouchCredential under
	// the read lock only: a server records the first use of every
	// credential, and with many tenants a write lock per use would stall
	// the reads of every request.
	lastUsed atomic.Pointer[time.Time]
}

// get returns the credential with its last use.
func (cr *credential) get() storage.Credential {
	c := cr.c
	if t := cr.lastUsed.Load(); t != nil && t.After(c.LastUsed) {
		c.LastUsed = *t
	}
	return c
}

// CreateCredential stores c for tenant with hash. It returns
// [storage.ErrConflict] when the tenant has a credential with c.ID or any
// tenant has one with hash.
func (s *Store) CreateCredential(_ context.Context, tenant string, c storage.Credential, hash []byte) error {
	if len(hash) == 0 {
		return errors.New("memory: empty token hash")
	}
	c.Tenant = tenant
	key := string(hash)
	return s.tx(func() error {
		if _, ok := s.credByHash[key]; ok {
			return fmt.Errorf("memory: token hash of credential %q: %w", c.ID, storage.ErrConflict)
		}
		byID := s.creds[tenant]
		if _, ok := byID[c.ID]; ok {
			return fmt.Errorf("memory: credential %q: %w", c.ID, storage.ErrConflict)
		}
		if byID == nil {
			byID = make(map[string]*credential)
			s.creds[tenant] = byID
		}
		cr := &credential{c: c, hash: key}
		byID[c.ID] = cr
		s.credByHash[key] = cr
		return nil
	})
}

// CredentialByHash returns the credential whose token hash is hash, or
// [storage.ErrNotFound].
func (s *Store) CredentialByHash(_ context.Context, hash []byte) (storage.Credential, error) {
	var c storage.Credential
	err := s.view(func() error {
		cr, ok := s.credByHash[string(hash)]
		if !ok {
			return fmt.Errorf("memory: token hash: %w", storage.ErrNotFound)
		}
		c = cr.get()
		return nil
	})
	return c, err
}

// ListCredentials returns the tenant's credentials by Created, then ID.
func (s *Store) ListCredentials(_ context.Context, tenant string) ([]storage.Credential, error) {
	var out []storage.Credential
	err := s.view(func() error {
		out = make([]storage.Credential, 0, len(s.creds[tenant]))
		for _, cr := range s.creds[tenant] {
			out = append(out, cr.get())
		}
		return nil
	})
	slices.SortFunc(out, func(a, b storage.Credential) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return out, err
}

// ExpireCredential sets the credential's Expires to at unless it expires
// earlier already; [storage.ErrNotFound] when absent.
func (s *Store) ExpireCredential(_ context.Context, tenant, id string, at time.Time) error {
	return s.tx(func() error {
		cr, ok := s.creds[tenant][id]
		if !ok {
			return fmt.Errorf("memory: credential %q: %w", id, storage.ErrNotFound)
		}
		if cr.c.Expires.IsZero() || at.Before(cr.c.Expires) {
			cr.c.Expires = at
		}
		return nil
	})
}

// RevokeCredential deletes the credential; [storage.ErrNotFound] when
// absent.
func (s *Store) RevokeCredential(_ context.Context, tenant, id string) error {
	return s.tx(func() error {
		cr, ok := s.creds[tenant][id]
		if !ok {
			return fmt.Errorf("memory: credential %q: %w", id, storage.ErrNotFound)
		}
		delete(s.credByHash, cr.hash)
		delete(s.creds[tenant], id)
		if len(s.creds[tenant]) == 0 {
			delete(s.creds, tenant)
		}
		return nil
	})
}

// TouchCredential sets LastUsed to at unless it is later already; an
// absent credential is not an error.
func (s *Store) TouchCredential(_ context.Context, tenant, id string, at time.Time) error {
	return s.view(func() error {
		cr, ok := s.creds[tenant][id]
		if !ok || !at.After(cr.c.LastUsed) {
			return nil
		}
		for {
			old := cr.lastUsed.Load()
			if old != nil && !at.After(*old) {
				return nil
			}
			if cr.lastUsed.CompareAndSwap(old, &at) {
				return nil
			}
		}
	})
}

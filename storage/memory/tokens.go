package memory

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/scimkit/scimkit/storage"
)

// SetTokenHash stores a copy of hash as the tenant's only token hash; the
// previous one stops resolving. It returns [storage.ErrConflict] when
// another tenant already has the same hash.
func (s *Store) SetTokenHash(_ context.Context, tenant string, hash []byte) error {
	if len(hash) == 0 {
		return errors.New("memory: empty token hash")
	}
	key := hex.EncodeToString(hash)
	return s.tx(func() error {
		if owner, ok := s.tokenTenants[key]; ok && owner != tenant {
			return fmt.Errorf("memory: token hash of tenant %q: %w", tenant, storage.ErrConflict)
		}
		if old, ok := s.tokens[tenant]; ok {
			delete(s.tokenTenants, hex.EncodeToString(old))
		}
		s.tokens[tenant] = bytes.Clone(hash)
		s.tokenTenants[key] = tenant
		return nil
	})
}

// TokenHash returns a copy of the tenant's token hash, or
// [storage.ErrNotFound].
func (s *Store) TokenHash(_ context.Context, tenant string) ([]byte, error) {
	var h []byte
	err := s.view(func() error {
		old, ok := s.tokens[tenant]
		if !ok {
			return fmt.Errorf("memory: token of tenant %q: %w", tenant, storage.ErrNotFound)
		}
		h = bytes.Clone(old)
		return nil
	})
	return h, err
}

// TenantByTokenHash returns the tenant whose token hash is hash, or
// [storage.ErrNotFound].
func (s *Store) TenantByTokenHash(_ context.Context, hash []byte) (string, error) {
	key := hex.EncodeToString(hash)
	var tenant string
	err := s.view(func() error {
		t, ok := s.tokenTenants[key]
		if !ok {
			return fmt.Errorf("memory: token hash: %w", storage.ErrNotFound)
		}
		tenant = t
		return nil
	})
	return tenant, err
}

// DeleteTokenHash removes the tenant's token hash; absent is not an error.
func (s *Store) DeleteTokenHash(_ context.Context, tenant string) error {
	return s.tx(func() error {
		if old, ok := s.tokens[tenant]; ok {
			delete(s.tokenTenants, hex.EncodeToString(old))
			delete(s.tokens, tenant)
		}
		return nil
	})
}

package storagetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

func assertNoToken(t *testing.T, s storage.Store, tenant string, hash []byte) {
	t.Helper()
	_, err := s.TokenHash(t.Context(), tenant)
	require.ErrorIs(t, err, storage.ErrNotFound, "TokenHash(%q)", tenant)
	if hash != nil {
		_, err = s.TenantByTokenHash(t.Context(), hash)
		require.ErrorIs(t, err, storage.ErrNotFound, "TenantByTokenHash(%x)", hash)
	}
}

func assertToken(t *testing.T, s storage.Store, tenant string, hash []byte) {
	t.Helper()
	got, err := s.TokenHash(t.Context(), tenant)
	require.NoError(t, err)
	assert.Equal(t, hash, got, "TokenHash(%q)", tenant)
	owner, err := s.TenantByTokenHash(t.Context(), hash)
	require.NoError(t, err)
	assert.Equal(t, tenant, owner, "TenantByTokenHash(%x)", hash)
}

func testTokens(t *testing.T, newStore newStoreFunc) {
	h1 := []byte("0123456789abcdef0123456789abcdef")
	h2 := []byte("fedcba9876543210fedcba9876543210")
	h3 := []byte("\x00\x01\x02\x03 binary hash bytes \xff\xfe")
	set := func(ctx context.Context, t *testing.T, s storage.Store, tenant string, h []byte) {
		t.Helper()
		require.NoError(t, s.SetTokenHash(ctx, tenant, h))
	}

	cases := []struct {
		name  string
		run   func(t *testing.T, s storage.Store)
		check func(t *testing.T, s storage.Store)
	}{
		{
			name:  "unknown tenant and hash are not found",
			run:   func(t *testing.T, s storage.Store) {},
			check: func(t *testing.T, s storage.Store) { assertNoToken(t, s, tenantA, h1) },
		},
		{
			name:  "a set hash resolves both ways",
			run:   func(t *testing.T, s storage.Store) { set(t.Context(), t, s, tenantA, h1) },
			check: func(t *testing.T, s storage.Store) { assertToken(t, s, tenantA, h1) },
		},
		{
			name: "arbitrary bytes survive",
			run:  func(t *testing.T, s storage.Store) { set(t.Context(), t, s, tenantA, h3) },
			check: func(t *testing.T, s storage.Store) {
				assertToken(t, s, tenantA, h3)
			},
		},
		{
			name: "a new hash replaces the old one, which stops resolving",
			run: func(t *testing.T, s storage.Store) {
				set(t.Context(), t, s, tenantA, h1)
				set(t.Context(), t, s, tenantA, h2)
			},
			check: func(t *testing.T, s storage.Store) {
				assertToken(t, s, tenantA, h2)
				_, err := s.TenantByTokenHash(t.Context(), h1)
				require.ErrorIs(t, err, storage.ErrNotFound)
			},
		},
		{
			name: "setting the same hash again keeps it",
			run: func(t *testing.T, s storage.Store) {
				set(t.Context(), t, s, tenantA, h1)
				set(t.Context(), t, s, tenantA, h1)
			},
			check: func(t *testing.T, s storage.Store) { assertToken(t, s, tenantA, h1) },
		},
		{
			name: "delete removes the hash both ways",
			run: func(t *testing.T, s storage.Store) {
				set(t.Context(), t, s, tenantA, h1)
				require.NoError(t, s.DeleteTokenHash(t.Context(), tenantA))
			},
			check: func(t *testing.T, s storage.Store) { assertNoToken(t, s, tenantA, h1) },
		},
		{
			name: "deleting an absent token is not an error",
			run: func(t *testing.T, s storage.Store) {
				require.NoError(t, s.DeleteTokenHash(t.Context(), tenantA))
				set(t.Context(), t, s, tenantA, h1)
				require.NoError(t, s.DeleteTokenHash(t.Context(), tenantA))
				require.NoError(t, s.DeleteTokenHash(t.Context(), tenantA))
			},
			check: func(t *testing.T, s storage.Store) { assertNoToken(t, s, tenantA, h1) },
		},
		{
			name: "two tenants have independent tokens",
			run: func(t *testing.T, s storage.Store) {
				set(t.Context(), t, s, tenantA, h1)
				set(t.Context(), t, s, tenantB, h2)
				require.NoError(t, s.DeleteTokenHash(t.Context(), tenantA))
			},
			check: func(t *testing.T, s storage.Store) {
				assertNoToken(t, s, tenantA, h1)
				assertToken(t, s, tenantB, h2)
			},
		},
		{
			name: "replacing one tenant's token leaves the other's",
			run: func(t *testing.T, s storage.Store) {
				set(t.Context(), t, s, tenantA, h1)
				set(t.Context(), t, s, tenantB, h2)
				set(t.Context(), t, s, tenantA, h3)
			},
			check: func(t *testing.T, s storage.Store) {
				assertToken(t, s, tenantA, h3)
				assertToken(t, s, tenantB, h2)
			},
		},
		{
			name: "changing the hash passed in or returned changes nothing",
			run: func(t *testing.T, s storage.Store) {
				in := append([]byte(nil), h1...)
				set(t.Context(), t, s, tenantA, in)
				in[0] = 'X'
				out, err := s.TokenHash(t.Context(), tenantA)
				require.NoError(t, err)
				out[1] = 'Y'
			},
			check: func(t *testing.T, s storage.Store) { assertToken(t, s, tenantA, h1) },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			tc.run(t, s)
			tc.check(t, s)
		})
	}
}

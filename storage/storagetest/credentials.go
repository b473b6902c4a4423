package storagetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// cred is a credential fixture created at t0 plus minutes.
func cred(id, label string, minutes int) storage.Credential {
	return storage.Credential{ID: id, Label: label, Created: t0.Add(time.Duration(minutes) * time.Minute)}
}

func mustCreateCred(t *testing.T, s storage.Store, tenant string, c storage.Credential, hash []byte) {
	t.Helper()
	require.NoError(t, s.CreateCredential(t.Context(), tenant, c, hash), "create credential %q", c.ID)
}

// assertCred checks every field of got against want (times with
// time.Equal) and that its tenant is tenant.
func assertCred(t *testing.T, tenant string, want, got storage.Credential) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID, "ID")
	assert.Equal(t, tenant, got.Tenant, "Tenant")
	assert.Equal(t, want.Label, got.Label, "Label")
	assert.True(t, want.Created.Equal(got.Created), "Created: want %v, got %v", want.Created, got.Created)
	assert.True(t, want.Expires.Equal(got.Expires), "Expires: want %v, got %v", want.Expires, got.Expires)
	assert.True(t, want.LastUsed.Equal(got.LastUsed), "LastUsed: want %v, got %v", want.LastUsed, got.LastUsed)
}

func mustByHash(t *testing.T, s storage.Store, hash []byte) storage.Credential {
	t.Helper()
	c, err := s.CredentialByHash(t.Context(), hash)
	require.NoError(t, err, "CredentialByHash(%x)", hash)
	return c
}

func assertNoHash(t *testing.T, s storage.Store, hash []byte) {
	t.Helper()
	_, err := s.CredentialByHash(t.Context(), hash)
	require.ErrorIs(t, err, storage.ErrNotFound, "CredentialByHash(%x)", hash)
}

func listIDs(t *testing.T, s storage.Store, tenant string) []string {
	t.Helper()
	cs, err := s.ListCredentials(t.Context(), tenant)
	require.NoError(t, err)
	out := []string{}
	for _, c := range cs {
		assert.Equal(t, tenant, c.Tenant, "a listed credential's tenant")
		out = append(out, c.ID)
	}
	return out
}

func testCredentials(t *testing.T, newStore newStoreFunc) {
	h1 := []byte("0123456789abcdef0123456789abcdef")
	h2 := []byte("fedcba9876543210fedcba9876543210")
	h3 := []byte("\x00\x01\x02\x03 binary hash bytes \xff\xfe")
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)

	cases := []struct {
		name string
		run  func(t *testing.T, s storage.Store)
	}{
		{
			name: "an unknown hash is not found and an unknown tenant lists nothing",
			run: func(t *testing.T, s storage.Store) {
				assertNoHash(t, s, h1)
				assert.Empty(t, listIDs(t, s, tenantA))
			},
		},
		{
			name: "a created credential resolves by hash with every field, times across zones",
			run: func(t *testing.T, s storage.Store) {
				c := storage.Credential{
					ID: "c1", Label: "Entra production ✓", Tenant: "ignored",
					Created:  t0.In(zone),
					Expires:  t0.Add(365 * 24 * time.Hour).In(zone),
					LastUsed: t0.Add(time.Second),
				}
				mustCreateCred(t, s, tenantA, c, h1)
				assertCred(t, tenantA, c, mustByHash(t, s, h1))
				cs, err := s.ListCredentials(t.Context(), tenantA)
				require.NoError(t, err)
				require.Len(t, cs, 1)
				assertCred(t, tenantA, c, cs[0])
			},
		},
		{
			name: "zero Expires and LastUsed stay zero",
			run: func(t *testing.T, s storage.Store) {
				mustCreateCred(t, s, tenantA, cred("c1", "", 0), h1)
				got := mustByHash(t, s, h1)
				assert.True(t, got.Expires.IsZero(), "Expires %v", got.Expires)
				assert.True(t, got.LastUsed.IsZero(), "LastUsed %v", got.LastUsed)
				assert.False(t, got.Expired(t0.AddDate(1000, 0, 0)), "a credential without expiry never expires")
			},
		},
		{
			name: "the expiry survives to the microsecond: valid just before, expired at the instant",
			run: func(t *testing.T, s storage.Store) {
				c := cred("c1", "", 0)
				c.Expires = t0.Add(time.Hour + time.Microsecond)
				mustCreateCred(t, s, tenantA, c, h1)
				got := mustByHash(t, s, h1)
				assert.False(t, got.Expired(c.Expires.Add(-time.Microsecond)), "one microsecond before Expires")
				assert.True(t, got.Expired(c.Expires), "at Expires")
				assert.True(t, got.Expired(c.Expires.Add(time.Microsecond)), "after Expires")
				assertCred(t, tenantA, c, got)
			},
		},
		{
			name: "arbitrary hash bytes survive",
			run: func(t *testing.T, s storage.Store) {
				mustCreateCred(t, s, tenantA, cred("c1", "", 0), h3)
				assert.Equal(t, "c1", mustByHash(t, s, h3).ID)
				assertNoHash(t, s, h3[:len(h3)-1])
			},
		},
		{
			name: "a tenant has several credentials, listed by Created then ID",
			run: func(t *testing.T, s storage.Store) {
				mustCreateCred(t, s, tenantA, cred("b", "second", 1), h1)
				mustCreateCred(t, s, tenantA, cred("z", "first", 0), h2)
				mustCreateCred(t, s, tenantA, cred("a", "third", 1), h3)
				assert.Equal(t, []string{"z", "a", "b"}, listIDs(t, s, tenantA))
				assert.Equal(t, "b", mustByHash(t, s, h1).ID)
				assert.Equal(t, "z", mustByHash(t, s, h2).ID)
				assert.Equal(t, "a", mustByHash(t, s, h3).ID)
			},
		},
		{
			name: "a list never holds a token hash",
			run: func(t *testing.T, s storage.Store) {
				hash := []byte("hash-that-must-not-leak-0123456789")
				mustCreateCred(t, s, tenantA, cred("c1", "label", 0), hash)
				cs, err := s.ListCredentials(t.Context(), tenantA)
				require.NoError(t, err)
				dump := fmt.Sprintf("%+v %#v", cs, cs)
				assert.NotContains(t, dump, "must-not-leak")
				assert.NotContains(t, strings.ToLower(dump), fmt.Sprintf("%x", hash))
			},
		},
		{
			name: "a duplicate hash is a conflict, in the same tenant or another",
			run: func(t *testing.T, s storage.Store) {
				mustCreateCred(t, s, tenantA, cred("c1", "", 0), h1)
				err := s.CreateCredential(t.Context(), tenantA, cred("c2", "", 1), h1)
				require.ErrorIs(t, err, storage.ErrConflict)
				err = s.CreateCredential(t.Context(), tenantB, cred("c3", "", 1), h1)
				require.ErrorIs(t, err, storage.ErrConflict)
				assert.Equal(t, tenantA, mustByHash(t, s, h1).Tenant)
				assert.Equal(t, []string{"c1"}, listIDs(t, s, tenantA))
				assert.Empty(t, listIDs(t, s, tenantB))
			},
		},
		{
			name: "a duplicate id is a conflict within a tenant, not across tenants",
			run: func(t *testing.T, s storage.Store) {
				mustCreateCred(t, s, tenantA, cred("c1", "", 0), h1)
				err := s.CreateCredential(t.Context(), tenantA, cred("c1", "", 1), h2)
				require.ErrorIs(t, err, storage.ErrConflict)
				assertNoHash(t, s, h2)
				mustCreateCred(t, s, tenantB, cred("c1", "", 0), h2)
				assert.Equal(t, tenantB, mustByHash(t, s, h2).Tenant)
			},
		},
		{
			name: "tenant isolation: one tenant's credential never lists, revokes, expires or touches under another",
			run: func(t *testing.T, s storage.Store) {
				mustCreateCred(t, s, tenantA, cred("c1", "a's", 0), h1)
				assert.Empty(t, listIDs(t, s, tenantB))
				require.ErrorIs(t, s.RevokeCredential(t.Context(), tenantB, "c1"), storage.ErrNotFound)
				require.ErrorIs(t, s.ExpireCredential(t.Context(), tenantB, "c1", t0), storage.ErrNotFound)
				require.NoError(t, s.TouchCredential(t.Context(), tenantB, "c1", t0.Add(time.Hour)))
				got := mustByHash(t, s, h1)
				assertCred(t, tenantA, cred("c1", "a's", 0), got)
			},
		},
		{
			name: "expire sets Expires, never later than it was",
			run: func(t *testing.T, s storage.Store) {
				mustCreateCred(t, s, tenantA, cred("c1", "", 0), h1)
				at := t0.Add(2 * time.Hour)
				require.NoError(t, s.ExpireCredential(t.Context(), tenantA, "c1", at))
				assert.True(t, at.Equal(mustByHash(t, s, h1).Expires))
				require.NoError(t, s.ExpireCredential(t.Context(), tenantA, "c1", at.Add(time.Hour)), "a later expiry")
				assert.True(t, at.Equal(mustByHash(t, s, h1).Expires), "a later expiry does not extend")
				earlier := t0.Add(time.Hour)
				require.NoError(t, s.ExpireCredential(t.Context(), tenantA, "c1", earlier))
				assert.True(t, earlier.Equal(mustByHash(t, s, h1).Expires), "an earlier expiry wins")
				require.ErrorIs(t, s.ExpireCredential(t.Context(), tenantA, "absent", at), storage.ErrNotFound)
			},
		},
		{
			name: "revoke removes the credential and its hash, which can be used again",
			run: func(t *testing.T, s storage.Store) {
				mustCreateCred(t, s, tenantA, cred("c1", "", 0), h1)
				mustCreateCred(t, s, tenantA, cred("c2", "", 1), h2)
				require.NoError(t, s.RevokeCredential(t.Context(), tenantA, "c1"))
				assertNoHash(t, s, h1)
				assert.Equal(t, []string{"c2"}, listIDs(t, s, tenantA))
				require.ErrorIs(t, s.RevokeCredential(t.Context(), tenantA, "c1"), storage.ErrNotFound, "revoked twice")
				mustCreateCred(t, s, tenantB, cred("c1", "", 2), h1)
				assert.Equal(t, tenantB, mustByHash(t, s, h1).Tenant)
			},
		},
		{
			name: "touch records the latest use and never goes back",
			run: func(t *testing.T, s storage.Store) {
				mustCreateCred(t, s, tenantA, cred("c1", "", 0), h1)
				mustCreateCred(t, s, tenantA, cred("c2", "", 0), h2)
				used := t0.Add(90 * time.Second).In(zone)
				require.NoError(t, s.TouchCredential(t.Context(), tenantA, "c1", used))
				assert.True(t, used.Equal(mustByHash(t, s, h1).LastUsed))
				require.NoError(t, s.TouchCredential(t.Context(), tenantA, "c1", used.Add(-time.Minute)))
				assert.True(t, used.Equal(mustByHash(t, s, h1).LastUsed), "an older touch is ignored")
				assert.True(t, mustByHash(t, s, h2).LastUsed.IsZero(), "the other credential is untouched")
				require.NoError(t, s.TouchCredential(t.Context(), tenantA, "absent", used), "touching an absent credential")
			},
		},
		{
			name: "changing the hash passed in changes nothing",
			run: func(t *testing.T, s storage.Store) {
				in := append([]byte(nil), h1...)
				mustCreateCred(t, s, tenantA, cred("c1", "", 0), in)
				in[0] = 'X'
				assert.Equal(t, "c1", mustByHash(t, s, h1).ID)
				assertNoHash(t, s, in)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
	t.Run("concurrent creates of one hash: exactly one wins", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.CreateCredential(t.Context(), []string{tenantA, tenantB}[i%2], cred(fmt.Sprintf("c%d", i), "", 0), h1)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			require.ErrorIs(t, err, storage.ErrConflict)
		}
		assert.Equal(t, 1, won)
		assert.Len(t, append(listIDs(t, s, tenantA), listIDs(t, s, tenantB)...), 1)
	})
	t.Run("concurrent lookups, touches and revocations", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const n = 8
		for i := range n {
			mustCreateCred(t, s, tenantA, cred(fmt.Sprintf("c%d", i), "", 0), []byte(fmt.Sprintf("hash-%d", i)))
		}
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id, hash := fmt.Sprintf("c%d", i), []byte(fmt.Sprintf("hash-%d", i))
				for j := range 10 {
					assert.NoError(t, s.TouchCredential(t.Context(), tenantA, id, t0.Add(time.Duration(j)*time.Second)))
					_, err := s.CredentialByHash(t.Context(), hash)
					assert.NoError(t, err)
				}
				if i%2 == 0 {
					assert.NoError(t, s.RevokeCredential(t.Context(), tenantA, id))
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, []string{"c1", "c3", "c5", "c7"}, listIDs(t, s, tenantA))
		assert.True(t, t0.Add(9*time.Second).Equal(mustByHash(t, s, []byte("hash-1")).LastUsed))
	})
}

package storagetest

import (
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// Run runs the conformance suite against the stores newStore returns. It
// calls newStore once per test, from tests that may run in parallel; each
// call must return an independent, empty store, and should close it with
// t.Cleanup. Tests are grouped by guarantee ("Resources", "List",
// "Filter", "Members", "Tenants", "Aliasing", "Credentials", "Concurrency",
// "ServerFilters", "ServerCaseExact", "Outbox", "TenantSettings",
// "SeatLimit", "UserStates", "AuditLog", "DeleteTenant"), so a backend can
// run a subset with -run. The Server groups put the store behind a real
// scimkit server and send it filters over HTTP, as an IdP would.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Run("Resources", func(t *testing.T) { testResources(t, newStore) })
	t.Run("List", func(t *testing.T) { testList(t, newStore) })
	t.Run("Filter", func(t *testing.T) { testFilter(t, newStore) })
	t.Run("Members", func(t *testing.T) { testMembers(t, newStore) })
	t.Run("ListWithMembers", func(t *testing.T) { testListWithMembers(t, newStore) })
	t.Run("ChangeMembersWithGroup", func(t *testing.T) { testChangeMembersWithGroup(t, newStore) })
	t.Run("LookupMember", func(t *testing.T) { testLookupMember(t, newStore) })
	t.Run("Tenants", func(t *testing.T) { testTenants(t, newStore) })
	t.Run("Aliasing", func(t *testing.T) { testAliasing(t, newStore) })
	t.Run("Credentials", func(t *testing.T) { testCredentials(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
	t.Run("ServerFilters", func(t *testing.T) { testServerFilters(t, newStore) })
	t.Run("ServerCaseExact", func(t *testing.T) { testServerCaseExact(t, newStore) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, newStore) })
	t.Run("TenantSettings", func(t *testing.T) { testTenantSettings(t, newStore) })
	t.Run("SeatLimit", func(t *testing.T) { testSeatLimit(t, newStore) })
	t.Run("UserStates", func(t *testing.T) { testUserStates(t, newStore) })
	t.Run("AuditLog", func(t *testing.T) { testAuditLog(t, newStore) })
	t.Run("DeleteTenant", func(t *testing.T) { testDeleteTenant(t, newStore) })
}

// newStoreFunc is the argument of [Run].
type newStoreFunc = func(t *testing.T) storage.Store

const (
	tenantA = "acme"
	tenantB = "globex"

	userSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterprise  = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// t0 is the fixtures' base time, with the microsecond precision every
// backend keeps.
var t0 = time.Date(2024, time.March, 1, 12, 0, 0, 123456000, time.UTC)

// attrs is a JSON object in a fixture.
type attrs = map[string]any

// newUser returns a User whose Data holds schemas, userName and extra.
// ExternalID and Emails are taken from extra["externalId"] and the
// "value"s of extra["emails"] (a []attrs), as the server would.
func newUser(t *testing.T, id, userName string, extra attrs) *storage.Resource {
	t.Helper()
	d := attrs{"schemas": []any{userSchema}, "userName": userName}
	maps.Copy(d, extra)
	r := &storage.Resource{Kind: storage.KindUser, ID: id, Name: userName, Created: t0, Modified: t0}
	r.ExternalID, _ = d["externalId"].(string)
	emails, _ := d["emails"].([]attrs)
	for _, e := range emails {
		v, ok := e["value"].(string)
		require.True(t, ok, "fixture email without a string value: %v", e)
		r.Emails = append(r.Emails, v)
	}
	r.Data = mustJSON(t, d)
	return r
}

// newGroup returns a Group whose Data holds schemas, displayName and extra.
func newGroup(t *testing.T, id, displayName string, extra attrs) *storage.Resource {
	t.Helper()
	d := attrs{"schemas": []any{groupSchema}, "displayName": displayName}
	maps.Copy(d, extra)
	r := &storage.Resource{Kind: storage.KindGroup, ID: id, Name: displayName, Created: t0, Modified: t0}
	r.ExternalID, _ = d["externalId"].(string)
	r.Data = mustJSON(t, d)
	return r
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// mustCreate creates rs in tenant, in order.
func mustCreate(t *testing.T, s storage.Store, tenant string, rs ...*storage.Resource) {
	t.Helper()
	for _, r := range rs {
		require.NoError(t, s.Create(t.Context(), tenant, r), "create %s %q", r.Kind, r.ID)
	}
}

func mustGet(t *testing.T, s storage.Store, tenant string, kind storage.Kind, id string) *storage.Resource {
	t.Helper()
	r, err := s.Get(t.Context(), tenant, kind, id)
	require.NoError(t, err, "get %s %q", kind, id)
	require.NotNil(t, r)
	return r
}

func mustList(t *testing.T, s storage.Store, tenant string, q storage.Query) storage.Page {
	t.Helper()
	p, err := s.List(t.Context(), tenant, q)
	require.NoError(t, err)
	return p
}

func mustMembers(t *testing.T, s storage.Store, tenant, groupID string) []storage.Member {
	t.Helper()
	ms, err := s.ListMembers(t.Context(), tenant, groupID)
	require.NoError(t, err, "list members of %q", groupID)
	return ms
}

func mustChange(t *testing.T, s storage.Store, tenant, groupID string, ch storage.MemberChange) {
	t.Helper()
	require.NoError(t, s.ChangeMembers(t.Context(), tenant, groupID, ch), "change members of %q", groupID)
}

// add is a MemberChange adding the ids without Display.
func add(ids ...string) storage.MemberChange {
	ch := storage.MemberChange{Modified: t0}
	for _, id := range ids {
		ch.Add = append(ch.Add, storage.Member{Value: id})
	}
	return ch
}

// ids returns the ids of rs in order.
func ids(rs []storage.Resource) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// memberIDs returns the values of ms in order.
func memberIDs(ms []storage.Member) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Value)
	}
	return out
}

// assertResource checks every field of got against want: times with
// time.Equal (zones may differ), Emails in any order, Data byte for byte.
func assertResource(t *testing.T, want, got *storage.Resource) {
	t.Helper()
	if !assert.NotNil(t, got) {
		return
	}
	assert.Equal(t, want.Kind, got.Kind, "Kind")
	assert.Equal(t, want.ID, got.ID, "ID")
	assert.Equal(t, want.ExternalID, got.ExternalID, "ExternalID")
	assert.Equal(t, want.Name, got.Name, "Name")
	assert.ElementsMatch(t, want.Emails, got.Emails, "Emails")
	assert.Equal(t, want.Version, got.Version, "Version")
	assert.WithinDuration(t, want.Created, got.Created, 0, "Created")
	assert.WithinDuration(t, want.Modified, got.Modified, 0, "Modified")
	assert.Equal(t, string(want.Data), string(got.Data), "Data")
}

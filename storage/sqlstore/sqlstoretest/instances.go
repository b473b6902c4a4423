package sqlstoretest

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testTwoInstances runs two servers, each on its own store, on one
// database, and sends 64 concurrent PATCHes to the same user and 64 to the
// same group, alternating between the servers: the read-modify-write of
// each PATCH must not lose any other's change (RFC 7644 §3.5.2).
func testTwoInstances(t *testing.T, newDB func(t *testing.T) Opener) {
	const n = 64
	open := newDB(t)
	s1, s2 := mustOpen(t, open), mustOpen(t, open)
	a := newServer(t, s1, s1, true)
	b := newServer(t, s2, s2, false)
	code, body := a.do(t, http.MethodPost, "/Users", map[string]any{
		"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "target@x.test"})
	require.Equal(t, http.StatusCreated, code, "%v", body)
	userID := body["id"].(string)
	code, body = a.do(t, http.MethodPost, "/Groups", map[string]any{
		"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Everyone"})
	require.Equal(t, http.StatusCreated, code, "%v", body)
	groupID := body["id"].(string)
	members := make([]string, n)
	for i := range n {
		code, body := a.do(t, http.MethodPost, "/Users", map[string]any{
			"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprintf("m%02d@x.test", i)})
		require.Equal(t, http.StatusCreated, code, "%v", body)
		members[i] = body["id"].(string)
	}

	var wg sync.WaitGroup
	codes := make([]int, 2*n)
	for i := range n {
		srv := []*server{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = srv.do(t, http.MethodPatch, "/Users/"+userID, map[string]any{
				"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "add", "path": "emails",
					"value": []any{map[string]any{"value": fmt.Sprintf("e%02d@x.test", i), "type": "other"}}}},
			})
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[n+i], _ = srv.do(t, http.MethodPatch, "/Groups/"+groupID, map[string]any{
				"schemas":    []any{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": members[i]}}}},
			})
		}()
	}
	wg.Wait()
	for i, c := range codes {
		assert.Contains(t, []int{http.StatusOK, http.StatusNoContent}, c, "PATCH %d", i)
	}

	for _, srv := range []*server{a, b} {
		code, u := srv.do(t, http.MethodGet, "/Users/"+userID, nil)
		require.Equal(t, http.StatusOK, code)
		emails, _ := u["emails"].([]any)
		assert.Len(t, emails, n, "every PATCH's email is there")
		assert.EqualValues(t, fmt.Sprintf(`W/"%d"`, n+1), u["meta"].(map[string]any)["version"])

		code, g := srv.do(t, http.MethodGet, "/Groups/"+groupID, nil)
		require.Equal(t, http.StatusOK, code)
		ms, _ := g["members"].([]any)
		assert.Len(t, ms, n, "every PATCH's member is there")
	}
}

package sqlstoretest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

// The users and groups both servers are given, in this order; ids follow
// from the order (user i has id uid(i), group j id uid(len(users)+j)).
var (
	pushdownUsers = []map[string]any{
		{
			"userName": "Émile@Example.com", "externalId": "E1", "title": "Engineer", "active": true,
			"name": map[string]any{"givenName": "Émile", "familyName": "Bär"},
			"emails": []any{
				map[string]any{"value": "emile@x.test", "type": "work", "primary": true},
				map[string]any{"value": "Shared@Example.com", "type": "home"},
			},
			enterprise: map[string]any{"department": "R&D", "employeeNumber": "100", "manager": map[string]any{"value": uid(2)}},
			druvaURN:   map[string]any{"city": "Zürich"},
		},
		{
			"userName": "bob@example.com", "externalId": "E2", "title": "Manager", "active": false,
			"emails":   []any{map[string]any{"value": "bob@example.org", "type": "work"}},
			enterprise: map[string]any{"employeeNumber": "42"},
		},
		{
			"userName": "Carol@Example.org", "externalId": "E1", "active": "True",
			"emails": []any{
				map[string]any{"value": "carol@x.test", "type": "work"},
				map[string]any{"value": "SHARED@example.com", "type": "work"},
			},
			druvaURN: map[string]any{"city": "Genève", "costCenter": "CC-1"},
		},
		{"userName": "dave@example.org"},
		{
			"userName": "åsa@example.se", "title": "ENGINEER II", "active": true,
			"name": map[string]any{"familyName": "Öst"},
		},
	}
	// pushdownGroups name members by user index (or -1-j for group j).
	pushdownGroups = []struct {
		name    string
		members []int
		display map[int]string
	}{
		{"Admins", []int{0, 1}, map[int]string{0: "Émile Bär"}},
		{"Staff", []int{2, -1}, nil},
		{"Empty", nil, nil},
	}
)

func uid(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1) }

func gid(j int) string { return uid(len(pushdownUsers) + j) }

// testFilterPushdown seeds the same directory into the memory store and
// the SQL store, each behind a real server, and checks that every filter
// gives the same page and total from both: the SQL translation must agree
// with storage.Match, case folding beyond ASCII included.
func testFilterPushdown(t *testing.T, newDB func(t *testing.T) Opener) {
	ctx := context.Background()
	mem := memory.New()
	sqlStore := mustOpen(t, newDB(t))
	oracle, subject := newServer(t, mem, mem, true), newServer(t, sqlStore, sqlStore, true)
	for _, s := range []*server{oracle, subject} {
		for _, u := range pushdownUsers {
			doc := map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User", enterprise, druvaURN}}
			for k, v := range u {
				doc[k] = v
			}
			code, body := s.do(t, http.MethodPost, "/Users", doc)
			require.Equal(t, http.StatusCreated, code, "%v", body)
		}
		for _, g := range pushdownGroups {
			var ms []any
			for _, i := range g.members {
				m := map[string]any{"value": uid(i)}
				if i < 0 {
					m["value"] = gid(-1 - i)
				}
				if d, ok := g.display[i]; ok {
					m["display"] = d
				}
				ms = append(ms, m)
			}
			code, body := s.do(t, http.MethodPost, "/Groups", map[string]any{
				"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": g.name, "members": ms})
			require.Equal(t, http.StatusCreated, code, "%v", body)
		}
	}
	_ = ctx

	cases := []struct {
		endpoint, filter string
		// want is the expected match count, so the test fails even if
		// both stores were wrong the same way.
		want int
	}{
		{"/Users", `userName eq "émile@example.COM"`, 1},
		{"/Users", `userName eq "ÉMILE@EXAMPLE.COM"`, 1},
		{"/Users", `userName sw "É"`, 1},
		{"/Users", `userName co "EXAMPLE"`, 5},
		{"/Users", `userName ew ".ORG"`, 2},
		{"/Users", `userName gt "c"`, 4},
		{"/Users", `userName le "bob@example.com"`, 1},
		{"/Users", `userName ne "bob@example.com"`, 4},
		{"/Users", `name.familyName eq "bär"`, 1},
		{"/Users", `name.familyName co "ÄR"`, 1},
		{"/Users", `name.givenName pr`, 1},
		{"/Users", `name.familyName pr`, 2},
		{"/Users", `title co "engineer"`, 2},
		{"/Users", `title ne "Engineer"`, 4},
		{"/Users", `not (title pr)`, 2},
		{"/Users", `title pr and active eq true`, 2},
		{"/Users", `active eq true`, 3},
		{"/Users", `active eq false`, 1},
		{"/Users", `active ne true`, 2},
		{"/Users", `not (active eq true)`, 2},
		{"/Users", `emails[type eq "work" and value co "@X.TEST"]`, 2},
		{"/Users", `emails[type eq "home"]`, 1},
		{"/Users", `emails[not (type eq "work")]`, 1},
		{"/Users", `emails[type eq "work" or primary eq true]`, 3},
		{"/Users", `emails.value ew ".org"`, 1},
		{"/Users", `emails co "shared"`, 2},
		{"/Users", `emails.value eq "shared@example.com"`, 2},
		{"/Users", `emails[value eq "SHARED@EXAMPLE.COM"] and title pr`, 1},
		{"/Users", `emails.type eq "work" and not (emails.type eq "home")`, 2},
		{"/Users", `emails pr`, 3},
		{"/Users", `not (emails pr)`, 2},
		{"/Users", `emails.primary eq true`, 1},
		{"/Users", `externalId eq "E1"`, 2},
		{"/Users", `externalId pr`, 3},
		{"/Users", `not (externalId pr)`, 2},
		{"/Users", `externalId ne "E1"`, 3},
		{"/Users", `id eq "` + uid(2) + `"`, 1},
		{"/Users", `id sw "00000000"`, 5},
		{"/Users", enterprise + `:department eq "r&d"`, 1},
		{"/Users", enterprise + `:employeeNumber gt "2"`, 1},
		{"/Users", enterprise + `:employeeNumber lt "2"`, 1},
		{"/Users", enterprise + `:manager.value eq "` + uid(2) + `"`, 1},
		{"/Users", enterprise + `:manager pr`, 1},
		{"/Users", druvaURN + `:city eq "zürich"`, 1},
		{"/Users", druvaURN + `:city co "È"`, 1},
		{"/Users", druvaURN + `:costCenter pr or ` + druvaURN + `:city sw "z"`, 2},
		{"/Users", `meta.lastModified gt "2024-03-01T12:04:30Z"`, 3},
		{"/Users", `meta.created le "2024-03-01T14:06:00+02:00"`, 3},
		{"/Users", `meta.created sw "2024-03-01T12:0"`, 4},
		{"/Users", `meta.lastModified pr`, 5},
		{"/Users", `meta.resourceType eq "User"`, 5},
		{"/Users", `meta.resourceType eq "Group"`, 0},
		{"/Users", `(userName sw "b" or userName sw "c") and active eq true`, 1},
		{"/Users", `not (userName sw "b" or title pr)`, 2},
		{"/Users", `not (not (active eq false))`, 1},
		{"/Groups", `displayName eq "admins"`, 1},
		{"/Groups", `displayName co "A"`, 2},
		{"/Groups", `displayName ne "Empty"`, 2},
		{"/Groups", `members[value eq "` + uid(0) + `"]`, 1},
		{"/Groups", `members.value eq "` + gid(0) + `"`, 1},
		{"/Groups", `members.display co "BÄR"`, 1},
		{"/Groups", `members.display pr`, 1},
		{"/Groups", `members[type eq "group"]`, 1},
		{"/Groups", `members[type eq "User" and value eq "` + uid(2) + `"]`, 1},
		{"/Groups", `members pr`, 2},
		{"/Groups", `not (members pr)`, 1},
		{"/Groups", `members.value ne "` + uid(0) + `"`, 3},
		{"/Groups", `members.value eq "` + uid(1) + `" and displayName sw "ad"`, 1},
		{"/Groups", `members[value eq "` + uid(3) + `"]`, 0},
	}
	for _, tc := range cases {
		t.Run(tc.endpoint+" "+tc.filter, func(t *testing.T) {
			for _, page := range []string{"", "&startIndex=2&count=2"} {
				path := tc.endpoint + "?filter=" + url.QueryEscape(tc.filter) + page
				wantCode, want := oracle.do(t, http.MethodGet, path, nil)
				code, got := subject.do(t, http.MethodGet, path, nil)
				require.Equal(t, http.StatusOK, wantCode, "oracle: %v", want)
				require.Equal(t, wantCode, code, "%v", got)
				assert.Equal(t, want["totalResults"], got["totalResults"], "totalResults %s", path)
				assert.Equal(t, names(want), names(got), "page %s", path)
				if page == "" {
					assert.EqualValues(t, tc.want, got["totalResults"], "expected matches")
				}
			}
		})
	}
	t.Run("an unknown store id is not found on both", func(t *testing.T) {
		_, err := sqlStore.Get(ctx, "acme", storage.KindUser, "nope")
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
}

// names lists the userName or displayName of a list response's resources.
func names(body map[string]any) []string {
	out := []string{}
	rs, _ := body["Resources"].([]any)
	for _, r := range rs {
		m, _ := r.(map[string]any)
		n, _ := m["userName"].(string)
		if n == "" {
			n, _ = m["displayName"].(string)
		}
		out = append(out, n)
	}
	return out
}

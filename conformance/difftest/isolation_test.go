package difftest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
)

// TestTenantIsolation runs many tenants' interleaved requests against one
// server (each tenant on its own goroutine, so they truly interleave):
// creates, PATCHes, PUTs and DELETEs of users and groups, member changes,
// lists with filters and counts, and requests naming other tenants' ids.
// Every tenant has a model of what it holds; every answer is checked
// against it, and at the end each tenant's lists equal its model. Other
// tenants' ids are always 404 (or, as group members, 400), and the same
// userNames and group names live in every tenant at once.
//
// SCIMKIT_ISOLATION_OPS sets the requests per tenant (default 100) and
// SCIMKIT_ISOLATION_SEED the seed (default fixedSeed).
func TestTenantIsolation(t *testing.T) {
	ops := 100
	if v := os.Getenv("SCIMKIT_ISOLATION_OPS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err)
		ops = n
	}
	seed := uint64(fixedSeed)
	if v := os.Getenv("SCIMKIT_ISOLATION_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err)
		seed = n
	}
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) {
			store, tokens := st.open(t)
			runIsolation(t, store, tokens, 20, ops, seed)
		})
	}
}

// isoModel is what one tenant holds.
type isoModel struct {
	users  map[string]isoUser  // by id
	groups map[string]isoGroup // by id
}

type isoUser struct {
	userName, displayName string
	active                bool
}

type isoGroup struct {
	displayName string
	members     map[string]bool // user ids
}

// isoWorld is the server and what all tenants share: which tenant owns
// each id ever created.
type isoWorld struct {
	srv    *scimkit.Server
	tokens map[string]string // by tenant

	mu    sync.Mutex        // guards owner
	owner map[string]string // resource id -> tenant
}

func (w *isoWorld) foreignID(r *rand.Rand, tenant string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []string
	for id, t := range w.owner {
		if t != tenant {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return "", false
	}
	slices.Sort(ids)
	return ids[r.IntN(len(ids))], true
}

func (w *isoWorld) own(id, tenant string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.owner[id] = tenant
}

func (w *isoWorld) do(tenant, method, target string, body any) (int, map[string]any) {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, "http://scim.test"+target, rd)
	r.Header.Set("Authorization", "Bearer "+w.tokens[tenant])
	r.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	w.srv.ServeHTTP(rec, r)
	var doc map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &doc)
	return rec.Code, doc
}

func runIsolation(t *testing.T, store scimkit.ResourceHandler, tokens scimkit.TokenStore, nTenants, ops int, seed uint64) {
	ctx := context.Background()
	// No work or rate limit: under -race on a busy machine each tenant's
	// lists take long enough to spend its share, each tenant's requests
	// go back to back (beyond 50 a second on a fast store), and this test
	// is about what each request sees, not about limits.
	srv, err := scimkit.New(store, tokens, scimkit.WithWorkLimit(0, 0), scimkit.WithRateLimit(0, 0))
	require.NoError(t, err)
	w := &isoWorld{srv: srv, tokens: map[string]string{}, owner: map[string]string{}}
	var tenants []string
	for i := range nTenants {
		tenant := fmt.Sprintf("tenant-%02d", i)
		tok, _, err := scimkit.GenerateToken(ctx, tokens, tenant)
		require.NoError(t, err)
		w.tokens[tenant] = tok
		tenants = append(tenants, tenant)
	}
	models := make([]*isoModel, nTenants)
	var wg sync.WaitGroup
	errs := make([][]string, nTenants)
	for i, tenant := range tenants {
		models[i] = &isoModel{users: map[string]isoUser{}, groups: map[string]isoGroup{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			for n := range ops {
				if msg := isoStep(w, r, tenant, models[i]); msg != "" {
					errs[i] = append(errs[i], fmt.Sprintf("%s step %d: %s", tenant, n, msg))
					if len(errs[i]) > 5 {
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		for _, m := range e {
			t.Error(m)
		}
	}
	for i, tenant := range tenants {
		checkTenant(t, w, tenant, models[i])
	}
}

// userNames are shared by all tenants: the same names live in each.
func pickUserName(r *rand.Rand) string {
	n := fmt.Sprintf("user%d@example.com", r.IntN(12))
	if r.IntN(4) == 0 {
		n = strings.ToUpper(n[:1]) + n[1:] // uniqueness is case-insensitive
	}
	return n
}

func pickID[V any](r *rand.Rand, m map[string]V) (string, bool) {
	if len(m) == 0 {
		return "", false
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids[r.IntN(len(ids))], true
}

func (m *isoModel) nameTaken(name, except string) bool {
	for id, u := range m.users {
		if id != except && strings.EqualFold(u.userName, name) {
			return true
		}
	}
	return false
}

// isoStep sends one random request for tenant and checks the answer
// against its model, which it updates; it returns what went wrong, or "".
func isoStep(w *isoWorld, r *rand.Rand, tenant string, m *isoModel) string {
	expect := func(what string, got, want int, doc map[string]any) string {
		if got != want {
			return fmt.Sprintf("%s: status %d, want %d (%v)", what, got, want, doc)
		}
		return ""
	}
	switch op := r.IntN(14); op {
	case 0, 1, 2: // create user
		name := pickUserName(r)
		u := isoUser{userName: name, displayName: "D " + name, active: r.IntN(2) == 0}
		st, doc := w.do(tenant, http.MethodPost, "/Users", map[string]any{"userName": u.userName, "displayName": u.displayName, "active": u.active})
		if m.nameTaken(name, "") {
			return expect("create duplicate user "+name, st, http.StatusConflict, doc)
		}
		if msg := expect("create user "+name, st, http.StatusCreated, doc); msg != "" {
			return msg
		}
		id := doc["id"].(string)
		m.users[id] = u
		w.own(id, tenant)
	case 3: // create group, sometimes with a member of another tenant
		name := fmt.Sprintf("group%d", r.IntN(6))
		members := []map[string]any{}
		ids := map[string]bool{}
		for range r.IntN(3) {
			if id, ok := pickID(r, m.users); ok {
				members = append(members, map[string]any{"value": id})
				ids[id] = true
			}
		}
		foreign := false
		if r.IntN(3) == 0 {
			if id, ok := w.foreignID(r, tenant); ok {
				members = append(members, map[string]any{"value": id})
				foreign = true
			}
		}
		st, doc := w.do(tenant, http.MethodPost, "/Groups", map[string]any{"displayName": name, "members": members})
		for _, g := range m.groups {
			if strings.EqualFold(g.displayName, name) {
				if foreign && st == http.StatusBadRequest {
					return "" // either error may be found first
				}
				return expect("create duplicate group "+name, st, http.StatusConflict, doc)
			}
		}
		if foreign {
			return expect("create group with a foreign member", st, http.StatusBadRequest, doc)
		}
		if msg := expect("create group", st, http.StatusCreated, doc); msg != "" {
			return msg
		}
		id := doc["id"].(string)
		m.groups[id] = isoGroup{displayName: name, members: ids}
		w.own(id, tenant)
	case 4: // patch own user
		id, ok := pickID(r, m.users)
		if !ok {
			return ""
		}
		u := m.users[id]
		u.displayName, u.active = fmt.Sprintf("P%d", r.IntN(1000)), r.IntN(2) == 0
		st, doc := w.do(tenant, http.MethodPatch, "/Users/"+id, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "path": "displayName", "value": u.displayName},
			map[string]any{"op": "replace", "path": "active", "value": u.active},
		}})
		if msg := expect("patch user", st, http.StatusOK, doc); msg != "" {
			return msg
		}
		m.users[id] = u
	case 5: // put own user, perhaps to a taken userName
		id, ok := pickID(r, m.users)
		if !ok {
			return ""
		}
		u := isoUser{userName: pickUserName(r), displayName: "R", active: true}
		st, doc := w.do(tenant, http.MethodPut, "/Users/"+id, map[string]any{"userName": u.userName, "displayName": u.displayName, "active": u.active})
		if m.nameTaken(u.userName, id) {
			return expect("put to a taken userName", st, http.StatusConflict, doc)
		}
		if msg := expect("put user", st, http.StatusOK, doc); msg != "" {
			return msg
		}
		m.users[id] = u
	case 6: // delete own user or group
		if r.IntN(2) == 0 {
			id, ok := pickID(r, m.users)
			if !ok {
				return ""
			}
			st, doc := w.do(tenant, http.MethodDelete, "/Users/"+id, nil)
			if msg := expect("delete user", st, http.StatusNoContent, doc); msg != "" {
				return msg
			}
			delete(m.users, id)
			for _, g := range m.groups {
				delete(g.members, id)
			}
		} else {
			id, ok := pickID(r, m.groups)
			if !ok {
				return ""
			}
			st, doc := w.do(tenant, http.MethodDelete, "/Groups/"+id, nil)
			if msg := expect("delete group", st, http.StatusNoContent, doc); msg != "" {
				return msg
			}
			delete(m.groups, id)
		}
	case 7: // member changes on an own group
		gid, ok := pickID(r, m.groups)
		if !ok {
			return ""
		}
		uid, ok := pickID(r, m.users)
		if !ok {
			return ""
		}
		g := m.groups[gid]
		if g.members[uid] {
			st, doc := w.do(tenant, http.MethodPatch, "/Groups/"+gid, map[string]any{"Operations": []any{
				map[string]any{"op": "remove", "path": `members[value eq "` + uid + `"]`},
			}})
			if msg := expect("remove member", st, http.StatusOK, doc); msg != "" && st != http.StatusNoContent {
				return msg
			}
			delete(g.members, uid)
		} else {
			st, doc := w.do(tenant, http.MethodPatch, "/Groups/"+gid, map[string]any{"Operations": []any{
				map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid}}},
			}})
			if msg := expect("add member", st, http.StatusOK, doc); msg != "" && st != http.StatusNoContent {
				return msg
			}
			g.members[uid] = true
		}
	case 8: // add another tenant's user to an own group
		gid, ok := pickID(r, m.groups)
		if !ok {
			return ""
		}
		fid, ok := w.foreignID(r, tenant)
		if !ok {
			return ""
		}
		st, doc := w.do(tenant, http.MethodPatch, "/Groups/"+gid, map[string]any{"Operations": []any{
			map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": fid}}},
		}})
		return expect("add a foreign member", st, http.StatusBadRequest, doc)
	case 9, 10: // any request naming another tenant's id
		fid, ok := w.foreignID(r, tenant)
		if !ok {
			return ""
		}
		ep := "/Users/"
		if r.IntN(2) == 0 {
			ep = "/Groups/"
		}
		var st int
		var doc map[string]any
		switch r.IntN(4) {
		case 0:
			st, doc = w.do(tenant, http.MethodGet, ep+fid, nil)
		case 1:
			st, doc = w.do(tenant, http.MethodPatch, ep+fid, map[string]any{"Operations": []any{
				map[string]any{"op": "replace", "path": "displayName", "value": "stolen"}}})
		case 2:
			body := map[string]any{"userName": "stolen@example.com", "displayName": "stolen"}
			if ep == "/Groups/" {
				body = map[string]any{"displayName": "stolen"}
			}
			st, doc = w.do(tenant, http.MethodPut, ep+fid, body)
		case 3:
			st, doc = w.do(tenant, http.MethodDelete, ep+fid, nil)
		}
		return expect("request on a foreign id "+ep+fid, st, http.StatusNotFound, doc)
	case 11: // filtered list of users by userName
		name := pickUserName(r)
		st, doc := w.do(tenant, http.MethodGet, "/Users?filter="+url.QueryEscape(`userName eq "`+name+`"`), nil)
		if msg := expect("filter users", st, http.StatusOK, doc); msg != "" {
			return msg
		}
		var want []string
		for id, u := range m.users {
			if strings.EqualFold(u.userName, name) {
				want = append(want, id)
			}
		}
		if got := listIDs(doc); !sameSet(got, want) {
			return fmt.Sprintf("filter %s: ids %v, want %v", name, got, want)
		}
	case 12: // counts
		for _, ep := range []string{"/Users", "/Groups"} {
			st, doc := w.do(tenant, http.MethodGet, ep+"?count=0", nil)
			if msg := expect("count "+ep, st, http.StatusOK, doc); msg != "" {
				return msg
			}
			want := len(m.users)
			if ep == "/Groups" {
				want = len(m.groups)
			}
			if got := doc["totalResults"]; got != float64(want) {
				return fmt.Sprintf("count %s: %v, want %d", ep, got, want)
			}
		}
	case 13: // filtered list of groups, and of active users
		st, doc := w.do(tenant, http.MethodGet, "/Users?count=1000&filter="+url.QueryEscape(`active eq true`), nil)
		if msg := expect("filter active", st, http.StatusOK, doc); msg != "" {
			return msg
		}
		var want []string
		for id, u := range m.users {
			if u.active {
				want = append(want, id)
			}
		}
		if got := listIDs(doc); !sameSet(got, want) {
			return fmt.Sprintf("active users: ids %v, want %v", got, want)
		}
		name := fmt.Sprintf("group%d", r.IntN(6))
		st, doc = w.do(tenant, http.MethodGet, "/Groups?filter="+url.QueryEscape(`displayName eq "`+name+`"`), nil)
		if msg := expect("filter groups", st, http.StatusOK, doc); msg != "" {
			return msg
		}
		want = nil
		for id, g := range m.groups {
			if strings.EqualFold(g.displayName, name) {
				want = append(want, id)
			}
		}
		if got := listIDs(doc); !sameSet(got, want) {
			return fmt.Sprintf("groups %s: ids %v, want %v", name, got, want)
		}
	}
	return ""
}

func listIDs(doc map[string]any) []string {
	var ids []string
	rs, _ := doc["Resources"].([]any)
	for _, x := range rs {
		if m, ok := x.(map[string]any); ok {
			id, _ := m["id"].(string)
			ids = append(ids, id)
		}
	}
	return ids
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// checkTenant compares everything a tenant can list with its model.
func checkTenant(t *testing.T, w *isoWorld, tenant string, m *isoModel) {
	t.Helper()
	st, doc := w.do(tenant, http.MethodGet, "/Users?count=1000", nil)
	require.Equal(t, http.StatusOK, st)
	assert.Equal(t, float64(len(m.users)), doc["totalResults"], tenant)
	got := map[string]isoUser{}
	for _, x := range doc["Resources"].([]any) {
		r := x.(map[string]any)
		dn, _ := r["displayName"].(string)
		active, _ := r["active"].(bool)
		got[r["id"].(string)] = isoUser{userName: r["userName"].(string), displayName: dn, active: active}
	}
	assert.Equal(t, m.users, got, "%s: users", tenant)

	st, doc = w.do(tenant, http.MethodGet, "/Groups?count=1000", nil)
	require.Equal(t, http.StatusOK, st)
	assert.Equal(t, float64(len(m.groups)), doc["totalResults"], tenant)
	gotGroups := map[string]isoGroup{}
	for _, x := range doc["Resources"].([]any) {
		r := x.(map[string]any)
		g := isoGroup{displayName: r["displayName"].(string), members: map[string]bool{}}
		ms, _ := r["members"].([]any)
		for _, y := range ms {
			g.members[y.(map[string]any)["value"].(string)] = true
		}
		gotGroups[r["id"].(string)] = g
	}
	assert.Equal(t, m.groups, gotGroups, "%s: groups", tenant)
}

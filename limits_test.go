package scimkit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
)

// limitLog records the limit events a server reports.
type limitLog struct {
	mu     sync.Mutex
	events []scimkit.LimitEvent
}

func (l *limitLog) observe(_ context.Context, ev scimkit.LimitEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *limitLog) kinds() []scimkit.LimitKind {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []scimkit.LimitKind
	for _, ev := range l.events {
		out = append(out, ev.Limit)
	}
	return out
}

func userBody(userName string, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"schemas":["%s"],"userName":%q%s}`, userURN, userName, extra)
}

func emailList(from, n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"value":"u%d@example.com","type":"work"}`, from+i)
	}
	b.WriteByte(']')
	return b.String()
}

func patchOps(ops ...string) string { return patchBody(strings.Join(ops, ",")) }

// TestMultiValuedPatchOverHTTP adds and removes thousands of values in
// one PATCH through the server, with the value and member limits raised:
// duplicates are dropped, order is kept, a member delta that removes then
// adds the same ids nets to the adds (internal/schema's
// TestMultiValuedPatchIsLinear checks the work is linear).
func TestMultiValuedPatchOverHTTP(t *testing.T) {
	const n = 2000
	srv, _ := newTestServer(t, scimkit.WithMaxValues(3*n), scimkit.WithMaxBodyBytes(16<<20),
		scimkit.WithMaxResourceBytes(64<<20), scimkit.WithMaxMembers(4*n))
	w := serve(t, srv, http.MethodPost, "/Users", userBody("big@example.com", `"emails":`+emailList(0, n)))
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	id := decode(t, w.Body.String())["id"].(string)

	// Half the added values are already there, and one is sent twice.
	w = serve(t, srv, http.MethodPatch, "/Users/"+id, patchOps(
		`{"op":"add","path":"emails","value":`+emailList(n/2, n)+`}`,
		`{"op":"add","path":"emails","value":[{"value":"u0@example.com","type":"work"}]}`))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	emails := decode(t, w.Body.String())["emails"].([]any)
	assert.Len(t, emails, n+n/2, "distinct values: the union of [0,n) and [n/2,3n/2)")
	seen := map[string]bool{}
	for _, e := range emails {
		v := e.(map[string]any)["value"].(string)
		assert.False(t, seen[v], "duplicate %s", v)
		seen[v] = true
	}

	// Remove n values of which only the first n/2 exist.
	w = serve(t, srv, http.MethodPatch, "/Users/"+id, patchOps(
		`{"op":"remove","path":"emails","value":`+emailList(n, n)+`}`))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Len(t, decode(t, w.Body.String())["emails"].([]any), n)

	// A group's member delta: remove n ids, then add them back.
	w = serve(t, srv, http.MethodPost, "/Groups", fmt.Sprintf(`{"schemas":[%q],"displayName":"g"}`, groupURN))
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	gid := decode(t, w.Body.String())["id"].(string)
	var members strings.Builder
	rm := make([]string, 0, n)
	for i := range n {
		if i > 0 {
			members.WriteByte(',')
		}
		fmt.Fprintf(&members, `{"value":%q}`, id)
		rm = append(rm, fmt.Sprintf(`{"value":"gone-%d"}`, i))
	}
	w = serve(t, srv, http.MethodPatch, "/Groups/"+gid, patchOps(
		`{"op":"remove","path":"members","value":[`+strings.Join(rm, ",")+`]}`,
		`{"op":"add","path":"members","value":[`+members.String()+`]}`,
		`{"op":"remove","path":"members","value":[`+strings.Join(rm, ",")+`]}`,
	))
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	w = serve(t, srv, http.MethodGet, "/Groups/"+gid, "")
	ms := decode(t, w.Body.String())["members"].([]any)
	require.Len(t, ms, 1, "one member, added n times")
}

// TestLimits checks each limit at its bound: one past it is refused with
// the status and scimType the README names, the observer hears of it, and
// nothing is stored; at the bound the request passes.
func TestLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	orTerms := func(n int) string {
		terms := make([]string, n)
		for i := range terms {
			terms[i] = fmt.Sprintf(`emails co "x%d"`, i)
		}
		return url.QueryEscape(strings.Join(terms, " or "))
	}
	nots := func(n int) string {
		return url.QueryEscape(strings.Repeat("not (", n) + `userName eq "x"` + strings.Repeat(")", n))
	}
	tests := []struct {
		name           string
		opts           []scimkit.Option
		method, path   string
		body           string
		wantStatus     int
		wantScimType   string
		wantLimit      scimkit.LimitKind
		wantUsersAfter int // users of the tenant after the request (1 exists before)
	}{
		{name: "values per attribute: at the bound", opts: []scimkit.Option{scimkit.WithMaxValues(3)},
			method: "POST", path: "/Users", body: userBody("a@x.com", `"emails":`+emailList(0, 3)), wantStatus: 201, wantUsersAfter: 2},
		{name: "values per attribute: past it", opts: []scimkit.Option{scimkit.WithMaxValues(3)},
			method: "POST", path: "/Users", body: userBody("a@x.com", `"emails":`+emailList(0, 4)),
			wantStatus: 400, wantScimType: "invalidValue", wantLimit: scimkit.LimitValues, wantUsersAfter: 1},
		{name: "values per attribute: default refuses the 16,000-value PATCH",
			method: "PATCH", path: "/Users/{id}", body: patchOps(`{"op":"add","path":"emails","value":` + emailList(0, 16000) + `}`),
			opts:       []scimkit.Option{scimkit.WithMaxBodyBytes(4 << 20)},
			wantStatus: 400, wantScimType: "invalidValue", wantLimit: scimkit.LimitValues, wantUsersAfter: 1},
		{name: "bytes per value", opts: []scimkit.Option{scimkit.WithMaxValueBytes(100)},
			method: "POST", path: "/Users", body: userBody("a@x.com", `"displayName":"`+long(101)+`"`),
			wantStatus: 400, wantScimType: "invalidValue", wantLimit: scimkit.LimitValueBytes, wantUsersAfter: 1},
		{name: "bytes per resource on POST", opts: []scimkit.Option{scimkit.WithMaxResourceBytes(1000)},
			method: "POST", path: "/Users", body: userBody("a@x.com", `"displayName":"`+long(1000)+`"`),
			wantStatus: 413, wantLimit: scimkit.LimitResourceBytes, wantUsersAfter: 1},
		{name: "bytes per resource on a PATCH that grows it", opts: []scimkit.Option{scimkit.WithMaxResourceBytes(1000)},
			method: "PATCH", path: "/Users/{id}", body: patchOps(`{"op":"replace","path":"displayName","value":"` + long(1000) + `"}`),
			wantStatus: 413, wantLimit: scimkit.LimitResourceBytes, wantUsersAfter: 1},
		{name: "members per request on POST", opts: []scimkit.Option{scimkit.WithMaxMembers(2)},
			method: "POST", path: "/Groups", body: fmt.Sprintf(`{"schemas":[%q],"displayName":"g","members":[{"value":"{id}"},{"value":"{id}"},{"value":"{id}"}]}`, groupURN),
			wantStatus: 400, wantScimType: "tooMany", wantLimit: scimkit.LimitMembers, wantUsersAfter: 1},
		{name: "filter terms: at the bound", method: "GET", path: "/Users?filter=" + orTerms(scimkit.DefaultMaxFilterTerms),
			wantStatus: 200, wantUsersAfter: 1},
		{name: "filter terms: 150 terms", method: "GET", path: "/Users?filter=" + orTerms(150),
			wantStatus: 400, wantScimType: "invalidFilter", wantLimit: scimkit.LimitFilter, wantUsersAfter: 1},
		{name: "filter depth: at the bound", method: "GET", path: "/Users?filter=" + nots(scimkit.DefaultMaxFilterDepth),
			wantStatus: 200, wantUsersAfter: 1},
		{name: "filter depth: past it", method: "GET", path: "/Users?filter=" + nots(scimkit.DefaultMaxFilterDepth+1),
			wantStatus: 400, wantScimType: "invalidFilter", wantLimit: scimkit.LimitFilter, wantUsersAfter: 1},
		{name: "NUL in userName", method: "POST", path: "/Users", body: fmt.Sprintf(`{"schemas":[%q],"userName":"a\u0000b"}`, userURN),
			wantStatus: 400, wantScimType: "invalidValue", wantLimit: scimkit.LimitNUL, wantUsersAfter: 1},
		{name: "NUL in another attribute", method: "POST", path: "/Users", body: userBody("a@x.com", `"nickName":"a\u0000"`),
			wantStatus: 400, wantScimType: "invalidValue", wantLimit: scimkit.LimitNUL, wantUsersAfter: 1},
		{name: "NUL in a PATCH value", method: "PATCH", path: "/Users/{id}", body: patchOps(`{"op":"replace","path":"title","value":"\u0000"}`),
			wantStatus: 400, wantScimType: "invalidValue", wantLimit: scimkit.LimitNUL, wantUsersAfter: 1},
		{name: "NUL in a filter value", method: "GET", path: "/Users?filter=" + url.QueryEscape(`userName eq "a\u0000"`),
			wantStatus: 400, wantScimType: "invalidFilter", wantLimit: scimkit.LimitNUL, wantUsersAfter: 1},
		{name: "NUL in a path id", method: "GET", path: "/Users/a%00b", wantStatus: 404, wantUsersAfter: 1},
		{name: "invalid UTF-8 in a path id", method: "DELETE", path: "/Users/a%ffb", wantStatus: 404, wantUsersAfter: 1},
		{name: "indexed userName at the bound", method: "POST", path: "/Users", body: userBody(long(scimkit.MaxIndexedValueBytes), ""),
			wantStatus: 201, wantUsersAfter: 2},
		{name: "indexed userName past it", method: "POST", path: "/Users", body: userBody(long(scimkit.MaxIndexedValueBytes+1), ""),
			wantStatus: 400, wantScimType: "invalidValue", wantLimit: scimkit.LimitIndexedValue, wantUsersAfter: 1},
		{name: "indexed externalId", method: "POST", path: "/Users", body: userBody("a@x.com", `"externalId":"`+long(3000)+`"`),
			wantStatus: 400, wantScimType: "invalidValue", wantLimit: scimkit.LimitIndexedValue, wantUsersAfter: 1},
		{name: "indexed email value", method: "PATCH", path: "/Users/{id}", body: patchOps(`{"op":"add","path":"emails","value":[{"value":"` + long(3000) + `@x.com"}]}`),
			wantStatus: 400, wantScimType: "invalidValue", wantLimit: scimkit.LimitIndexedValue, wantUsersAfter: 1},
		{name: "indexed group displayName", method: "POST", path: "/Groups", body: fmt.Sprintf(`{"schemas":[%q],"displayName":%q}`, groupURN, long(3000)),
			wantStatus: 400, wantScimType: "invalidValue", wantLimit: scimkit.LimitIndexedValue, wantUsersAfter: 1},
		{name: "request body", opts: []scimkit.Option{scimkit.WithMaxBodyBytes(120)}, method: "POST", path: "/Users", body: userBody("a@x.com", `"displayName":"`+long(200)+`"`),
			wantStatus: 413, wantLimit: scimkit.LimitBody, wantUsersAfter: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log limitLog
			srv, _ := newTestServer(t, append(tc.opts, scimkit.WithLimitObserver(log.observe))...)
			w := serve(t, srv, http.MethodPost, "/Users", userBody("first@x.com", `"displayName":"First"`))
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			before := w.Body.String()
			id := decode(t, before)["id"].(string)
			path := strings.ReplaceAll(tc.path, "{id}", id)
			w = serve(t, srv, tc.method, path, strings.ReplaceAll(tc.body, "{id}", id))
			require.Equal(t, tc.wantStatus, w.Code, w.Body.String())
			if tc.wantStatus >= 400 {
				got := decode(t, w.Body.String())
				assert.Equal(t, errorURN, got["schemas"].([]any)[0])
				assert.Equal(t, fmt.Sprint(tc.wantStatus), got["status"])
				if tc.wantScimType != "" {
					assert.Equal(t, tc.wantScimType, got["scimType"])
				} else {
					assert.NotContains(t, got, "scimType")
				}
			}
			if tc.wantLimit != "" {
				require.Equal(t, []scimkit.LimitKind{tc.wantLimit}, log.kinds())
				assert.Equal(t, "acme", log.events[0].Tenant)
			} else {
				assert.Empty(t, log.kinds())
			}
			list := decode(t, serve(t, srv, http.MethodGet, "/Users", "").Body.String())
			assert.EqualValues(t, tc.wantUsersAfter, list["totalResults"])
			if tc.wantStatus >= 400 {
				assert.JSONEq(t, before, serve(t, srv, http.MethodGet, "/Users/"+id, "").Body.String(), "the user is unchanged")
			}
		})
	}
}

// TestPageShrinksToByteBudget lists users larger than a page's byte
// budget: each page holds what fits (at least one), itemsPerPage says how
// many, and paging on from startIndex + itemsPerPage returns every user
// exactly once.
func TestPageShrinksToByteBudget(t *testing.T) {
	var log limitLog
	srv, _ := newTestServer(t, scimkit.WithMaxPageBytes(6000), scimkit.WithLimitObserver(log.observe))
	want := map[string]bool{}
	for i := range 7 {
		size := 1500
		if i == 3 {
			size = 6000 // alone over the budget: a page of one
		}
		w := serve(t, srv, http.MethodPost, "/Users", userBody(fmt.Sprintf("u%d@x.com", i), `"displayName":"`+strings.Repeat("d", size)+`"`))
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		want[decode(t, w.Body.String())["id"].(string)] = true
	}
	got := map[string]bool{}
	var sizes []int
	for start := 1; start <= 7; {
		w := serve(t, srv, http.MethodGet, fmt.Sprintf("/Users?startIndex=%d&count=100", start), "")
		require.Equal(t, http.StatusOK, w.Code)
		page := decode(t, w.Body.String())
		assert.EqualValues(t, 7, page["totalResults"])
		assert.EqualValues(t, start, page["startIndex"])
		res := page["Resources"].([]any)
		require.EqualValues(t, len(res), page["itemsPerPage"])
		require.NotEmpty(t, res)
		for _, r := range res {
			id := r.(map[string]any)["id"].(string)
			assert.False(t, got[id], "listed twice")
			got[id] = true
		}
		sizes = append(sizes, len(res))
		start += len(res)
	}
	assert.Equal(t, want, got)
	assert.Equal(t, []int{3, 1, 3}, sizes, "users 0-2 fit 6000 bytes, user 3 is alone, 4-6 fit")
	assert.Contains(t, log.kinds(), scimkit.LimitPageBytes)
}

// TestLargePageReadInChunks lists more users than one store read holds.
func TestLargePageReadInChunks(t *testing.T) {
	srv, _ := newTestServer(t, scimkit.WithRateLimit(0, 0))
	for i := range 450 {
		w := serve(t, srv, http.MethodPost, "/Users", userBody(fmt.Sprintf("u%03d@x.com", i), ""))
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	}
	page := decode(t, serve(t, srv, http.MethodGet, "/Users?count=1000&startIndex=2", "").Body.String())
	assert.EqualValues(t, 449, page["itemsPerPage"])
	res := page["Resources"].([]any)
	require.Len(t, res, 449)
	for i, r := range res {
		assert.Equal(t, fmt.Sprintf("u%03d@x.com", i+1), r.(map[string]any)["userName"])
	}
}

// TestRateLimit sends a burst past the tenant's bucket: the requests over
// it get 429 with Retry-After and a SCIM error, another tenant is not
// affected, and WithRateLimit(0, 0) turns the limit off.
func TestRateLimit(t *testing.T) {
	var log limitLog
	srv, store := newTestServer(t, scimkit.WithRateLimit(0.5, 3), scimkit.WithLimitObserver(log.observe))
	require.NoError(t, scimkit.SetToken(context.Background(), store, "globex", globexToken))
	var codes []int
	for range 5 {
		codes = append(codes, serve(t, srv, http.MethodGet, "/Users", "").Code)
	}
	assert.Equal(t, []int{200, 200, 200, 429, 429}, codes)
	w := serve(t, srv, http.MethodGet, "/Users", "")
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "2", w.Header().Get("Retry-After"), "one token every 2 s")
	assert.Equal(t, scimJSON, w.Header().Get("Content-Type"))
	got := decode(t, w.Body.String())
	assert.Equal(t, "429", got["status"])
	assert.Equal(t, errorURN, got["schemas"].([]any)[0])
	assert.Equal(t, []scimkit.LimitKind{scimkit.LimitRate, scimkit.LimitRate, scimkit.LimitRate}, log.kinds())

	w = serve(t, srv, http.MethodGet, "/Users", "", "Authorization", "Bearer "+globexToken)
	assert.Equal(t, http.StatusOK, w.Code, "another tenant has its own bucket")

	off, _ := newTestServer(t, scimkit.WithRateLimit(0, 0), scimkit.WithWorkLimit(0, 0))
	for range 300 {
		require.Equal(t, http.StatusOK, serve(t, off, http.MethodGet, "/Users", "").Code)
	}
	_, err := scimkit.New(store, store, scimkit.WithRateLimit(-1, 3))
	assert.Error(t, err)
	_, err = scimkit.New(store, store, scimkit.WithConcurrencyLimit(-1))
	assert.Error(t, err)
}

// Package sqlstoretest holds the tests every SQL backend runs on top of
// storagetest: migrations, filter pushdown checked against the memory
// store through a real server, the statements a write costs, and two
// server instances on one database.
package sqlstoretest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
)

// Opener opens a store on one database; calling it again opens another
// store (a second instance) on the same database. The opener closes what
// it opens when the test ends.
type Opener func(ctx context.Context) (storage.Store, error)

// Closed turns open into an Opener whose stores are closed when tb ends.
func Closed[S interface {
	storage.Store
	Close() error
}](tb testing.TB, open func(ctx context.Context) (S, error)) Opener {
	return func(ctx context.Context) (storage.Store, error) {
		s, err := open(ctx)
		if err != nil {
			return nil, err
		}
		tb.Cleanup(func() { assert.NoError(tb, s.Close()) })
		return s, nil
	}
}

// Run runs the SQL backend tests. newDB returns an Opener on a new, empty
// database for each call.
func Run(t *testing.T, newDB func(t *testing.T) Opener) {
	t.Run("Migrations", func(t *testing.T) { testMigrations(t, newDB) })
	t.Run("FilterPushdown", func(t *testing.T) { testFilterPushdown(t, newDB) })
	t.Run("Statements", func(t *testing.T) { testStatements(t, newDB) })
	t.Run("TwoInstances", func(t *testing.T) { testTwoInstances(t, newDB) })
	t.Run("NameEquality", func(t *testing.T) { NameEquality(t, mustOpen(t, newDB(t))) })
}

// versioned is the migration surface of a SQL store.
type versioned interface {
	Version(ctx context.Context) (int, error)
	Migrate(ctx context.Context) error
}

// traced is the statement hook of a SQL store.
type traced interface {
	Trace(f func(query string))
}

func mustOpen(t *testing.T, open Opener) storage.Store {
	t.Helper()
	s, err := open(context.Background())
	require.NoError(t, err)
	return s
}

func testMigrations(t *testing.T, newDB func(t *testing.T) Opener) {
	ctx := context.Background()
	t.Run("a second start finds the schema current and keeps the data", func(t *testing.T) {
		open := newDB(t)
		s1 := mustOpen(t, open)
		v1, err := s1.(versioned).Version(ctx)
		require.NoError(t, err)
		require.Positive(t, v1)
		require.NoError(t, s1.CreateCredential(ctx, "acme", storage.Credential{ID: "c1", Label: "l"}, []byte("hash")))

		s2 := mustOpen(t, open)
		v2, err := s2.(versioned).Version(ctx)
		require.NoError(t, err)
		assert.Equal(t, v1, v2)
		require.NoError(t, s2.(versioned).Migrate(ctx), "migrating again is a no-op")
		c, err := s2.CredentialByHash(ctx, []byte("hash"))
		require.NoError(t, err)
		assert.Equal(t, "acme", c.Tenant)
		assert.Equal(t, "l", c.Label)
	})
	t.Run("instances starting at once apply each step once", func(t *testing.T) {
		open := newDB(t)
		const n = 4
		var (
			wg     sync.WaitGroup
			stores [n]storage.Store
			errs   [n]error
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stores[i], errs[i] = open(ctx)
			}()
		}
		wg.Wait()
		want := -1
		for i := range n {
			require.NoError(t, errs[i], "instance %d", i)
			v, err := stores[i].(versioned).Version(ctx)
			require.NoError(t, err)
			if want < 0 {
				want = v
			}
			assert.Equal(t, want, v)
		}
		// Every instance can write and read what another wrote.
		u := user("u1", "ann@x.test")
		require.NoError(t, stores[0].Create(ctx, "acme", u))
		got, err := stores[n-1].Get(ctx, "acme", storage.KindUser, "u1")
		require.NoError(t, err)
		assert.Equal(t, "ann@x.test", got.Name)
	})
}

func user(id, name string) *storage.Resource {
	return &storage.Resource{Kind: storage.KindUser, ID: id, Name: name,
		Created: time.Unix(1, 0), Modified: time.Unix(1, 0), Data: []byte(`{"userName":"` + name + `"}`)}
}

// testStatements checks the cost model with the statement trace: a member
// change is a fixed number of statements whatever its size, and a group
// list that does not ask for members never reads the member table.
func testStatements(t *testing.T, newDB func(t *testing.T) Opener) {
	ctx := context.Background()
	s := mustOpen(t, newDB(t))
	for i := range 200 {
		require.NoError(t, s.Create(ctx, "acme", user(fmt.Sprintf("u%03d", i), fmt.Sprintf("u%03d@x.test", i))))
	}
	g := &storage.Resource{Kind: storage.KindGroup, ID: "g", Name: "G", Data: []byte(`{"displayName":"G"}`)}
	require.NoError(t, s.Create(ctx, "acme", g))

	var (
		mu    sync.Mutex
		stmts []string
	)
	record := func() func() []string {
		mu.Lock()
		stmts = nil
		mu.Unlock()
		s.(traced).Trace(func(q string) {
			mu.Lock()
			stmts = append(stmts, q)
			mu.Unlock()
		})
		return func() []string {
			s.(traced).Trace(nil)
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), stmts...)
		}
	}
	members := func(from, n int) []storage.Member {
		var ms []storage.Member
		for i := from; i < from+n; i++ {
			ms = append(ms, storage.Member{Value: fmt.Sprintf("u%03d", i)})
		}
		return ms
	}

	stop := record()
	require.NoError(t, s.ChangeMembers(ctx, "acme", "g", storage.MemberChange{Add: members(0, 1)}))
	one := stop()
	stop = record()
	require.NoError(t, s.ChangeMembers(ctx, "acme", "g", storage.MemberChange{Add: members(1, 100)}))
	hundred := stop()
	assert.Len(t, hundred, len(one), "adding 100 members costs the statements adding one does:\n%s", strings.Join(hundred, "\n"))
	stop = record()
	require.NoError(t, s.ChangeMembers(ctx, "acme", "g", storage.MemberChange{Remove: []string{"u005"}, Add: members(101, 99)}))
	mixed := stop()
	assert.LessOrEqual(t, len(mixed), len(one)+1, "a remove adds one statement")
	got, err := s.ListMembers(ctx, "acme", "g")
	require.NoError(t, err)
	assert.Len(t, got, 199)

	stop = record()
	p, err := s.List(ctx, "acme", storage.Query{Kind: storage.KindGroup, Count: 10})
	require.NoError(t, err)
	without := stop()
	require.Len(t, p.Resources, 1)
	assert.Nil(t, p.Members)
	for _, q := range without {
		assert.NotContains(t, q, "scimkit_members", "a list without members read the member table")
	}
	stop = record()
	p, err = s.List(ctx, "acme", storage.Query{Kind: storage.KindGroup, Count: 10, WithMembers: true})
	require.NoError(t, err)
	with := stop()
	assert.Len(t, p.Members["g"], 199)
	assert.Contains(t, strings.Join(with, "\n"), "scimkit_members")
}

// server is a scimkit server under test with deterministic ids and clock.
// The clock moves a minute each time it is read: once to authenticate a
// request and once per write, so the n-th POST creates at 12:2n.
type server struct {
	h     http.Handler
	token string
}

func newServer(t *testing.T, store storage.Store, tokens storage.Store, setToken bool) *server {
	t.Helper()
	var n, tick atomic.Int64
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	srv, err := scimkit.New(store, tokens,
		scimkit.WithClock(func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Minute) }),
		scimkit.WithIDGenerator(func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1)) }),
		scimkit.WithUserExtension(scimkit.StringExtension(druvaURN, "city", "costCenter")),
		// The suite compares backends request by request, as fast as it
		// can, and sends 64 PATCHes at once (TwoInstances): no limits.
		scimkit.WithRateLimit(0, 0), scimkit.WithConcurrencyLimit(0), scimkit.WithWorkLimit(0, 0),
	)
	require.NoError(t, err)
	// Last-use writes end before the store closes (cleanups run in
	// reverse order).
	t.Cleanup(func() { assert.NoError(t, srv.Flush(context.Background())) })
	const token = "sqlstoretest-token"
	if setToken {
		require.NoError(t, scimkit.SetToken(context.Background(), tokens, "acme", token))
	}
	return &server{h: srv, token: token}
}

const (
	druvaURN   = "urn:ietf:params:scim:schemas:extension:Druva:2.0:User"
	enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// do sends one request and returns the status and decoded body.
func (s *server) do(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, "http://scim.test"+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/scim+json")
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	var out map[string]any
	if w.Body.Len() > 0 {
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), "body: %s", w.Body.String())
	}
	return w.Code, out
}

// Statement is one statement a store ran, with the arguments it was given.
type Statement struct {
	Name  string // what it does
	SQL   string
	Args  []any
	Index string // a regexp matching the index that must answer it
}

// IndexedStatements seeds s and returns the count and page statements
// of the lookups IdPs send on every step (userName, externalId, id,
// email, member, group displayName), of an unfiltered page and of the
// credential lookup that authenticates every request, with
// their arguments, for a backend to check that its planner answers each
// from an index rather than a scan.
func IndexedStatements(t *testing.T, s storage.Store) []Statement {
	t.Helper()
	ctx := context.Background()
	// Enough rows that a planner's choice of index means something.
	for i := range 2000 {
		u := user(fmt.Sprintf("u%02d", i), fmt.Sprintf("u%02d@x.test", i))
		u.ExternalID, u.Emails = fmt.Sprintf("e%02d", i), []string{u.Name}
		require.NoError(t, s.Create(ctx, "acme", u))
	}
	for i := range 100 {
		id := fmt.Sprintf("g%d", i)
		g := &storage.Resource{Kind: storage.KindGroup, ID: id, Name: id, Data: []byte(`{"displayName":"` + id + `"}`)}
		require.NoError(t, s.Create(ctx, "acme", g))
		require.NoError(t, s.ChangeMembers(ctx, "acme", id, storage.MemberChange{Add: []storage.Member{{Value: fmt.Sprintf("u%02d", 100+i)}}}))
	}
	require.NoError(t, s.ChangeMembers(ctx, "acme", "g7", storage.MemberChange{Add: []storage.Member{{Value: "u07"}}}))

	cases := []struct {
		name   string
		q      storage.Query
		lookup []any // the lookup's arguments after tenant and kind
		index  string
	}{
		{"userName eq", storage.Query{Kind: storage.KindUser, Lookup: &storage.Lookup{Field: storage.LookupName, Value: "U07@x.test"}}, []any{"u07@x.test"}, "scimkit_resources_name"},
		{"externalId eq", storage.Query{Kind: storage.KindUser, Lookup: &storage.Lookup{Field: storage.LookupExternalID, Value: "e07"}}, []any{"e07"}, "scimkit_resources_external_id"},
		{"id eq", storage.Query{Kind: storage.KindUser, Lookup: &storage.Lookup{Field: storage.LookupID, Value: "u07"}}, []any{"u07"}, "scimkit_resources_id"},
		{"emails.value eq", storage.Query{Kind: storage.KindUser, Lookup: &storage.Lookup{Field: storage.LookupEmail, Value: "u07@x.test"}}, []any{"acme", "u07@x.test"}, "scimkit_emails_value"},
		{"members[value eq]", storage.Query{Kind: storage.KindGroup, Lookup: &storage.Lookup{Field: storage.LookupMember, Value: "u07"}}, []any{"acme", "u07"}, "scimkit_members_member"},
		{"displayName eq", storage.Query{Kind: storage.KindGroup, Lookup: &storage.Lookup{Field: storage.LookupName, Value: "G7"}}, []any{"g7"}, "scimkit_resources_name"},
		{"page", storage.Query{Kind: storage.KindUser}, nil, "scimkit_resources_(order|pkey)"},
	}
	var out []Statement
	capture := func(q storage.Query) string {
		var stmts []string
		s.(traced).Trace(func(q string) { stmts = append(stmts, q) })
		p, err := s.List(ctx, "acme", q)
		s.(traced).Trace(nil)
		require.NoError(t, err)
		require.NotZero(t, p.Total)
		require.NotEmpty(t, stmts)
		return stmts[0] // a full page is followed by a count
	}
	for _, tc := range cases {
		// The kind is bound, or written into the text as a literal: each
		// statement is asked on its own, as a store may do either.
		args := func(stmt string) []any {
			args := []any{"acme"}
			if !strings.Contains(stmt, "kind = '"+string(tc.q.Kind)+"'") {
				args = append(args, string(tc.q.Kind))
			}
			return append(args, tc.lookup...)
		}
		tc.q.TotalOnly = true
		count := capture(tc.q)
		out = append(out, Statement{Name: tc.name + " (count)", SQL: count, Args: args(count), Index: tc.index})
		tc.q.TotalOnly, tc.q.Count = false, 10
		page := capture(tc.q)
		out = append(out, Statement{Name: tc.name + " (page)", SQL: page, Args: append(args(page), 10, 0), Index: tc.index})
	}

	// A member change: each value probes the id index.
	var stmts []string
	s.(traced).Trace(func(q string) { stmts = append(stmts, q) })
	err := s.ChangeMembers(ctx, "acme", "g7", storage.MemberChange{Remove: []string{"u08"}, Add: []storage.Member{{Value: "u09"}}})
	s.(traced).Trace(nil)
	require.NoError(t, err)
	const one = `[["u09","",""]]`
	for _, q := range stmts {
		var st Statement
		switch {
		case strings.Contains(q, "IS NULL LIMIT 1"):
			st = Statement{Name: "member check", Args: []any{one, "acme"}}
		case strings.HasPrefix(q, "DELETE FROM scimkit_members") && strings.Contains(q, "IN"):
			st = Statement{Name: "member remove", Args: []any{int64(1), "acme", `[["u08"]]`}}
		case strings.HasPrefix(q, "INSERT INTO scimkit_members"):
			st = Statement{Name: "member add", Args: []any{int64(1), "acme", one}}
		default:
			continue
		}
		st.SQL, st.Index = q, "scimkit_resources_id"
		out = append(out, st)
	}

	// Authentication: one probe of the token hash's unique index, among
	// many tenants' credentials.
	for i := range 500 {
		c := storage.Credential{ID: fmt.Sprintf("c%d", i), Created: time.Unix(int64(i), 0)}
		require.NoError(t, s.CreateCredential(ctx, fmt.Sprintf("t%d", i%50), c, []byte(fmt.Sprintf("hash-%04d", i))))
	}
	stmts = nil
	s.(traced).Trace(func(q string) { stmts = append(stmts, q) })
	_, err = s.CredentialByHash(ctx, []byte("hash-0042"))
	s.(traced).Trace(nil)
	require.NoError(t, err)
	require.Len(t, stmts, 1, "authentication is one statement")
	out = append(out, Statement{Name: "credential by hash", SQL: stmts[0], Args: []any{[]byte("hash-0042")}, Index: "scimkit_credentials_hash"})
	require.Len(t, out, 2*len(cases)+4, "statements: %q", stmts)
	return out
}

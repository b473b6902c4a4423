package difftest

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
	"github.com/scimkit/scimkit/storage/postgres"
	"github.com/scimkit/scimkit/storage/sqlite"
)

// Environment knobs. SCIMKIT_DIFF_SEED replays one seed (instead of the
// fixed seed plus a random one); SCIMKIT_DIFF_N sets the number of filters
// per store and seed.
const (
	seedEnv = "SCIMKIT_DIFF_SEED"
	nEnv    = "SCIMKIT_DIFF_N"
	dsnEnv  = "SCIMKIT_POSTGRES_DSN"
	// noSkipEnv=1 turns the known-bugs skip-list off, to see (shrunk)
	// every mismatch.
	noSkipEnv = "SCIMKIT_DIFF_NOSKIP"
)

// fixedSeed is the seed CI always runs.
const fixedSeed = 20261130

// Default numbers of filters per store: the fixed seed, the random seed.
const (
	fixedN  = 2000
	randomN = 300
)

// storeT is a storage backend under test.
type storeT struct {
	name string
	open func(t *testing.T) (scimkit.ResourceHandler, scimkit.TokenStore)
}

func stores() []storeT {
	return []storeT{
		{"memory", func(t *testing.T) (scimkit.ResourceHandler, scimkit.TokenStore) {
			s := memory.New()
			return s, s
		}},
		{"sqlite", func(t *testing.T) (scimkit.ResourceHandler, scimkit.TokenStore) {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "scim.db"))
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, s.Close()) })
			return s, s
		}},
		{"postgres", func(t *testing.T) (scimkit.ResourceHandler, scimkit.TokenStore) {
			s, err := postgres.New(context.Background(), newPool(t))
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, s.Close()) })
			return s, s
		}},
	}
}

// newPool connects to SCIMKIT_POSTGRES_DSN with a search_path of a new,
// empty schema that is dropped afterwards (as storage/postgres's tests
// do), or skips the test.
func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL skipped: set %s, or run ./test.sh, which starts a throwaway server", dsnEnv)
	}
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	var b [6]byte
	_, _ = crand.Read(b[:])
	schema := "difftest_" + hex.EncodeToString(b[:])
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		require.NoError(t, err)
	})
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// seeds returns the seeds to run, with the number of filters for each.
func seeds(t *testing.T) [][2]uint64 {
	n := uint64(0)
	if s := os.Getenv(nEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "%s", nEnv)
		n = v
	}
	or := func(def uint64) uint64 {
		if n > 0 {
			return n
		}
		return def
	}
	if s := os.Getenv(seedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "%s", seedEnv)
		return [][2]uint64{{v, or(fixedN)}}
	}
	var b [8]byte
	_, _ = crand.Read(b[:])
	random := binary.LittleEndian.Uint64(b[:]) >> 1
	t.Logf("random seed %d: replay with %s=%d go test -run '%s' ./conformance/difftest/", random, seedEnv, random, t.Name())
	return [][2]uint64{{fixedSeed, or(fixedN)}, {random, or(randomN)}}
}

// TestFilters is the differential test: generated filters answered by the
// server must agree with the reference evaluator on every store.
func TestFilters(t *testing.T) {
	runs := seeds(t)
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			for _, run := range runs {
				t.Run(fmt.Sprintf("seed=%d", run[0]), func(t *testing.T) {
					runFilters(t, st, run[0], int(run[1]))
				})
			}
		})
	}
}

// world is a populated server and what the reference needs to judge it.
type world struct {
	c      *client
	users  *resType
	groups *resType
	pops   map[string]population // by tenant
}

// tenantNames: t1 holds the main population, t2 a smaller one reusing
// some of t1's userNames and group names (tenant isolation).
func tenantNames() []string { return []string{"t1", "t2"} }

func newWorld(t *testing.T, st storeT, seed uint64) *world {
	store, tokens := st.open(t)
	c := newClient(t, store, tokens, seed, tenantNames()...)
	r := rand.New(rand.NewPCG(seed, 0))
	g1 := &popGen{r: r, c: c, names: map[string]bool{}, created: map[string]time.Time{}}
	p1 := g1.create("t1", 45, 12, nil, nil)
	var groupNames []string
	for _, g := range p1.Groups {
		if s, ok := g["displayName"].(string); ok {
			groupNames = append(groupNames, s)
		}
	}
	g2 := &popGen{r: r, c: c, names: map[string]bool{}, created: map[string]time.Time{}}
	p2 := g2.create("t2", 12, 4, g1.users, groupNames)
	if wrong := append(g1.wrongCreated(p1), g2.wrongCreated(p2)...); len(wrong) > 0 {
		if bug := knownCreatedBug(st.name); bug != "" {
			t.Logf("known bug %q: %d of %d resources: %s, ...", bug, len(wrong), len(g1.created)+len(g2.created), wrong[0])
		} else {
			t.Errorf("%s: meta.created does not read back as created (WithClock):\n%s", st.name, strings.Join(wrong, "\n"))
		}
	}

	status, body := c.do("t1", http.MethodGet, "/Schemas", nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var list struct {
		Resources []*schemaDef `json:"Resources"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	byID := map[string]*schemaDef{}
	for _, s := range list.Resources {
		byID[s.ID] = s
	}
	for _, id := range []string{userURN, groupURN, enterpriseURN, customURN} {
		require.NotNil(t, byID[id], "/Schemas lists %s", id)
	}
	return &world{
		c:      c,
		users:  &resType{Endpoint: "/Users", Core: byID[userURN], Exts: []*schemaDef{byID[enterpriseURN], byID[customURN]}, Common: commonAttrs()},
		groups: &resType{Endpoint: "/Groups", Core: byID[groupURN], Common: commonAttrs()},
		pops:   map[string]population{"t1": p1, "t2": p2},
	}
}

// expectation is the reference's answer to a filter.
type expectation struct {
	outcome
	IDs []string // sorted
}

func (w *world) expect(rt *resType, tenant string, f node) expectation {
	e := expectation{outcome: rt.check(f)}
	if e.Invalid != "" {
		return e
	}
	docs := w.pops[tenant].Users
	if rt == w.groups {
		docs = w.pops[tenant].Groups
	}
	for _, d := range docs {
		if rt.match(f, d) {
			e.IDs = append(e.IDs, d["id"].(string))
		}
	}
	sort.Strings(e.IDs)
	return e
}

// mismatch says how the server's answer differs from the reference's, or
// returns "" when they agree.
func (w *world) mismatch(e expectation, got listResult) string {
	rejected := got.Status == http.StatusBadRequest && got.ScimType == "invalidFilter"
	switch {
	case e.Invalid != "":
		if rejected {
			return ""
		}
		return fmt.Sprintf("want 400 invalidFilter (%s), got %d %s %s", e.Invalid, got.Status, got.ScimType, w.idList(got.IDs))
	case rejected && e.MayReject != "":
		return ""
	case got.Status != http.StatusOK:
		return fmt.Sprintf("want 200 %s, got %d %s %q", w.idList(e.IDs), got.Status, got.ScimType, got.Detail)
	}
	ids := slices.Clone(got.IDs)
	sort.Strings(ids)
	var msgs []string
	if !slices.Equal(ids, e.IDs) {
		missing, extra := diff(e.IDs, ids)
		msgs = append(msgs, fmt.Sprintf("want %d resources, got %d: missing %s, extra %s", len(e.IDs), len(ids), w.idList(missing), w.idList(extra)))
	}
	if got.Total != len(e.IDs) {
		msgs = append(msgs, fmt.Sprintf("totalResults %d, want %d", got.Total, len(e.IDs)))
	}
	return strings.Join(msgs, "; ")
}

func diff(want, got []string) (missing, extra []string) {
	for _, x := range want {
		if !slices.Contains(got, x) {
			missing = append(missing, x)
		}
	}
	for _, x := range got {
		if !slices.Contains(want, x) {
			extra = append(extra, x)
		}
	}
	return missing, extra
}

// idList names resources by userName or displayName (ids mean nothing to
// a reader); at most 6.
func (w *world) idList(ids []string) string {
	names := map[string]string{}
	for tn, p := range w.pops {
		for _, d := range append(slices.Clone(p.Users), p.Groups...) {
			n, _ := d["userName"].(string)
			if n == "" {
				n, _ = d["displayName"].(string)
			}
			names[d["id"].(string)] = fmt.Sprintf("%q(%s)", n, tn)
		}
	}
	var out []string
	for i, id := range ids {
		if i == 6 {
			out = append(out, fmt.Sprintf("... %d more", len(ids)-6))
			break
		}
		if n, ok := names[id]; ok {
			out = append(out, n)
		} else {
			out = append(out, id)
		}
	}
	return "[" + strings.Join(out, " ") + "]"
}

// runFilters generates n filters and checks each on the server.
func runFilters(t *testing.T, st storeT, seed uint64, n int) {
	start := time.Now()
	w := newWorld(t, st, seed)
	r := rand.New(rand.NewPCG(seed, 1))
	all := func(f func(population) []map[string]any) []map[string]any {
		var out []map[string]any
		for _, tn := range tenantNames() {
			out = append(out, f(w.pops[tn])...)
		}
		return out
	}
	genU := newGen(r, w.users, all(func(p population) []map[string]any { return p.Users }))
	genG := newGen(r, w.groups, all(func(p population) []map[string]any { return p.Groups }))

	// Report up to 15 distinct shrunk filters (all of them, up to 400,
	// with the skip-list off).
	maxReports := 15
	if os.Getenv(noSkipEnv) == "1" {
		maxReports = 400
	}
	known := func(rt *resType, c node) string {
		if os.Getenv(noSkipEnv) == "1" {
			return ""
		}
		return knownBug(st.name, rt, c)
	}
	var (
		invalid, matched, masked int
		byBug                    = map[string]int{}
		reported                 = map[string]bool{}
		failures                 int
	)
	for i := 0; i < n; i++ {
		tenant := "t1"
		if i%5 == 4 {
			tenant = "t2"
		}
		rt, g := w.users, genU
		if r.IntN(4) == 0 {
			rt, g = w.groups, genG
		}
		f := g.filter(3)
		txt := text(f)
		if len(txt) > 4000 {
			i--
			continue
		}
		page := 0
		if i%20 == 0 {
			page = 1 + r.IntN(10)
		}
		e := w.expect(rt, tenant, f)
		if e.Invalid != "" {
			invalid++
		}
		if len(e.IDs) > 0 {
			matched++
		}
		got := w.c.list(tenant, rt.Endpoint, txt, page)
		msg := w.mismatch(e, got)
		if msg == "" {
			continue
		}
		if bug := known(rt, f); bug != "" {
			masked++
			byBug[bug]++
			continue
		}
		failures++
		fails := func(c node) bool {
			return known(rt, c) == "" && w.mismatch(w.expect(rt, tenant, c), w.c.list(tenant, rt.Endpoint, text(c), 0)) != ""
		}
		small := shrink(rt, f, fails)
		smallTxt := text(small)
		if reported[smallTxt] || len(reported) >= maxReports {
			continue
		}
		reported[smallTxt] = true
		se := w.expect(rt, tenant, small)
		t.Errorf("%s: filter %d of seed %d differs from the reference (replay: %s=%d %s=%d)\n"+
			"  tenant:   %s %s\n  original: %s\n            %s\n  shrunk:   %s\n            %s",
			st.name, i, seed, seedEnv, seed, nEnv, n, tenant, rt.Endpoint,
			txt, msg, smallTxt, w.mismatch(se, w.c.list(tenant, rt.Endpoint, smallTxt, 0)))
	}
	t.Logf("%s seed %d: %d filters in %v: %d expected invalid, %d with a non-empty result, %d failed, %d masked by known bugs",
		st.name, seed, n, time.Since(start).Round(time.Millisecond), invalid, matched, failures, masked)
	for _, bug := range slices.Sorted(maps.Keys(byBug)) {
		t.Logf("  known bug %q masked %d filters", bug, byBug[bug])
	}
}

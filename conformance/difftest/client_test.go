package difftest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
)

// customURN is the custom User extension the test registers with
// scimkit.WithUserExtension, one attribute of every type an Extension
// supports.
const customURN = "urn:ietf:params:scim:schemas:extension:difftest:2.0:User"

func customExtension() scimkit.Extension {
	return scimkit.Extension{URN: customURN, Name: "DiffTest", Attributes: []scimkit.ExtensionAttribute{
		{Name: "badge", Type: "integer"},
		{Name: "level", Type: "decimal"},
		{Name: "vip", Type: "boolean"},
		{Name: "hired", Type: "dateTime"},
		{Name: "code", CaseExact: true},
		{Name: "nick"},
	}}
}

// clock is the server's clock: the test sets the time each write gets, so
// resources are created across a wide range of instants.
type clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// idGen gives the server seeded UUID-shaped ids, so a seed replays the same
// population (and the same filters) on every store.
type idGen struct {
	mu sync.Mutex // guards r
	r  *rand.Rand
}

func (g *idGen) next() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var b [16]byte
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// client talks to one scimkit.Server over HTTP, one token per tenant.
type client struct {
	t      testing.TB
	base   string
	http   *http.Client
	tokens map[string]string
	clock  *clock
}

// newClient serves a new scimkit.Server on store over httptest and gives
// each tenant a token.
func newClient(t testing.TB, store scimkit.ResourceHandler, tokens scimkit.TokenStore, seed uint64, tenants ...string) *client {
	t.Helper()
	clk := &clock{now: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	ids := &idGen{r: rand.New(rand.NewPCG(seed, 2))}
	srv, err := scimkit.New(store, tokens,
		scimkit.WithUserExtension(customExtension()),
		scimkit.WithClock(clk.Now),
		scimkit.WithIDGenerator(ids.next),
		scimkit.WithPageSize(100, 1000),
		scimkit.WithRateLimit(0, 0), // the differential test sends requests back to back
		scimkit.WithWorkLimit(0, 0),
	)
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := &client{t: t, base: hs.URL, http: hs.Client(), tokens: map[string]string{}, clock: clk}
	for _, tn := range tenants {
		tok := "difftest-token-" + tn
		require.NoError(t, scimkit.SetToken(context.Background(), tokens, tn, tok))
		c.tokens[tn] = tok
	}
	return c
}

// do sends one request and returns the status and body.
func (c *client) do(tenant, method, target string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+target, rd)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.tokens[tenant])
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, out
}

// listResult is what a filtered list answered: the ids, totalResults, or
// the error status and scimType.
type listResult struct {
	Status   int
	ScimType string
	Detail   string
	Total    int
	IDs      []string
}

// list runs a filter; with page > 0 it pages through the result with that
// count, checking totalResults on every page.
func (c *client) list(tenant, endpoint, filter string, page int) listResult {
	c.t.Helper()
	count := 1000
	if page > 0 {
		count = page
	}
	var res listResult
	for start := 1; ; start += count {
		q := url.Values{"filter": {filter}, "startIndex": {fmt.Sprint(start)}, "count": {fmt.Sprint(count)}}
		status, body := c.do(tenant, http.MethodGet, endpoint+"?"+q.Encode(), nil)
		var doc struct {
			ScimType     string            `json:"scimType"`
			Detail       string            `json:"detail"`
			TotalResults int               `json:"totalResults"`
			Resources    []json.RawMessage `json:"Resources"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return listResult{Status: status, Detail: "undecodable body: " + string(body)}
		}
		if status != http.StatusOK {
			return listResult{Status: status, ScimType: doc.ScimType, Detail: doc.Detail}
		}
		if start > 1 && doc.TotalResults != res.Total {
			return listResult{Status: status, Detail: fmt.Sprintf("totalResults changed between pages: %d then %d", res.Total, doc.TotalResults)}
		}
		res.Status, res.Total = status, doc.TotalResults
		for _, r := range doc.Resources {
			var id struct {
				ID string `json:"id"`
			}
			require.NoError(c.t, json.Unmarshal(r, &id))
			res.IDs = append(res.IDs, id.ID)
		}
		if len(doc.Resources) < count || start+count > doc.TotalResults {
			return res
		}
	}
}

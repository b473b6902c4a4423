// Package noisytest is the noisy-neighbour test shared by the backends:
// while tenant A sends the worst requests a client can (a 16,000-value
// PATCH, pages of huge users, a 150-term filter) and cheap requests at four
// times Entra's documented rate, and long scans (the longest filter the
// limits accept, over all its users), tenant B provisions at Entra's rate, and
// B's requests must all succeed, fast, and A's must never be a 5xx.
//
// To see where B's time goes under attack, SCIMKIT_NOISY_TRACE=file
// writes an execution trace of the attack (runtime/trace; each of B's
// requests is a task "B <method>" with its latency logged) and
// SCIMKIT_NOISY_CPUPROFILE=file a CPU profile of it.
package noisytest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// EntraRate is Entra's documented per-tenant request rate (Microsoft's
// gallery checklist: at least 25 requests per second per tenant).
const EntraRate = 25

// Config is one run.
type Config struct {
	// Setup serves the same store as Server with no rate limit, to
	// populate the tenants quickly.
	Setup http.Handler
	// Server is the server under test, with its default limits.
	Server http.Handler
	// TokenA and TokenB are the bearer tokens of tenants A and B.
	TokenA, TokenB string
	// Duration of the attack (B's requests at EntraRate meanwhile).
	Duration time.Duration
	// HugeUsers is how many users of about 180 KB tenant A stores.
	HugeUsers int
	// SmallUsers is how many more users tenant A stores, for its
	// filters to scan.
	SmallUsers int
}

// Result holds what the run measured.
type Result struct {
	// Baseline and Attack are B's latencies alone and under attack.
	Baseline, Attack []time.Duration
	// BFailures lists B's requests that did not succeed.
	BFailures []string
	// AStatuses counts A's responses by status.
	AStatuses map[int]int
	// Seconds is how long A's attack lasted.
	Seconds float64
	// Slowest names B's slowest request under attack.
	Slowest string
	slowest time.Duration
}

// Quantile returns the q-quantile (0..1) of ds.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// String summarises r.
func (r Result) String() string {
	return fmt.Sprintf("B alone: n=%d p50=%v p99=%v; B under attack: n=%d p50=%v p99=%v max=%v failures=%d; A statuses: %v; B's slowest: %s",
		len(r.Baseline), Quantile(r.Baseline, 0.5), Quantile(r.Baseline, 0.99),
		len(r.Attack), Quantile(r.Attack, 0.5), Quantile(r.Attack, 0.99), Quantile(r.Attack, 1), len(r.BFailures), r.AStatuses, r.Slowest)
}

type client struct {
	h     http.Handler
	token string
}

func (c client) do(method, path, body string) (int, string) {
	return c.doCtx(context.Background(), method, path, body)
}

func (c client) doCtx(ctx context.Context, method, path, body string) (int, string) {
	r := httptest.NewRequestWithContext(ctx, method, "http://scim.test"+path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+c.token)
	r.Header.Set("Content-Type", "application/scim+json")
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

func userJSON(name, extra string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + name + `"` + extra + `}`
}

func idOf(t testing.TB, body string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `"id":"`)
	require.True(t, ok, body)
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

// Run runs the test and returns its figures; the caller asserts on them.
func Run(t testing.TB, cfg Config) Result {
	setupA := client{cfg.Setup, cfg.TokenA}
	setupB := client{cfg.Setup, cfg.TokenB}
	a := client{cfg.Server, cfg.TokenA}
	b := client{cfg.Server, cfg.TokenB}

	// Tenant A: huge users, and one to PATCH.
	huge := strings.Repeat("x", 60<<10)
	for i := range cfg.HugeUsers {
		code, body := setupA.do(http.MethodPost, "/Users", userJSON(fmt.Sprintf("huge%d", i),
			`,"displayName":"`+huge+`","nickName":"`+huge+`","title":"`+huge+`"`))
		require.Equal(t, http.StatusCreated, code, body)
	}
	for i := range cfg.SmallUsers {
		code, body := setupA.do(http.MethodPost, "/Users", userJSON(fmt.Sprintf("small%d", i),
			fmt.Sprintf(`,"emails":[{"value":"small%d@example.com"}],"title":"engineer %d"`, i, i)))
		require.Equal(t, http.StatusCreated, code, body)
	}
	code, body := setupA.do(http.MethodPost, "/Users", userJSON("target", ""))
	require.Equal(t, http.StatusCreated, code, body)
	target := idOf(t, body)
	var emails strings.Builder
	for i := range 16000 {
		if i > 0 {
			emails.WriteByte(',')
		}
		fmt.Fprintf(&emails, `{"value":"e%d@x.io"}`, i)
	}
	bigPatch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":[` + emails.String() + `]}]}`
	terms := make([]string, 150)
	for i := range terms {
		terms[i] = fmt.Sprintf(`emails co "x%d"`, i)
	}
	bigFilter := "/Users?filter=" + url.QueryEscape(strings.Join(terms, " or "))
	// The longest filter the default limit lets through, scanning every
	// user of A.
	scanFilter := "/Users?count=1&filter=" + url.QueryEscape(strings.Join(terms[:50], " or "))

	// Tenant B: users to look up and change.
	var bUsers []string
	for i := range 20 {
		code, body := setupB.do(http.MethodPost, "/Users", userJSON(fmt.Sprintf("b%d@contoso.com", i), `,"active":true`))
		require.Equal(t, http.StatusCreated, code, body)
		bUsers = append(bUsers, idOf(t, body))
	}

	var res Result
	res.AStatuses = map[int]int{}
	var mu sync.Mutex
	// bWork sends B's requests at Entra's rate for d: the requests of
	// Entra's provisioning cycle (lookup by userName, create, PATCH,
	// GET), and records their latency.
	bWork := func(d time.Duration, into *[]time.Duration, tag string) {
		tick := time.NewTicker(time.Second / EntraRate)
		defer tick.Stop()
		end := time.Now().Add(d)
		for i := 0; time.Now().Before(end); i++ {
			<-tick.C
			id := bUsers[i%len(bUsers)]
			var method, path, body string
			want := http.StatusOK
			switch i % 4 {
			case 0:
				method, path = http.MethodGet, "/Users?filter="+url.QueryEscape(fmt.Sprintf(`userName eq "b%d@contoso.com"`, i%len(bUsers)))
			case 1:
				method, path, body, want = http.MethodPost, "/Users", userJSON(fmt.Sprintf("%s-new%d@contoso.com", tag, i), ""), http.StatusCreated
			case 2:
				method, path = http.MethodPatch, "/Users/"+id
				body = fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"B %d"}]}`, i)
			default:
				method, path = http.MethodGet, "/Users/"+id
			}
			ctx, task := trace.NewTask(context.Background(), "B "+method)
			start := time.Now()
			code, rb := b.doCtx(ctx, method, path, body)
			lat := time.Since(start)
			task.End()
			trace.Logf(ctx, "lat", "%s %s %d %v", method, path, code, lat)
			mu.Lock()
			*into = append(*into, lat)
			if tag == "attack" && lat > res.slowest {
				res.slowest, res.Slowest = lat, fmt.Sprintf("%s %s (%v)", method, path, lat)
			}
			if code != want {
				res.BFailures = append(res.BFailures, fmt.Sprintf("%s %s: %d %.200s", method, path, code, rb))
			}
			mu.Unlock()
		}
	}
	bWork(cfg.Duration/2, &res.Baseline, "base")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	attack := func(f func() int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code := f()
				mu.Lock()
				res.AStatuses[code]++
				mu.Unlock()
			}
		}()
	}
	worst := []func() int{
		func() int { c, _ := a.do(http.MethodPatch, "/Users/"+target, bigPatch); return c },
		func() int { c, _ := a.do(http.MethodGet, "/Users?count=1000", ""); return c },
		func() int { c, _ := a.do(http.MethodGet, bigFilter, ""); return c },
		func() int { c, _ := a.do(http.MethodGet, scanFilter, ""); return c },
	}
	for _, f := range worst {
		attack(f)
	}
	// Cheap requests at four times Entra's rate, sent on time whatever
	// the answers take, over up to 32 connections: each wake-up sends
	// what is due, so a late tick drops nothing.
	conns := make(chan struct{}, 32)
	wg.Add(1)
	go func() {
		defer wg.Done()
		start, sent := time.Now(), 0
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			due := int(time.Since(start).Seconds() * 4 * EntraRate)
			for ; sent < due; sent++ {
				select {
				case conns <- struct{}{}:
				case <-stop:
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-conns }()
					c, _ := a.do(http.MethodGet, "/Users?filter="+url.QueryEscape(`userName eq "target"`), "")
					mu.Lock()
					res.AStatuses[c]++
					mu.Unlock()
				}()
			}
		}
	}()
	began := time.Now()
	time.Sleep(100 * time.Millisecond) // the attack is under way
	if f := os.Getenv("SCIMKIT_NOISY_TRACE"); f != "" {
		out, err := os.Create(f)
		require.NoError(t, err)
		require.NoError(t, trace.Start(out))
		defer out.Close()
		defer trace.Stop()
	}
	if f := os.Getenv("SCIMKIT_NOISY_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		require.NoError(t, err)
		require.NoError(t, pprof.StartCPUProfile(out))
		defer out.Close()
		defer pprof.StopCPUProfile()
	}
	bWork(cfg.Duration, &res.Attack, "attack")
	close(stop)
	res.Seconds = time.Since(began).Seconds()
	wg.Wait()
	return res
}

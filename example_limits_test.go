package scimkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
)

// A tenant over its rate gets 429 with Retry-After; a limit observer
// hears of each limit met, e.g. to count them per tenant in metrics.
func ExampleWithRateLimit() {
	store := memory.New()
	srv, err := scimkit.New(store, store,
		scimkit.WithRateLimit(0.01, 2), // one request per 100 s, bursts of 2
		scimkit.WithLimitObserver(func(_ context.Context, ev scimkit.LimitEvent) {
			fmt.Println("limit met:", ev.Tenant, ev.Limit)
		}),
	)
	if err != nil {
		panic(err)
	}
	if err := scimkit.SetToken(context.Background(), store, "acme", "acme-token-0123456789"); err != nil {
		panic(err)
	}
	for range 3 {
		r := httptest.NewRequest(http.MethodGet, "/Users", nil)
		r.Header.Set("Authorization", "Bearer acme-token-0123456789")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Header().Get("Retry-After"))))
	}
	// Output:
	// 200
	// 200
	// limit met: acme rate
	// 429 100
}

// A page of resources larger than the byte budget is cut short, never
// refused: itemsPerPage says how many resources came.
func ExampleWithMaxPageBytes() {
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithMaxPageBytes(1500))
	if err != nil {
		panic(err)
	}
	if err := scimkit.SetToken(context.Background(), store, "acme", "acme-token-0123456789"); err != nil {
		panic(err)
	}
	do := func(method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer acme-token-0123456789")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w
	}
	for _, name := range []string{"ann", "bob", "cho", "dee"} {
		do(http.MethodPost, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`","title":"`+fmt.Sprintf("%0300d", 0)+`"}`)
	}
	var page map[string]any
	if err := json.Unmarshal(do(http.MethodGet, "/Users?count=100", "").Body.Bytes(), &page); err != nil {
		panic(err)
	}
	fmt.Println("totalResults", page["totalResults"], "itemsPerPage", page["itemsPerPage"])
	// Output:
	// totalResults 4 itemsPerPage 2
}

// Expensive requests (here pages of resources) spend their tenant's
// share of the server's time; once it is spent, its next expensive
// requests get 429 with Retry-After until it refills. Lookups, the
// requests an IdP provisions with, cost nothing and are still served.
func ExampleWithWorkLimit() {
	store := memory.New()
	srv, err := scimkit.New(store, store,
		scimkit.WithWorkLimit(time.Nanosecond, time.Nanosecond), // a tiny share, for the example
		scimkit.WithLimitObserver(func(_ context.Context, ev scimkit.LimitEvent) {
			fmt.Println("limit met:", ev.Tenant, ev.Limit)
		}),
	)
	if err != nil {
		panic(err)
	}
	if err := scimkit.SetToken(context.Background(), store, "acme", "acme-token-0123456789"); err != nil {
		panic(err)
	}
	get := func(path string) {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", "Bearer acme-token-0123456789")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		fmt.Println(path, w.Code)
	}
	lookup := "/Users?filter=" + url.QueryEscape(`userName eq "ann"`)
	get(lookup)
	get("/Users")
	get("/Users")
	get(lookup)
	// Output:
	// /Users?filter=userName+eq+%22ann%22 200
	// /Users 200
	// limit met: acme work
	// /Users 429
	// /Users?filter=userName+eq+%22ann%22 200
}

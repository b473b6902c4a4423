package scimkit_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sync"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
)

// ExampleWithMiddleware adds a host's own per-tenant accounting around the
// server's dispatch: the middleware runs after authentication, so in
// token mode too it knows the tenant and credential of each request.
func ExampleWithMiddleware() {
	ctx := context.Background()
	store := memory.New()
	var mu sync.Mutex
	perTenant := map[string]int{}
	count := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tenant, ok := scimkit.TenantFromContext(r.Context()); ok {
				mu.Lock()
				perTenant[tenant]++
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}
	srv, err := scimkit.New(store, store, scimkit.WithMiddleware(count))
	if err != nil {
		log.Fatal(err)
	}
	token, _, err := scimkit.GenerateToken(ctx, store, "acme")
	if err != nil {
		log.Fatal(err)
	}
	send(srv, http.MethodGet, "/Users", token, "")
	send(srv, http.MethodGet, "/Groups", token, "")
	send(srv, http.MethodGet, "/Users", "wrong-token", "") // refused before the middleware
	fmt.Println(perTenant)
	// Output:
	// map[acme:2]
}

// printObserver prints what it observes.
type printObserver struct{}

func (printObserver) Request(_ context.Context, i scimkit.RequestInfo) {
	fmt.Printf("tenant=%q op=%q status=%d scimType=%q\n", i.Tenant, i.Op(), i.Status, i.ScimType)
}

// ExampleWithObserver receives one RequestInfo per request, the hook
// metrics use (package metrics/prometheus implements it).
func ExampleWithObserver() {
	ctx := context.Background()
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithObserver(printObserver{}))
	if err != nil {
		log.Fatal(err)
	}
	token, _, err := scimkit.GenerateToken(ctx, store, "acme")
	if err != nil {
		log.Fatal(err)
	}
	send(srv, http.MethodPost, "/Users", token, `{"userName":"bjensen"}`)
	send(srv, http.MethodGet, "/Users?filter=userName+zz+%22x%22", token, "")
	send(srv, http.MethodGet, "/Groups", "wrong-token", "")
	// Output:
	// tenant="acme" op="create User" status=201 scimType=""
	// tenant="acme" op="list Users" status=400 scimType="invalidFilter"
	// tenant="" op="list Groups" status=401 scimType=""
}

// ExampleServer_Health reads a tenant's provisioning health: a job whose
// calls mostly fail risks an Entra quarantine.
func ExampleServer_Health() {
	ctx := context.Background()
	store := memory.New()
	srv, err := scimkit.New(store, store)
	if err != nil {
		log.Fatal(err)
	}
	token, _, err := scimkit.GenerateToken(ctx, store, "acme")
	if err != nil {
		log.Fatal(err)
	}
	send(srv, http.MethodGet, "/Users", token, "")
	for range 10 {
		send(srv, http.MethodGet, "/Users?filter=bad", token, "")
	}
	h := srv.Health("acme")
	fmt.Println(h.Requests, h.Failures, h.QuarantineRisk, h.LastFailureStatus, h.LastFailureScimType)
	// Output:
	// 11 10 true 400 invalidFilter
}

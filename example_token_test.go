package scimkit_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
)

// ExampleGenerateToken creates the "Secret Token" an admin pastes into
// Entra (or Okta's Authorization header), valid for a year. Only its
// hash is stored; the credential returned holds its id, label and times.
// A tenant may have several tokens, one per IdP job, each revoked on its
// own.
func ExampleGenerateToken() {
	ctx := context.Background()
	store := memory.New()
	srv, err := scimkit.New(store, store)
	if err != nil {
		log.Fatal(err)
	}

	token, cred, err := scimkit.GenerateToken(ctx, store, "acme",
		scimkit.WithTokenLabel("Entra production"), scimkit.WithTokenLifetime(365*24*time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(token), strings.HasPrefix(token, "scim_"))
	fmt.Println(cred.Tenant, cred.Label, cred.Expires.Sub(cred.Created))
	fmt.Println(send(srv, http.MethodGet, "/Users", token, "").Code)

	okta, _, err := scimkit.GenerateToken(ctx, store, "acme", scimkit.WithTokenLabel("Okta"))
	if err != nil {
		log.Fatal(err)
	}
	if err := scimkit.RevokeToken(ctx, store, "acme", cred.ID); err != nil {
		log.Fatal(err)
	}
	fmt.Println(send(srv, http.MethodGet, "/Users", token, "").Code, send(srv, http.MethodGet, "/Users", okta, "").Code)
	// Output:
	// 48 true
	// acme Entra production 8760h0m0s
	// 200
	// 401 200
}

// ExampleRotateToken replaces a token with an overlap: the old token keeps
// working for a day, while the admin pastes the new one into the IdP, then
// expires. The clock is pinned for the example.
func ExampleRotateToken() {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithClock(clock))
	if err != nil {
		log.Fatal(err)
	}

	old, cred, err := scimkit.GenerateToken(ctx, store, "acme", scimkit.WithTokenLabel("Entra"), scimkit.WithTokenClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	now = now.AddDate(0, 6, 0) // six months later
	rotated, _, err := scimkit.RotateToken(ctx, store, "acme", cred.ID, 24*time.Hour, scimkit.WithTokenClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(send(srv, http.MethodGet, "/Users", old, "").Code, send(srv, http.MethodGet, "/Users", rotated, "").Code)

	now = now.Add(24 * time.Hour) // the overlap is over
	fmt.Println(send(srv, http.MethodGet, "/Users", old, "").Code, send(srv, http.MethodGet, "/Users", rotated, "").Code)

	creds, err := scimkit.ListTokens(ctx, store, "acme")
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range creds {
		fmt.Println(c.Label, c.Expires.Format(time.RFC3339), c.Expired(now))
	}
	// Output:
	// 200 200
	// 401 200
	// Entra 2025-07-02T12:00:00Z true
	// Entra 0001-01-01T00:00:00Z false
}

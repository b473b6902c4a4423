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

// ExampleServer_IdPProfile shows what a tenant's traffic reveals: Entra's
// default job creates a user, then disables it with the string "False"
// and a capitalised op. The profile names the client and its evidence;
// the counters say which normalisations the tenant still needs.
func ExampleServer_IdPProfile() {
	ctx := context.Background()
	store := memory.New()
	srv, err := scimkit.New(store, store,
		scimkit.WithClock(func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }))
	if err != nil {
		log.Fatal(err)
	}
	token, _, err := scimkit.GenerateToken(ctx, store, "acme")
	if err != nil {
		log.Fatal(err)
	}
	rec := send(srv, http.MethodPost, "/Users", token, `{"userName":"pat@contoso.com","active":true}`)
	id := rec.Header().Get("Location")
	id = id[strings.LastIndexByte(id, '/')+1:]
	send(srv, http.MethodPatch, "/Users/"+id, token, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],`+
		`"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)

	p := srv.IdPProfile("acme")
	fmt.Println(p.Client, p.Confidence, p.LastSeen.Format(time.RFC3339))
	for _, e := range p.Evidence {
		fmt.Println(" evidence:", e.Signal, e.Count)
	}
	for _, n := range srv.Normalizations("acme") {
		fmt.Println(" normalised:", n.Kind, n.Attribute, n.Count)
	}

	srv.SetIdPProfile("acme", scimkit.ClientEntraFlag) // the host knows better
	p = srv.IdPProfile("acme")
	fmt.Println(p.Client, "overridden:", p.Overridden, "detected:", p.Detected)
	// Output:
	// entra high 2024-05-06T07:08:09Z
	//  evidence: stringBoolean 1
	//  evidence: capitalisedOp 1
	//  normalised: capitalisedOp Replace 1
	//  normalised: stringBoolean active 1
	// entra-aadOptscim062020 overridden: true detected: entra
}

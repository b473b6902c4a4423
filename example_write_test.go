package scimkit_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
)

// ExampleServer_Normalizations accepts Entra's role-mapping body, whose
// roles carry a displayName the SCIM schema does not define: the request
// succeeds, the unknown sub-attribute is dropped, and the drop is counted
// for the tenant.
func ExampleServer_Normalizations() {
	ctx := context.Background()
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithIDGenerator(exampleIDs()))
	if err != nil {
		log.Fatal(err)
	}
	if err := scimkit.SetToken(ctx, store, "acme", "acme-example-token"); err != nil {
		log.Fatal(err)
	}
	rec := send(srv, http.MethodPost, "/Users", "acme-example-token", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "adele.vance@contoso.com",
		"roles": [{"primary": false, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"}]
	}`)
	fmt.Println(rec.Code)
	for _, n := range srv.Normalizations("acme") {
		fmt.Println(n.Kind, n.Attribute, n.Count)
	}
	// Output:
	// 201
	// droppedAttribute roles.displayName 1
}

// ExampleWithPasswordHandler receives the password of Okta's password push
// (a PATCH replace of "password"), which scimkit never stores or returns.
func ExampleWithPasswordHandler() {
	ctx := context.Background()
	store := memory.New()
	srv, err := scimkit.New(store, store,
		scimkit.WithIDGenerator(exampleIDs()),
		scimkit.WithPasswordHandler(func(ctx context.Context, tenant, userID, password string) error {
			// A real product would hash and keep it, keyed by tenant and
			// userID; never print a password.
			fmt.Printf("password for %s/%s: %d characters\n", tenant, userID, len(password))
			return nil
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := scimkit.SetToken(ctx, store, "acme", "acme-example-token"); err != nil {
		log.Fatal(err)
	}
	send(srv, http.MethodPost, "/Users", "acme-example-token", `{"userName":"kim.akers@example.com"}`)
	rec := send(srv, http.MethodPatch, "/Users/user-1", "acme-example-token", `{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "path": "password", "value": "1mz050nq!Q"}]
	}`)
	fmt.Println(rec.Code)
	// Output:
	// password for acme/user-1: 10 characters
	// 200
}

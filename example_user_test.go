package scimkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage/memory"
)

// A custom extension built with typed attributes: Entra's "3" and "True"
// are stored as a number and a boolean, and read back typed.
func ExampleNewExtension() {
	ctx := context.Background()
	const urn = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User"
	ext := scimkit.NewExtension(urn).
		Integer("seats", scimkit.Required()).
		Boolean("vip").
		String("tier", scimkit.CanonicalValues("gold", "silver"))
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithUserExtension(ext), scimkit.WithIDGenerator(exampleIDs()))
	if err != nil {
		log.Fatal(err)
	}
	if err := scimkit.SetToken(ctx, store, "acme", "acme-example-token"); err != nil {
		log.Fatal(err)
	}
	rec := send(srv, http.MethodPost, "/Users", "acme-example-token",
		`{"userName":"ada","`+urn+`":{"seats":"3","vip":"True","tier":"gold"}}`)
	fmt.Println(rec.Code)

	u, err := srv.User(ctx, "acme", "user-1")
	if err != nil {
		log.Fatal(err)
	}
	seats, _ := u.Extension(urn).Int("seats")
	vip, _ := u.Extension(urn).Bool("vip")
	fmt.Println(seats, vip, u.Extension(urn).String("tier"))
	// Output:
	// 201
	// 3 true gold
}

// A provisioning hook reads the typed user behind an event, with its
// groups.
func ExampleServer_User() {
	ctx := context.Background()
	store := memory.New()
	var srv *scimkit.Server
	hook := func(ctx context.Context, e provisioning.Event) {
		if e.Kind != "User" || e.Type == provisioning.Deleted {
			return
		}
		u, err := srv.User(ctx, e.Tenant, e.ResourceID)
		if err != nil {
			log.Print(err)
			return
		}
		fmt.Println(e.Type, u.UserName, u.Name.GivenName, u.PrimaryEmail(), u.Enterprise.Department, u.Active, len(u.Groups))
	}
	srv, err := scimkit.New(store, store, scimkit.WithHook(hook), scimkit.WithIDGenerator(exampleIDs()))
	if err != nil {
		log.Fatal(err)
	}
	if err := scimkit.SetToken(ctx, store, "acme", "acme-example-token"); err != nil {
		log.Fatal(err)
	}
	send(srv, http.MethodPost, "/Users", "acme-example-token", `{"userName":"ada@contoso.com","name":{"givenName":"Ada"},
		"emails":[{"value":"ada@contoso.com","type":"work","primary":true}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`)
	send(srv, http.MethodPost, "/Groups", "acme-example-token", `{"displayName":"Admins","members":[{"value":"user-1"}]}`)
	send(srv, http.MethodPatch, "/Users/user-1", "acme-example-token",
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	// Output:
	// user.provisioned ada@contoso.com Ada ada@contoso.com R&D true 0
	// user.deactivated ada@contoso.com Ada ada@contoso.com R&D false 1
}

// Druva's user-name rule with lower-casing, and an e-mail-only host
// refusing a value it cannot store.
func ExampleWithUserNamePolicy() {
	ctx := context.Background()
	for _, p := range [][]scimkit.UserNamePolicy{
		{scimkit.DruvaUserNames(), scimkit.LowerCaseUserNames()},
		{scimkit.EmailUserNames()},
	} {
		store := memory.New()
		srv, err := scimkit.New(store, store, scimkit.WithUserNamePolicy(p...))
		if err != nil {
			log.Fatal(err)
		}
		if err := scimkit.SetToken(ctx, store, "acme", "acme-example-token"); err != nil {
			log.Fatal(err)
		}
		rec := send(srv, http.MethodPost, "/Users", "acme-example-token", `{"userName":"Sales/EMEA<Ada>"}`)
		var body struct{ UserName, Detail string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			log.Fatal(err)
		}
		fmt.Println(rec.Code, body.UserName+body.Detail)
	}
	// Output:
	// 201 sales_emea_ada_
	// 400 userName "Sales/EMEA<Ada>" breaks the rule "e-mail address only": it is not an e-mail address such as alice@example.com
}

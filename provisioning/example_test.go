package provisioning_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage/memory"
)

// A backup product creates and deletes a backup account for each user the
// IdP provisions and deletes, from the outbox: the events are stored with
// the changes and delivered at least once, so the handler is idempotent
// by event id. Run would deliver continuously; Deliver takes one batch.
func ExampleDispatcher() {
	ctx := context.Background()
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithOutbox())
	if err != nil {
		log.Fatal(err)
	}
	if err := scimkit.SetToken(ctx, store, "acme", "acme-example-token"); err != nil {
		log.Fatal(err)
	}

	accounts := map[string]bool{} // by user id
	handled := map[string]bool{}  // by event id
	d, err := provisioning.NewDispatcher(store, func(ctx context.Context, e provisioning.Event) error {
		if handled[e.ID] || e.Kind != "User" {
			return nil
		}
		handled[e.ID] = true
		switch e.Type {
		case provisioning.Provisioned:
			accounts[e.ResourceID] = true
		case provisioning.Deleted:
			delete(accounts, e.ResourceID)
		}
		fmt.Println(e.Type, e.Name, "version", e.Version, "accounts", len(accounts))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	send := func(method, path, body string) string {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer acme-example-token")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w.Body.String()
	}
	created := send(http.MethodPost, "/Users", `{"userName":"ada@contoso.com"}`)
	id := created[strings.Index(created, `"id":"`)+6:][:36]
	send(http.MethodPatch, "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":false}]}`)
	send(http.MethodDelete, "/Users/"+id, "")

	// Each Deliver hands out the oldest undelivered event of each user.
	for {
		n, err := d.Deliver(ctx)
		if err != nil {
			log.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	// Output:
	// user.provisioned ada@contoso.com version 1 accounts 1
	// user.deactivated ada@contoso.com version 2 accounts 1
	// user.deleted ada@contoso.com version 2 accounts 0
}

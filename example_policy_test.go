package scimkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage/memory"
)

// policyExample is one tenant "acme" with a policy, served on a memory
// store with a pinned clock.
type policyExample struct {
	srv    *scimkit.Server
	now    time.Time
	events []string
}

func newPolicyExample(pol scimkit.Policy, opts ...scimkit.Option) *policyExample {
	ctx := context.Background()
	store := memory.New()
	ex := &policyExample{now: exampleClock()}
	srv, err := scimkit.New(store, store, append([]scimkit.Option{
		scimkit.WithClock(func() time.Time { return ex.now }),
		scimkit.WithIDGenerator(exampleIDs()),
		scimkit.WithHook(func(_ context.Context, e provisioning.Event) {
			ex.events = append(ex.events, string(e.Type)+" "+e.ResourceID)
		}),
	}, opts...)...)
	if err != nil {
		log.Fatal(err)
	}
	if err := scimkit.SetToken(ctx, store, "acme", "acme-example-token"); err != nil {
		log.Fatal(err)
	}
	if err := srv.SetPolicy(ctx, "acme", pol); err != nil {
		log.Fatal(err)
	}
	ex.srv = srv
	return ex
}

// do sends one SCIM request for acme and returns the status and, for an
// error, its detail.
func (ex *policyExample) do(method, path, body string) string {
	rec := send(ex.srv, method, path, "acme-example-token", body)
	var e struct{ Detail string }
	_ = json.Unmarshal(rec.Body.Bytes(), &e)
	if rec.Code >= 400 {
		return fmt.Sprintf("%d %s", rec.Code, e.Detail)
	}
	return fmt.Sprint(rec.Code)
}

func (ex *policyExample) createUser(userName string) string {
	return ex.do(http.MethodPost, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+userName+`"}`)
}

func (ex *policyExample) state(id string) string {
	lc, err := ex.srv.UserState(context.Background(), "acme", id)
	if err != nil {
		return err.Error()
	}
	if lc.PreservedUntil.IsZero() {
		return string(lc.State)
	}
	return string(lc.State) + " until " + lc.PreservedUntil.Format(time.DateOnly)
}

// entraDisable is what Entra's default job sends to disable a user.
const entraDisable = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`

// oktaReactivate is what Okta's OIN apps send to reactivate a user.
const oktaReactivate = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`

// ExamplePolicy_seatLimit caps the active users of a tenant: a create
// beyond the cap, and a reactivation, get 403 and change nothing;
// deactivating a user frees a seat.
func ExamplePolicy_seatLimit() {
	ex := newPolicyExample(scimkit.Policy{SeatLimit: 1})
	fmt.Println(ex.createUser("adele@contoso.com"))
	fmt.Println(ex.createUser("bob@contoso.com"))
	fmt.Println(ex.do(http.MethodPatch, "/Users/user-1", entraDisable))
	fmt.Println(ex.createUser("bob@contoso.com"))
	fmt.Println(ex.do(http.MethodPatch, "/Users/user-1", oktaReactivate))
	// Output:
	// 201
	// 403 seat limit reached: this tenant's plan allows 1 active users and all seats are taken; the create was refused and nothing was changed (deactivate a user or raise the seat limit in the product's admin settings)
	// 200
	// 201
	// 403 seat limit reached: this tenant's plan allows 1 active users and all seats are taken; the reactivation was refused and nothing was changed (deactivate a user or raise the seat limit in the product's admin settings)
}

// ExamplePolicy_protected keeps the account owner out of the IdP's reach:
// it may update the owner, never deactivate or delete them.
func ExamplePolicy_protected() {
	ex := newPolicyExample(scimkit.Policy{Protected: []string{"owner@contoso.com"}})
	fmt.Println(ex.createUser("owner@contoso.com"))
	fmt.Println(ex.do(http.MethodPatch, "/Users/user-1", entraDisable))
	fmt.Println(ex.do(http.MethodDelete, "/Users/user-1", ""))
	fmt.Println(ex.state("user-1"))
	// Output:
	// 201
	// 403 user "owner@contoso.com" is protected by this tenant's provisioning policy and cannot be deactivated through SCIM; nothing was changed (remove it from the protected users in the product's admin settings first)
	// 403 user "owner@contoso.com" is protected by this tenant's provisioning policy and cannot be deleted through SCIM; nothing was changed (remove it from the protected users in the product's admin settings first)
	// active
}

// ExamplePolicy_allowedDomains admits only userNames in the customer's
// own domains.
func ExamplePolicy_allowedDomains() {
	ex := newPolicyExample(scimkit.Policy{AllowedDomains: []string{"contoso.com"}})
	fmt.Println(ex.createUser("adele@contoso.com"))
	fmt.Println(ex.createUser("guest@fabrikam.com"))
	// Output:
	// 201
	// 403 userName "guest@fabrikam.com" is not in a domain this tenant allows (contoso.com); nothing was changed
}

// ExamplePolicy_deactivation preserves a deactivated user for the
// retention period, then Purge removes it; the hook is told each step
// (Preserved instead of Deactivated).
func ExamplePolicy_deactivation() {
	ex := newPolicyExample(scimkit.Policy{Deactivation: scimkit.Preserve, RetentionDays: 30})
	ex.createUser("adele@contoso.com")
	fmt.Println(ex.do(http.MethodPatch, "/Users/user-1", entraDisable))
	fmt.Println(ex.state("user-1"))
	n, err := ex.srv.Purge(context.Background(), ex.now.AddDate(0, 0, 30))
	fmt.Println(n, err)
	fmt.Println(ex.do(http.MethodGet, "/Users/user-1", ""))
	fmt.Println(strings.Join(ex.events, ", "))
	// Output:
	// 200
	// preserved until 2024-02-01
	// 1 <nil>
	// 404 User "user-1" not found
	// user.provisioned user-1, user.preserved user-1, user.purged user-1
}

// ExamplePolicy_deletion keeps the data of a user the IdP deleted: the
// IdP sees the deletion (404, userName free), the host keeps the data
// until the purge.
func ExamplePolicy_deletion() {
	ex := newPolicyExample(scimkit.Policy{Deletion: scimkit.Preserve, RetentionDays: 7})
	ex.createUser("adele@contoso.com")
	fmt.Println(ex.do(http.MethodDelete, "/Users/user-1", ""))
	fmt.Println(ex.do(http.MethodGet, "/Users/user-1", ""))
	fmt.Println(ex.state("user-1"))
	fmt.Println(ex.createUser("adele@contoso.com"), "(a new user-2)")
	// Output:
	// 204
	// 404 User "user-1" not found
	// preserved until 2024-01-09
	// 201 (a new user-2)
}

// ExamplePolicy_idpMayReactivatePreserved: an admin preserved a user; by
// default the IdP may not bring it back.
func ExamplePolicy_idpMayReactivatePreserved() {
	ex := newPolicyExample(scimkit.Policy{})
	ex.createUser("adele@contoso.com")
	if err := ex.srv.PreserveUser(context.Background(), "acme", "user-1"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ex.do(http.MethodPatch, "/Users/user-1", oktaReactivate))
	if err := ex.srv.SetPolicy(context.Background(), "acme", scimkit.Policy{IdPMayReactivatePreserved: true}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ex.do(http.MethodPatch, "/Users/user-1", oktaReactivate))
	fmt.Println(ex.state("user-1"))
	// Output:
	// 403 user "adele@contoso.com" was preserved by an admin of this tenant and the provisioning policy does not let the IdP reactivate it; nothing was changed (an admin must restore the user in the product)
	// 200
	// active
}

// ExamplePolicy_pendingUntilLogin keeps a provisioned user pending until
// the host reports the first login.
func ExamplePolicy_pendingUntilLogin() {
	ex := newPolicyExample(scimkit.Policy{PendingUntilLogin: true})
	ex.createUser("adele@contoso.com")
	fmt.Println(ex.state("user-1"))
	if err := ex.srv.MarkLoggedIn(context.Background(), "acme", "user-1"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ex.state("user-1"))
	// Output:
	// pending
	// active
}

// ExamplePolicy_defaults stores product-side defaults that the host reads
// when it creates the account of a provisioned user.
func ExamplePolicy_defaults() {
	ex := newPolicyExample(scimkit.Policy{Defaults: map[string]string{"quotaGB": "50", "role": "member"}})
	pol, err := ex.srv.Policy(context.Background(), "acme")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pol.Defaults["quotaGB"], pol.Defaults["role"])
	// Output:
	// 50 member
}

// ExampleServer_SetPolicy shows the error of an invalid policy: it names
// the field, and nothing is stored.
func ExampleServer_SetPolicy() {
	ex := newPolicyExample(scimkit.Policy{})
	err := ex.srv.SetPolicy(context.Background(), "acme", scimkit.Policy{Deletion: "archive"})
	var pe *scimkit.PolicyError
	fmt.Println(errors.As(err, &pe), pe.Field)
	fmt.Println(err)
	// Output:
	// true deletion
	// scim: policy deletion: must be "delete" or "preserve", not "archive"
}

// ExampleWithAdmissionRule adds a host rule: contractors may not join
// groups.
func ExampleWithAdmissionRule() {
	ex := newPolicyExample(scimkit.Policy{}, scimkit.WithAdmissionRule(func(_ context.Context, a scimkit.Admission) error {
		if a.Op == scimkit.OpAddMembers || a.Op == scimkit.OpCreate && len(a.Members) > 0 {
			for _, m := range a.Members {
				if m == "user-1" {
					return scimkit.ErrPolicy.WithDetail("contractors may not join groups")
				}
			}
		}
		return nil
	}))
	ex.createUser("contractor@contoso.com")
	fmt.Println(ex.do(http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Staff","members":[{"value":"user-1"}]}`))
	// Output:
	// 403 contractors may not join groups
}

// ExampleServer_Audit reads a tenant's audit log: writes and refusals,
// with the credential id, never the token.
func ExampleServer_Audit() {
	ex := newPolicyExample(scimkit.Policy{SeatLimit: 1})
	ex.createUser("adele@contoso.com")
	ex.createUser("bob@contoso.com")
	entries, err := ex.srv.Audit(context.Background(), "acme", time.Time{}, time.Time{}, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Time.Format(time.RFC3339), e.Operation, e.ResourceID, e.Status, e.Credential != "")
	}
	// Output:
	// 2024-01-02T03:04:05Z POST /Users user-1 201 true
	// 2024-01-02T03:04:05Z POST /Users user-2 403 true
}

// ExampleServer_Export exports a tenant as SCIM JSON, then offboards it.
func ExampleServer_Export() {
	ex := newPolicyExample(scimkit.Policy{})
	ex.createUser("adele@contoso.com")
	var out bytes.Buffer
	if err := ex.srv.Export(context.Background(), "acme", &out); err != nil {
		log.Fatal(err)
	}
	var doc struct {
		Users []struct {
			ID       string `json:"id"`
			UserName string `json:"userName"`
		}
		Groups []any
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(doc.Users), doc.Users[0].ID, doc.Users[0].UserName, len(doc.Groups))
	if err := ex.srv.DeleteTenant(context.Background(), "acme"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ex.do(http.MethodGet, "/Users", ""))
	// Output:
	// 1 user-1 adele@contoso.com 0
	// 401 authorization failure: the bearer token is missing or invalid
}

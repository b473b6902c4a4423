package scimkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

// This file drives each decision of a tenant's Policy end to end through
// HTTP, with the request shapes Entra and Okta send (IDP.md): Entra's
// default job disables with {"op":"Replace","path":"active","value":"False"}
// and hard-deletes with DELETE; Okta deactivates with a path-less
// {"op":"replace","value":{"active":false}} (OIN) or a PUT of the whole
// user (AIW apps), and never DELETEs.

// policyHarness is a harness with a movable clock and a recorded hook.
type policyHarness struct {
	*harness
	now    atomic.Int64 // unix nanoseconds
	mu     sync.Mutex
	events []provisioning.Event // guarded by mu
}

func newPolicyHarness(t *testing.T, pol scimkit.Policy, opts ...scimkit.Option) *policyHarness {
	t.Helper()
	ph := &policyHarness{}
	ph.now.Store(fixedNow.UnixNano())
	opts = append([]scimkit.Option{
		scimkit.WithClock(func() time.Time { return time.Unix(0, ph.now.Load()).UTC() }),
		scimkit.WithOutbox(),
		scimkit.WithHook(func(_ context.Context, e provisioning.Event) {
			ph.mu.Lock()
			defer ph.mu.Unlock()
			ph.events = append(ph.events, e)
		}),
	}, opts...)
	ph.harness = newHarness(t, opts...)
	require.NoError(t, ph.srv.SetPolicy(t.Context(), "acme", pol))
	return ph
}

func (ph *policyHarness) advance(d time.Duration) { ph.now.Add(int64(d)) }
func (ph *policyHarness) clock() time.Time        { return time.Unix(0, ph.now.Load()).UTC() }

// eventTypes returns the types of the events told for id, in order. It
// checks that the outbox holds the same events (by id, type and Until),
// each stored with its write: the hook and the outbox never disagree, and
// no write stores two user events.
func (ph *policyHarness) eventTypes(t *testing.T, id string) []provisioning.EventType {
	t.Helper()
	ph.mu.Lock()
	defer ph.mu.Unlock()
	var out []provisioning.EventType
	var told []string
	for _, e := range ph.events {
		if e.ResourceID == id {
			out = append(out, e.Type)
			told = append(told, fmt.Sprintf("%s %s %s", e.ID, e.Type, e.Until.Format(time.RFC3339)))
		}
	}
	var stored []string
	recs, err := ph.store.ListEvents(t.Context(), "acme", 0, 1000)
	require.NoError(t, err)
	for _, r := range recs {
		e, err := provisioning.FromRecord(r)
		require.NoError(t, err)
		if e.ResourceID == id {
			stored = append(stored, fmt.Sprintf("%s %s %s", e.ID, e.Type, e.Until.Format(time.RFC3339)))
		}
	}
	assert.Equal(t, told, stored, "the outbox holds what the hook was told")
	return out
}

func (ph *policyHarness) send(t *testing.T, method, path, body string) response {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return do(t, ph.ts.Client(), method, ph.base, path, acmeToken, b, nil)
}

// get returns the user's document as the IdP reads it (nil after 404).
func (ph *policyHarness) get(t *testing.T, id string) response {
	t.Helper()
	return ph.send(t, http.MethodGet, "/Users/"+id, "")
}

func (ph *policyHarness) state(t *testing.T, id string) scimkit.Lifecycle {
	t.Helper()
	lc, err := ph.srv.UserState(t.Context(), "acme", id)
	require.NoError(t, err)
	return lc
}

// IdP request shapes for active, each a method and a body builder.
type activeShape struct {
	name   string
	method string
	body   func(userName string, active bool) string
}

func activeShapes() []activeShape {
	return []activeShape{
		{"Entra PATCH Replace active string", http.MethodPatch, func(_ string, a bool) string {
			v := "False"
			if a {
				v = "True"
			}
			return patchBody(fmt.Sprintf(`{"op":"Replace","path":"active","value":%q}`, v))
		}},
		{"Entra aadOptscim062020 PATCH replace active boolean", http.MethodPatch, func(_ string, a bool) string {
			return patchBody(fmt.Sprintf(`{"op":"replace","path":"active","value":%t}`, a))
		}},
		{"Okta PATCH path-less replace", http.MethodPatch, func(_ string, a bool) string {
			return patchBody(fmt.Sprintf(`{"op":"replace","value":{"active":%t}}`, a))
		}},
		{"Okta PUT of the whole user", http.MethodPut, func(userName string, a bool) string {
			return fmt.Sprintf(`{"schemas":[%q],"userName":%q,"active":%t,"name":{"givenName":"Adele","familyName":"Vance"},"emails":[{"type":"work","value":%q,"primary":true}],"groups":[]}`,
				userURN, userName, a, userName)
		}},
	}
}

// assertRefused checks a policy refusal: 403, the SCIM error shape, no
// scimType, a detail holding want.
func assertRefused(t *testing.T, r response, want string) {
	t.Helper()
	require.Equal(t, http.StatusForbidden, r.status, "%s", r.raw)
	checkErrorShape(t, r)
	assert.Equal(t, "403", r.doc["status"])
	assert.NotContains(t, r.doc, "scimType")
	assert.Contains(t, r.doc["detail"], want)
	assert.Contains(t, r.doc["detail"], "nothing was changed")
}

func TestPolicySeatLimit(t *testing.T) {
	for _, sh := range activeShapes() {
		t.Run("reactivation refused at the limit: "+sh.name, func(t *testing.T) {
			ph := newPolicyHarness(t, scimkit.Policy{SeatLimit: 2})
			a := ph.createUser(t, acmeToken, "a@contoso.com")
			ph.createUser(t, acmeToken, "b@contoso.com")

			// The third create is refused and nothing is stored.
			r := ph.send(t, http.MethodPost, "/Users", fmt.Sprintf(`{"schemas":[%q],"userName":"c@contoso.com","active":true}`, userURN))
			assertRefused(t, r, "seat limit reached: this tenant's plan allows 2 active users")
			assert.Equal(t, 0, ph.total(t, acmeToken, `/Users?filter=userName eq "c@contoso.com"`))
			assert.Equal(t, 2, ph.total(t, acmeToken, "/Users"))

			// Deactivating a frees its seat; c takes it.
			r = ph.send(t, sh.method, "/Users/"+a, sh.body("a@contoso.com", false))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			c := ph.createUser(t, acmeToken, "c@contoso.com")
			require.NotEmpty(t, c)

			// Reactivating a now needs a seat: refused, a unchanged.
			before := ph.get(t, a)
			r = ph.send(t, sh.method, "/Users/"+a, sh.body("a@contoso.com", true))
			assertRefused(t, r, "the reactivation was refused")
			after := ph.get(t, a)
			assert.Equal(t, false, after.doc["active"])
			assert.Equal(t, before.header.Get("ETag"), after.header.Get("ETag"), "version unchanged")
			assert.Equal(t, StateOf(t, ph, a), scimkit.StateSuspended)

			// An update that keeps a user active is never refused.
			r = ph.send(t, http.MethodPatch, "/Users/"+c, patchBody(`{"op":"Replace","path":"displayName","value":"C"}`))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)

			// Raising the limit admits the reactivation.
			require.NoError(t, ph.srv.SetPolicy(t.Context(), "acme", scimkit.Policy{SeatLimit: 3}))
			r = ph.send(t, sh.method, "/Users/"+a, sh.body("a@contoso.com", true))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		})
	}

	t.Run("a user created inactive takes no seat", func(t *testing.T) {
		ph := newPolicyHarness(t, scimkit.Policy{SeatLimit: 1})
		ph.createUser(t, acmeToken, "a@contoso.com")
		r := ph.send(t, http.MethodPost, "/Users", fmt.Sprintf(`{"schemas":[%q],"userName":"b@contoso.com","active":false}`, userURN))
		require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	})

	t.Run("concurrent creates at limit-1 admit exactly one", func(t *testing.T) {
		ph := newPolicyHarness(t, scimkit.Policy{SeatLimit: 3}, scimkit.WithIDGenerator(func() string {
			return fmt.Sprintf("u-%d", time.Now().UnixNano())
		}))
		ph.createUser(t, acmeToken, "a@contoso.com")
		ph.createUser(t, acmeToken, "b@contoso.com")
		const racers = 8
		statuses := make([]int, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"schemas":[%q],"userName":"r%d@contoso.com"}`, userURN, i)
				r := do(t, ph.ts.Client(), http.MethodPost, ph.base, "/Users", acmeToken, []byte(body), nil)
				statuses[i] = r.status
			}()
		}
		wg.Wait()
		created := 0
		for _, s := range statuses {
			if s == http.StatusCreated {
				created++
			} else {
				assert.Equal(t, http.StatusForbidden, s)
			}
		}
		assert.Equal(t, 1, created)
		assert.Equal(t, 3, ph.total(t, acmeToken, "/Users"))
	})
}

// StateOf returns the lifecycle state of a user.
func StateOf(t *testing.T, ph *policyHarness, id string) scimkit.State {
	t.Helper()
	return ph.state(t, id).State
}

func TestPolicyProtectedUsers(t *testing.T) {
	cases := activeShapes()
	cases = append(cases, activeShape{"Entra DELETE", http.MethodDelete, func(string, bool) string { return "" }})
	for _, sh := range cases {
		t.Run(sh.name+" of the owner is refused", func(t *testing.T) {
			ph := newPolicyHarness(t, scimkit.Policy{Protected: []string{"OWNER@contoso.com"}})
			owner := ph.createUser(t, acmeToken, "owner@contoso.com")
			other := ph.createUser(t, acmeToken, "other@contoso.com")
			before := ph.get(t, owner)

			r := ph.send(t, sh.method, "/Users/"+owner, sh.body("owner@contoso.com", false))
			assertRefused(t, r, `user "owner@contoso.com" is protected`)
			after := ph.get(t, owner)
			require.Equal(t, http.StatusOK, after.status)
			assert.Equal(t, true, after.doc["active"])
			assert.Equal(t, before.header.Get("ETag"), after.header.Get("ETag"))
			assert.Equal(t, []provisioning.EventType{provisioning.Provisioned}, ph.eventTypes(t, owner))

			// Other users are not protected.
			r = ph.send(t, sh.method, "/Users/"+other, sh.body("other@contoso.com", false))
			assert.Less(t, r.status, 300, "%s", r.raw)
		})
	}

	t.Run("a protected user may be updated", func(t *testing.T) {
		ph := newPolicyHarness(t, scimkit.Policy{Protected: []string{"owner@contoso.com"}})
		owner := ph.createUser(t, acmeToken, "owner@contoso.com")
		r := ph.send(t, http.MethodPatch, "/Users/"+owner, patchBody(`{"op":"Replace","path":"displayName","value":"The Owner"}`))
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	})
}

func TestPolicyAllowedDomains(t *testing.T) {
	ph := newPolicyHarness(t, scimkit.Policy{AllowedDomains: []string{"contoso.com"}})
	r := ph.send(t, http.MethodPost, "/Users", fmt.Sprintf(`{"schemas":[%q],"userName":"eve@fabrikam.com"}`, userURN))
	assertRefused(t, r, `userName "eve@fabrikam.com" is not in a domain this tenant allows (contoso.com)`)
	assert.Equal(t, 0, ph.total(t, acmeToken, "/Users"))
	r = ph.send(t, http.MethodPost, "/Users", fmt.Sprintf(`{"schemas":[%q],"userName":"eve@eu.contoso.com"}`, userURN))
	assertRefused(t, r, "not in a domain")

	id := ph.createUser(t, acmeToken, "adele@CONTOSO.com")
	// Entra's rename to another domain is refused; within the domain it is not.
	r = ph.send(t, http.MethodPatch, "/Users/"+id, patchBody(`{"op":"Replace","path":"userName","value":"adele@fabrikam.com"}`))
	assertRefused(t, r, "not in a domain")
	assert.Equal(t, "adele@CONTOSO.com", ph.get(t, id).doc["userName"])
	r = ph.send(t, http.MethodPatch, "/Users/"+id, patchBody(`{"op":"Replace","path":"userName","value":"adele.vance@contoso.com"}`))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
}

func TestPolicyDeactivation(t *testing.T) {
	for _, sh := range activeShapes() {
		t.Run("preserve, then purge after the retention: "+sh.name, func(t *testing.T) {
			ph := newPolicyHarness(t, scimkit.Policy{Deactivation: scimkit.Preserve, RetentionDays: 30})
			id := ph.createUser(t, acmeToken, "a@contoso.com")
			r := ph.send(t, sh.method, "/Users/"+id, sh.body("a@contoso.com", false))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			lc := ph.state(t, id)
			assert.Equal(t, scimkit.StatePreserved, lc.State)
			assert.Equal(t, fixedNow.AddDate(0, 0, 30), lc.PreservedUntil)
			assert.False(t, lc.Deleted)
			// The IdP still reads the user, inactive (RFC 7643 §4.1.1).
			got := ph.get(t, id)
			require.Equal(t, http.StatusOK, got.status)
			assert.Equal(t, false, got.doc["active"])

			n, err := ph.srv.Purge(t.Context(), ph.clock().AddDate(0, 0, 29))
			require.NoError(t, err)
			assert.Zero(t, n, "not due yet")
			ph.advance(30 * 24 * time.Hour)
			n, err = ph.srv.Purge(t.Context(), ph.clock())
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			assert.Equal(t, http.StatusNotFound, ph.get(t, id).status)
			_, err = ph.srv.UserState(t.Context(), "acme", id)
			require.ErrorIs(t, err, storage.ErrNotFound)
			assert.Equal(t, []provisioning.EventType{provisioning.Provisioned, provisioning.Preserved, provisioning.Purged}, ph.eventTypes(t, id))
		})

		t.Run("the IdP reactivates a user it preserved: "+sh.name, func(t *testing.T) {
			ph := newPolicyHarness(t, scimkit.Policy{Deactivation: scimkit.Preserve, RetentionDays: 30})
			id := ph.createUser(t, acmeToken, "a@contoso.com")
			require.Equal(t, http.StatusOK, ph.send(t, sh.method, "/Users/"+id, sh.body("a@contoso.com", false)).status)
			r := ph.send(t, sh.method, "/Users/"+id, sh.body("a@contoso.com", true))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			assert.Equal(t, scimkit.StateActive, StateOf(t, ph, id))
			n, err := ph.srv.Purge(t.Context(), ph.clock().AddDate(1, 0, 0))
			require.NoError(t, err)
			assert.Zero(t, n, "a reactivated user is never purged")
			assert.Equal(t, http.StatusOK, ph.get(t, id).status)
		})

		t.Run("suspend (the default): "+sh.name, func(t *testing.T) {
			ph := newPolicyHarness(t, scimkit.Policy{})
			id := ph.createUser(t, acmeToken, "a@contoso.com")
			require.Equal(t, http.StatusOK, ph.send(t, sh.method, "/Users/"+id, sh.body("a@contoso.com", false)).status)
			assert.Equal(t, scimkit.Lifecycle{State: scimkit.StateSuspended, UserName: "a@contoso.com"}, ph.state(t, id))
			n, err := ph.srv.Purge(t.Context(), ph.clock().AddDate(10, 0, 0))
			require.NoError(t, err)
			assert.Zero(t, n)
			assert.Equal(t, []provisioning.EventType{provisioning.Provisioned, provisioning.Deactivated}, ph.eventTypes(t, id))
		})
	}
}

func TestPolicyAdminPreserved(t *testing.T) {
	for _, sh := range activeShapes() {
		t.Run(sh.name, func(t *testing.T) {
			ph := newPolicyHarness(t, scimkit.Policy{})
			id := ph.createUser(t, acmeToken, "a@contoso.com")
			require.NoError(t, ph.srv.PreserveUser(t.Context(), "acme", id))
			lc := ph.state(t, id)
			assert.Equal(t, scimkit.StatePreserved, lc.State)
			assert.True(t, lc.ByAdmin)
			assert.Equal(t, false, ph.get(t, id).doc["active"], "the IdP sees the user inactive")

			r := ph.send(t, sh.method, "/Users/"+id, sh.body("a@contoso.com", true))
			assertRefused(t, r, "preserved by an admin")
			assert.Equal(t, false, ph.get(t, id).doc["active"])

			require.NoError(t, ph.srv.SetPolicy(t.Context(), "acme", scimkit.Policy{IdPMayReactivatePreserved: true}))
			r = ph.send(t, sh.method, "/Users/"+id, sh.body("a@contoso.com", true))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			assert.Equal(t, scimkit.StateActive, StateOf(t, ph, id))
			assert.Equal(t, []provisioning.EventType{provisioning.Provisioned, provisioning.Preserved, provisioning.Reactivated}, ph.eventTypes(t, id),
				"the refused reactivation tells nothing")
		})
	}
}

func TestPolicyDeletion(t *testing.T) {
	t.Run("Entra DELETE under preserve: the IdP sees it deleted, the data is kept until the purge", func(t *testing.T) {
		ph := newPolicyHarness(t, scimkit.Policy{Deletion: scimkit.Preserve, RetentionDays: 7})
		id := ph.createUser(t, acmeToken, "a@contoso.com")
		g := ph.createGroup(t, acmeToken, "Staff", id)
		r := ph.send(t, http.MethodDelete, "/Users/"+id, "")
		require.Equal(t, http.StatusNoContent, r.status, "%s", r.raw)

		assert.Equal(t, http.StatusNotFound, ph.get(t, id).status)
		assert.Equal(t, 0, ph.total(t, acmeToken, `/Users?filter=userName eq "a@contoso.com"`))
		assert.Equal(t, http.StatusNotFound, ph.send(t, http.MethodDelete, "/Users/"+id, "").status, "a retried DELETE")
		grp := ph.send(t, http.MethodGet, "/Groups/"+g, "")
		assert.Empty(t, grp.doc["members"], "memberships go as with a delete")
		lc := ph.state(t, id)
		assert.Equal(t, scimkit.Lifecycle{State: scimkit.StatePreserved, PreservedUntil: fixedNow.AddDate(0, 0, 7), Deleted: true, UserName: "a@contoso.com"}, lc)

		// The IdP may provision the userName again: a new user.
		again := ph.createUser(t, acmeToken, "a@contoso.com")
		assert.NotEqual(t, id, again)

		ph.advance(7 * 24 * time.Hour)
		n, err := ph.srv.Purge(t.Context(), ph.clock())
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		_, err = ph.srv.UserState(t.Context(), "acme", id)
		require.ErrorIs(t, err, storage.ErrNotFound)
		assert.Equal(t, http.StatusOK, ph.get(t, again).status, "the new user is untouched")
		assert.Equal(t, []provisioning.EventType{provisioning.Provisioned, provisioning.Preserved, provisioning.Purged}, ph.eventTypes(t, id))
		ph.mu.Lock()
		defer ph.mu.Unlock()
		for _, e := range ph.events {
			if e.ResourceID == id && e.Type == provisioning.Preserved {
				assert.Equal(t, fixedNow.AddDate(0, 0, 7), e.Until.UTC(), "the Preserved event says until when")
			}
		}
	})

	t.Run("Entra DELETE under delete (the default)", func(t *testing.T) {
		ph := newPolicyHarness(t, scimkit.Policy{})
		id := ph.createUser(t, acmeToken, "a@contoso.com")
		require.Equal(t, http.StatusNoContent, ph.send(t, http.MethodDelete, "/Users/"+id, "").status)
		_, err := ph.srv.UserState(t.Context(), "acme", id)
		require.ErrorIs(t, err, storage.ErrNotFound)
		assert.Equal(t, []provisioning.EventType{provisioning.Provisioned, provisioning.Deleted}, ph.eventTypes(t, id))
	})

	t.Run("an admin purges a user kept without retention", func(t *testing.T) {
		ph := newPolicyHarness(t, scimkit.Policy{Deletion: scimkit.Preserve})
		id := ph.createUser(t, acmeToken, "a@contoso.com")
		require.Equal(t, http.StatusNoContent, ph.send(t, http.MethodDelete, "/Users/"+id, "").status)
		assert.True(t, ph.state(t, id).PreservedUntil.IsZero())
		n, err := ph.srv.Purge(t.Context(), ph.clock().AddDate(50, 0, 0))
		require.NoError(t, err)
		assert.Zero(t, n, "kept until an admin purges")
		require.NoError(t, ph.srv.PurgeUser(t.Context(), "acme", id))
		_, err = ph.srv.UserState(t.Context(), "acme", id)
		require.ErrorIs(t, err, storage.ErrNotFound)
		assert.Equal(t, []provisioning.EventType{provisioning.Provisioned, provisioning.Preserved, provisioning.Purged}, ph.eventTypes(t, id))
		ph.mu.Lock()
		defer ph.mu.Unlock()
		for _, e := range ph.events {
			if e.Type == provisioning.Preserved {
				assert.True(t, e.Until.IsZero(), "no retention: no Until")
				assert.False(t, e.Active)
			}
		}
	})
}

func TestPolicyPendingUntilLogin(t *testing.T) {
	ph := newPolicyHarness(t, scimkit.Policy{PendingUntilLogin: true})
	id := ph.createUser(t, acmeToken, "a@contoso.com")
	assert.Equal(t, scimkit.StatePending, StateOf(t, ph, id))
	require.NoError(t, ph.srv.MarkLoggedIn(t.Context(), "acme", id))
	assert.Equal(t, scimkit.StateActive, StateOf(t, ph, id))
	require.NoError(t, ph.srv.MarkLoggedIn(t.Context(), "acme", id), "a second login changes nothing")

	other := ph.createUser(t, acmeToken, "b@contoso.com")
	require.Equal(t, http.StatusOK, ph.send(t, http.MethodPatch, "/Users/"+other, patchBody(`{"op":"Replace","path":"active","value":"False"}`)).status)
	assert.Equal(t, scimkit.StateSuspended, StateOf(t, ph, other), "an inactive user is suspended, pending or not")
}

func TestPolicyAdmissionRule(t *testing.T) {
	var seen []scimkit.Admission
	var mu sync.Mutex
	rule := func(_ context.Context, a scimkit.Admission) error {
		mu.Lock()
		seen = append(seen, a)
		mu.Unlock()
		for _, m := range a.Members {
			if strings.HasPrefix(m, "contractor") {
				return scimkit.ErrPolicy.WithDetail("contractors may not join groups; nothing was changed")
			}
		}
		if a.Op == scimkit.OpReactivate && a.Before["title"] == "Leaver" {
			return scimkit.ErrPolicy.WithDetail("leavers stay inactive; nothing was changed")
		}
		return nil
	}
	ids := []string{"staff-1", "contractor-1", "group-1", "leaver-1"}
	n := 0
	ph := newPolicyHarness(t, scimkit.Policy{SeatLimit: 10}, scimkit.WithAdmissionRule(rule),
		scimkit.WithIDGenerator(func() string { n++; return ids[n-1] }))
	staff := ph.createUser(t, acmeToken, "staff@contoso.com")
	contractor := ph.createUser(t, acmeToken, "contractor@contoso.com")
	g := ph.createGroup(t, acmeToken, "Staff", staff)

	// Entra adds members with one PATCH; the rule refuses it whole.
	r := ph.send(t, http.MethodPatch, "/Groups/"+g, patchBody(fmt.Sprintf(`{"op":"Add","path":"members","value":[{"$ref":null,"value":%q}]}`, contractor)))
	assertRefused(t, r, "contractors may not join groups")
	grp := ph.send(t, http.MethodGet, "/Groups/"+g, "")
	require.Len(t, grp.doc["members"], 1)

	body := fmt.Sprintf(`{"schemas":[%q],"userName":"leaver@contoso.com","title":"Leaver","active":false}`, userURN)
	r = ph.send(t, http.MethodPost, "/Users", body)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	leaver := r.doc["id"].(string)
	r = ph.send(t, http.MethodPatch, "/Users/"+leaver, patchBody(`{"op":"replace","value":{"active":true}}`))
	assertRefused(t, r, "leavers stay inactive")

	mu.Lock()
	defer mu.Unlock()
	var ops []scimkit.Operation
	for _, a := range seen {
		ops = append(ops, a.Op)
		assert.Equal(t, "acme", a.Tenant)
		assert.Equal(t, 10, a.Policy.SeatLimit)
	}
	assert.Equal(t, []scimkit.Operation{scimkit.OpCreate, scimkit.OpCreate, scimkit.OpCreate, scimkit.OpAddMembers, scimkit.OpCreate, scimkit.OpReactivate}, ops)
	last := seen[len(seen)-1]
	assert.Equal(t, false, last.Before["active"])
	assert.Equal(t, true, last.After["active"])
}

func TestPolicyValidation(t *testing.T) {
	ph := newPolicyHarness(t, scimkit.Policy{})
	cases := []struct {
		name  string
		pol   scimkit.Policy
		field string
	}{
		{"negative seat limit", scimkit.Policy{SeatLimit: -1}, "seatLimit"},
		{"unknown deactivation", scimkit.Policy{Deactivation: "archive"}, "deactivation"},
		{"delete is no deactivation", scimkit.Policy{Deactivation: scimkit.Delete}, "deactivation"},
		{"suspend is no deletion", scimkit.Policy{Deletion: scimkit.Suspend}, "deletion"},
		{"retention beyond ten years", scimkit.Policy{RetentionDays: 4000}, "retentionDays"},
		{"an address as a domain", scimkit.Policy{AllowedDomains: []string{"a@contoso.com"}}, "allowedDomains"},
		{"an empty protected entry", scimkit.Policy{Protected: []string{" "}}, "protected"},
		{"an empty default key", scimkit.Policy{Defaults: map[string]string{"": "x"}}, "defaults"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ph.srv.SetPolicy(t.Context(), "acme", tc.pol)
			var pe *scimkit.PolicyError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.field, pe.Field)
			assert.True(t, strings.HasPrefix(err.Error(), "scim: policy "+tc.field+": "), err.Error())
			got, err := ph.srv.Policy(t.Context(), "acme")
			require.NoError(t, err)
			assert.Equal(t, scimkit.Policy{}, got, "nothing stored")
		})
	}
}

func TestAuditLog(t *testing.T) {
	ph := newPolicyHarness(t, scimkit.Policy{SeatLimit: 1, Deactivation: scimkit.Preserve, RetentionDays: 1},
		scimkit.WithAuditRetention(48*time.Hour))
	id := ph.createUser(t, acmeToken, "a@contoso.com")
	ph.advance(time.Minute)
	// Entra's role mapping sends roles.displayName, which is dropped.
	r := ph.send(t, http.MethodPatch, "/Users/"+id, patchBody(`{"op":"Add","path":"roles.displayName","value":"x"},{"op":"Replace","path":"active","value":"False"}`))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	ph.advance(time.Minute)
	r = ph.send(t, http.MethodPost, "/Users", fmt.Sprintf(`{"schemas":[%q],"userName":"b@contoso.com"}`, userURN))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	ph.advance(time.Minute)
	r = ph.send(t, http.MethodPatch, "/Users/"+id, patchBody(`{"op":"replace","value":{"active":true}}`))
	require.Equal(t, http.StatusForbidden, r.status)
	ph.advance(time.Minute)
	require.Equal(t, http.StatusBadRequest, ph.send(t, http.MethodGet, `/Users?filter=userName zz "x"`, "").status)
	require.Equal(t, http.StatusNotFound, ph.send(t, http.MethodGet, "/Users/nobody", "").status)
	require.Equal(t, http.StatusOK, ph.send(t, http.MethodGet, "/Users", "").status)

	creds, err := scimkit.ListTokens(t.Context(), ph.store, "acme")
	require.NoError(t, err)
	require.Len(t, creds, 1)
	entries, err := ph.srv.Audit(t.Context(), "acme", time.Time{}, time.Time{}, 100)
	require.NoError(t, err)
	require.Len(t, entries, 5, "writes and refusals; not good reads, nor a GET 404: %+v", entries)
	want := []struct {
		op, id, scimType string
		status           int
		detail           string
	}{
		{"POST /Users", id, "", 201, ""},
		{"PATCH /Users", id, "", 200, "preserved until 2024-05-07T07:09:09Z"},
		{"POST /Users", "", "", 201, ""},
		{"PATCH /Users", id, "", 403, "seat limit reached"},
		{"GET /Users", "-", "invalidFilter", 400, "cannot parse filter"},
	}
	for i, w := range want {
		e := entries[i]
		assert.Equal(t, w.op, e.Operation, "entry %d", i)
		switch w.id {
		case "-":
			assert.Empty(t, e.ResourceID, "entry %d", i)
		case "":
			assert.NotEmpty(t, e.ResourceID, "entry %d: the created id", i)
		default:
			assert.Equal(t, w.id, e.ResourceID, "entry %d", i)
		}
		assert.Equal(t, w.scimType, e.ScimType, "entry %d", i)
		assert.Equal(t, w.status, e.Status, "entry %d", i)
		assert.Contains(t, e.Detail, w.detail, "entry %d", i)
		assert.Equal(t, creds[0].ID, e.Credential, "entry %d", i)
		assert.Equal(t, fixedNow.Add(time.Duration(i)*time.Minute), e.Time, "entry %d", i)
	}
	// Entra's default job: capitalised ops, a dropped sub-attribute and
	// "False" as a string, in the order the operations came.
	assert.Equal(t, []string{"capitalisedOp Add", "droppedAttribute roles.displayName", "capitalisedOp Replace", "stringBoolean active"}, entries[1].Normalizations)
	raw, err := json.Marshal(entries)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), acmeToken, "never the token")

	all, err := ph.srv.Audit(t.Context(), "acme", fixedNow.Add(time.Minute), fixedNow.Add(3*time.Minute), 100)
	require.NoError(t, err)
	assert.Len(t, all, 2, "time range")

	// Retention: Purge prunes what is older than 48 hours.
	ph.advance(48*time.Hour - 90*time.Second) // cut-off: 2.5 minutes after the first entry
	_, err = ph.srv.Purge(t.Context(), ph.clock())
	require.NoError(t, err)
	left, err := ph.srv.Audit(t.Context(), "acme", time.Time{}, time.Time{}, 100)
	require.NoError(t, err)
	assert.Len(t, left, 2)
}

func TestDeleteTenantAndExport(t *testing.T) {
	ph := newPolicyHarness(t, scimkit.Policy{SeatLimit: 5})
	require.NoError(t, scimkit.SetToken(t.Context(), ph.store, "globex", globexToken))
	a := ph.createUser(t, acmeToken, "a@contoso.com")
	ph.createUser(t, acmeToken, "b@contoso.com")
	g := ph.createGroup(t, acmeToken, "Staff", a)
	kept := ph.createUser(t, globexToken, "a@globex.com")

	var out bytes.Buffer
	require.NoError(t, ph.srv.Export(t.Context(), "acme", &out))
	var exp struct {
		Users, Groups []map[string]any
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &exp), "%s", out.Bytes())
	require.Len(t, exp.Users, 2)
	require.Len(t, exp.Groups, 1)
	assert.Equal(t, "a@contoso.com", exp.Users[0]["userName"])
	assert.Equal(t, g, exp.Groups[0]["id"])
	members, _ := exp.Groups[0]["members"].([]any)
	require.Len(t, members, 1)
	assert.Equal(t, a, members[0].(map[string]any)["value"])

	require.NoError(t, ph.srv.DeleteTenant(t.Context(), "acme"))
	r := ph.send(t, http.MethodGet, "/Users", "")
	assert.Equal(t, http.StatusUnauthorized, r.status, "the tenant's tokens are gone")
	page, err := ph.store.List(t.Context(), "acme", storage.Query{Kind: storage.KindUser, TotalOnly: true})
	require.NoError(t, err)
	assert.Zero(t, page.Total)
	pol, err := ph.srv.Policy(t.Context(), "acme")
	require.NoError(t, err)
	assert.Equal(t, scimkit.Policy{}, pol)
	entries, err := ph.srv.Audit(t.Context(), "acme", time.Time{}, time.Time{}, 10)
	require.NoError(t, err)
	assert.Empty(t, entries)
	assert.Equal(t, http.StatusOK, do(t, ph.ts.Client(), http.MethodGet, ph.base, "/Users/"+kept, globexToken, nil, nil).status)
	out.Reset()
	require.NoError(t, ph.srv.Export(t.Context(), "acme", &out))
	assert.JSONEq(t, `{"Users":[],"Groups":[]}`, out.String())
}

func TestPolicyNeedsAPolicyStore(t *testing.T) {
	mem := memory.New()
	srv, err := scimkit.New(resourcesOnly{mem}, mem)
	require.NoError(t, err)
	err = srv.SetPolicy(t.Context(), "acme", scimkit.Policy{})
	require.True(t, errors.Is(err, scimkit.ErrNoPolicyStore))
	_, err = srv.UserState(t.Context(), "acme", "u1")
	require.ErrorIs(t, err, scimkit.ErrNoPolicyStore)
	require.ErrorIs(t, srv.DeleteTenant(t.Context(), "acme"), scimkit.ErrNoPolicyStore)
}

// resourcesOnly hides every method of a store but the ResourceHandler's.
type resourcesOnly struct{ scimkit.ResourceHandler }

// failingAudit is a store whose audit log cannot be written.
type failingAudit struct{ *memory.Store }

func (failingAudit) AppendAudit(context.Context, string, []storage.AuditEntry) error {
	return errors.New("audit table is gone")
}

func TestAuditFailureNeverFailsARequest(t *testing.T) {
	mem := memory.New()
	srv, err := scimkit.New(failingAudit{mem}, mem)
	require.NoError(t, err)
	tok, _, err := scimkit.GenerateToken(t.Context(), mem, "acme")
	require.NoError(t, err)
	rec := send(srv, http.MethodPost, "/Users", tok, fmt.Sprintf(`{"schemas":[%q],"userName":"a@contoso.com"}`, userURN))
	assert.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.NoError(t, srv.Flush(t.Context()))
	entries, err := srv.Audit(t.Context(), "acme", time.Time{}, time.Time{}, 10)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

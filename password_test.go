package scimkit_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
)

// oktaCreate is Okta's create body (IDP.md §2, O1; testdata/okta/lifecycle.json).
const oktaCreate = `{"schemas":["` + userURN + `"],"userName":"kim.akers@example.com",
 "name":{"givenName":"Kim","familyName":"Akers"},"emails":[{"primary":true,"value":"kim.akers@example.com","type":"work"}],
 "displayName":"Kim Akers","locale":"en-US","externalId":"00u1dhhb1fkIGP7RL1d8","groups":[],"password":"1mz050nq!Q","active":true}`

type passwordCall struct{ tenant, userID, password string }

// TestPasswordIsHandedToTheHost: password is writeOnly and returned never
// (RFC 7643 §4.1.1). Every method may set it (Okta's password push is a
// PATCH replace); it is handed once to the PasswordHandler and never
// stored, returned or logged.
func TestPasswordIsHandedToTheHost(t *testing.T) {
	cases := []struct {
		name           string
		method, body   string // on the user created by oktaCreate, unless method is POST
		status         int
		want           string // the password the handler gets; "" for no call
		displayName    string // the user's displayName afterwards
		failWith       error  // the handler's answer
		withoutHandler bool
	}{
		{name: "Okta POST hands over its password", method: "POST", status: 201, want: "1mz050nq!Q", displayName: "Kim Akers"},
		{name: "PUT hands over its password", method: "PUT", status: 200, want: "put-Secret-1", displayName: "Kim A.",
			body: `{"schemas":["` + userURN + `"],"userName":"kim.akers@example.com","displayName":"Kim A.","password":"put-Secret-1"}`},
		{name: "Okta's password push (PATCH replace path password) is accepted", method: "PATCH", status: 200, want: "patch-Secret-2", displayName: "Kim Akers",
			body: patchBody(`{"op":"replace","path":"password","value":"patch-Secret-2"}`)},
		{name: "PATCH add of password with the core URN", method: "PATCH", status: 200, want: "patch-Secret-3", displayName: "Kim Akers",
			body: patchBody(`{"op":"add","path":"` + userURN + `:password","value":"patch-Secret-3"}`)},
		{name: "path-less PATCH replace with a password and a displayName", method: "PATCH", status: 200, want: "patch-Secret-4", displayName: "Kim B.",
			body: patchBody(`{"op":"replace","value":{"password":"patch-Secret-4","displayName":"Kim B."}}`)},
		{name: "PATCH remove of password is a no-op", method: "PATCH", status: 200, displayName: "Kim Akers",
			body: patchBody(`{"op":"remove","path":"password"}`)},
		{name: "a password that is not a string is 400 invalidValue", method: "PATCH", status: 400, displayName: "Kim Akers",
			body: patchBody(`{"op":"replace","path":"password","value":42}`)},
		{name: "without a handler the password push is accepted and discarded", method: "PATCH", status: 200, displayName: "Kim Akers", withoutHandler: true,
			body: patchBody(`{"op":"replace","path":"password","value":"patch-Secret-5"}`)},
		{name: "a handler's SCIM error is answered and nothing is stored", method: "PATCH", status: 400, want: "short", displayName: "Kim Akers",
			failWith: scimkit.ErrInvalidValue.WithDetail("the password is too short"),
			body:     patchBody(`{"op":"replace","path":"displayName","value":"Kim C."},{"op":"replace","path":"password","value":"short"}`)},
		{name: "a handler's unavailable store is 503 and nothing is stored", method: "PUT", status: 503, want: "put-Secret-6", displayName: "Kim Akers",
			failWith: storage.ErrUnavailable,
			body:     `{"userName":"kim.akers@example.com","displayName":"Kim D.","password":"put-Secret-6"}`},
		{name: "a handler error on POST stores no user", method: "POST", status: 500, want: "1mz050nq!Q", failWith: errors.New("vault sealed")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var calls []passwordCall
			var logs strings.Builder
			opts := []scimkit.Option{scimkit.WithLogger(newTestLogger(&logs, &mu))}
			if !tc.withoutHandler {
				opts = append(opts, scimkit.WithPasswordHandler(func(_ context.Context, tenant, userID, password string) error {
					mu.Lock()
					defer mu.Unlock()
					calls = append(calls, passwordCall{tenant, userID, password})
					return tc.failWith
				}))
			}
			srv, store := newTestServer(t, opts...)
			var id string
			var w *httptest.ResponseRecorder
			if tc.method == "POST" {
				w = serve(t, srv, http.MethodPost, "/Users", oktaCreate)
			} else {
				// Created without a password: only tc's request
				// reaches the handler.
				w = serve(t, srv, http.MethodPost, "/Users", strings.Replace(oktaCreate, `"password":"1mz050nq!Q",`, ``, 1))
				require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
				id = idOf(t, w.Body.String())
				w = serve(t, srv, tc.method, "/Users/"+id, tc.body)
			}
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.method == "POST" && w.Code == http.StatusCreated {
				id = idOf(t, w.Body.String())
			}
			assert.NotContains(t, w.Body.String(), "Secret")
			assert.NotContains(t, w.Body.String(), "1mz050nq")

			mu.Lock()
			var want []passwordCall
			if tc.want != "" {
				wantID := id
				if tc.method == "POST" && w.Code != http.StatusCreated {
					wantID = calls[0].userID // the id the user would have had
				}
				want = []passwordCall{{"acme", wantID, tc.want}}
			}
			assert.Equal(t, want, calls, "the handler is called once, with the password")
			assert.NotContains(t, logs.String(), "Secret", "the password is never logged")
			assert.NotContains(t, logs.String(), "1mz050nq")
			mu.Unlock()

			list := serve(t, srv, http.MethodGet, "/Users", "")
			require.Equal(t, http.StatusOK, list.Code)
			if tc.method == "POST" && w.Code != http.StatusCreated {
				assert.Contains(t, list.Body.String(), `"totalResults":0`, "nothing is stored")
				return
			}
			assert.NotContains(t, list.Body.String(), "password")
			res, err := store.Get(context.Background(), "acme", storage.KindUser, id)
			require.NoError(t, err)
			assert.NotContains(t, string(res.Data), "password", "never stored")
			assert.NotContains(t, string(res.Data), "Secret")
			assert.Equal(t, tc.displayName, decodeBody(t, res.Data)["displayName"])
		})
	}
}

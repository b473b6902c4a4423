package scimtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/scimtest"
	"github.com/scimkit/scimkit/storage/memory"
)

const token = "scimtest-token-0123456789"

func newServer(t *testing.T, opts ...scimkit.Option) *scimkit.Server {
	t.Helper()
	st := memory.New()
	// The suite sends requests back to back; ExampleRunOkta shows it waiting
	// out the default rate limit, the others need not.
	srv, err := scimkit.New(st, st, append([]scimkit.Option{scimkit.WithRateLimit(0, 0), scimkit.WithWorkLimit(0, 0)}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, scimkit.SetToken(context.Background(), st, "acme", token))
	return srv
}

func TestEntraAgainstMemory(t *testing.T) {
	scimtest.Entra(t, newServer(t, scimkit.EntraPreset().Options()...), token)
}

func TestOktaAgainstMemory(t *testing.T) { scimtest.Okta(t, newServer(t), token) }

func TestAgainstLiveURL(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", newServer(t)))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	scimtest.RunEntra(t, scimtest.URL(ts.URL+"/scim/v2", token, ts.Client()))
	scimtest.RunOkta(t, scimtest.URL(ts.URL+"/scim/v2", token, ts.Client()))
}

// recorder is a TB that records instead of failing, to check that the kit
// catches a broken provider.
type recorder struct {
	errs   []string
	failed bool
}

func (r *recorder) Helper()             {}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Errorf(f string, args ...any) {
	r.failed = true
	r.errs = append(r.errs, sprintf(f, args...))
}
func (r *recorder) FailNow()     { r.failed = true; panic(failNow{}) }
func (r *recorder) Failed() bool { return r.failed }

type failNow struct{}

// Step runs f, turning FailNow into the end of the step.
func (r *recorder) Step(name string, f func(scimtest.TB)) (ok bool) {
	before := len(r.errs)
	defer func() {
		if v := recover(); v != nil {
			if _, is := v.(failNow); !is {
				panic(v)
			}
		}
		ok = len(r.errs) == before
		for i := before; i < len(r.errs); i++ {
			r.errs[i] = name + ": " + r.errs[i]
		}
	}()
	f(r)
	return true
}

// TestKitCatchesFaults breaks one behaviour at a time and wants the kit
// to fail the step an IdP would fail.
func TestKitCatchesFaults(t *testing.T) {
	tests := []struct {
		name    string
		idp     func(scimtest.TB, http.Handler, string)
		breakIt func(w http.ResponseWriter, r *http.Request, next http.Handler) bool
		want    string
	}{
		{name: "group PATCH ignored", idp: scimtest.Entra,
			breakIt: func(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
				if r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, "/Groups/") {
					w.WriteHeader(http.StatusNoContent)
					return true
				}
				return false
			},
			want: "add members: Entra (default job) would log while adding members"},
		{name: "401 without a SCIM body", idp: scimtest.Okta,
			breakIt: func(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
				if r.Header.Get("Authorization") == "non-token" {
					http.Error(w, "unauthorized", http.StatusUnauthorized)
					return true
				}
				return false
			},
			want: "test connector configuration"},
		{name: "string booleans refused", idp: scimtest.Entra,
			want: "deactivate: Entra (default job) would log while disabling user"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []scimkit.Option
			if tc.breakIt == nil {
				opts = append(opts, scimkit.WithStrictTypes())
			}
			srv := newServer(t, opts...)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.breakIt != nil && tc.breakIt(w, r, srv) {
					return
				}
				srv.ServeHTTP(w, r)
			})
			rec := &recorder{}
			tc.idp(rec, h, token)
			require.True(t, rec.failed)
			assert.Contains(t, strings.Join(rec.errs, "\n"), tc.want)
		})
	}
}

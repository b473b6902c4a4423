package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
)

const token = "scimcheck-token-0123456789"

func newEndpoint(t *testing.T, opts ...scimkit.Option) (*httptest.Server, *memory.Store) {
	t.Helper()
	st := memory.New()
	// The suite sends requests back to back; ExampleRunOkta shows it waiting
	// out the default rate limit, the others need not.
	srv, err := scimkit.New(st, st, append([]scimkit.Option{scimkit.WithRateLimit(0, 0), scimkit.WithWorkLimit(0, 0)}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, scimkit.SetToken(context.Background(), st, "acme", token))
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", srv))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts, st
}

var summary = regexp.MustCompile(`(?m)\A(?:(?:ok  |FAIL) .*\n(?:     .*\n)*)+(\d+) passed, (\d+) failed\n\z`)

func TestPassesAndCleansUp(t *testing.T) {
	ts, st := newEndpoint(t)
	var out, errOut bytes.Buffer
	code := run([]string{"-url", ts.URL + "/scim/v2", "-token", token}, &out, &errOut)
	require.Equal(t, 0, code, "%s%s", out.String(), errOut.String())
	m := summary.FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	assert.Equal(t, "0", m[2])
	assert.Equal(t, strings.Count(out.String(), "\nok   ")+1, atoi(m[1]), "one line per check")
	assert.Contains(t, out.String(), "ok   entra/default job/set manager\n")
	assert.Contains(t, out.String(), "ok   okta/custom app/replace members\n")

	// Nothing it created is left.
	for _, path := range []string{"/Users", "/Groups"} {
		req, _ := http.NewRequest("GET", ts.URL+"/scim/v2"+path+"?count=0", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := ts.Client().Do(req)
		require.NoError(t, err)
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		res.Body.Close()
		assert.Contains(t, b.String(), `"totalResults":0`, path)
	}
	_ = st
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestFailuresExitOne(t *testing.T) {
	ts, _ := newEndpoint(t, scimkit.WithStrictTypes()) // refuses Entra's "False"
	var out, errOut bytes.Buffer
	code := run([]string{"-url", ts.URL + "/scim/v2", "-token", token, "-idp", "entra"}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, out.String(), "FAIL entra/default job/deactivate\n")
	assert.Contains(t, out.String(), "Entra (default job) would log while disabling user")
	assert.NotContains(t, out.String(), "FAIL entra/aadOptscim062020/deactivate")
	m := summary.FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	assert.NotEqual(t, "0", m[2])
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"remote refused", []string{"-url", "https://scim.example.com/scim/v2", "-token", "x"}, 2, "not a loopback address"},
		{"relative URL", []string{"-url", "/scim/v2", "-token", "x"}, 2, "absolute http(s) URL"},
		{"no token", []string{"-url", "http://127.0.0.1:1/scim/v2"}, 2, "-token is required"},
		{"bad idp", []string{"-url", "http://localhost:1/scim/v2", "-token", "x", "-idp", "ping"}, 2, "want entra, okta or all"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			assert.Equal(t, tc.code, run(tc.args, &out, &errOut))
			assert.Contains(t, errOut.String(), tc.msg)
		})
	}
	assert.NoError(t, checkURL("http://[::1]:8080/scim", false))
	assert.NoError(t, checkURL("https://scim.example.com", true))
}

func TestUnreachableFails(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"-url", "http://127.0.0.1:1/scim/v2", "-token", "x", "-idp", "okta"}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Regexp(t, `\n\d+ passed, [1-9]\d* failed\n$`, out.String())
}

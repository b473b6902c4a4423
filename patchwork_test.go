package scimkit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
)

// TestPatchFilterWorkIsBounded: the filtered paths of one PATCH may make
// at most 200,000 comparisons (elements of the attribute times the
// filter's comparisons, summed over the operations); past that the PATCH
// is 400 tooMany and changes nothing. Before the bound, 900 operations
// with 50-term filters over 1,000 emails cost seconds of CPU in one
// request.
func TestPatchFilterWorkIsBounded(t *testing.T) {
	srv, _ := newTestServer(t, scimkit.WithRateLimit(0, 0))
	var emails []string
	for i := range 500 {
		emails = append(emails, fmt.Sprintf(`{"value":"u%d@contoso.com","type":"t%d"}`, i, i))
	}
	send := func(method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://scim.test"+path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+acmeToken)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w
	}
	w := send(http.MethodPost, "/Users", `{"schemas":["`+userURN+`"],"userName":"many@contoso.com","emails":[`+strings.Join(emails, ",")+`]}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	id := strings.TrimPrefix(w.Header().Get("Location"), "http://scim.test/Users/")

	patch := func(n int) string {
		// Two comparisons over 500 emails: 1,000 per operation.
		op := `{"op":"replace","path":"emails[value eq \"u499@contoso.com\" or type eq \"t7\"].display","value":"d%d"}`
		ops := make([]string, n)
		for i := range ops {
			ops[i] = fmt.Sprintf(op, i)
		}
		return patchBody(strings.Join(ops, ","))
	}
	w = send(http.MethodPatch, "/Users/"+id, patch(201)) // 201,000 comparisons
	require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"scimType":"tooMany"`)
	assert.Contains(t, w.Body.String(), "compare more than 200000 values")
	w = send(http.MethodGet, "/Users/"+id, "")
	assert.Equal(t, `W/"1"`, w.Header().Get("ETag"), "the refused PATCH changed nothing")
	assert.NotContains(t, w.Body.String(), `"display"`)

	w = send(http.MethodPatch, "/Users/"+id, patch(200)) // 200,000: the limit
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"display":"d199"`)
}

// TestPatchCompareBytesAreBounded: the canonical forms one PATCH encodes
// to compare multi-valued elements are bounded (4 MiB): each add encodes
// the attribute's elements, so 1,000 operations each adding one email
// re-encoded the growing list a thousand times (seconds of CPU) for a user
// that still fits the resource limit. Past the bound the PATCH is 400
// tooMany and changes nothing; one operation adding the 1,000 emails is
// accepted.
func TestPatchCompareBytesAreBounded(t *testing.T) {
	srv, _ := newTestServer(t, scimkit.WithRateLimit(0, 0))
	send := func(method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://scim.test"+path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+acmeToken)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w
	}
	email := func(i int) string {
		return fmt.Sprintf(`{"value":"u%d@contoso.com","display":"%s"}`, i, strings.Repeat("d", 150))
	}
	id := createDirect(t, srv, "many@contoso.com")
	ops := make([]string, 1000)
	for i := range ops {
		ops[i] = `{"op":"add","path":"emails","value":[` + email(i) + `]}`
	}
	w := send(http.MethodPatch, "/Users/"+id, patchBody(strings.Join(ops, ",")))
	require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"scimType":"tooMany"`)
	assert.Contains(t, w.Body.String(), "compare more than 4194304 bytes")
	w = send(http.MethodGet, "/Users/"+id, "")
	assert.Equal(t, `W/"1"`, w.Header().Get("ETag"), "the refused PATCH changed nothing")

	all := make([]string, 1000)
	for i := range all {
		all[i] = email(i)
	}
	w = send(http.MethodPatch, "/Users/"+id, patchBody(`{"op":"add","path":"emails","value":[`+strings.Join(all, ",")+`]}`))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

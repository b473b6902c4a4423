package scimkit_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoggedIDIsBounded: the request log quotes at most 256 bytes of the
// id a URL names, so a client without a valid token cannot write log
// lines as long as its URLs.
func TestLoggedIDIsBounded(t *testing.T) {
	srv, logs, _, _ := obsServer(t, slog.LevelInfo, nil)
	long := strings.Repeat("a", 60000)
	for _, token := range []string{"wrong-token-0123456789", acmeToken} {
		r := httptest.NewRequest(http.MethodGet, "http://scim.test/Users/"+long, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		require.NotEqual(t, http.StatusOK, w.Code)
	}
	recs := logs.records(t)
	require.Len(t, recs, 2)
	for _, rec := range recs {
		assert.Equal(t, strings.Repeat("a", 256), rec["id"])
	}
	assert.Less(t, len(logs.String()), 2000)
}

package sqlite_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/sqlite"
)

// The store is the SCIM server's ResourceHandler and TokenStore; what a
// request writes is in the file when the process restarts.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "scimkit-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "scim.db")

	store, err := sqlite.Open(ctx, path)
	if err != nil {
		panic(err)
	}
	srv, _ := scimkit.New(store, store)
	_ = scimkit.SetToken(ctx, store, "acme", "example-token-123")
	req := httptest.NewRequest(http.MethodPost, "/Users", strings.NewReader(
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com"}`))
	req.Header.Set("Authorization", "Bearer example-token-123")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	fmt.Println("create:", w.Code)
	_ = store.Close()

	// A restart: the user and the token are still there.
	store, _ = sqlite.Open(ctx, path)
	defer store.Close()
	srv, _ = scimkit.New(store, store)
	req = httptest.NewRequest(http.MethodGet, `/Users?filter=userName%20eq%20%22ANN@example.com%22`, nil)
	req.Header.Set("Authorization", "Bearer example-token-123")
	w = httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	fmt.Println("lookup after restart:", w.Code, strings.Contains(w.Body.String(), `"totalResults":1`))
	// Output:
	// create: 201
	// lookup after restart: 200 true
}

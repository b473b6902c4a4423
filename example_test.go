package scimkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
)

// exampleClock and exampleIDs pin time and ids so the output is stable.
func exampleClock() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }

func exampleIDs() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("user-%d", n) }
}

// send serves one request through h and returns the recorded response.
func send(h http.Handler, method, target, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// ExampleNew builds a server on the memory store, gives the tenant "acme"
// a token, and provisions one user the way Microsoft Entra ID does.
func ExampleNew() {
	ctx := context.Background()
	store := memory.New() // both the ResourceHandler and the TokenStore
	srv, err := scimkit.New(store, store,
		scimkit.WithClock(exampleClock),
		scimkit.WithIDGenerator(exampleIDs()),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := scimkit.SetToken(ctx, store, "acme", "acme-example-token"); err != nil {
		log.Fatal(err)
	}

	// The Tenant URL to enter in Entra or Okta is https://<host>/scim/v2.
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", srv))

	rec := send(mux, http.MethodPost, "https://scim.example.com/scim/v2/Users", "acme-example-token", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "adele.vance@contoso.com",
		"active": true,
		"password": "never stored"
	}`)

	var user struct {
		ID       string `json:"id"`
		UserName string `json:"userName"`
		Active   bool   `json:"active"`
		Password string `json:"password"`
		Meta     struct {
			Created string `json:"created"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &user); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Header().Get("Location"))
	fmt.Println(user.ID, user.UserName, user.Active, user.Meta.Created)
	fmt.Printf("password returned: %t\n", user.Password != "")
	// Output:
	// 201 application/scim+json
	// https://scim.example.com/scim/v2/Users/user-1
	// user-1 adele.vance@contoso.com true 2024-01-02T03:04:05Z
	// password returned: false
}

// ExampleServer_TenantHandler serves every tenant under its own Tenant URL,
// /t/{tenant}/scim/v2. The token must belong to the tenant in the URL.
func ExampleServer_TenantHandler() {
	ctx := context.Background()
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithClock(exampleClock), scimkit.WithIDGenerator(exampleIDs()))
	if err != nil {
		log.Fatal(err)
	}
	for tenant, token := range map[string]string{"acme": "acme-example-token", "globex": "globex-example-token"} {
		if err := scimkit.SetToken(ctx, store, tenant, token); err != nil {
			log.Fatal(err)
		}
	}

	mux := http.NewServeMux()
	mux.Handle("/t/{tenant}/scim/v2/", srv.TenantHandler("tenant"))

	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"adele.vance@contoso.com"}`
	rec := send(mux, http.MethodPost, "https://scim.example.com/t/acme/scim/v2/Users", "acme-example-token", user)
	fmt.Println(rec.Code, rec.Header().Get("Location"))

	// acme's token on globex's URL is refused like a wrong token.
	rec = send(mux, http.MethodGet, "https://scim.example.com/t/globex/scim/v2/Users", "acme-example-token", "")
	fmt.Println(rec.Code)

	// globex sees none of acme's users.
	rec = send(mux, http.MethodGet, "https://scim.example.com/t/globex/scim/v2/Users", "globex-example-token", "")
	var list struct {
		TotalResults int `json:"totalResults"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Code, list.TotalResults)
	// Output:
	// 201 https://scim.example.com/t/acme/scim/v2/Users/user-1
	// 401
	// 200 0
}

// ExampleStringExtension registers Druva's custom extension. Entra sends its
// attributes nested under the URN without listing the URN in "schemas";
// the server stores them and lists the URN in the response.
func ExampleStringExtension() {
	ctx := context.Background()
	druva := scimkit.StringExtension("urn:ietf:params:scim:schemas:extension:Druva:2.0:User",
		"userPrincipalName", "city", "country", "department")
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithUserExtension(druva), scimkit.WithIDGenerator(exampleIDs()))
	if err != nil {
		log.Fatal(err)
	}
	if err := scimkit.SetToken(ctx, store, "acme", "acme-example-token"); err != nil {
		log.Fatal(err)
	}

	rec := send(srv, http.MethodPost, "/Users", "acme-example-token", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "adele.vance@contoso.com",
		"urn:ietf:params:scim:schemas:extension:Druva:2.0:User": {"city": "Seattle", "country": "US"}
	}`)
	var user map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &user); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Code)
	for _, s := range user["schemas"].([]any) {
		fmt.Println(s)
	}
	ext := user[druva.URN].(map[string]any)
	fmt.Println(ext["city"], ext["country"])
	// Output:
	// 201
	// urn:ietf:params:scim:schemas:core:2.0:User
	// urn:ietf:params:scim:schemas:extension:Druva:2.0:User
	// Seattle US
}

// ExampleExtension_EntraAttribute prints what to type into the IdP
// consoles for a custom attribute: Entra's target attribute name and
// Okta's external namespace.
func ExampleExtension_EntraAttribute() {
	druva := scimkit.StringExtension("urn:ietf:params:scim:schemas:extension:Druva:2.0:User",
		"userPrincipalName", "city", "country", "department")
	fmt.Println(druva.EntraAttribute("city"))
	fmt.Println(druva.OktaNamespace())
	// Output:
	// urn:ietf:params:scim:schemas:extension:Druva:2.0:User:city
	// urn:ietf:params:scim:schemas:extension:Druva:2.0:User
}

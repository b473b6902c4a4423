// Package scimkit turns a Go product into a SCIM 2.0 service provider
// (RFC 7643, RFC 7644) that Microsoft Entra ID and Okta can provision users
// and groups into, for one tenant or thousands.
//
// # Mounting
//
// Build a [Server] over a storage backend and mount it on the host's mux:
//
//	store := memory.New() // or a SQL backend
//	srv, err := scimkit.New(store, store,
//		scimkit.WithUserExtension(scimkit.StringExtension(
//			"urn:ietf:params:scim:schemas:extension:Acme:2.0:User", "costCenter")),
//	)
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", srv))        // tenant from the token
//	mux.Handle("/t/{tenant}/scim/v2/", srv.TenantHandler("tenant"))  // tenant from the URL (see Tenants)
//
// An admin enables SCIM for a tenant with [GenerateToken], which returns
// the token once and keeps only its hash. A tenant may have several
// tokens, each with a label and an optional expiry, revoked
// ([RevokeToken]) or rotated with an overlap ([RotateToken]) on its own;
// the server records when each was last used, to the minute
// ([LastUsedResolution], [Server.Flush]).
//
// # Tenants
//
// A Server finds the tenant of a request in one of three ways:
//
//   - From the token: mount the Server itself, e.g.
//     mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", srv)). Every
//     tenant uses the same Tenant URL; the bearer token names the tenant.
//   - From a path wildcard: mount [Server.TenantHandler] on a route with a
//     tenant wildcard that ends at the SCIM base, under net/http.ServeMux
//     or any router that sets r.PathValue (chi does); see below.
//   - From the host: [Server.ServeTenant] serves a request whose path is
//     already relative to the SCIM base (after http.StripPrefix) for a
//     tenant the host resolved itself (a subdomain, gorilla/mux's Vars).
//
// The same Tenant URLs under net/http and under chi:
//
//	mux.Handle("/t/{tenant}/scim/v2/", srv.TenantHandler("tenant"))
//
//	r := chi.NewRouter()
//	r.Handle("/t/{tenant}/scim/v2/*", srv.TenantHandler("tenant"))
//
// With the tenant in the URL, the token must belong to that tenant; a
// token of another tenant gets 401, exactly like a wrong token. Either
// way one tenant never sees another's data: every storage call carries
// the tenant, and an id of another tenant is simply not found (404).
// meta.location and the Location header are the request's origin (or
// [WithBaseURL]) plus the path up to the SCIM base.
//
// # Protocol
//
// The server serves /Users and /Groups (POST, GET, GET with filter and
// paging, PUT, PATCH, DELETE), /Schemas, /ResourceTypes and
// /ServiceProviderConfig, with the core User and Group schemas, the
// enterprise User extension and any custom User extensions. It accepts what
// Entra (default job and aadOptscim062020) and Okta really send; see the
// README for the list. Every error is a SCIM error ([Error]).
//
// Writes are normalised in one place: attributes no schema defines are
// dropped and counted ([Server.Normalizations]; [WithStrictAttributes]
// refuses them instead), at most one element of a multi-valued attribute
// stays primary (RFC 7643 §2.4), keys naming one attribute in two cases
// are refused, a userName (or a Group's displayName) is stored trimmed and
// in Unicode NFC, the form uniqueness and filters compare, and a password
// is never stored but handed to [WithPasswordHandler].
//
// # Storage
//
// Resources live behind [ResourceHandler] and tokens behind [TokenStore],
// whose contracts are in package storage. Lists reach storage as a typed
// query (the resolved filter plus the index lookup it implies), and group
// membership as deltas, so lookups and member changes cost the same for a
// tenant of ten users and of a hundred thousand.
//
// # Lifecycle
//
// Each change yields typed events (package provisioning): with
// [WithOutbox] they are stored in the same transaction as the change and
// a provisioning.Dispatcher delivers them at least once, in order per
// resource; [WithHook] passes them to a best-effort callback after the
// commit.
//
// # Observability
//
// [WithLogger] logs one line per request (tenant, credential id,
// operation, status, scimType, latency; the cause of every 5xx; no
// secrets, no userNames above debug). [WithObserver] hands each request's
// [RequestInfo] to metrics (module metrics/prometheus implements
// [Observer] with the official Prometheus client). [WithMiddleware] runs
// host middleware after authentication, where [TenantFromContext] names
// the tenant. [Server.Health] reports a tenant's provisioning health:
// last success, error rate over the last hour, and whether it risks an
// Entra quarantine.
//
// # Policy
//
// Each tenant has a [Policy] ([Server.SetPolicy]): a seat limit the store
// enforces atomically, protected users, allowed userName domains, what
// deactivation and deletion do ([Suspend], [Delete], [Preserve] with a
// retention that [Server.Purge] ends), whether the IdP may reactivate a
// user an admin preserved, and a pending state until first login
// ([Server.MarkLoggedIn]). [Server.UserState] tells the state a user is
// in; the write that preserves a user yields a provisioning.Preserved
// event instead of its Deactivated or Deleted one, and [Server.Purge] a
// Purged one, each stored with the write that made it. A refusal is
// [ErrPolicy] (403) and changes nothing; hosts add rules
// with [WithAdmissionRule]. Every write and refusal goes to the tenant's
// audit log ([Server.Audit]); [Server.DeleteTenant] offboards a tenant and
// [Server.Export] writes it out as SCIM JSON.
package scimkit

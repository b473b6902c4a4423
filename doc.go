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
//	mux.Handle("/t/{tenant}/scim/v2/", srv.TenantHandler("tenant"))  // tenant from the URL
//
// An admin enables SCIM for a tenant with [GenerateToken], which returns
// the token once and keeps only its hash. A tenant may have several
// tokens, each with a label and an optional expiry, revoked
// ([RevokeToken]) or rotated with an overlap ([RotateToken]) on its own;
// the server records when each was last used, to the minute
// ([LastUsedResolution], [Server.Flush]).
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
// [WithHook] reports each provisioned, updated, deactivated, reactivated
// and deleted resource to the host (package provisioning).
package scimkit

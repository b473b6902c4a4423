// Package storagetest is the conformance suite for [storage.Store]
// backends. Every backend runs the same [Run] from a test file of a few
// lines:
//
//	func TestStore(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store {
//			return memory.New()
//		})
//	}
//
// The suite checks the contract documented in package storage: resource
// CRUD, uniqueness and optimistic concurrency (RFC 7643 §2.1, RFC 7644
// §3.14), listing with paging, index lookups and filters (RFC 7644
// §3.4.2), group membership (RFC 7644 §3.5.2), credentials (token
// hashes, expiry, last use), tenant isolation, copying values in and
// out, and safety under concurrent use.
// Its ServerFilters and ServerCaseExact groups put the store behind a real
// scimkit server and send filters over HTTP, as an IdP would, each
// answer checked against ids written by hand from RFC 7644 §3.4.2.2, and
// the case rule of every attribute against what /Schemas publishes.
//
// Timestamps in the fixtures have microsecond precision, so a backend must
// keep at least that. Documents are compared byte for byte.
package storagetest

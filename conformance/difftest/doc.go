// Package difftest holds the differential property test of scimkit's
// filters (issue 8): a seeded population of users and groups is created
// through the HTTP API of a scimkit.Server on the memory store, SQLite and
// PostgreSQL; generated filters over the whole RFC 7644 §3.4.2.2 grammar
// are answered by the server and by a reference evaluator written for the
// test, and the result sets must agree. A failure is shrunk to a small
// filter and reported with the seed that replays it.
//
// The module is not released; it exists so the test can import every
// storage backend without the root module depending on them.
//
// Run it with:
//
//	go test ./conformance/difftest/
//	SCIMKIT_DIFF_SEED=42 SCIMKIT_DIFF_N=20000 go test -timeout 30m ./conformance/difftest/
package difftest

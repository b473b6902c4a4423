// Package sqlstore is the toolkit for SQL storage backends: a
// [storage.Store] on a *sql.DB that asks a [Dialect] for what differs
// between databases (the schema, how a write transaction starts, JSON
// access for filter pushdown, and how driver errors map to the storage
// sentinels). The sqlite and postgres modules are two dialects over it; a
// host that wants another database writes a third.
//
// The package lives in the root module, so its version travels with the
// server's: a backend module built against scimkit vX.Y.Z gets the sqlstore
// of vX.Y.Z, and the API here is covered by the root module's semantic
// versioning like the rest of the exported API. Its companion
// [github.com/scimkit/scimkit/storage/sqlstore/sqlstoretest] holds the
// tests every SQL backend runs on top of storagetest.
//
// # Tables
//
//   - scimkit_resources: one row per User or Group, keyed by an internal
//     row id (rid) that also gives the stable creation order of pages;
//     unique (tenant, kind, id) and (tenant, kind, name_fold); indexed
//     (tenant, kind, external_id). data holds the document verbatim and
//     fold the same document with every string value lower-cased (in Go,
//     so case-insensitive filters give the answers [storage.Match] gives,
//     beyond ASCII).
//   - scimkit_emails: (rid, email_fold), indexed by (tenant, email_fold),
//     kept by triggers from the row's email_folds (folded in Go), so a
//     create or replace is one statement.
//   - scimkit_members: one row per (group, member) in insertion order, so
//     a PATCH of 100 members writes 100 rows and never reads the others.
//   - scimkit_credentials: one row per API credential, keyed by (tenant,
//     id), with the token's hash unique across tenants (the index every
//     request's authentication probes); times in microseconds, NULL for
//     "never".
//   - scimkit_outbox: one row per provisioning event ([storage.Outbox]),
//     inserted in the transaction of its change; seq orders them, partial
//     indexes on the undelivered rows serve claims (the oldest undelivered
//     event of each resource, with lease_until and next_at in
//     microseconds), delivered is NULL until acknowledged.
//
// A dialect's migrations create these tables; [Store.Migrate] applies
// them in order, once, under the dialect's migration lock.
package sqlstore

// Package memory is an in-memory [storage.Store]: the reference backend
// for tests, examples and single-process deployments that can afford to
// lose their data on restart.
//
// # Layout
//
// All state sits behind one sync.RWMutex. Each tenant keeps, per kind, a
// map from id to entry, a case-folded name index that enforces uniqueness
// (RFC 7643 §2.1), exact-value indexes on externalId and on the
// (case-folded) emails, and the entries in creation order. The creation
// order is a slice with tombstones plus a Fenwick tree over the live
// entries, so a delete costs O(log n) and an unfiltered page O(log n +
// count), whatever its offset. Group members are an ordered set per group
// and every entry records the groups it belongs to, so a member change
// costs O(changed members) and a delete O(its memberships).
//
// Documents are kept as the JSON bytes the server sent; a filter the
// indexes cannot answer decodes each candidate and evaluates it with
// [storage.Match].
//
// # Ids shared by a User and a Group
//
// The contract makes ids unique per kind, so a User and a Group of one
// tenant may share an id. A member value that names both is taken as the
// User.
package memory

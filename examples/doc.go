// Package examples is the home of scimkit's runnable examples. It is its
// own module (with a replace pointing at ../), so example-only dependencies
// stay out of scimkit's go.mod and the examples always build against the
// library in this checkout.
//
//   - backupd: a small cloud-backup product that mounts scimkit on its own
//     http.ServeMux beside an admin API, and turns provisioning events into
//     backup accounts. Run it with: go run ./backupd -dev-token dev-token-123
//     (it keeps its data in ./backupd.db; -store memory keeps nothing,
//     -store postgres:DSN shares a PostgreSQL database between instances)
package examples

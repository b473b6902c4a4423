// Package provisioning describes the provisioning lifecycle a host product
// hooks into: a SCIM client (Microsoft Entra ID, Okta) provisions a user,
// updates it, deactivates it (active=false: the user stays readable, RFC
// 7643 §4.1.1), reactivates it, and finally deletes it.
//
// A host registers a [Hook] with scimkit.WithHook; the server calls it after
// each change is stored, in the request's goroutine, with the request's
// context. A hook cannot fail the request (the change is already stored):
// it should be quick and hand long work (creating a backup account, sending
// mail) to the host's own queue.
package provisioning

import (
	"context"

	"github.com/scimkit/scimkit/storage"
)

// EventType says what happened to a resource.
type EventType string

// The lifecycle events.
const (
	// Provisioned: the resource was created (POST, RFC 7644 §3.3).
	Provisioned EventType = "provisioned"
	// Updated: attributes or group members changed (PUT or PATCH) and the
	// user's active flag did not go from true to false or back.
	Updated EventType = "updated"
	// Deactivated: a user's active flag went from true to false; the user
	// is kept and stays readable.
	Deactivated EventType = "deactivated"
	// Reactivated: a user's active flag went from false to true.
	Reactivated EventType = "reactivated"
	// Deleted: the resource was deleted (DELETE, RFC 7644 §3.6).
	Deleted EventType = "deleted"
)

// Event is one lifecycle change.
type Event struct {
	Type   EventType
	Tenant string
	Kind   storage.Kind
	ID     string
	// Name is the userName of a User or displayName of a Group.
	Name       string
	ExternalID string
	// Active is the user's active flag after the change (true for
	// groups and for users without the attribute).
	Active bool
}

// Hook receives lifecycle events. It must be safe for concurrent use.
type Hook func(ctx context.Context, e Event)

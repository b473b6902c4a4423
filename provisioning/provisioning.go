// Package provisioning describes the provisioning lifecycle a host product
// acts on: a SCIM client (Microsoft Entra ID, Okta) provisions a user,
// updates it, deactivates it (active=false: the user stays readable, RFC
// 7643 §4.1.1), reactivates it, and finally deletes it; it creates groups,
// renames them and changes their members.
//
// Each change that changed something yields typed [Event]s. There are two
// ways to receive them:
//
//   - The outbox (scimkit.WithOutbox): each event is stored in the same
//     transaction as its change, and a [Dispatcher] the host runs delivers
//     it to a [Handler] at least once, in order per resource, retrying with
//     exponential back-off until the handler returns nil. Nothing is lost
//     when a client hangs up or a process crashes. Use it for anything that
//     must happen (creating or deleting a backup account).
//   - A [Hook] (scimkit.WithHook): called after the change committed, in the
//     request's goroutine, best-effort: if the process dies between the
//     commit and the call, the hook never sees the event. It is not
//     cancelled when the client hangs up. Use it for quick notifications.
//
// A write that changes nothing (a PATCH whose operations leave the resource
// as it was, a PUT of the stored document) is not stored: no version bump,
// no event.
package provisioning

import (
	"context"
)

// Hook receives the events of each change right after it committed,
// best-effort (see the package documentation). ctx carries the request's
// values but not its cancellation. It must be safe for concurrent use and
// quick: the response waits for it.
type Hook func(ctx context.Context, e Event)

// Handler is what a [Dispatcher] delivers events to. It returns nil when
// the event is handled; any error makes the dispatcher retry the event
// later (with back-off), holding back the later events of its resource.
// Delivery is at least once: a handler must be idempotent, keyed by
// [Event.ID] (or by ResourceID and Version).
type Handler func(ctx context.Context, e Event) error

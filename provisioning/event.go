package provisioning

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// EventType says what happened to a resource.
type EventType string

// The user events.
const (
	// Provisioned: a user was created (POST, RFC 7644 §3.3).
	Provisioned EventType = "user.provisioned"
	// Updated: a user's attributes changed (PUT or PATCH) and its active
	// flag did not go from true to false or back. Changes lists them.
	Updated EventType = "user.updated"
	// Deactivated: a user's active flag went from true to false; the user
	// is kept and stays readable. Changes lists what changed with it.
	Deactivated EventType = "user.deactivated"
	// Reactivated: a user's active flag went from false to true.
	Reactivated EventType = "user.reactivated"
	// Preserved: the tenant's lifecycle policy (scimkit.Policy) preserved
	// the user, on the IdP's deactivation or deletion under a Preserve
	// disposition or on an admin's decision (scimkit.Server.PreserveUser):
	// it holds no seat and its data is kept until Until (zero: until an
	// admin purges it). It replaces, never accompanies, the [Deactivated]
	// or [Deleted] event of that write; Changes lists what the write
	// changed. A host stops the user's service and keeps their data.
	Preserved EventType = "user.preserved"
	// Purged: a preserved user's retention ended (scimkit.Server.Purge)
	// or an admin purged it (scimkit.Server.PurgeUser): the resource and
	// its state are gone and the host deletes the user's data. Resource
	// is the last stored document.
	Purged EventType = "user.purged"
	// Deleted: a user was deleted (DELETE, RFC 7644 §3.6) and the policy
	// did not preserve it.
	Deleted EventType = "user.deleted"
)

// The group events. One write may yield several (a PATCH that renames a
// group and adds members: [GroupRenamed] then [MembersAdded]), with the
// same Version, in Seq order.
const (
	// GroupCreated: a group was created; Added holds its initial members.
	GroupCreated EventType = "group.created"
	// GroupRenamed: a group's displayName changed (Changes holds it).
	GroupRenamed EventType = "group.renamed"
	// GroupUpdated: a group's other attributes changed (externalId, an
	// extension attribute); Changes lists them.
	GroupUpdated EventType = "group.updated"
	// MembersAdded: members were added to a group (Added: their ids).
	MembersAdded EventType = "group.members_added"
	// MembersRemoved: members were removed from a group (Removed).
	MembersRemoved EventType = "group.members_removed"
	// GroupDeleted: a group was deleted.
	GroupDeleted EventType = "group.deleted"
)

// MaxChangeValue bounds the JSON of one value (Before or After) in
// [Change]: a longer value is left out and Truncated set, so that an
// event stays small whatever the resource holds.
const MaxChangeValue = 4 << 10

// Change is one top-level attribute a write changed (RFC 7643 §2: the
// attribute name as stored, extension schemas by their URN), with its JSON
// value before and after (absent: null).
type Change struct {
	Attribute string          `json:"attribute"`
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
	// Truncated: a value was longer than [MaxChangeValue] and left out;
	// read the resource (Event.Resource holds the document after the
	// change).
	Truncated bool `json:"truncated,omitempty"`
}

// Event is one change to one resource.
type Event struct {
	// ID is the event's stable id: the same on every delivery of the
	// event, unique across events. Deduplicate by it.
	ID string `json:"-"`
	// Seq orders the events of the outbox (0 for a hook's events).
	Seq int64 `json:"-"`
	// Attempt is 1 on the first delivery by a Dispatcher, then 2, 3...
	// (0 for a hook's events).
	Attempt int          `json:"-"`
	Type    EventType    `json:"-"`
	Tenant  string       `json:"-"`
	Kind    storage.Kind `json:"-"`
	// ResourceID is the id of the User or Group (RFC 7643 §3.1).
	ResourceID string `json:"-"`
	// Version is the resource's version after the change (its ETag is
	// W/"Version"); for a deletion, the version it had. Events of one
	// resource have non-decreasing versions, except the [Purged] event of
	// a user the IdP had deleted under a Preserve policy, whose Version
	// is 0 (the resource is gone; it still comes last, in Seq order).
	Version int64 `json:"-"`
	// Time is when the change was made.
	Time time.Time `json:"-"`

	// Name is the userName of a User or displayName of a Group after the
	// change (before it, for a deletion).
	Name       string `json:"name,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
	// Active is a user's active flag after the change (true for groups
	// and for users without the attribute).
	Active bool `json:"active"`
	// Resource is the resource's stored document after the change
	// (before it, for a deletion): every attribute but id, meta and
	// members, as JSON.
	Resource json.RawMessage `json:"resource,omitempty"`
	// Changes lists the top-level attributes the change modified
	// ([Updated], [Deactivated], [Reactivated], [GroupRenamed],
	// [GroupUpdated]), sorted by name.
	Changes []Change `json:"changes,omitempty"`
	// Added and Removed are the member ids of [GroupCreated] and
	// [MembersAdded], and of [MembersRemoved]. For a PATCH they are the ids
	// the operations named: adding a present member or removing an absent
	// one may be reported, so apply them idempotently.
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	// Until is when a [Preserved] user is due to be purged (zero: no
	// retention set, kept until an admin purges it).
	Until time.Time `json:"until,omitzero"`
}

// Record encodes e as an outbox row (Seq, Version and Attempts are left
// for the backend to set).
func Record(e Event) (storage.Event, error) {
	data, ok := appendEvent(make([]byte, 0, 64+len(e.Resource)), &e)
	if !ok {
		var err error
		if data, err = json.Marshal(e); err != nil {
			return storage.Event{}, fmt.Errorf("provisioning: encode %s event: %w", e.Type, err)
		}
	}
	return storage.Event{ID: e.ID, Tenant: e.Tenant, Kind: e.Kind, ResourceID: e.ResourceID,
		Version: e.Version, Type: string(e.Type), Time: e.Time, Data: data}, nil
}

// FromRecord decodes an outbox row written by [Record].
func FromRecord(r storage.Event) (Event, error) {
	var e Event
	if len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &e); err != nil {
			return Event{}, fmt.Errorf("provisioning: decode event %q: %w", r.ID, err)
		}
	}
	e.ID, e.Seq, e.Attempt, e.Type, e.Tenant = r.ID, r.Seq, r.Attempts+1, EventType(r.Type), r.Tenant
	e.Kind, e.ResourceID, e.Version, e.Time = r.Kind, r.ResourceID, r.Version, r.Time
	return e, nil
}

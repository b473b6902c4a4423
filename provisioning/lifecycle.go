package provisioning

// Lifecycle events of a tenant's policy (scimkit.Policy). The events
// branch declares the same names with the outbox; at merge the
// declarations are kept once.
const (
	// Preserved: a User was deactivated or deleted under a Preserve
	// disposition, or preserved by an admin: it holds no seat and its
	// data is kept until it is purged. A host stops the user's service
	// but keeps their data.
	Preserved EventType = "preserved"
	// Purged: a preserved User's retention ended (scimkit.Server.Purge):
	// the host may now delete the user's data.
	Purged EventType = "purged"
)

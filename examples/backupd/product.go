package main

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
)

// Account sizes, in GB per provisioned user.
const (
	defaultAccountSizeGB = 10
	maxAccountSizeGB     = 10240 // 10 TB: anything above is a typo
)

// account is one backup account: what the product creates for each user
// an identity provider provisions.
type account struct {
	UserID   string    `json:"userId"`
	UserName string    `json:"userName"`
	QuotaGB  int       `json:"quotaGB"`
	Active   bool      `json:"active"`
	Status   string    `json:"status"` // "active" or "suspended"
	Created  time.Time `json:"created"`
}

// tenantSettings is a copy of a tenant's settings.
type tenantSettings struct {
	// Exists is set once the tenant's settings were written (the tenant
	// was created, SCIM enabled or the account size set).
	Exists        bool
	SCIMEnabled   bool
	AccountSizeGB int
	Accounts      int
}

// productState is where backupd keeps its own state: per-tenant SCIM
// settings and backup accounts. A tenant that was never written has the
// default settings (SCIM off, [defaultAccountSizeGB]) and no accounts.
//
// There are two implementations: memState in memory (for -store memory,
// lost on restart like the memory store), and sqlState in the same SQL
// database as the SCIM store (for -store sqlite:… and postgres:…), so a
// restart keeps tenants, tokens, users and accounts together. Every method
// is one atomic step, so several backupd processes may share a database.
// Implementations are safe for concurrent use.
type productState interface {
	settings(ctx context.Context, tenant string) (tenantSettings, error)
	setSCIMEnabled(ctx context.Context, tenant string, on bool) error
	// setAccountSize sets the quota of accounts created from now on;
	// existing accounts keep theirs.
	setAccountSize(ctx context.Context, tenant string, gb int) error
	// accounts returns the tenant's accounts, oldest first.
	accounts(ctx context.Context, tenant string) ([]account, error)
	// putAccount creates the account a.UserID, with a.Created and the
	// tenant's current account size as its quota, or else updates the
	// UserName, Active and Status of the existing one (keeping its quota
	// and creation time). It returns the account as stored and whether it
	// was created.
	putAccount(ctx context.Context, tenant string, a account) (account, bool, error)
	// deleteAccount removes the account and returns it, or false when
	// there was none.
	deleteAccount(ctx context.Context, tenant, userID string) (account, bool, error)
	// applyEvent applies a provisioning event once per eventID: with put,
	// it does what putAccount does; without, it deletes userID's account.
	// The event id is recorded in the same atomic step, so a redelivered
	// event changes nothing (applied is then false).
	applyEvent(ctx context.Context, tenant, eventID, userID string, put *account) (acc account, applied bool, err error)
	// deleteTenant removes the tenant's settings and accounts.
	deleteTenant(ctx context.Context, tenant string) error
	// tenantExists reports whether the tenant's settings were written
	// (settings' Exists without counting the accounts).
	tenantExists(ctx context.Context, tenant string) (bool, error)
	// tenantList lists the tenants whose settings were written, in id
	// order, at most limit of them, with whether SCIM is enabled.
	tenantList(ctx context.Context, limit int) ([]tenantRow, error)
	// accountPage returns one page of the tenant's accounts in
	// case-insensitive userName order (then user id), as the dashboard
	// lists them (see accountQuery).
	accountPage(ctx context.Context, tenant string, q accountQuery) ([]account, error)
	// adminSecret returns the admin setting name ("" and false when
	// unset); putAdminSecret stores it, over an existing value only with
	// replace, and reports whether it stored it.
	adminSecret(ctx context.Context, name string) (string, bool, error)
	putAdminSecret(ctx context.Context, name, value string, replace bool) (bool, error)
}

// product is backupd's own logic on top of its state: the outbox handler
// that keeps backup accounts in step with the users an identity provider
// provisions.
type product struct {
	productState
	log *slog.Logger
}

func newProduct(log *slog.Logger, state productState) *product {
	return &product{productState: state, log: log}
}

// handle is the provisioning.Handler that keeps the backup accounts in
// step with the users the identity provider provisions. A
// provisioning.Dispatcher calls it with each event of scimkit's outbox,
// which scimkit wrote in the same transaction as the change: a client that
// hangs up or a crash anywhere loses nothing, and the dispatcher retries a
// failed event (in order per user) until this returns nil.
//
// Delivery is at least once, so the account change is applied once per
// event id: applyEvent records the id in the same write as the change.
// Group events are ignored: backupd has no use for groups.
func (p *product) handle(ctx context.Context, e provisioning.Event) error {
	if e.Kind != storage.KindUser {
		return nil
	}
	var put *account
	if e.Type != provisioning.Deleted && e.Type != provisioning.Purged {
		// Provisioned and Updated carry the current flag too (a user may
		// be provisioned inactive); Deactivated and Reactivated are the
		// flips.
		status := "active"
		switch {
		case e.Type == provisioning.Preserved:
			// Backups stop, data kept until the tenant's retention ends
			// (Purged, which deletes the account); the user may be gone
			// from SCIM already (DELETE under the "preserve" deletion
			// policy). The admin listing shows until when.
			status = "preserved"
		case !e.Active:
			status = "suspended" // data kept: an account is only removed on Deleted or Purged
		}
		put = &account{UserID: e.ResourceID, UserName: e.Name, Active: e.Active, Status: status, Created: e.Time.UTC()}
	}
	acc, applied, err := p.applyEvent(ctx, e.Tenant, e.ID, e.ResourceID, put)
	if err != nil {
		return fmt.Errorf("backup account of user %q (%s): %w", e.ResourceID, e.Type, err)
	}
	if applied {
		// The user id, never the userName: info logs hold no personal
		// data (README, Observability); the admin API shows the name.
		p.log.InfoContext(ctx, "backup account "+string(e.Type), "tenant", e.Tenant, "user", e.ResourceID,
			"quotaGB", acc.QuotaGB, "status", acc.Status, "event", e.ID)
	}
	return nil
}

// memState is the product state in memory.
type memState struct {
	mu      sync.Mutex // guards tenants and applied
	tenants map[string]*memTenant
	// applied holds the ids of the events applied (lost on restart, like
	// the memory store's outbox).
	applied map[string]bool
	// admin holds the admin settings (the dashboard password's hash).
	admin map[string]string
}

// memTenant is the product's view of one customer tenant.
type memTenant struct {
	written       bool
	scimEnabled   bool
	accountSizeGB int
	accounts      map[string]*account // by SCIM user id
}

var _ productState = (*memState)(nil)

func newMemState() *memState {
	return &memState{tenants: make(map[string]*memTenant), applied: make(map[string]bool), admin: make(map[string]string)}
}

// tenant returns the state of id, creating it with default settings.
// The caller holds m.mu.
func (m *memState) tenant(id string) *memTenant {
	t := m.tenants[id]
	if t == nil {
		t = &memTenant{accountSizeGB: defaultAccountSizeGB, accounts: make(map[string]*account)}
		m.tenants[id] = t
	}
	return t
}

func (m *memState) settings(_ context.Context, id string) (tenantSettings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenant(id)
	return tenantSettings{Exists: t.written, SCIMEnabled: t.scimEnabled, AccountSizeGB: t.accountSizeGB, Accounts: len(t.accounts)}, nil
}

func (m *memState) setSCIMEnabled(_ context.Context, id string, on bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenant(id)
	t.scimEnabled, t.written = on, true
	return nil
}

func (m *memState) setAccountSize(_ context.Context, id string, gb int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenant(id)
	t.accountSizeGB, t.written = gb, true
	return nil
}

func (m *memState) accounts(_ context.Context, id string) ([]account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenant(id)
	out := make([]account, 0, len(t.accounts))
	for _, a := range t.accounts {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].UserID < out[j].UserID
	})
	return out, nil
}

func (m *memState) putAccount(_ context.Context, id string, a account) (account, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenant(id)
	acc := t.accounts[a.UserID]
	created := acc == nil
	if created {
		acc = &account{UserID: a.UserID, QuotaGB: t.accountSizeGB, Created: a.Created}
		t.accounts[a.UserID] = acc
	}
	acc.UserName, acc.Active, acc.Status = a.UserName, a.Active, a.Status
	return *acc, created, nil
}

func (m *memState) deleteTenant(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tenants, id)
	return nil
}

func (m *memState) deleteAccount(_ context.Context, id, userID string) (account, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenant(id)
	acc := t.accounts[userID]
	if acc == nil {
		return account{}, false, nil
	}
	delete(t.accounts, userID)
	return *acc, true, nil
}

func (m *memState) applyEvent(ctx context.Context, tenant, eventID, userID string, put *account) (account, bool, error) {
	m.mu.Lock()
	if m.applied[eventID] {
		m.mu.Unlock()
		return account{}, false, nil
	}
	m.applied[eventID] = true
	m.mu.Unlock()
	// The event's resource is handled by one dispatcher goroutine at a
	// time, so nothing else changes this account in between.
	if put == nil {
		acc, _, err := m.deleteAccount(ctx, tenant, userID)
		return acc, true, err
	}
	acc, _, err := m.putAccount(ctx, tenant, *put)
	return acc, true, err
}

package main

import (
	"context"
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
	// deleteTenant removes the tenant's settings and accounts.
	deleteTenant(ctx context.Context, tenant string) error
}

// product is backupd's own logic on top of its state: the provisioning
// hook that keeps backup accounts in step with the users an identity
// provider provisions.
type product struct {
	productState
	log *slog.Logger
	now func() time.Time
}

func newProduct(log *slog.Logger, state productState) *product {
	return &product{productState: state, log: log, now: time.Now}
}

// hook is the provisioning.Hook that keeps the backup accounts in step with
// the users the identity provider provisions. It runs after scimkit stored
// the change, in the SCIM request's goroutine, and makes one atomic write
// to the product state (an upsert or a delete), so concurrent requests, in
// this process or in another one on the same database, cannot lose an
// account. Group events are ignored: backupd has no use for groups.
//
// Events carry no version: when two changes to the same user race, their
// hooks may run in either order and the later hook wins, as in any
// last-writer-wins upsert. The next change to the user puts it right.
func (p *product) hook(ctx context.Context, e provisioning.Event) {
	if e.Kind != storage.KindUser {
		return
	}
	if e.Type == provisioning.Deleted || e.Type == provisioning.Purged {
		acc, ok, err := p.deleteAccount(ctx, e.Tenant, e.ID)
		switch {
		case err != nil:
			p.log.ErrorContext(ctx, "deleting backup account", "tenant", e.Tenant, "user", e.ID, "err", err)
		case ok:
			p.log.InfoContext(ctx, "backup account deleted", "tenant", e.Tenant, "user", e.ID, "userName", acc.UserName)
		}
		return
	}
	// Provisioned and Updated carry the current flag too (a user may be
	// provisioned inactive); Deactivated and Reactivated are the flips.
	status := "active"
	switch {
	case e.Type == provisioning.Preserved:
		// Backups stop, data kept until the tenant's retention ends
		// (Purged); the user may be gone from SCIM already (DELETE under
		// the "preserve" deletion policy).
		status = "preserved"
	case !e.Active:
		status = "suspended" // data kept: an account is only removed on Deleted
	}
	acc, created, err := p.putAccount(ctx, e.Tenant, account{
		UserID:   e.ID,
		UserName: e.Name,
		Active:   e.Active,
		Status:   status,
		Created:  p.now().UTC(),
	})
	if err != nil {
		p.log.ErrorContext(ctx, "updating backup account", "tenant", e.Tenant, "user", e.ID, "event", string(e.Type), "err", err)
		return
	}
	if created && e.Type != provisioning.Provisioned {
		// An update for a user we had no account for (e.g. the product
		// state was lost in a restart while the SCIM store kept its
		// users): it was created now rather than the event dropped.
		p.log.WarnContext(ctx, "backup account missing; created it", "tenant", e.Tenant, "user", e.ID, "event", string(e.Type))
	}
	p.log.InfoContext(ctx, "backup account "+string(e.Type), "tenant", e.Tenant, "user", e.ID, "userName", acc.UserName, "quotaGB", acc.QuotaGB, "status", acc.Status)
}

// memState is the product state in memory.
type memState struct {
	mu      sync.Mutex // guards tenants
	tenants map[string]*memTenant
}

// memTenant is the product's view of one customer tenant.
type memTenant struct {
	scimEnabled   bool
	accountSizeGB int
	accounts      map[string]*account // by SCIM user id
}

var _ productState = (*memState)(nil)

func newMemState() *memState { return &memState{tenants: make(map[string]*memTenant)} }

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
	return tenantSettings{SCIMEnabled: t.scimEnabled, AccountSizeGB: t.accountSizeGB, Accounts: len(t.accounts)}, nil
}

func (m *memState) setSCIMEnabled(_ context.Context, id string, on bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tenant(id).scimEnabled = on
	return nil
}

func (m *memState) setAccountSize(_ context.Context, id string, gb int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tenant(id).accountSizeGB = gb
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

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

// tenantState is the product's view of one customer tenant.
type tenantState struct {
	scimEnabled   bool
	accountSizeGB int
	accounts      map[string]*account // by SCIM user id
}

// product is backupd's own state: per-tenant SCIM settings and backup
// accounts. It is kept in memory, like the memory store; a persistent
// deployment would keep it in the product's database instead. A product is
// safe for concurrent use.
type product struct {
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex // guards tenants
	tenants map[string]*tenantState
}

func newProduct(log *slog.Logger) *product {
	return &product{log: log, now: time.Now, tenants: make(map[string]*tenantState)}
}

// tenant returns the state of id, creating it with default settings.
// The caller holds p.mu.
func (p *product) tenant(id string) *tenantState {
	t := p.tenants[id]
	if t == nil {
		t = &tenantState{accountSizeGB: defaultAccountSizeGB, accounts: make(map[string]*account)}
		p.tenants[id] = t
	}
	return t
}

// tenantSettings is a copy of a tenant's settings.
type tenantSettings struct {
	SCIMEnabled   bool
	AccountSizeGB int
	Accounts      int
}

func (p *product) settings(id string) tenantSettings {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tenant(id)
	return tenantSettings{SCIMEnabled: t.scimEnabled, AccountSizeGB: t.accountSizeGB, Accounts: len(t.accounts)}
}

func (p *product) setSCIMEnabled(id string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tenant(id).scimEnabled = on
}

// setAccountSize sets the quota of accounts created from now on; existing
// accounts keep theirs.
func (p *product) setAccountSize(id string, gb int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tenant(id).accountSizeGB = gb
}

// accounts returns copies of the tenant's accounts, oldest first.
func (p *product) accounts(id string) []account {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tenant(id)
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
	return out
}

// hook is the provisioning.Hook that keeps the backup accounts in step with
// the users the identity provider provisions. It runs after scimkit stored
// the change, in the SCIM request's goroutine, so it only touches memory.
// Group events are ignored: backupd has no use for groups.
func (p *product) hook(ctx context.Context, e provisioning.Event) {
	if e.Kind != storage.KindUser {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tenant(e.Tenant)
	acc := t.accounts[e.ID]
	switch e.Type {
	case provisioning.Deleted:
		if acc == nil {
			return
		}
		delete(t.accounts, e.ID)
		p.log.InfoContext(ctx, "backup account deleted", "tenant", e.Tenant, "user", e.ID, "userName", acc.UserName)
		return
	case provisioning.Provisioned:
	default:
		if acc == nil {
			// An update for a user we have no account for (e.g. the
			// product state was lost in a restart while the SCIM store
			// kept its users): create it now rather than drop the event.
			p.log.WarnContext(ctx, "backup account missing; creating it", "tenant", e.Tenant, "user", e.ID, "event", string(e.Type))
		}
	}
	if acc == nil {
		acc = &account{UserID: e.ID, QuotaGB: t.accountSizeGB, Created: p.now().UTC()}
		t.accounts[e.ID] = acc
	}
	acc.UserName = e.Name
	// Provisioned and Updated carry the current flag too (a user may be
	// provisioned inactive); Deactivated and Reactivated are the flips.
	acc.Active = e.Active
	acc.Status = "active"
	if !acc.Active {
		acc.Status = "suspended" // data kept: an account is only removed on Deleted
	}
	p.log.InfoContext(ctx, "backup account "+string(e.Type), "tenant", e.Tenant, "user", e.ID, "userName", acc.UserName, "quotaGB", acc.QuotaGB, "status", acc.Status)
}

package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
)

// auditResponse is the body of GET …/audit.
type auditResponse struct {
	Tenant  string               `json:"tenant"`
	Entries []scimkit.AuditEntry `json:"entries"`
}

// getAudit lists the tenant's SCIM audit log from ?since= (RFC 3339,
// default: the beginning), oldest first, at most ?limit= entries (1 to
// 1000, default 100).
func (a *app) getAudit(w http.ResponseWriter, r *http.Request, tenant string) error {
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return errBadRequest.withMessage("since must be an RFC 3339 time such as 2025-01-31T00:00:00Z")
		}
		since = t
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errBadRequest.withMessage("limit must be an integer from 1 to 1000")
		}
		limit = n
	}
	entries, err := a.scim.Audit(r.Context(), tenant, since, time.Time{}, limit)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []scimkit.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, auditResponse{Tenant: tenant, Entries: entries})
	return nil
}

// deleteTenant offboards a tenant: scimkit deletes its SCIM data (users,
// groups, tokens, policy, lifecycle states, audit log) in one step, then
// the product deletes its accounts and settings. A retry after a failure
// half-way finishes the job.
func (a *app) deleteTenant(w http.ResponseWriter, r *http.Request, tenant string) error {
	a.adminMu.Lock()
	defer a.adminMu.Unlock()
	if err := a.scim.DeleteTenant(r.Context(), tenant); err != nil {
		return err
	}
	if err := a.product.deleteTenant(r.Context(), tenant); err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "tenant offboarded", "tenant", tenant)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// withStates sets each account's lifecycle state from scimkit.
func (a *app) withStates(r *http.Request, tenant string, views []accountView) error {
	for i := range views {
		lc, err := a.scim.UserState(r.Context(), tenant, views[i].UserID)
		if errors.Is(err, storage.ErrNotFound) {
			views[i].State = views[i].Status
			continue
		}
		if err != nil {
			return err
		}
		views[i].State = string(lc.State)
		if !lc.PreservedUntil.IsZero() {
			t := lc.PreservedUntil
			views[i].PreservedUntil = &t
		}
	}
	return nil
}

// runPurge purges preserved users whose retention ended (and audit entries
// past their retention), at once and then every interval, until ctx ends.
// Several backupd processes may run it on one database: a user is purged
// once.
func (a *app) runPurge(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := a.purgeOnce(ctx); err != nil && ctx.Err() == nil {
			a.log.ErrorContext(ctx, "purge failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// purgeOnce runs one purge; the hook deletes the purged users' accounts.
func (a *app) purgeOnce(ctx context.Context) (int, error) {
	n, err := a.scim.Purge(ctx, a.cfg.now())
	if n > 0 {
		a.log.InfoContext(ctx, "preserved users purged", "users", n)
	}
	return n, err
}

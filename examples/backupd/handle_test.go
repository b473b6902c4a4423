package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
)

// TestHandleLifecycleEvents: the outbox handler keeps a preserved user's
// account with its data (backups stopped) and deletes it on Purged, and a
// redelivered event changes nothing, on the memory and SQL product state.
func TestHandleLifecycleEvents(t *testing.T) {
	states := map[string]func(t *testing.T) productState{
		"memory": func(*testing.T) productState { return newMemState() },
		"sqlite": func(t *testing.T) productState {
			st, err := openSQLite(t.Context(), filepath.Join(t.TempDir(), "p.db"))
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.close() })
			return st.state
		},
	}
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	ev := func(id string, typ provisioning.EventType, active bool) provisioning.Event {
		return provisioning.Event{ID: id, Type: typ, Tenant: "acme", Kind: storage.KindUser, ResourceID: "u1",
			Name: "ada@contoso.example", Active: active, Time: at}
	}
	for name, open := range states {
		t.Run(name, func(t *testing.T) {
			p := newProduct(slog.New(slog.NewTextHandler(io.Discard, nil)), open(t))
			ctx := context.Background()
			accounts := func() []account {
				as, err := p.accounts(ctx, "acme")
				require.NoError(t, err)
				return as
			}
			preserved := ev("e2", provisioning.Preserved, false)
			preserved.Until = at.AddDate(0, 0, 30)
			for _, step := range []struct {
				ev     provisioning.Event
				status string // "" = no account
			}{
				{ev("e1", provisioning.Provisioned, true), "active"},
				{preserved, "preserved"},
				{preserved, "preserved"},                                // redelivered
				{ev("e1", provisioning.Provisioned, true), "preserved"}, // a stale redelivery changes nothing
				{ev("e3", provisioning.Purged, false), ""},              // data deleted
				{ev("e3", provisioning.Purged, false), ""},              // redelivered
				{ev("e4", provisioning.Purged, false), ""},              // a second Purged (crash in Purge) is harmless
				{preserved, ""}, // and so is a late redelivery
				{ev("e5", provisioning.Deleted, false), ""},
			} {
				require.NoError(t, p.handle(ctx, step.ev), "%s %s", step.ev.ID, step.ev.Type)
				as := accounts()
				if step.status == "" {
					assert.Empty(t, as, "after %s %s", step.ev.ID, step.ev.Type)
					continue
				}
				require.Len(t, as, 1, "after %s %s", step.ev.ID, step.ev.Type)
				assert.Equal(t, step.status, as[0].Status, "after %s %s", step.ev.ID, step.ev.Type)
				assert.Equal(t, step.status == "active", as[0].Active)
			}
		})
	}
}

// TestHandleLogsNoUserName: the info line of an applied event names the
// user by id, never by userName (no personal data at info, as the README's
// Observability section promises for the whole example).
func TestHandleLogsNoUserName(t *testing.T) {
	var out bytes.Buffer
	p := newProduct(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})), newMemState())
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range []provisioning.Event{
		{ID: "e1", Type: provisioning.Provisioned, Tenant: "acme", Kind: storage.KindUser, ResourceID: "u1", Name: "ada@contoso.example", Active: true, Time: at},
		{ID: "e2", Type: provisioning.Deactivated, Tenant: "acme", Kind: storage.KindUser, ResourceID: "u1", Name: "ada@contoso.example", Time: at},
		{ID: "e3", Type: provisioning.Deleted, Tenant: "acme", Kind: storage.KindUser, ResourceID: "u1", Name: "ada@contoso.example", Time: at},
	} {
		require.NoError(t, p.handle(context.Background(), e))
	}
	require.Equal(t, 3, strings.Count(out.String(), "user=u1"), out.String())
	assert.NotContains(t, out.String(), "ada@contoso.example")
}

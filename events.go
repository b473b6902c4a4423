package scimkit

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
)

// WithOutbox stores the typed provisioning events of every change in the
// store's outbox, in the same transaction as the change (see
// [storage.Outbox]), for a provisioning.Dispatcher to deliver at least
// once. The store given to [New] must implement [storage.Outbox] (every
// backend under storage/ does), else New returns an error. Run a
// dispatcher whenever the outbox is on: undelivered events accumulate.
func WithOutbox() Option {
	return optionFunc(func(c *config) error { c.outbox = true; return nil })
}

// eventsOn reports whether writes build events: an outbox or a hook wants
// them.
func (s *Server) eventsOn() bool { return s.cfg.outbox || len(s.cfg.hooks) > 0 }

// event returns an event of type t on res (its document, name, externalId
// and active flag) at the resource's next version; the caller adds
// Changes, Added or Removed. It is the one place events are made: every
// write that emits builds them here, stores them with [Server.records] in
// the write and, once committed, calls [Server.notify].
func (s *Server) event(tenant string, t provisioning.EventType, res *storage.Resource, at time.Time) provisioning.Event {
	return provisioning.Event{
		ID: newUUID(), Type: t, Tenant: tenant, Kind: res.Kind, ResourceID: res.ID, Version: res.Version,
		Time: at, Name: res.Name, ExternalID: res.ExternalID, Active: dataActive(res.Data),
		Resource: json.RawMessage(bytes.Clone(res.Data)),
	}
}

// records returns the outbox rows of evs when the outbox is on, else nil.
func (s *Server) records(evs []provisioning.Event) ([]storage.Event, error) {
	if !s.cfg.outbox || len(evs) == 0 {
		return nil, nil
	}
	out := make([]storage.Event, len(evs))
	for i, e := range evs {
		var err error
		if out[i], err = provisioning.Record(e); err != nil {
			return nil, ErrInternal.WithCause(err)
		}
	}
	return out, nil
}

// notify hands committed events, at the resource version v (0: keep
// theirs), to the hooks, detached from the request's cancellation: a
// client that hangs up must not cut a notification short.
func (s *Server) notify(ctx context.Context, v int64, evs []provisioning.Event) {
	if len(s.cfg.hooks) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, e := range evs {
		if v != 0 {
			e.Version = v
		}
		for _, h := range s.cfg.hooks {
			h(ctx, e)
		}
	}
}

// dataActive reads a user's active flag from a stored document (true
// when absent, and for groups).
func dataActive(data []byte) bool {
	if active, ok := scanActive(data); ok {
		return active
	}
	var v struct {
		Active *bool `json:"active"`
	}
	if json.Unmarshal(data, &v) != nil || v.Active == nil {
		return true
	}
	return *v.Active
}

// changes lists the top-level attributes whose JSON differs between the
// documents before and after, sorted by name, each value bounded by
// provisioning.MaxChangeValue.
func changes(before, after []byte) []provisioning.Change {
	if out, ok := scanChanges(before, after); ok {
		return out
	}
	var b, a map[string]json.RawMessage
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(after, &a)
	var out []provisioning.Change
	add := func(k string, x, y json.RawMessage) {
		c := provisioning.Change{Attribute: k, Before: x, After: y}
		if len(x) > provisioning.MaxChangeValue || len(y) > provisioning.MaxChangeValue {
			c.Before, c.After, c.Truncated = nil, nil, true
		}
		out = append(out, c)
	}
	for k, x := range b {
		if y, ok := a[k]; !ok || !bytes.Equal(x, y) {
			add(k, x, y)
		}
	}
	for k, y := range a {
		if _, ok := b[k]; !ok {
			add(k, nil, y)
		}
	}
	slices.SortFunc(out, func(x, y provisioning.Change) int {
		switch {
		case x.Attribute < y.Attribute:
			return -1
		case x.Attribute > y.Attribute:
			return 1
		}
		return 0
	})
	return out
}

// member is a top-level member of a document.
type member struct{ key, val []byte }

// scanChanges is changes by the scanner of docscan.go; ok is false when
// it cannot split a document (or a key repeats), and changes decodes
// them with encoding/json instead.
func scanChanges(before, after []byte) (out []provisioning.Change, ok bool) {
	var bufB, bufA [24]member
	split := func(data []byte, buf []member) ([]member, bool) {
		ms := buf[:0]
		if !topLevel(data, func(k, v []byte) { ms = append(ms, member{k, v}) }) {
			return nil, false
		}
		slices.SortFunc(ms, func(x, y member) int { return bytes.Compare(x.key, y.key) })
		for i := 1; i < len(ms); i++ {
			if bytes.Equal(ms[i-1].key, ms[i].key) {
				return nil, false // encoding/json keeps the last: let it
			}
		}
		return ms, true
	}
	// A document that is not there (nil) has no members, as
	// json.Unmarshal of it leaves the map empty.
	var b, a []member
	if len(before) > 0 {
		if b, ok = split(before, bufB[:]); !ok {
			return nil, false
		}
	}
	if len(after) > 0 {
		if a, ok = split(after, bufA[:]); !ok {
			return nil, false
		}
	}
	add := func(k, x, y []byte) {
		c := provisioning.Change{Attribute: string(k)}
		if len(x) > provisioning.MaxChangeValue || len(y) > provisioning.MaxChangeValue {
			c.Truncated = true
		} else {
			if x != nil {
				c.Before = json.RawMessage(bytes.Clone(x))
			}
			if y != nil {
				c.After = json.RawMessage(bytes.Clone(y))
			}
		}
		out = append(out, c)
	}
	// Both are sorted by key: merge.
	for len(b) > 0 || len(a) > 0 {
		switch {
		case len(a) == 0 || len(b) > 0 && bytes.Compare(b[0].key, a[0].key) < 0:
			add(b[0].key, b[0].val, nil)
			b = b[1:]
		case len(b) == 0 || bytes.Compare(a[0].key, b[0].key) < 0:
			add(a[0].key, nil, a[0].val)
			a = a[1:]
		default:
			if !bytes.Equal(b[0].val, a[0].val) {
				add(b[0].key, b[0].val, a[0].val)
			}
			a, b = a[1:], b[1:]
		}
	}
	return out, true
}

// createEvents returns the events of creating res with members ms.
func (s *Server) createEvents(tenant string, res *storage.Resource, ms []storage.Member) []provisioning.Event {
	if !s.eventsOn() {
		return nil
	}
	if res.Kind == storage.KindUser {
		return []provisioning.Event{s.event(tenant, provisioning.Provisioned, res, res.Modified)}
	}
	e := s.event(tenant, provisioning.GroupCreated, res, res.Modified)
	e.Added = memberIDs(ms)
	return []provisioning.Event{e}
}

// deleteEvents returns the event of deleting old.
func (s *Server) deleteEvents(tenant string, old *storage.Resource) []provisioning.Event {
	if !s.eventsOn() {
		return nil
	}
	t := provisioning.Deleted
	if old.Kind == storage.KindGroup {
		t = provisioning.GroupDeleted
	}
	return []provisioning.Event{s.event(tenant, t, old, s.cfg.now())}
}

// updateEvents returns the events of replacing old by res (res.Version
// still old's) with the member ids removed and then added (the order a
// MemberChange applies them, and the order of the events); none when
// nothing changed.
func (s *Server) updateEvents(tenant string, old, res *storage.Resource, added, removed []string) []provisioning.Event {
	if !s.eventsOn() {
		return nil
	}
	next := *res
	next.Version = old.Version + 1
	ch := changes(old.Data, res.Data)
	var out []provisioning.Event
	if res.Kind == storage.KindUser {
		if len(ch) == 0 {
			return nil
		}
		t := provisioning.Updated
		switch was, is := dataActive(old.Data), dataActive(res.Data); {
		case was && !is:
			t = provisioning.Deactivated
		case !was && is:
			t = provisioning.Reactivated
		}
		e := s.event(tenant, t, &next, res.Modified)
		e.Changes = ch
		return append(out, e)
	}
	var renamed, other []provisioning.Change
	for _, c := range ch {
		if c.Attribute == "displayName" {
			renamed = append(renamed, c)
		} else {
			other = append(other, c)
		}
	}
	for _, x := range []struct {
		t  provisioning.EventType
		ch []provisioning.Change
		ms []string
	}{{provisioning.GroupRenamed, renamed, nil}, {provisioning.GroupUpdated, other, nil},
		{provisioning.MembersRemoved, nil, removed}, {provisioning.MembersAdded, nil, added}} {
		if len(x.ch) == 0 && len(x.ms) == 0 {
			continue
		}
		e := s.event(tenant, x.t, &next, res.Modified)
		e.Changes = x.ch
		if x.t == provisioning.MembersAdded {
			e.Added = x.ms
		} else if x.t == provisioning.MembersRemoved {
			e.Removed = x.ms
		}
		out = append(out, e)
	}
	return out
}

// memberIDs returns the distinct values of ms in order.
func memberIDs(ms []storage.Member) []string {
	if len(ms) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(ms))
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		if !seen[m.Value] {
			seen[m.Value] = true
			out = append(out, m.Value)
		}
	}
	return out
}

// memberDelta returns what applying ch to a group whose members were
// cur adds and removes. With ReplaceAll it is exact (cur is read); else it
// is what ch names.
func memberDelta(cur []storage.Member, ch *storage.MemberChange) (added, removed []string) {
	if !ch.ReplaceAll {
		return memberIDs(ch.Add), slices.Clone(ch.Remove)
	}
	final := make(map[string]bool, len(ch.Add))
	for _, id := range memberIDs(ch.Add) {
		final[id] = true
	}
	for _, id := range ch.Remove {
		delete(final, id)
	}
	had := make(map[string]bool, len(cur))
	for _, m := range cur {
		had[m.Value] = true
		if !final[m.Value] {
			removed = append(removed, m.Value)
		}
	}
	for _, id := range memberIDs(ch.Add) {
		if final[id] && !had[id] {
			added = append(added, id)
		}
	}
	return added, removed
}

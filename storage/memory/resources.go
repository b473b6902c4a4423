package memory

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// record is how the store keeps a resource: like [storage.Resource], but
// with packed Data (see compact.go), times as Unix nanoseconds and the kind
// as a flag, which takes a fifth less memory per entry. Its slices are never
// shared with callers.
type record struct {
	ID, ExternalID, Name string
	Emails               []string
	Data                 []byte
	Version              int64
	created, modified    int64
	group                bool
	seat                 bool
}

// Kind returns the record's kind.
func (r *record) Kind() storage.Kind {
	if r.group {
		return storage.KindGroup
	}
	return storage.KindUser
}

// zeroTime stands for the zero time.Time.
const zeroTime = math.MinInt64

// stamp keeps t as microseconds since the Unix epoch, the precision the
// server and the SQL backends keep, over every year from 1 to 9999 (and
// far beyond: nanoseconds would wrap outside 1677-2262).
func stamp(t time.Time) int64 {
	if t.IsZero() {
		return zeroTime
	}
	return t.UnixMicro()
}

func unstamp(n int64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

// stored returns the record the store keeps for r. Callers build it before
// taking the lock: packing is the costly part.
func stored(r *storage.Resource) (record, error) {
	if r == nil {
		return record{}, errors.New("memory: nil resource")
	}
	c := record{
		ID: r.ID, ExternalID: r.ExternalID, Name: r.Name,
		Emails:  slices.Clone(r.Emails),
		Version: r.Version, created: stamp(r.Created), modified: stamp(r.Modified),
		group: r.Kind == storage.KindGroup,
		seat:  r.Seat && r.Kind == storage.KindUser,
	}
	for i, m := range c.Emails {
		if m == c.Name {
			c.Emails[i] = c.Name // share one string: the email is often the userName
		}
	}
	var err error
	if c.Data, err = pack(r.Data, r.Name, r.ExternalID); err != nil {
		return c, fmt.Errorf("memory: %s %q: %w", r.Kind, r.ID, err)
	}
	return c, nil
}

// view returns r as a Resource without Data, for [storage.Match].
func (r *record) view() storage.Resource {
	return storage.Resource{
		Kind: r.Kind(), ID: r.ID, ExternalID: r.ExternalID, Name: r.Name, Emails: r.Emails,
		Version: r.Version, Created: unstamp(r.created), Modified: unstamp(r.modified),
		Seat: r.seat,
	}
}

// loaded returns a caller's copy of a stored record.
func loaded(r *record) storage.Resource {
	c := r.view()
	c.Emails = slices.Clone(r.Emails)
	c.Data = unpack(r.Data, r.Name, r.ExternalID)
	return c
}

func notFound(kind storage.Kind, id string) error {
	return fmt.Errorf("memory: %s %q: %w", kind, id, storage.ErrNotFound)
}

// Create stores a copy of r with version 1 (a Group with r.Members),
// appends ev to the outbox and sets r.Version to 1. It returns
// [storage.ErrConflict] when the tenant has a resource of r.Kind with r.ID
// or, case-insensitively, r.Name (RFC 7643 §2.1), and
// [storage.ErrInvalidMember] when a member names no User or Group of the
// tenant; nothing is stored then.
func (s *Store) Create(_ context.Context, tenantName string, r *storage.Resource, ev ...storage.Event) error {
	c, err := stored(r)
	if err != nil {
		return err
	}
	if err := checkKind(r.Kind); err != nil {
		return err
	}
	return s.tenantTx(tenantName, true, func(tn *tenant) error {
		tb := tn.table(r.Kind)
		if tb.byID[r.ID] != nil {
			return fmt.Errorf("memory: %s id %q: %w", r.Kind, r.ID, storage.ErrConflict)
		}
		if tb.byName[foldName(r.Name)] != nil {
			return fmt.Errorf("memory: %s %q: %w", tb.nameAttr(), r.Name, storage.ErrConflict)
		}
		if c.seat {
			if err := s.checkSeat(tenantName, tn); err != nil {
				return err
			}
			tn.seats++
		}
		e := &entry{res: c}
		e.res.Version = 1
		var add []*entry
		if r.Kind == storage.KindGroup {
			e.members = new(memberSet)
			add = make([]*entry, len(r.Members))
			for i, m := range r.Members {
				if add[i] = tn.resolve(m.Value); add[i] == nil {
					return fmt.Errorf("memory: group %q: member %q: %w", r.ID, m.Value, storage.ErrInvalidMember)
				}
			}
		}
		tb.put(e)
		tb.index(e)
		tb.order.push(e)
		for i, m := range r.Members[:len(add)] {
			e.members.add(e, add[i], m.Display)
		}
		s.appendEvents(tenantName, 1, ev)
		tn.stateOnWrite(tenantName, r)
		r.Version = 1
		return nil
	})
}

// Get returns a copy of the resource, or [storage.ErrNotFound].
func (s *Store) Get(_ context.Context, tenantName string, kind storage.Kind, id string) (*storage.Resource, error) {
	var r storage.Resource
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	err := s.tenantView(tenantName, func(tn *tenant) error {
		if tn == nil || tn.table(kind).byID[id] == nil {
			return notFound(kind, id)
		}
		r = loaded(&tn.table(kind).byID[id].res)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Replace stores a copy of r over the resource with its kind and id if
// r.Version is the stored version (RFC 7644 §3.14), keeping Created and the
// members, and sets r.Version to the new version. It returns
// [storage.ErrNotFound], [storage.ErrVersionMismatch] or
// [storage.ErrConflict] (r.Name taken by another resource), in that order
// of precedence, and changes nothing then.
func (s *Store) Replace(_ context.Context, tenantName string, r *storage.Resource, ev ...storage.Event) error {
	c, err := stored(r)
	if err != nil {
		return err
	}
	if err := checkKind(r.Kind); err != nil {
		return err
	}
	return s.tenantTx(tenantName, false, func(tn *tenant) error {
		if tn == nil || tn.table(r.Kind).byID[r.ID] == nil {
			return notFound(r.Kind, r.ID)
		}
		tb := tn.table(r.Kind)
		e := tb.byID[r.ID]
		if err := tb.checkReplace(e, r); err != nil {
			return err
		}
		if c.seat && !e.res.seat {
			if err := s.checkSeat(tenantName, tn); err != nil {
				return err
			}
		}
		tn.seats += seatDelta(e.res.seat, c.seat)
		tb.unindex(e)
		c.created = e.res.created
		c.Version = e.res.Version + 1
		e.res = c
		tb.index(e)
		r.Version = c.Version
		s.appendEvents(tenantName, c.Version, ev)
		tn.stateOnWrite(tenantName, r)
		return nil
	})
}

// checkReplace checks that r may replace e: same version, free name.
func (tb *table) checkReplace(e *entry, r *storage.Resource) error {
	if e.res.Version != r.Version {
		return fmt.Errorf("memory: %s %q is at version %d, not %d: %w",
			r.Kind, r.ID, e.res.Version, r.Version, storage.ErrVersionMismatch)
	}
	if o := tb.byName[foldName(r.Name)]; o != nil && o != e {
		return fmt.Errorf("memory: %s %q: %w", tb.nameAttr(), r.Name, storage.ErrConflict)
	}
	return nil
}

// Delete removes the resource, its member set if it is a Group, and every
// membership naming it in the tenant's groups (without changing their
// Version or Modified). It returns [storage.ErrNotFound] when absent.
func (s *Store) Delete(_ context.Context, tenantName string, kind storage.Kind, id string, ev ...storage.Event) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	return s.tenantTx(tenantName, false, func(tn *tenant) error { return s.deleteIn(tn, tenantName, kind, id, ev) })
}

// deleteIn is Delete for a caller holding tn's write lock (tn nil: the
// tenant is absent).
func (s *Store) deleteIn(tn *tenant, tenantName string, kind storage.Kind, id string, ev []storage.Event) error {
	e := (*entry)(nil)
	var tb *table
	if tn != nil {
		tb = tn.table(kind)
		e = tb.byID[id]
	}
	if e == nil {
		return notFound(kind, id)
	}
	for _, g := range e.memberOf.list() {
		g.members.removeEntry(g, e)
	}
	if e.members != nil {
		e.members.clear(e)
	}
	if e.res.seat {
		tn.seats--
	}
	delete(tb.byID, id)
	tb.unindex(e)
	tb.order.remove(e)
	s.appendEvents(tenantName, e.res.Version, ev)
	return nil
}

// List returns one page of the resources of q.Kind matching q, in creation
// order (RFC 7644 §3.4.2). With q.Lookup it takes the candidates from an
// index; with q.Filter it decodes each candidate and checks it with
// [storage.Match]; with neither it slices the creation order directly.
//
// A scan stops with ctx's error when ctx is done (the client has gone).
func (s *Store) List(ctx context.Context, tenantName string, q storage.Query) (storage.Page, error) {
	var p storage.Page
	if err := checkKind(q.Kind); err != nil {
		return p, err
	}
	err := s.tenantView(tenantName, func(tn *tenant) error {
		if tn == nil {
			return nil
		}
		tb := tn.table(q.Kind)
		var err error
		start, size := max(q.StartIndex, 1)-1, q.PageSize()
		if q.Lookup == nil && q.Filter == nil {
			p.Total = tb.order.live
			page := tb.order.page(start, size)
			p.Resources = copyOut(page)
			p.Members = membersOf(q, page)
			return nil
		}
		var cands []*entry
		switch {
		case q.Lookup != nil && q.Lookup.Field == storage.LookupMember:
			cands = tn.groupsOf(q.Lookup.Value, tb)
		case q.Lookup != nil:
			if cands, err = tb.lookup(*q.Lookup); err != nil {
				return err
			}
		default:
			cands = tb.order.entries
		}
		// Count every match; keep those on the page.
		var page []*entry
		for i, e := range cands {
			if e == nil {
				continue
			}
			if i%256 == 255 && ctx.Err() != nil {
				return ctx.Err()
			}
			if q.Filter != nil {
				ok, err := match(q.Filter, e)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			if p.Total >= start && (size < 0 || p.Total-start < size) {
				page = append(page, e)
			}
			p.Total++
		}
		p.Resources = copyOut(page)
		p.Members = membersOf(q, page)
		return nil
	})
	return p, err
}

// membersOf copies the members of the groups on a page when q asks.
func membersOf(q storage.Query, page []*entry) map[string][]storage.Member {
	if !q.WithMembers || q.Kind != storage.KindGroup || len(page) == 0 {
		return nil
	}
	out := make(map[string][]storage.Member, len(page))
	for _, g := range page {
		if ms := g.members.list(); len(ms) > 0 {
			out[g.res.ID] = ms
		}
	}
	return out
}

// groupsOf returns the groups of tb that have a member with the given id,
// in creation order, from the members' back links.
func (tn *tenant) groupsOf(id string, tb *table) []*entry {
	var out []*entry
	for _, e := range []*entry{tn.users.byID[id], tn.groups.byID[id]} {
		if e == nil {
			continue
		}
		for _, g := range e.memberOf.list() {
			if tb.byID[g.res.ID] == g && !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	slices.SortFunc(out, func(a, b *entry) int { return cmp.Compare(a.pos, b.pos) })
	return out
}

// lookup returns the entries the index of l names, in creation order.
func (tb *table) lookup(l storage.Lookup) ([]*entry, error) {
	var out []*entry
	switch l.Field {
	case storage.LookupID:
		if e := tb.byID[l.Value]; e != nil {
			out = append(out, e)
		}
	case storage.LookupName:
		if e := tb.byName[foldName(l.Value)]; e != nil {
			out = append(out, e)
		}
	case storage.LookupExternalID:
		out = tb.byExt.get(out, l.Value)
	case storage.LookupEmail:
		out = tb.byEmail.get(out, strings.ToLower(l.Value))
	default:
		return nil, fmt.Errorf("memory: unknown lookup field %d", l.Field)
	}
	slices.SortFunc(out, func(a, b *entry) int { return cmp.Compare(a.pos, b.pos) })
	return out, nil
}

// match decodes e's document and evaluates f on it.
func match(f storage.Filter, e *entry) (bool, error) {
	doc := map[string]any{}
	if len(e.res.Data) > 0 {
		if err := json.Unmarshal(unpack(e.res.Data, e.res.Name, e.res.ExternalID), &doc); err != nil {
			return false, fmt.Errorf("memory: decode %s %q: %w", e.res.Kind(), e.res.ID, err)
		}
	}
	if e.members != nil && storage.Uses(f, "members") {
		doc["members"] = e.members.doc()
	}
	v := e.res.view()
	return storage.Match(f, &v, doc), nil
}

func copyOut(es []*entry) []storage.Resource {
	if len(es) == 0 {
		return nil
	}
	out := make([]storage.Resource, len(es))
	for i, e := range es {
		out[i] = loaded(&e.res)
	}
	return out
}

package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/scimkit/scimkit/storage"
)

// memberSet is a group's members in insertion order: slots with tombstones
// plus an index from member id to slot, so adding or removing k members
// costs O(k) whatever the group's size.
type memberSet struct {
	index map[string]int // member id -> index in slots
	slots []slot         // a removed member leaves a zero slot
	live  int
}

type slot struct {
	e       *entry // the member; nil for a tombstone
	display string
}

// add adds e to g's set, or updates its Display when present.
func (ms *memberSet) add(g, e *entry, display string) {
	if i, ok := ms.index[e.res.ID]; ok {
		if old := ms.slots[i].e; old != e { // a User and a Group share the id
			old.memberOf.remove(g)
			e.memberOf.add(g)
		}
		ms.slots[i] = slot{e: e, display: display}
		return
	}
	if ms.index == nil {
		ms.index = make(map[string]int)
	}
	ms.index[e.res.ID] = len(ms.slots)
	ms.slots = append(ms.slots, slot{e: e, display: display})
	ms.live++
	e.memberOf.add(g)
}

// groupSet is the set of groups an entry is a member of: a slice while
// small (most users are in a handful of groups, and a map per user costs
// ~150 bytes), a map beyond maxFewGroups.
type groupSet struct {
	few  []*entry
	many map[*entry]struct{}
}

const maxFewGroups = 32

func (s *groupSet) add(g *entry) {
	if s.many != nil {
		s.many[g] = struct{}{}
		return
	}
	if slices.Contains(s.few, g) {
		return
	}
	if len(s.few) < maxFewGroups {
		s.few = append(s.few, g)
		return
	}
	s.many = make(map[*entry]struct{}, 2*maxFewGroups)
	for _, x := range s.few {
		s.many[x] = struct{}{}
	}
	s.many[g] = struct{}{}
	s.few = nil
}

func (s *groupSet) remove(g *entry) {
	if s.many != nil {
		delete(s.many, g)
		return
	}
	if i := slices.Index(s.few, g); i >= 0 {
		last := len(s.few) - 1
		s.few[i] = s.few[last]
		s.few[last] = nil
		s.few = s.few[:last]
		if last == 0 {
			s.few = nil
		}
	}
}

// list returns a copy of the set, safe to range over while it changes.
func (s *groupSet) list() []*entry {
	if s.many != nil {
		out := make([]*entry, 0, len(s.many))
		for g := range s.many {
			out = append(out, g)
		}
		return out
	}
	return slices.Clone(s.few)
}

// remove removes the member with id from g's set; absent is a no-op.
func (ms *memberSet) remove(g *entry, id string) {
	i, ok := ms.index[id]
	if !ok {
		return
	}
	ms.slots[i].e.memberOf.remove(g)
	ms.slots[i] = slot{}
	delete(ms.index, id)
	ms.live--
	if dead := len(ms.slots) - ms.live; dead > 64 && dead > ms.live {
		ms.compact()
	}
}

// removeEntry removes e from g's set if the member with e's id is e.
func (ms *memberSet) removeEntry(g, e *entry) {
	if i, ok := ms.index[e.res.ID]; ok && ms.slots[i].e == e {
		ms.remove(g, e.res.ID)
	}
}

// clear empties g's set.
func (ms *memberSet) clear(g *entry) {
	for _, s := range ms.slots {
		if s.e != nil {
			s.e.memberOf.remove(g)
		}
	}
	clear(ms.index)
	clear(ms.slots)
	ms.slots = ms.slots[:0]
	ms.live = 0
}

// compact drops the tombstones in place.
func (ms *memberSet) compact() {
	n := 0
	for _, s := range ms.slots {
		if s.e != nil {
			ms.index[s.e.res.ID] = n
			ms.slots[n] = s
			n++
		}
	}
	clear(ms.slots[n:])
	ms.slots = ms.slots[:n]
	if cap(ms.slots) > 4*n+64 { // give back memory after mass removals
		ms.slots = append([]slot(nil), ms.slots...)
	}
}

// list returns the members in insertion order.
func (ms *memberSet) list() []storage.Member {
	out := make([]storage.Member, 0, ms.live)
	for _, s := range ms.slots {
		if s.e != nil {
			out = append(out, storage.Member{Value: s.e.res.ID, Type: s.e.res.Kind(), Display: s.display})
		}
	}
	return out
}

// doc returns the members as [storage.Match] expects doc["members"]; an
// empty display is left out, as it would be in JSON.
func (ms *memberSet) doc() []any {
	out := make([]any, 0, ms.live)
	for _, s := range ms.slots {
		if s.e != nil {
			m := map[string]any{"value": s.e.res.ID, "type": string(s.e.res.Kind())}
			if s.display != "" {
				m["display"] = s.display
			}
			out = append(out, m)
		}
	}
	return out
}

// group returns the group entry or ErrNotFound.
func (tn *tenant) group(id string) (*entry, error) {
	if tn == nil || tn.groups.byID[id] == nil {
		return nil, notFound(storage.KindGroup, id)
	}
	return tn.groups.byID[id], nil
}

// ChangeMembers applies ch to the group's member set atomically (RFC 7644
// §3.5.2): it first checks that every added value names a User or Group of
// the tenant ([storage.ErrInvalidMember] otherwise, changing nothing), then
// applies ReplaceAll, Remove and Add in that order, sets each added
// member's Type, bumps the group's Version and sets its Modified. It
// returns [storage.ErrNotFound] when the group is absent.
func (s *Store) ChangeMembers(_ context.Context, tenantName, groupID string, ch storage.MemberChange) error {
	var c record
	if ch.Group != nil {
		var err error
		if c, err = stored(ch.Group); err != nil {
			return err
		}
	}
	return s.tenantTx(tenantName, false, func(tn *tenant) error {
		g, err := tn.group(groupID)
		if err != nil {
			return err
		}
		var add []*entry
		if len(ch.Add) > 0 {
			add = make([]*entry, len(ch.Add))
		}
		for i, m := range ch.Add {
			if add[i] = tn.resolve(m.Value); add[i] == nil {
				return fmt.Errorf("memory: group %q: member %q: %w", groupID, m.Value, storage.ErrInvalidMember)
			}
		}
		if r := ch.Group; r != nil {
			tb := tn.groups
			if r.Kind != storage.KindGroup || r.ID != groupID {
				return fmt.Errorf("memory: group change for %s %q sent to group %q", r.Kind, r.ID, groupID)
			}
			if err := tb.checkReplace(g, r); err != nil {
				return err
			}
			tb.unindex(g)
			c.created, c.Version = g.res.created, g.res.Version
			g.res = c
			tb.index(g)
		}
		if ch.ReplaceAll {
			g.members.clear(g)
		}
		for _, id := range ch.Remove {
			g.members.remove(g, id)
		}
		for i, m := range ch.Add {
			g.members.add(g, add[i], m.Display)
		}
		g.res.Version++
		g.res.modified = stamp(ch.Modified)
		s.appendEvents(tenantName, g.res.Version, ch.Events)
		if ch.Group != nil {
			ch.Group.Version = g.res.Version
		}
		return nil
	})
}

// ListMembers returns the group's members in the order they were added,
// or [storage.ErrNotFound] when the group is absent.
func (s *Store) ListMembers(_ context.Context, tenantName, groupID string) ([]storage.Member, error) {
	var out []storage.Member
	err := s.tenantView(tenantName, func(tn *tenant) error {
		g, err := tn.group(groupID)
		if err != nil {
			return err
		}
		out = g.members.list()
		return nil
	})
	return out, err
}

package memory

import (
	"fmt"
	"strings"
	"sync"

	"github.com/scimkit/scimkit/storage"
)

// Store is an in-memory [storage.Store]. It is safe for concurrent use.
// The zero value is not usable; call [New].
type Store struct {
	// mu guards the tenants map (not the tenants: each has its own lock,
	// so one tenant's scan never delays another's write), creds and
	// credByHash. It is held only for map look-ups.
	mu sync.RWMutex
	// tenants holds each tenant's resources, settings, user states and
	// audit log; a tenant appears on its first write and leaves with
	// DeleteTenant.
	tenants map[string]*tenant
	// creds holds each tenant's credentials by id.
	creds map[string]map[string]*credential
	// credByHash indexes every credential by its token hash.
	credByHash map[string]*credential
	// outMu guards out, the outbox of every tenant. A write appends its
	// events while it holds its tenant's lock (lock order: tenant, then
	// outMu), so an event is in the outbox iff its change was applied,
	// in the order of the changes to each resource.
	outMu sync.Mutex
	out   outbox
}

var _ storage.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{
		tenants:    make(map[string]*tenant),
		creds:      make(map[string]map[string]*credential),
		credByHash: make(map[string]*credential),
	}
}

// tx runs f holding the write lock.
func (s *Store) tx(f func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f()
}

// view runs f holding the read lock.
func (s *Store) view(f func() error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return f()
}

// tenant returns the named tenant, creating it when create is set; it
// returns nil for an absent tenant when create is unset.
func (s *Store) tenant(name string, create bool) *tenant {
	s.mu.RLock()
	tn := s.tenants[name]
	s.mu.RUnlock()
	if tn != nil || !create {
		return tn
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if tn = s.tenants[name]; tn == nil {
		tn = newTenant()
		s.tenants[name] = tn
	}
	return tn
}

// tenantTx runs f holding the write lock of the named tenant, created when
// create is set. f gets a nil tenant when it is absent and create is
// unset.
func (s *Store) tenantTx(name string, create bool, f func(tn *tenant) error) error {
	tn := s.tenant(name, create)
	if tn == nil {
		return f(nil)
	}
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return f(tn)
}

// tenantView runs f holding the read lock of the named tenant (nil when
// absent).
func (s *Store) tenantView(name string, f func(tn *tenant) error) error {
	tn := s.tenant(name, false)
	if tn == nil {
		return f(nil)
	}
	tn.mu.RLock()
	defer tn.mu.RUnlock()
	return f(tn)
}

// checkKind rejects kinds other than User and Group.
func checkKind(kind storage.Kind) error {
	if kind != storage.KindUser && kind != storage.KindGroup {
		return fmt.Errorf("memory: unknown kind %q", kind)
	}
	return nil
}

// tenant holds one tenant's resources.
type tenant struct {
	mu            sync.RWMutex // guards everything below and the entries
	users, groups *table
	// seats counts the users stored with Seat set.
	seats int
	// settings are the tenant's settings (ok: stored at all).
	settings   storage.TenantSettings
	settingsOK bool
	// states holds the tenant's user states by user id.
	states map[string]storage.UserState
	// audit holds the tenant's audit entries, oldest first.
	audit []storage.AuditEntry
}

func newTenant() *tenant {
	return &tenant{users: newTable(storage.KindUser), groups: newTable(storage.KindGroup)}
}

func (tn *tenant) table(kind storage.Kind) *table {
	if kind == storage.KindGroup {
		return tn.groups
	}
	return tn.users
}

// resolve finds the resource a member value names: the User with that id,
// else the Group.
func (tn *tenant) resolve(id string) *entry {
	if e := tn.users.byID[id]; e != nil {
		return e
	}
	return tn.groups.byID[id]
}

// entry is one stored resource.
type entry struct {
	// res is the stored record.
	res record
	// pos is the entry's index in its table's order.
	pos int
	// members is a group's member set; nil for users.
	members *memberSet
	// memberOf holds the groups whose member set contains this entry.
	memberOf groupSet
}

// table holds the resources of one kind in one tenant.
type table struct {
	kind    storage.Kind
	byID    map[string]*entry
	byName  map[string]*entry // key: strings.ToLower(Name); unique
	byExt   multiIndex        // key: ExternalID, exact
	byEmail multiIndex        // key: strings.ToLower(email)
	order   order
}

// newTable returns an empty table. Its maps are made by the first write
// (reading a nil map finds nothing), so a tenant that never stores a
// resource of a kind costs no map for it.
func newTable(kind storage.Kind) *table {
	return &table{kind: kind}
}

// put adds e under its id.
func (tb *table) put(e *entry) {
	if tb.byID == nil {
		tb.byID = make(map[string]*entry)
	}
	tb.byID[e.res.ID] = e
}

// nameAttr is the attribute Name holds, for error messages.
func (tb *table) nameAttr() string {
	if tb.kind == storage.KindGroup {
		return "displayName"
	}
	return "userName"
}

func foldName(name string) string { return strings.ToLower(name) }

// index adds e's name, externalId and emails to the indexes.
func (tb *table) index(e *entry) {
	if tb.byName == nil {
		tb.byName = make(map[string]*entry)
	}
	tb.byName[foldName(e.res.Name)] = e
	if e.res.ExternalID != "" {
		tb.byExt.add(e.res.ExternalID, e)
	}
	for _, m := range e.res.Emails {
		if m != "" {
			tb.byEmail.add(strings.ToLower(m), e)
		}
	}
}

// unindex removes what index added.
func (tb *table) unindex(e *entry) {
	key := foldName(e.res.Name)
	if tb.byName[key] == e {
		delete(tb.byName, key)
	}
	if e.res.ExternalID != "" {
		tb.byExt.remove(e.res.ExternalID, e)
	}
	for _, m := range e.res.Emails {
		if m != "" {
			tb.byEmail.remove(strings.ToLower(m), e)
		}
	}
}

// multiIndex maps a key to the entries that have it. Keys are nearly
// always unique (externalId, email), so the common case costs one map slot
// of a string and a pointer; a key shared by several entries moves to many.
type multiIndex struct {
	one  map[string]*entry
	many map[string]map[*entry]struct{}
}

func (m *multiIndex) add(key string, e *entry) {
	if set, ok := m.many[key]; ok {
		set[e] = struct{}{}
		return
	}
	if o, ok := m.one[key]; ok && o != e {
		delete(m.one, key)
		if m.many == nil {
			m.many = make(map[string]map[*entry]struct{})
		}
		m.many[key] = map[*entry]struct{}{o: {}, e: {}}
		return
	}
	if m.one == nil {
		m.one = make(map[string]*entry)
	}
	m.one[key] = e
}

func (m *multiIndex) remove(key string, e *entry) {
	if m.one[key] == e {
		delete(m.one, key)
		return
	}
	set, ok := m.many[key]
	if !ok {
		return
	}
	delete(set, e)
	if len(set) == 1 {
		delete(m.many, key)
		for x := range set {
			m.one[key] = x
		}
	}
}

// get appends the entries having key to dst.
func (m multiIndex) get(dst []*entry, key string) []*entry {
	if e, ok := m.one[key]; ok {
		return append(dst, e)
	}
	for e := range m.many[key] {
		dst = append(dst, e)
	}
	return dst
}

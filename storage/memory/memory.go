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
	mu sync.RWMutex // guards tenants, creds, credByHash, out, settings, states and audit
	// tenants holds each tenant's resources; a tenant appears on its
	// first write.
	tenants map[string]*tenant
	// creds holds each tenant's credentials by id.
	creds map[string]map[string]*credential
	// credByHash indexes every credential by its token hash.
	credByHash map[string]*credential
	// out is the outbox of every tenant.
	out outbox
	// settings holds each tenant's settings.
	settings map[string]storage.TenantSettings
	// states holds each tenant's user states by user id.
	states map[string]map[string]storage.UserState
	// audit holds each tenant's audit entries, oldest first.
	audit map[string][]storage.AuditEntry
}

var _ storage.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{
		tenants:    make(map[string]*tenant),
		creds:      make(map[string]map[string]*credential),
		credByHash: make(map[string]*credential),
		settings:   make(map[string]storage.TenantSettings),
		states:     make(map[string]map[string]storage.UserState),
		audit:      make(map[string][]storage.AuditEntry),
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

// table returns the table of kind in tenant, creating the tenant when
// create is set. It returns a nil table (and no error) for an absent tenant
// when create is unset.
func (s *Store) table(tenantName string, kind storage.Kind, create bool) (*table, error) {
	if kind != storage.KindUser && kind != storage.KindGroup {
		return nil, fmt.Errorf("memory: unknown kind %q", kind)
	}
	tn := s.tenants[tenantName]
	if tn == nil {
		if !create {
			return nil, nil
		}
		tn = newTenant()
		s.tenants[tenantName] = tn
	}
	return tn.table(kind), nil
}

// tenant holds one tenant's resources.
type tenant struct {
	users, groups *table
	// seats counts the users stored with Seat set.
	seats int
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

func newTable(kind storage.Kind) *table {
	return &table{
		kind:    kind,
		byID:    make(map[string]*entry),
		byName:  make(map[string]*entry),
		byExt:   newMultiIndex(),
		byEmail: newMultiIndex(),
	}
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

func newMultiIndex() multiIndex {
	return multiIndex{one: make(map[string]*entry), many: make(map[string]map[*entry]struct{})}
}

func (m multiIndex) add(key string, e *entry) {
	if set, ok := m.many[key]; ok {
		set[e] = struct{}{}
		return
	}
	if o, ok := m.one[key]; ok && o != e {
		delete(m.one, key)
		m.many[key] = map[*entry]struct{}{o: {}, e: {}}
		return
	}
	m.one[key] = e
}

func (m multiIndex) remove(key string, e *entry) {
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

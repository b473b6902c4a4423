package sqlstore

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/scimkit/scimkit/storage"
)

// List returns one page of q.Kind's resources matching q (RFC 7644
// §3.4.2). The lookup and the filter become one WHERE clause; the total is
// a COUNT and the page a LIMIT/OFFSET in creation (row id) order, so no
// more than a page of rows leaves the database. Only a filter SQL cannot
// decide exactly (see builder) makes List read the candidates in order and
// check each with [storage.Match].
func (s *Store) List(ctx context.Context, tenant string, q storage.Query) (storage.Page, error) {
	b := &builder{d: s.d, kind: q.Kind}
	b.args = append(b.args, tenant)
	where := "r.tenant = ? AND r.kind = " + kindLit(q.Kind)
	if l := q.Lookup; l != nil {
		where += " AND " + b.lookup(tenant, l)
	}
	c := b.filter(q.Filter)
	if c.sql != s.d.True() {
		where += " AND " + c.sql
	}
	start := max(q.StartIndex, 1)
	if !c.exact {
		return s.listChecked(ctx, tenant, q, where, b.args, start)
	}
	var p storage.Page
	count := func() error {
		err := s.queryRow(ctx, `SELECT count(*) FROM scimkit_resources r`+s.d.RowJSON()+` WHERE `+where, b.args...).Scan(&p.Total)
		return s.read(err)
	}
	limit := q.PageSize()
	if limit == 0 {
		return p, count()
	}
	if limit < 0 {
		limit = 1 << 62 // no limit, in a form every dialect accepts
	}
	// The page's row ids come from the index alone, then only those rows
	// are read: a page at offset 90,000 skips index entries, not rows.
	query := `SELECT ` + resourceColumns + ` FROM scimkit_resources r WHERE r.rid IN (SELECT r.rid FROM scimkit_resources r` +
		s.d.RowJSON() + ` WHERE ` + where + ` ORDER BY r.rid` + s.limit() + s.offset() + `) ORDER BY r.rid`
	if q.Lookup != nil {
		// A lookup's few rows are read directly, ordered by "rid + 0",
		// which no index provides: the planner then finds them through
		// the lookup's index and sorts them, instead of walking the
		// creation order hoping to meet a match early (PostgreSQL's
		// choice when its statistics are stale).
		query = `SELECT ` + resourceColumns + ` FROM scimkit_resources r` + s.d.RowJSON() + ` WHERE ` + where +
			` ORDER BY r.rid + 0` + s.limit() + s.offset()
	}
	rows, err := s.query(ctx, query, append(b.args, limit, start-1)...)
	if err != nil {
		return storage.Page{}, s.read(err)
	}
	defer rows.Close()
	var rids []int64
	for rows.Next() {
		rid, r, err := scanResource(rows, q.Kind)
		if err != nil {
			return storage.Page{}, s.read(err)
		}
		rids = append(rids, rid)
		p.Resources = append(p.Resources, *r)
	}
	if err := rows.Err(); err != nil {
		return storage.Page{}, s.read(err)
	}
	// A short page that starts inside the result ends it, so it tells
	// the total: the IdPs' lookups (one match or none) cost one query.
	if n := len(p.Resources); n < limit && (n > 0 || start == 1) {
		p.Total = start - 1 + n
	} else if err := count(); err != nil {
		return storage.Page{}, err
	}
	return p, s.pageMembers(ctx, q, &p, rids)
}

// pageMembers fills p.Members for a group query that asked for them; any
// other query never reads the member table (Entra lists groups with
// excludedAttributes=members).
func (s *Store) pageMembers(ctx context.Context, q storage.Query, p *storage.Page, rids []int64) error {
	if q.Kind != storage.KindGroup || !q.WithMembers || len(rids) == 0 {
		return nil
	}
	ms, err := s.members(ctx, rids)
	if err != nil {
		return err
	}
	p.Members = make(map[string][]storage.Member, len(ms))
	for i, rid := range rids {
		if m := ms[rid]; len(m) > 0 {
			p.Members[p.Resources[i].ID] = m
		}
	}
	return nil
}

// lookup is the indexed condition of l. Emails and memberships are
// probed through their own indexes as IN subqueries, which the planner
// drives from.
func (b *builder) lookup(tenant string, l *storage.Lookup) string {
	switch l.Field {
	case storage.LookupID:
		return "r.id = " + b.arg(l.Value)
	case storage.LookupExternalID:
		return "r.external_id = " + b.arg(l.Value)
	case storage.LookupName:
		return "r.name_fold = " + b.arg(strings.ToLower(l.Value))
	case storage.LookupEmail:
		return "r.rid IN (SELECT x.rid FROM scimkit_emails x WHERE x.tenant = " + b.arg(tenant) +
			" AND x.email_fold = " + b.arg(strings.ToLower(l.Value)) + ")"
	case storage.LookupMember:
		return "r.rid IN (SELECT m.group_rid FROM scimkit_members m JOIN scimkit_resources x ON x.rid = m.member_rid" +
			" WHERE x.tenant = " + b.arg(tenant) + " AND x.kind IN ('User', 'Group') AND x.id = " + b.arg(l.Value) + ")"
	}
	return b.d.False()
}

// listChecked pages through candidates that matched a superset condition,
// keeping those [storage.Match] accepts. It reads candidates row by row
// and keeps only the page.
func (s *Store) listChecked(ctx context.Context, tenant string, q storage.Query, where string, args []any, start int) (storage.Page, error) {
	rows, err := s.query(ctx, `SELECT `+resourceColumns+` FROM scimkit_resources r`+s.d.RowJSON()+` WHERE `+where+` ORDER BY r.rid`, args...)
	if err != nil {
		return storage.Page{}, s.read(err)
	}
	defer rows.Close()
	var (
		p       storage.Page
		rids    []int64
		members = storage.Uses(q.Filter, "members")
	)
	for rows.Next() {
		rid, r, err := scanResource(rows, q.Kind)
		if err != nil {
			return storage.Page{}, s.read(err)
		}
		doc := map[string]any{}
		if err := json.Unmarshal(r.Data, &doc); err != nil {
			return storage.Page{}, err
		}
		if members {
			ms, err := s.members(ctx, []int64{rid})
			if err != nil {
				return storage.Page{}, err
			}
			doc["members"] = memberDoc(ms[rid])
		}
		if !storage.Match(q.Filter, r, doc) {
			continue
		}
		p.Total++
		if size := q.PageSize(); p.Total >= start && (size < 0 || len(p.Resources) < size) {
			rids = append(rids, rid)
			p.Resources = append(p.Resources, *r)
		}
	}
	if err := rows.Err(); err != nil {
		return storage.Page{}, s.read(err)
	}
	return p, s.pageMembers(ctx, q, &p, rids)
}

// memberDoc is members as [storage.Match] reads them.
func memberDoc(ms []storage.Member) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		e := map[string]any{"value": m.Value, "type": string(m.Type)}
		if m.Display != "" {
			e["display"] = m.Display
		}
		out[i] = e
	}
	return out
}

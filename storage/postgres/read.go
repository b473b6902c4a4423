package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/scimkit/scimkit/storage"
)

// The reads of every request (authentication, a resource by id, an IdP's
// equality lookup, a page) run on pgx directly, one round trip each; a
// page and its total travel together. Their statements are the shared
// store's, so the index checks of sqlstoretest hold for both paths.

const resourceColumns = "r.rid, r.id, r.external_id, r.name, r.emails, r.version, r.created, r.modified, r.data, r.seat"

// scanResource reads the columns of resourceColumns.
func scanResource(sc pgx.Row, kind storage.Kind) (int64, *storage.Resource, error) {
	var (
		rid               int64
		r                 = &storage.Resource{Kind: kind}
		emails            string
		created, modified int64
		seat              int16
	)
	if err := sc.Scan(&rid, &r.ID, &r.ExternalID, &r.Name, &emails, &r.Version, &created, &modified, &r.Data, &seat); err != nil {
		return 0, nil, err
	}
	r.Seat = seat == 1
	if emails != "" {
		if err := json.Unmarshal([]byte(emails), &r.Emails); err != nil {
			return 0, nil, fmt.Errorf("postgres: %s %q: emails column: %w", kind, r.ID, err)
		}
	}
	r.Created, r.Modified = fromMicros(created), fromMicros(modified)
	return rid, r, nil
}

// Get returns the resource, or [storage.ErrNotFound].
func (s *Store) Get(ctx context.Context, tenant string, kind storage.Kind, id string) (*storage.Resource, error) {
	_, r, err := scanResource(s.pool.QueryRow(ctx, s.trace(`SELECT `+resourceColumns+`
		FROM scimkit_resources r WHERE r.tenant = $1 AND r.kind = $2 AND r.id = $3`), tenant, string(kind), id), kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: %s %q: %w", kind, id, storage.ErrNotFound)
	}
	if err != nil {
		return nil, readErr(err)
	}
	return r, nil
}

// rowJSON is the dialect's RowJSON, kept in the statements so that their
// text is the shared store's.
var rowJSON = dialect{}.RowJSON()

// List returns one page of q.Kind's resources matching q, in creation
// order (RFC 7644 §3.4.2). The lookup and the filter become SQL, so no
// more than a page of rows leaves the database. An IdP's lookup and a
// plain page run on pgx in one round trip; filters and groups with their
// members run on the shared store.
func (s *Store) List(ctx context.Context, tenant string, q storage.Query) (storage.Page, error) {
	limit := q.PageSize()
	if q.Filter != nil || limit <= 0 || (q.Kind == storage.KindGroup && q.WithMembers) {
		return s.sql.List(ctx, tenant, q)
	}
	args := []any{tenant, string(q.Kind)}
	arg := func(a any) string {
		args = append(args, a)
		return "$" + strconv.Itoa(len(args))
	}
	where := "r.tenant = $1 AND r.kind = $2"
	if l := q.Lookup; l != nil {
		where += " AND " + lookupSQL(tenant, l, arg)
	}
	n := len(args)
	start := max(q.StartIndex, 1)
	countSQL := `SELECT count(*) FROM scimkit_resources r` + rowJSON + ` WHERE ` + where
	var query string
	if q.Lookup != nil {
		// As the shared store: a lookup's few rows are read directly,
		// ordered by "rid + 0", which no index provides, so the planner
		// finds them through the lookup's index.
		query = `SELECT ` + resourceColumns + ` FROM scimkit_resources r` + rowJSON + ` WHERE ` + where +
			` ORDER BY r.rid + 0 LIMIT ` + arg(limit) + ` OFFSET ` + arg(start-1)
	} else {
		query = `SELECT ` + resourceColumns + ` FROM scimkit_resources r WHERE r.rid IN (SELECT r.rid FROM scimkit_resources r` +
			rowJSON + ` WHERE ` + where + ` ORDER BY r.rid LIMIT ` + arg(limit) + ` OFFSET ` + arg(start-1) + `) ORDER BY r.rid`
	}
	b := &pgx.Batch{}
	s.queue(b, query, args...)
	// A lookup's page is short (one match or none) and tells the total
	// itself; a page of all resources needs the count, sent in the same
	// round trip.
	withCount := q.Lookup == nil
	if withCount {
		s.queue(b, countSQL, args[:n]...)
	}
	var p storage.Page
	err := s.batch(ctx, b, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			_, r, err := scanResource(rows, q.Kind)
			if err != nil {
				rows.Close()
				return err
			}
			p.Resources = append(p.Resources, *r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if withCount {
			return br.QueryRow().Scan(&p.Total)
		}
		return nil
	})
	if err != nil {
		return storage.Page{}, readErr(err)
	}
	if withCount {
		return p, nil
	}
	// A short page that starts inside the result ends it, so it tells
	// the total.
	if m := len(p.Resources); m < limit && (m > 0 || start == 1) {
		p.Total = start - 1 + m
		return p, nil
	}
	if err := s.pool.QueryRow(ctx, s.trace(countSQL), args[:n]...).Scan(&p.Total); err != nil {
		return storage.Page{}, readErr(err)
	}
	return p, nil
}

// lookupSQL is the indexed condition of l, as the shared store writes
// it; arg binds a value and returns its placeholder.
func lookupSQL(tenant string, l *storage.Lookup, arg func(any) string) string {
	switch l.Field {
	case storage.LookupID:
		return "r.id = " + arg(l.Value)
	case storage.LookupExternalID:
		return "r.external_id = " + arg(l.Value)
	case storage.LookupName:
		return "r.name_fold = " + arg(strings.ToLower(l.Value))
	case storage.LookupEmail:
		return "r.rid IN (SELECT x.rid FROM scimkit_emails x WHERE x.tenant = " + arg(tenant) +
			" AND x.email_fold = " + arg(strings.ToLower(l.Value)) + ")"
	case storage.LookupMember:
		return "r.rid IN (SELECT m.group_rid FROM scimkit_members m JOIN scimkit_resources x ON x.rid = m.member_rid" +
			" WHERE x.tenant = " + arg(tenant) + " AND x.kind IN ('User', 'Group') AND x.id = " + arg(l.Value) + ")"
	}
	return "false"
}

// CredentialByHash returns the credential whose token hashes to hash,
// expired or not, or [storage.ErrNotFound]: one probe of the hash's
// unique index.
func (s *Store) CredentialByHash(ctx context.Context, hash []byte) (storage.Credential, error) {
	var (
		c                 storage.Credential
		created           int64
		expires, lastUsed *int64
	)
	err := s.pool.QueryRow(ctx, s.trace(`SELECT tenant, id, label, created, expires, last_used FROM scimkit_credentials WHERE hash = $1`), hash).
		Scan(&c.Tenant, &c.ID, &c.Label, &created, &expires, &lastUsed)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Credential{}, fmt.Errorf("postgres: token hash: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.Credential{}, readErr(err)
	}
	c.Created = fromMicros(created)
	if expires != nil {
		c.Expires = fromMicros(*expires)
	}
	if lastUsed != nil {
		c.LastUsed = fromMicros(*lastUsed)
	}
	return c, nil
}

// GetTenant returns the tenant's settings, or [storage.ErrNotFound].
func (s *Store) GetTenant(ctx context.Context, tenant string) (storage.TenantSettings, error) {
	var (
		ts       storage.TenantSettings
		policy   string
		modified int64
	)
	err := s.pool.QueryRow(ctx, s.trace(`SELECT policy, seat_limit, version, modified FROM scimkit_tenants WHERE tenant = $1`), tenant).
		Scan(&policy, &ts.SeatLimit, &ts.Version, &modified)
	if errors.Is(err, pgx.ErrNoRows) {
		return ts, fmt.Errorf("postgres: settings of tenant %q: %w", tenant, storage.ErrNotFound)
	}
	if err != nil {
		return ts, readErr(err)
	}
	ts.Policy, ts.Modified = []byte(policy), fromMicros(modified)
	return ts, nil
}

package main

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"
)

// accountQuery asks for one page of a tenant's accounts in
// case-insensitive userName order, then user id: the dashboard's user
// list. Paging is by keyset (the last row of the previous page), so a
// page costs one index range scan of Limit rows however deep it is: at
// 100,000 accounts the last page is as fast as the first.
type accountQuery struct {
	// Prefix keeps the accounts whose userName begins with it,
	// case-insensitively ("" for all).
	Prefix string
	// AfterName and AfterID are the userName and user id of the last
	// account of the previous page ("" for the first page).
	AfterName, AfterID string
	// Limit is the page size, 1 or more.
	Limit int
}

// foldASCII lower-cases ASCII letters only, as SQLite's NOCASE does.
func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// maxRune is the greatest code point: prefix+maxRune bounds the names
// that begin with prefix from above.
const maxRune = "\U0010FFFF"

// accountPage is one keyset page over the index backupd_accounts_by_name:
// (tenant, user_name COLLATE NOCASE, user_id) on SQLite, (tenant,
// lower(user_name) COLLATE "C", user_id) on PostgreSQL.
func (s *sqlState) accountPage(ctx context.Context, tenant string, q accountQuery) ([]account, error) {
	query, args := s.accountPageQuery(tenant, q)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// accountPageQuery is accountPage's statement and its arguments.
func (s *sqlState) accountPageQuery(tenant string, q accountQuery) (string, []any) {
	key, param, fold := `user_name COLLATE NOCASE`, `?`, foldASCII
	if s.postgres {
		key, param, fold = `lower(user_name) COLLATE "C"`, `lower(CAST(? AS text)) COLLATE "C"`, strings.ToLower
	}
	where := []string{`tenant = ?`}
	args := []any{tenant}
	lo := q.Prefix
	if q.AfterName != "" || q.AfterID != "" {
		// A cursor below the prefix (from another search) starts at the
		// prefix instead.
		if fold(q.AfterName) >= fold(q.Prefix) {
			lo = ""
			where = append(where, key+` >= `+param, `(`+key+` > `+param+` OR (`+key+` = `+param+` AND user_id > ?))`)
			args = append(args, q.AfterName, q.AfterName, q.AfterName, q.AfterID)
		}
	}
	if lo != "" {
		where = append(where, key+` >= `+param)
		args = append(args, lo)
	}
	if q.Prefix != "" {
		where = append(where, key+` < `+param)
		args = append(args, q.Prefix+maxRune)
	}
	args = append(args, q.Limit)
	return s.q(`SELECT ` + accountColumns + ` FROM backupd_accounts WHERE ` +
		strings.Join(where, ` AND `) + ` ORDER BY ` + key + `, user_id LIMIT ?`), args
}

// tenantRow is one tenant of the tenant list.
type tenantRow struct {
	ID          string
	SCIMEnabled bool
}

func (s *sqlState) tenantExists(ctx context.Context, tenant string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM backupd_tenants WHERE tenant = ?`), tenant).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (s *sqlState) tenantList(ctx context.Context, limit int) ([]tenantRow, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT tenant, scim_enabled FROM backupd_tenants ORDER BY tenant LIMIT ?`), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []tenantRow{}
	for rows.Next() {
		var t tenantRow
		if err := rows.Scan(&t.ID, &t.SCIMEnabled); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *sqlState) adminSecret(ctx context.Context, name string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM backupd_admin WHERE name = ?`), name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

// putAdminSecret is one statement: of several instances starting at once
// on one database without a stored value, exactly one stores its own.
func (s *sqlState) putAdminSecret(ctx context.Context, name, value string, replace bool) (bool, error) {
	onConflict := `DO NOTHING`
	if replace {
		onConflict = `DO UPDATE SET value = excluded.value`
	}
	var n int64
	err := s.write(ctx, func(ex execer) error {
		res, err := ex.ExecContext(ctx, s.q(`INSERT INTO backupd_admin (name, value) VALUES (?, ?) ON CONFLICT (name) `+onConflict), name, value)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

func (m *memState) accountPage(_ context.Context, id string, q accountQuery) ([]account, error) {
	m.mu.Lock()
	t := m.tenants[id]
	var all []account
	if t != nil {
		for _, a := range t.accounts {
			if strings.HasPrefix(strings.ToLower(a.UserName), strings.ToLower(q.Prefix)) {
				all = append(all, *a)
			}
		}
	}
	m.mu.Unlock()
	less := func(n1, id1, n2, id2 string) bool {
		if l1, l2 := strings.ToLower(n1), strings.ToLower(n2); l1 != l2 {
			return l1 < l2
		}
		return id1 < id2
	}
	sort.Slice(all, func(i, j int) bool { return less(all[i].UserName, all[i].UserID, all[j].UserName, all[j].UserID) })
	out := []account{}
	for _, a := range all {
		if (q.AfterName != "" || q.AfterID != "") && !less(q.AfterName, q.AfterID, a.UserName, a.UserID) {
			continue
		}
		if len(out) == q.Limit {
			break
		}
		out = append(out, a)
	}
	return out, nil
}

func (m *memState) tenantExists(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenants[id]
	return t != nil && t.written, nil
}

func (m *memState) tenantList(_ context.Context, limit int) ([]tenantRow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []tenantRow{}
	for id, t := range m.tenants {
		if t.written {
			out = append(out, tenantRow{ID: id, SCIMEnabled: t.scimEnabled})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out[:min(len(out), limit)], nil
}

func (m *memState) adminSecret(_ context.Context, name string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.admin[name]
	return v, ok, nil
}

func (m *memState) putAdminSecret(_ context.Context, name, value string, replace bool) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.admin[name]; ok && !replace {
		return false, nil
	}
	m.admin[name] = value
	return true, nil
}

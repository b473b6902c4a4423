package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/scimkit/scimkit/storage"
)

// ChangeMembers applies ch in one transaction (RFC 7644 §3.5.2): the group
// row is locked, added values are checked, then ReplaceAll, Remove and Add
// each take one statement whatever their size, so a batch of 100 members
// costs 100 rows, never a read of the group's other members. The values
// travel as one JSON parameter, and each is resolved by a scalar subquery,
// which no planner turns into a scan of the tenant's resources.
func (s *Store) ChangeMembers(ctx context.Context, tenant, groupID string, ch storage.MemberChange) error {
	var w row
	if g := ch.Group; g != nil {
		if g.Kind != storage.KindGroup || g.ID != groupID {
			return fmt.Errorf("%s: group change for %s %q sent to group %q", s.d.Name(), g.Kind, g.ID, groupID)
		}
		var err error
		if w, err = toRow(g); err != nil {
			return err
		}
	}
	add, err := addRows(ch.Add)
	if err != nil {
		return err
	}
	var remove string
	if len(ch.Remove) > 0 {
		if remove, err = jsonRows(len(ch.Remove), func(i int) []string { return []string{ch.Remove[i]} }); err != nil {
			return err
		}
	}
	var version int64
	err = s.write(ctx, func(tx Tx) error {
		var rid int64
		err := tx.QueryRowContext(ctx, s.sql(`SELECT rid, version FROM scimkit_resources
			WHERE tenant = ? AND kind = 'Group' AND id = ?`+s.d.ForUpdate()), tenant, groupID).Scan(&rid, &version)
		if errors.Is(err, sql.ErrNoRows) {
			return s.notFound(storage.KindGroup, groupID)
		}
		if err != nil {
			return err
		}
		if err := s.checkMembers(ctx, tx, tenant, groupID, add); err != nil {
			return err
		}
		if g := ch.Group; g != nil {
			if _, err := s.update(ctx, tx, tenant, g, w, ch.Modified); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, s.sql(`UPDATE scimkit_resources
			SET version = version + 1, modified = ? WHERE rid = ?`), micros(ch.Modified), rid); err != nil {
			return err
		}
		if ch.ReplaceAll {
			if _, err := tx.ExecContext(ctx, s.sql(`DELETE FROM scimkit_members WHERE group_rid = ?`), rid); err != nil {
				return err
			}
		}
		if remove != "" {
			if _, err := tx.ExecContext(ctx, s.sql(`DELETE FROM scimkit_members WHERE group_rid = ? AND member_rid IN
				(SELECT `+s.probe()+` FROM `+s.d.JSONRows("j")+`)`), rid, tenant, remove); err != nil {
				return err
			}
		}
		if err := s.insertMembers(ctx, tx, tenant, rid, add); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, tenant, version+1, ch.Events)
	})
	if err != nil {
		return fmt.Errorf("%s: members of group %q: %w", s.d.Name(), groupID, err)
	}
	if ch.Group != nil {
		ch.Group.Version = version + 1
	}
	return nil
}

// probe resolves the id in the JSON row j to its row id, one index probe
// per value (a User before a Group sharing the id); it takes the tenant as
// its parameter.
func (s *Store) probe() string {
	return `(SELECT x.rid FROM scimkit_resources x WHERE x.tenant = ? AND x.kind IN ('User', 'Group') AND x.id = ` +
		s.d.Col("j", 0) + ` ORDER BY x.kind DESC LIMIT 1)`
}

// checkMembers returns ErrInvalidMember when a value of the JSON rows add
// names no User or Group of the tenant.
func (s *Store) checkMembers(ctx context.Context, tx Tx, tenant, groupID, add string) error {
	if add == "" {
		return nil
	}
	var missing string
	err := tx.QueryRowContext(ctx, s.sql(`SELECT `+s.d.Col("j", 0)+` FROM `+s.d.JSONRows("j")+`
		WHERE `+s.probe()+` IS NULL LIMIT 1`), add, tenant).Scan(&missing)
	if err == nil {
		return fmt.Errorf("%s: group %q: member %q: %w", s.d.Name(), groupID, missing, storage.ErrInvalidMember)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

// insertMembers adds the members of the JSON rows add (see addRows) to the
// group with row id rid, in one statement.
func (s *Store) insertMembers(ctx context.Context, tx Tx, tenant string, rid int64, add string) error {
	if add == "" {
		return nil
	}
	// WHERE 1 = 1 keeps SQLite from reading ON CONFLICT as a join
	// constraint.
	_, err := tx.ExecContext(ctx, s.sql(`INSERT INTO scimkit_members (group_rid, member_rid, display, display_fold)
		SELECT ?, `+s.probe()+`, `+s.d.Col("j", 1)+`, `+s.d.Col("j", 2)+` FROM `+s.d.JSONRows("j")+`
		WHERE 1 = 1 ORDER BY `+s.d.Ord("j")+`
		ON CONFLICT (group_rid, member_rid) DO UPDATE SET display = excluded.display, display_fold = excluded.display_fold`),
		rid, tenant, add)
	return err
}

// addRows encodes the members to add as JSON rows [value, display,
// folded display], one per distinct value at its first position with its
// last display (set semantics: a repeated add updates the display).
func addRows(ms []storage.Member) (string, error) {
	if len(ms) == 0 {
		return "", nil
	}
	at := make(map[string]int, len(ms))
	var uniq []storage.Member
	for _, m := range ms {
		if i, ok := at[m.Value]; ok {
			uniq[i].Display = m.Display
			continue
		}
		at[m.Value] = len(uniq)
		uniq = append(uniq, m)
	}
	return jsonRows(len(uniq), func(i int) []string {
		return []string{uniq[i].Value, uniq[i].Display, strings.ToLower(uniq[i].Display)}
	})
}

// jsonRows encodes n rows of strings as a JSON array of arrays, the one
// parameter of a Dialect's JSONRows.
func jsonRows(n int, row func(i int) []string) (string, error) {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = row(i)
	}
	b, err := json.Marshal(rows)
	return string(b), err
}

// ListMembers returns the group's members in insertion order.
func (s *Store) ListMembers(ctx context.Context, tenant, groupID string) ([]storage.Member, error) {
	var rid int64
	err := s.queryRow(ctx, `SELECT rid FROM scimkit_resources
		WHERE tenant = ? AND kind = 'Group' AND id = ?`, tenant, groupID).Scan(&rid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound(storage.KindGroup, groupID)
	}
	if err != nil {
		return nil, s.read(err)
	}
	ms, err := s.members(ctx, []int64{rid})
	return ms[rid], err
}

// members returns the members of the groups with the given row ids.
func (s *Store) members(ctx context.Context, rids []int64) (map[int64][]storage.Member, error) {
	rows1 := make([][1]int64, len(rids))
	for i, r := range rids {
		rows1[i][0] = r
	}
	param, err := json.Marshal(rows1)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT m.group_rid, x.id, x.kind, m.display
		FROM scimkit_members m JOIN scimkit_resources x ON x.rid = m.member_rid
		WHERE m.group_rid IN (SELECT `+s.d.ColInt("j", 0)+` FROM `+s.d.JSONRows("j")+`)
		ORDER BY m.group_rid, m.pos`, string(param))
	if err != nil {
		return nil, s.read(err)
	}
	defer rows.Close()
	out := make(map[int64][]storage.Member, len(rids))
	for rows.Next() {
		var (
			g    int64
			m    storage.Member
			kind string
		)
		if err := rows.Scan(&g, &m.Value, &kind, &m.Display); err != nil {
			return nil, s.read(err)
		}
		m.Type = storage.Kind(kind)
		out[g] = append(out[g], m)
	}
	return out, s.read(rows.Err())
}

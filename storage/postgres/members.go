package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scimkit/scimkit/storage"
)

// A member change is two round trips whatever its size, instead of one per
// statement: the first batch begins the transaction, locks the group's
// row (its version is then the one to check) and checks the added values;
// the second writes the group, the members and the events and commits.
// The statements are the shared store's: the values travel as one JSON
// parameter and each is resolved by an index probe.

// probe resolves the id in the JSON row j to its row id (see sqlstore).
const probe = `(SELECT x.rid FROM scimkit_resources x WHERE x.tenant = $2 AND x.kind IN ('User', 'Group') AND x.id = (j.v->>0) ORDER BY x.kind DESC LIMIT 1)`

// ChangeMembers applies ch to the group in one transaction (RFC 7644
// §3.5.2); its cost grows with the change, not the group. Errors are those
// of [storage.Members].
func (s *Store) ChangeMembers(ctx context.Context, tenant, groupID string, ch storage.MemberChange) error {
	var w row
	if g := ch.Group; g != nil {
		if g.Kind != storage.KindGroup || g.ID != groupID {
			return fmt.Errorf("postgres: group change for %s %q sent to group %q", g.Kind, g.ID, groupID)
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
	err = retry(ctx, func() error {
		return s.tx(ctx, func(conn *pgxpool.Conn) error {
			var rid int64
			b := &pgx.Batch{}
			b.Queue("begin")
			s.queue(b, `SELECT rid, version FROM scimkit_resources
			WHERE tenant = $1 AND kind = 'Group' AND id = $2 FOR UPDATE`, tenant, groupID)
			if add != "" {
				s.queue(b, `SELECT (j.v->>0) FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS j(v, o)
		WHERE `+probe+` IS NULL LIMIT 1`, add, tenant)
			}
			br := conn.SendBatch(ctx, b)
			err := func() error {
				if _, err := br.Exec(); err != nil {
					return err
				}
				err := br.QueryRow().Scan(&rid, &version)
				if errors.Is(err, pgx.ErrNoRows) {
					return fmt.Errorf("postgres: %s %q: %w", storage.KindGroup, groupID, storage.ErrNotFound)
				}
				if err != nil || add == "" {
					return err
				}
				var missing string
				switch err := br.QueryRow().Scan(&missing); {
				case err == nil:
					return fmt.Errorf("postgres: group %q: member %q: %w", groupID, missing, storage.ErrInvalidMember)
				case !errors.Is(err, pgx.ErrNoRows):
					return err
				}
				return nil
			}()
			if cerr := br.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if g := ch.Group; g != nil && g.Version != version {
				// The row is locked: its version is the one to check.
				return fmt.Errorf("postgres: %s %q has version %d, not %d: %w", g.Kind, g.ID, version, g.Version, storage.ErrVersionMismatch)
			}

			b = &pgx.Batch{}
			if g := ch.Group; g != nil {
				s.queue(b, `UPDATE scimkit_resources SET
		name = $1, name_fold = $2, external_id = $3, emails = $4, email_folds = $5, version = version + 1, modified = $6, data = $7, fold = $8, seat = $9
		WHERE rid = $10`, w.name, w.nameFold, w.externalID, w.emails, w.emailFolds, micros(ch.Modified), w.data, w.fold, w.seat, rid)
			} else {
				s.queue(b, `UPDATE scimkit_resources
			SET version = version + 1, modified = $1 WHERE rid = $2`, micros(ch.Modified), rid)
			}
			if ch.ReplaceAll {
				s.queue(b, `DELETE FROM scimkit_members WHERE group_rid = $1`, rid)
			}
			if remove != "" {
				s.queue(b, `DELETE FROM scimkit_members WHERE group_rid = $1 AND member_rid IN
				(SELECT `+probe+` FROM jsonb_array_elements($3::text::jsonb) WITH ORDINALITY AS j(v, o))`, rid, tenant, remove)
			}
			if add != "" {
				s.queue(b, `INSERT INTO scimkit_members (group_rid, member_rid, display, display_fold)
		SELECT $1, `+probe+`, (j.v->>1), (j.v->>2) FROM jsonb_array_elements($3::text::jsonb) WITH ORDINALITY AS j(v, o)
		WHERE 1 = 1 ORDER BY j.o
		ON CONFLICT (group_rid, member_rid) DO UPDATE SET display = excluded.display, display_fold = excluded.display_fold`, rid, tenant, add)
			}
			queueEvents(s, b, tenant, version+1, ch.Events)
			b.Queue("commit")
			return conn.SendBatch(ctx, b).Close()
		})
	})
	if err != nil {
		return fmt.Errorf("postgres: members of group %q: %w", groupID, err)
	}
	if ch.Group != nil {
		ch.Group.Version = version + 1
	}
	return nil
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

// jsonRows encodes n rows of strings as a JSON array of arrays.
func jsonRows(n int, row func(i int) []string) (string, error) {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = row(i)
	}
	b, err := json.Marshal(rows)
	return string(b), err
}

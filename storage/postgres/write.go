package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scimkit/scimkit/storage"
)

// A create or replace is one round trip: a batch of the seat check (when
// the write takes a seat, the function of migration 5) and one statement
// whose common table expressions write the resource, its user state and
// its outbox events. The events and the state are written only when the
// resource row was (they select FROM the write's RETURNING), so a
// replace whose version check fails writes nothing, and the batch is one
// implicit transaction, so a refused seat or a taken name undoes it all.

// writeSQL builds the statement around the resource write head (a
// data-modifying statement RETURNING rid, with args so far in args): the
// user state of r (st) and the events evs at version v follow as CTEs.
func writeSQL(head string, args []any, tenant string, r *storage.Resource, v int64, evs []storage.Event) (string, []any) {
	var q strings.Builder
	q.WriteString("WITH w AS (")
	q.WriteString(head)
	q.WriteString(")")
	arg := func(a any) string {
		args = append(args, a)
		return "$" + strconv.Itoa(len(args))
	}
	if st := r.State; st != nil && r.Kind == storage.KindUser {
		if st.State == "" {
			q.WriteString(", s AS (DELETE FROM scimkit_user_states WHERE tenant = " + arg(tenant) + " AND id = " + arg(r.ID) +
				" AND EXISTS (SELECT 1 FROM w))")
		} else {
			q.WriteString(", s AS (INSERT INTO scimkit_user_states (tenant, id, state, until, by_admin, deleted, name, data) SELECT " +
				arg(tenant) + ", " + arg(r.ID) + ", " + arg(st.State) + ", " + arg(nullMicros(st.Until)) + ", " +
				arg(boolInt(st.ByAdmin)) + "::smallint, " + arg(boolInt(st.Deleted)) + "::smallint, " + arg(st.Name) + ", " + arg(string(st.Data)) +
				" FROM w ON CONFLICT (tenant, id) DO UPDATE SET state = excluded.state, until = excluded.until," +
				" by_admin = excluded.by_admin, deleted = excluded.deleted, name = excluded.name, data = excluded.data)")
		}
	}
	if len(evs) > 0 {
		ids, kinds, rids, types, datas := make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs)),
			make([]string, len(evs)), make([]string, len(evs))
		times := make([]int64, len(evs))
		for i, e := range evs {
			ids[i], kinds[i], rids[i], types[i], times[i], datas[i] = e.ID, string(e.Kind), e.ResourceID, e.Type, micros(e.Time), string(e.Data)
		}
		// The events get increasing seqs in their order (identity values
		// are drawn as the ordered rows are inserted).
		q.WriteString(", e AS (INSERT INTO scimkit_outbox (tenant, id, kind, resource_id, version, type, time, data) SELECT " +
			arg(tenant) + ", x.id, x.kind, x.rid, " + arg(v) + "::bigint, x.type, x.time, x.data FROM w, unnest(" +
			arg(ids) + "::text[], " + arg(kinds) + "::text[], " + arg(rids) + "::text[], " + arg(types) + "::text[], " +
			arg(times) + "::bigint[], " + arg(datas) + "::text[]) WITH ORDINALITY AS x(id, kind, rid, type, time, data, o) ORDER BY x.o)")
	}
	q.WriteString(" SELECT rid FROM w")
	return q.String(), args
}

// Create stores r (RFC 7644 §3.3), a Group with its initial r.Members,
// and appends ev to the outbox, in one transaction. It returns
// [storage.ErrConflict] when the tenant already has a resource of r.Kind
// with r.ID or, compared case-insensitively, r.Name,
// [storage.ErrInvalidMember] when a member names no User or Group, and
// [storage.ErrSeatLimit] when r takes a seat the tenant does not have. A
// create without members is one round trip.
func (s *Store) Create(ctx context.Context, tenant string, r *storage.Resource, ev ...storage.Event) error {
	if r.Kind == storage.KindGroup && len(r.Members) > 0 {
		return s.sql.Create(ctx, tenant, r, ev...)
	}
	w, err := toRow(r)
	if err != nil {
		return err
	}
	q, args := writeSQL(`INSERT INTO scimkit_resources
		(tenant, kind, id, name, name_fold, external_id, emails, email_folds, version, created, modified, data, fold, seat)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $12, $13) RETURNING rid`,
		[]any{tenant, string(r.Kind), r.ID, w.name, w.nameFold, w.externalID, w.emails, w.emailFolds,
			micros(r.Created), micros(r.Modified), w.data, w.fold, w.seat}, tenant, r, 1, ev)
	err = retry(ctx, func() error {
		b := &pgx.Batch{}
		if w.seat == 1 {
			s.queue(b, `SELECT scimkit_take_seat($1, NULL, NULL)`, tenant)
		}
		s.queue(b, q, args...)
		return s.batch(ctx, b, func(br pgx.BatchResults) error {
			if w.seat == 1 {
				if _, err := br.Exec(); err != nil {
					return err
				}
			}
			var rid int64
			return br.QueryRow().Scan(&rid)
		})
	})
	if err != nil {
		return fmt.Errorf("postgres: create %s %q: %w", r.Kind, r.ID, err)
	}
	r.Version = 1
	s.dialect.Created(ctx, s.sql.DB())
	return nil
}

// Replace stores r over the stored resource if r.Version is the stored
// version (RFC 7644 §3.5.1, §3.14), in one UPDATE that checks it, else it
// returns [storage.ErrVersionMismatch]; on success r.Version is the new
// version. It returns [storage.ErrNotFound] when absent,
// [storage.ErrConflict] when r.Name is taken and [storage.ErrSeatLimit]
// when r takes a seat the tenant does not have. The events ev are
// appended to the outbox in the same transaction; the whole write is one
// round trip.
func (s *Store) Replace(ctx context.Context, tenant string, r *storage.Resource, ev ...storage.Event) error {
	w, err := toRow(r)
	if err != nil {
		return err
	}
	q, args := writeSQL(`UPDATE scimkit_resources SET
		name = $1, name_fold = $2, external_id = $3, emails = $4, email_folds = $5, version = version + 1, modified = $6, data = $7, fold = $8, seat = $9
		WHERE tenant = $10 AND kind = $11 AND id = $12 AND version = $13 RETURNING rid`,
		[]any{w.name, w.nameFold, w.externalID, w.emails, w.emailFolds, micros(r.Modified), w.data, w.fold, w.seat,
			tenant, string(r.Kind), r.ID, r.Version}, tenant, r, r.Version+1, ev)
	err = retry(ctx, func() error {
		b := &pgx.Batch{}
		if w.seat == 1 {
			s.queue(b, `SELECT scimkit_take_seat($1, $2, $3)`, tenant, string(r.Kind), r.ID)
		}
		s.queue(b, q, args...)
		err := s.batch(ctx, b, func(br pgx.BatchResults) error {
			if w.seat == 1 {
				if _, err := br.Exec(); err != nil {
					return err
				}
			}
			var rid int64
			return br.QueryRow().Scan(&rid)
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return s.mismatch(ctx, tenant, r.Kind, r.ID, r.Version)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: replace %s %q: %w", r.Kind, r.ID, err)
	}
	r.Version++
	return nil
}

// mismatch tells why a versioned write of kind/id at version found no
// row: [storage.ErrNotFound] or [storage.ErrVersionMismatch].
func (s *Store) mismatch(ctx context.Context, tenant string, kind storage.Kind, id string, version int64) error {
	var have int64
	err := s.pool.QueryRow(ctx, s.trace(`SELECT version FROM scimkit_resources
		WHERE tenant = $1 AND kind = $2 AND id = $3`), tenant, string(kind), id).Scan(&have)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: %s %q: %w", kind, id, storage.ErrNotFound)
	case err != nil:
		return err
	}
	return fmt.Errorf("postgres: %s %q has version %d, not %d: %w", kind, id, have, version, storage.ErrVersionMismatch)
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func boolInt(b bool) int16 {
	if b {
		return 1
	}
	return 0
}

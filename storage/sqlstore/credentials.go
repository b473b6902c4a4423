package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// optMicros stores a zero time as NULL ("never").
func optMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromOptMicros reads optMicros' column.
func fromOptMicros(us sql.NullInt64) time.Time {
	if !us.Valid {
		return time.Time{}
	}
	return fromMicros(us.Int64)
}

func (s *Store) credNotFound(id string) error {
	return fmt.Errorf("%s: credential %q: %w", s.d.Name(), id, storage.ErrNotFound)
}

// CreateCredential stores c for tenant with hash: one INSERT. A taken id
// in the tenant or a taken hash gives ErrConflict.
func (s *Store) CreateCredential(ctx context.Context, tenant string, c storage.Credential, hash []byte) error {
	if len(hash) == 0 {
		return fmt.Errorf("%s: empty token hash", s.d.Name())
	}
	err := s.single(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, s.sql(`INSERT INTO scimkit_credentials
			(tenant, id, hash, label, created, expires, last_used) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			tenant, c.ID, hash, c.Label, micros(c.Created), optMicros(c.Expires), optMicros(c.LastUsed))
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: create credential %q: %w", s.d.Name(), c.ID, err)
	}
	return nil
}

const credentialColumns = "tenant, id, label, created, expires, last_used"

func scanCredential(sc interface{ Scan(...any) error }) (storage.Credential, error) {
	var (
		c                 storage.Credential
		created           int64
		expires, lastUsed sql.NullInt64
	)
	if err := sc.Scan(&c.Tenant, &c.ID, &c.Label, &created, &expires, &lastUsed); err != nil {
		return storage.Credential{}, err
	}
	c.Created, c.Expires, c.LastUsed = fromMicros(created), fromOptMicros(expires), fromOptMicros(lastUsed)
	return c, nil
}

// CredentialByHash returns the credential whose token hash is hash, or
// ErrNotFound: one probe of the hash's unique index.
func (s *Store) CredentialByHash(ctx context.Context, hash []byte) (storage.Credential, error) {
	c, err := scanCredential(s.queryRow(ctx, `SELECT `+credentialColumns+` FROM scimkit_credentials WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Credential{}, fmt.Errorf("%s: token hash: %w", s.d.Name(), storage.ErrNotFound)
	}
	return c, s.read(err)
}

// ListCredentials returns the tenant's credentials by Created, then ID.
func (s *Store) ListCredentials(ctx context.Context, tenant string) ([]storage.Credential, error) {
	rows, err := s.query(ctx, `SELECT `+credentialColumns+` FROM scimkit_credentials
		WHERE tenant = ? ORDER BY created, id`+s.d.Collate(), tenant)
	if err != nil {
		return nil, s.read(err)
	}
	defer rows.Close()
	out := []storage.Credential{}
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, s.read(err)
		}
		out = append(out, c)
	}
	return out, s.read(rows.Err())
}

// ExpireCredential sets the credential's Expires to at unless it expires
// earlier already; ErrNotFound when absent.
func (s *Store) ExpireCredential(ctx context.Context, tenant, id string, at time.Time) error {
	return s.write(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, s.sql(`UPDATE scimkit_credentials SET expires = ?
			WHERE tenant = ? AND id = ? AND (expires IS NULL OR expires > ?)`),
			micros(at), tenant, id, micros(at))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, s.sql(`SELECT 1 FROM scimkit_credentials WHERE tenant = ? AND id = ?`), tenant, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return s.credNotFound(id)
		}
		return err
	})
}

// RevokeCredential deletes the credential; ErrNotFound when absent.
func (s *Store) RevokeCredential(ctx context.Context, tenant, id string) error {
	return s.single(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, s.sql(`DELETE FROM scimkit_credentials WHERE tenant = ? AND id = ?`), tenant, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			return s.credNotFound(id)
		}
		return err
	})
}

// TouchCredential sets LastUsed to at unless it is later already: one
// UPDATE by primary key; an absent credential is not an error.
func (s *Store) TouchCredential(ctx context.Context, tenant, id string, at time.Time) error {
	return s.single(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, s.sql(`UPDATE scimkit_credentials SET last_used = ?
			WHERE tenant = ? AND id = ? AND (last_used IS NULL OR last_used < ?)`),
			micros(at), tenant, id, micros(at))
		return err
	})
}

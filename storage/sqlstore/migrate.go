package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// Migrate brings the schema to the newest version. Steps are embedded in
// the dialect and numbered; each runs once, recorded in
// scimkit_migrations, inside one transaction that holds the dialect's
// migration lock, so two instances starting at once apply each step once
// and a failed step leaves no trace. Running it again is a no-op.
func (s *Store) Migrate(ctx context.Context) error {
	steps := s.d.Migrations()
	err := s.write(ctx, func(tx Tx) error {
		if err := s.d.LockMigrations(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS scimkit_migrations (
			version integer PRIMARY KEY,
			applied bigint NOT NULL
		)`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM scimkit_migrations`).Scan(&have); err != nil {
			return err
		}
		if have > len(steps) {
			return fmt.Errorf("%s: database schema version %d is newer than this scimkit's %d", s.d.Name(), have, len(steps))
		}
		for v := have + 1; v <= len(steps); v++ {
			for _, stmt := range steps[v-1] {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%s: migration %d: %w", s.d.Name(), v, err)
				}
			}
			if _, err := tx.ExecContext(ctx, s.sql(`INSERT INTO scimkit_migrations (version, applied) VALUES (?, ?)`),
				v, time.Now().UnixMicro()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: migrate: %w", s.d.Name(), err)
	}
	return nil
}

// Version returns the schema version the database is at.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM scimkit_migrations`).Scan(&v)
	return v, s.read(err)
}

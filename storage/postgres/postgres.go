// Package postgres is a [storage.Store] on PostgreSQL through pgx v5, for a
// product that runs several instances behind a load balancer on one
// database.
//
// The host opens the pool (it picks the DSN, pool size and TLS) and passes
// it to [New]; the store never closes it. Writes are transactions that
// lock what they change: a Replace checks the version in its UPDATE, a
// member change locks its group's row, so concurrent writers from any
// number of instances lose nothing. Transactions the server aborts
// (serialization failure, deadlock) are retried; a lost connection
// becomes [storage.ErrUnavailable], which the scimkit server answers with
// 503 and Retry-After.
//
// The requests an IdP sends most run on pgx directly (no database/sql)
// and travel in as few round trips as the contract allows: a create or a
// replace, with its seat check, user state and outbox events, is one
// round trip (one pipelined batch, which the server runs as one implicit
// transaction); a get, a lookup, a page with its total, an
// authentication, an outbox claim or acknowledgement and an audit batch
// are one each; a member change of any size and a delete are two (the
// first locks the row). The rest of the contract runs on the shared SQL
// store (package sqlstore) through database/sql on the same pool.
//
// Filters are translated to SQL over jsonb; lookups by userName,
// externalId, displayName and email, and member lookups, use indexes;
// pages come from the database in creation order. The schema is created
// and upgraded by New from embedded, numbered migrations under an
// advisory lock, so instances starting at once are safe.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	...
//	store, err := postgres.New(ctx, pool)
//	...
//	srv, err := scimkit.New(store, store, scimkit.WithBaseURL("https://app.example.com"))
package postgres

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/sqlstore"
)

// Store is a [storage.Store] on PostgreSQL. It is safe for concurrent use.
type Store struct {
	sql     *sqlstore.Store
	pool    *pgxpool.Pool
	dialect dialect
	// tracer, when set, sees the text of every statement the pgx paths
	// run (the shared store has its own).
	tracer atomic.Pointer[func(query string)]
	acks   acks
}

var _ storage.Store = (*Store)(nil)

// New migrates the database behind pool to the current schema and returns
// a Store on it. The tables are created in the first schema of the pool's
// search_path. The host keeps ownership of pool.
func New(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	db := stdlib.OpenDBFromPool(pool)
	d := dialect{stats: &statistics{}}
	s, err := sqlstore.New(ctx, db, d)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &Store{sql: s, pool: pool, dialect: d}, nil
}

// Close releases the store's handle on the pool; the pool stays open.
func (s *Store) Close() error { return errors.Join(s.sql.Close(), s.DB().Close()) }

// migrations are the schema steps, oldest first (see sqlstore.Migrate).
// Released steps are never edited.
//
// The order index is created before the lookup indexes on purpose: on a
// table that autovacuum has not analyzed yet (the first minute of an
// initial sync), the planner prices a lookup through either the same and
// keeps the later index, which must be the lookup's.
//
// scimkit_members.member_rid references its resource, so a membership
// added while its user is deleted is cascaded away; group_rid needs no
// such check (half the per-row cost of a member batch): a member change
// and a group's Delete both lock the group's row first.
var migrations = [][]string{
	// 1: resources, emails (kept by a trigger), members, tokens.
	{
		`CREATE TABLE scimkit_resources (
			rid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			tenant text COLLATE "C" NOT NULL,
			kind text COLLATE "C" NOT NULL,
			id text COLLATE "C" NOT NULL,
			name text NOT NULL,
			name_fold text COLLATE "C" NOT NULL,
			external_id text COLLATE "C" NOT NULL DEFAULT '',
			emails text NOT NULL DEFAULT '',
			email_folds text NOT NULL DEFAULT '[]',
			version bigint NOT NULL,
			created bigint NOT NULL,
			modified bigint NOT NULL,
			data text NOT NULL,
			fold text NOT NULL
		)`,
		`CREATE INDEX scimkit_resources_order ON scimkit_resources (tenant, kind, rid)`,
		`CREATE UNIQUE INDEX scimkit_resources_id ON scimkit_resources (tenant, kind, id)`,
		`CREATE UNIQUE INDEX scimkit_resources_name ON scimkit_resources (tenant, kind, name_fold)`,
		`CREATE INDEX scimkit_resources_external_id ON scimkit_resources (tenant, kind, external_id)`,
		`CREATE TABLE scimkit_emails (
			rid bigint NOT NULL REFERENCES scimkit_resources (rid) ON DELETE CASCADE,
			tenant text COLLATE "C" NOT NULL,
			email_fold text COLLATE "C" NOT NULL,
			PRIMARY KEY (rid, email_fold)
		)`,
		`CREATE INDEX scimkit_emails_value ON scimkit_emails (tenant, email_fold)`,
		`CREATE FUNCTION scimkit_sync_emails() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF TG_OP = 'UPDATE' THEN
				IF OLD.email_folds = NEW.email_folds THEN
					RETURN NULL;
				END IF;
				DELETE FROM scimkit_emails WHERE rid = NEW.rid;
			END IF;
			INSERT INTO scimkit_emails (rid, tenant, email_fold)
				SELECT NEW.rid, NEW.tenant, f FROM jsonb_array_elements_text(NEW.email_folds::jsonb) f;
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER scimkit_emails AFTER INSERT OR UPDATE OF email_folds ON scimkit_resources
			FOR EACH ROW EXECUTE FUNCTION scimkit_sync_emails()`,
		`CREATE TABLE scimkit_members (
			pos bigint GENERATED ALWAYS AS IDENTITY,
			group_rid bigint NOT NULL,
			member_rid bigint NOT NULL REFERENCES scimkit_resources (rid) ON DELETE CASCADE,
			display text NOT NULL DEFAULT '',
			display_fold text NOT NULL DEFAULT '',
			PRIMARY KEY (group_rid, member_rid)
		)`,
		`CREATE INDEX scimkit_members_order ON scimkit_members (group_rid, pos)`,
		`CREATE INDEX scimkit_members_member ON scimkit_members (member_rid)`,
		`CREATE TABLE scimkit_tokens (
			tenant text COLLATE "C" PRIMARY KEY,
			hash bytea NOT NULL UNIQUE
		)`,
	},
	// 2: several credentials per tenant, with label, expiry and last
	// use; each tenant's token becomes a credential labelled "migrated".
	{
		`CREATE TABLE scimkit_credentials (
			tenant text COLLATE "C" NOT NULL,
			id text COLLATE "C" NOT NULL,
			hash bytea NOT NULL,
			label text NOT NULL DEFAULT '',
			created bigint NOT NULL,
			expires bigint,
			last_used bigint,
			PRIMARY KEY (tenant, id)
		)`,
		`CREATE UNIQUE INDEX scimkit_credentials_hash ON scimkit_credentials (hash)`,
		`INSERT INTO scimkit_credentials (tenant, id, hash, label, created)
			SELECT tenant, md5(random()::text || clock_timestamp()::text || tenant), hash, 'migrated',
				(extract(epoch FROM now()) * 1000000)::bigint
			FROM scimkit_tokens`,
		`DROP TABLE scimkit_tokens`,
	},
	// 3: the transactional outbox of provisioning events.
	{
		`CREATE TABLE scimkit_outbox (
			seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			tenant text COLLATE "C" NOT NULL,
			id text COLLATE "C" NOT NULL,
			kind text COLLATE "C" NOT NULL,
			resource_id text COLLATE "C" NOT NULL,
			version bigint NOT NULL,
			type text NOT NULL,
			time bigint NOT NULL,
			data text NOT NULL,
			attempts integer NOT NULL DEFAULT 0,
			next_at bigint NOT NULL DEFAULT 0,
			lease_until bigint NOT NULL DEFAULT 0,
			lease_owner text NOT NULL DEFAULT '',
			delivered bigint
		)`,
		`CREATE INDEX scimkit_outbox_pending ON scimkit_outbox (tenant, kind, resource_id, seq) WHERE delivered IS NULL`,
		`CREATE INDEX scimkit_outbox_due ON scimkit_outbox (seq) WHERE delivered IS NULL`,
		`CREATE INDEX scimkit_outbox_tenant ON scimkit_outbox (tenant, seq)`,
		`CREATE INDEX scimkit_outbox_delivered ON scimkit_outbox (delivered) WHERE delivered IS NOT NULL`,
	},
	// 4: seats (the active Users a tenant's seat limit counts), tenant
	// settings, user lifecycle states and the audit log.
	{
		`ALTER TABLE scimkit_resources ADD COLUMN seat smallint NOT NULL DEFAULT 0`,
		`UPDATE scimkit_resources SET seat = 1
			WHERE kind = 'User' AND COALESCE(data::jsonb->>'active', 'true') <> 'false'`,
		`CREATE INDEX scimkit_resources_seats ON scimkit_resources (tenant) WHERE kind = 'User' AND seat = 1`,
		`CREATE TABLE scimkit_tenants (
			tenant text COLLATE "C" NOT NULL PRIMARY KEY,
			policy text NOT NULL,
			seat_limit integer NOT NULL,
			version bigint NOT NULL,
			modified bigint NOT NULL
		)`,
		`CREATE TABLE scimkit_user_states (
			tenant text COLLATE "C" NOT NULL,
			id text COLLATE "C" NOT NULL,
			state text NOT NULL,
			until bigint NOT NULL,
			by_admin smallint NOT NULL,
			deleted smallint NOT NULL,
			name text NOT NULL,
			data text NOT NULL,
			PRIMARY KEY (tenant, id)
		)`,
		`CREATE INDEX scimkit_user_states_until ON scimkit_user_states (until) WHERE until > 0`,
		`CREATE TABLE scimkit_audit (
			seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			tenant text COLLATE "C" NOT NULL,
			at bigint NOT NULL,
			credential text NOT NULL,
			operation text NOT NULL,
			resource_id text NOT NULL,
			status integer NOT NULL,
			scim_type text NOT NULL,
			detail text NOT NULL,
			normalizations text NOT NULL
		)`,
		`CREATE INDEX scimkit_audit_tenant ON scimkit_audit (tenant, at, seq)`,
		`CREATE INDEX scimkit_audit_at ON scimkit_audit (at)`,
	},
	// 5: the seat check of a write as one server-side call, so a write
	// and its check travel in one round trip (see write.go); room on
	// each page of resources for updates that change no indexed column
	// to stay on the page (HOT updates: no index entries to add).
	{
		`CREATE OR REPLACE FUNCTION scimkit_take_seat(t text, k text, i text) RETURNS void LANGUAGE plpgsql AS $$
		DECLARE
			lim integer;
			n bigint;
		BEGIN
			-- A resource that already holds its seat keeps it.
			IF i IS NOT NULL AND EXISTS (SELECT 1 FROM scimkit_resources
					WHERE tenant = t AND kind = k AND id = i AND seat = 1) THEN
				RETURN;
			END IF;
			-- The lock serialises the tenant's seat takers; the count
			-- that follows is a new snapshot, so it sees every seat
			-- taken before the lock was granted.
			SELECT seat_limit INTO lim FROM scimkit_tenants WHERE tenant = t FOR UPDATE;
			IF lim IS NULL OR lim <= 0 THEN
				RETURN;
			END IF;
			SELECT count(*) INTO n FROM scimkit_resources WHERE tenant = t AND kind = 'User' AND seat = 1;
			IF n >= lim THEN
				RAISE EXCEPTION 'tenant % holds % of % seats', t, n, lim USING ERRCODE = '` + seatLimitCode + `';
			END IF;
		END $$`,
		`ALTER TABLE scimkit_resources SET (fillfactor = 80)`,
	},
}

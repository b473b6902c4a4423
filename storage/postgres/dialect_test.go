package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"

	"github.com/scimkit/scimkit/storage"
)

func TestClassify(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, Message: "m"}) }
	cases := []struct {
		name  string
		err   error
		want  error // sentinel the result wraps, nil for none
		retry bool
	}{
		{"unique violation", pg("23505"), storage.ErrConflict, false},
		{"foreign key violation", pg("23503"), storage.ErrInvalidMember, false},
		{"member deleted meanwhile", fmt.Errorf("exec: %w", &pgconn.PgError{Code: "23502", TableName: "scimkit_members"}), storage.ErrInvalidMember, false},
		{"not null elsewhere", fmt.Errorf("exec: %w", &pgconn.PgError{Code: "23502", TableName: "scimkit_resources"}), nil, false},
		{"serialization failure", pg("40001"), nil, true},
		{"deadlock", pg("40P01"), nil, true},
		{"connection failure", pg("08006"), storage.ErrUnavailable, false},
		{"admin shutdown", pg("57P01"), storage.ErrUnavailable, false},
		{"cannot connect now", pg("57P03"), storage.ErrUnavailable, false},
		{"too many connections", pg("53300"), storage.ErrUnavailable, false},
		{"connection reset", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), storage.ErrUnavailable, false},
		{"bad connection", driver.ErrBadConn, storage.ErrUnavailable, false},
		{"closed handle", errors.New("sql: database is closed"), storage.ErrUnavailable, false},
		{"done connection", sql.ErrConnDone, storage.ErrUnavailable, false},
		{"syntax error", pg("42601"), nil, false},
		{"other", errors.New("boom"), nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, retry := dialect{}.Classify(tc.err)
			assert.Equal(t, tc.retry, retry)
			assert.ErrorIs(t, got, tc.err, "the cause survives")
			for _, s := range []error{storage.ErrConflict, storage.ErrInvalidMember, storage.ErrUnavailable} {
				assert.Equal(t, s == tc.want, errors.Is(got, s), "wraps %v", s)
			}
		})
	}
	got, retry := dialect{}.Classify(context.Canceled)
	assert.False(t, retry)
	assert.NotErrorIs(t, got, storage.ErrUnavailable)
}

func TestRebind(t *testing.T) {
	assert.Equal(t, "SELECT $1, $2 FROM t WHERE a = $3", dialect{}.Rebind("SELECT ?, ? FROM t WHERE a = ?"))
	assert.Equal(t, "SELECT 1", dialect{}.Rebind("SELECT 1"))
}

package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scimkit/scimkit/storage"
)

// AppendAudit stores entries for tenant in one statement (one round trip
// and one transaction for the whole batch: the columns travel as arrays).
func (s *Store) AppendAudit(ctx context.Context, tenant string, entries []storage.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	n := len(entries)
	var (
		at                                     = make([]int64, n)
		status                                 = make([]int32, n)
		cred, op, rid, scimType, detail, norms = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	)
	for i, e := range entries {
		if len(e.Normalizations) > 0 {
			b, err := json.Marshal(e.Normalizations)
			if err != nil {
				return err
			}
			norms[i] = string(b)
		}
		at[i], status[i] = micros(e.Time), int32(e.Status)
		cred[i], op[i], rid[i], scimType[i], detail[i] = e.Credential, e.Operation, e.ResourceID, e.ScimType, e.Detail
	}
	err := retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, s.trace(`INSERT INTO scimkit_audit
			(tenant, at, credential, operation, resource_id, status, scim_type, detail, normalizations)
			SELECT $1, x.at, x.credential, x.operation, x.resource_id, x.status, x.scim_type, x.detail, x.normalizations
			FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::text[], $8::text[], $9::text[])
				WITH ORDINALITY AS x(at, credential, operation, resource_id, status, scim_type, detail, normalizations, o)
			ORDER BY x.o`), tenant, at, cred, op, rid, status, scimType, detail, norms)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: audit of tenant %q: %w", tenant, err)
	}
	return nil
}

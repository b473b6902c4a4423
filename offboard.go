package scimkit

import (
	"bufio"
	"context"
	"io"

	"github.com/scimkit/scimkit/internal/schema"
	"github.com/scimkit/scimkit/storage"
)

// DeleteTenant offboards tenant in one atomic step of the store: its
// Users and Groups, memberships, credentials (its tokens stop working at
// once), policy, lifecycle states, audit log and outbox events (delivered
// or not: none is delivered afterwards), for a customer who leaves or a
// GDPR erasure request; it also forgets the tenant's normalisation
// counts. No lifecycle event is told for the removed users: the host
// deletes its own data of the tenant. Deleting a tenant that has nothing
// is not an error.
func (s *Server) DeleteTenant(ctx context.Context, tenant string) error {
	ps := s.policyStore()
	if ps == nil {
		return ErrNoPolicyStore
	}
	if err := validTenant(tenant); err != nil {
		return err
	}
	// Write the audit entries still queued first, so none lands after
	// the deletion.
	if err := s.audit.flush(ctx); err != nil {
		return err
	}
	if err := ps.DeleteTenant(ctx, tenant); err != nil {
		return err
	}
	s.norms.drop(tenant)
	return nil
}

// exportPage is the page size of [Server.Export]: it bounds the memory an
// export holds.
const exportPage = 200

// Export writes tenant's Users and Groups to w as one JSON object
// {"Users":[...],"Groups":[...]} of SCIM resources as GET returns them
// (groups with their members; meta.location relative to the SCIM base),
// reading a page of 200 at a time, so memory stays bounded whatever the
// tenant's size. Users the IdP deleted under the Preserve disposition are
// not included (they are no longer SCIM resources; see
// [Server.UserState]). Resources changed during the export may be missed
// or repeated, as with any paged read.
func (s *Server) Export(ctx context.Context, tenant string, w io.Writer) error {
	bw := bufio.NewWriter(w)
	q := &request{tenant: tenant}
	bw.WriteString(`{"Users":[`)
	if err := s.exportKind(ctx, bw, q, s.users); err != nil {
		return err
	}
	bw.WriteString(`],"Groups":[`)
	if err := s.exportKind(ctx, bw, q, s.groups); err != nil {
		return err
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

func (s *Server) exportKind(ctx context.Context, w *bufio.Writer, q *request, rt *schema.ResourceType) error {
	proj := rt.ParseProjection("", "")
	first := true
	for start := 1; ; start += exportPage {
		page, err := s.store.List(ctx, q.tenant, storage.Query{Kind: rt.Kind, StartIndex: start, Count: exportPage, WithMembers: rt.Kind == storage.KindGroup})
		if err != nil {
			return err
		}
		for i := range page.Resources {
			res := &page.Resources[i]
			var b buf
			if err := s.renderResource(&b, q, rt, res, proj, page.Members[res.ID]); err != nil {
				return err
			}
			if !first {
				w.WriteByte(',')
			}
			first = false
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
		}
		if len(page.Resources) < exportPage {
			return nil
		}
	}
}

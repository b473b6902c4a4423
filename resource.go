package scimkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scimkit/internal/schema"
	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
)

// ResourceHandler persists the Users and Groups the [Server] serves: the
// resources themselves (tenant-scoped CRUD with a typed list query) and
// group membership as deltas. Every backend under storage/ implements it
// (storage/memory; SQL backends in their own modules). A host that keeps
// users in its own product tables can implement it over them and check the
// result with storagetest.Run.
//
// See [storage.Resources] and [storage.Members] for the contract: what to
// return when something is absent, atomicity and concurrency.
type ResourceHandler interface {
	storage.Resources
	storage.Members
}

// maxRetries bounds read-modify-write retries on concurrent changes by
// other server instances (within one instance writes to a resource are
// serialised by resourceLocks, so they never retry).
const maxRetries = 32

// backoff sleeps before retry number try: exponential from 1 ms, capped
// at 50 ms, with full jitter.
func backoff(try int) {
	d := min(time.Millisecond<<min(try, 6), 50*time.Millisecond)
	time.Sleep(time.Duration(rand.Int64N(int64(d)) + 1))
}

// decodeBody reads a JSON object request body.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return ErrInvalidSyntax.WithDetail("the request body must be a JSON object")
		}
		return ErrInvalidSyntax.WithDetail("the request body is not valid JSON")
	}
	if dec.More() {
		return ErrInvalidSyntax.WithDetail("the request body holds more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return ErrInvalidSyntax.WithDetail("the request body holds more than one JSON value")
	}
	return nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, q *request, rt *schema.ResourceType) error {
	params, err := parseListQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	query := storage.Query{Kind: rt.Kind, StartIndex: 1, Count: s.cfg.defaultCount}
	if v := params.Get("startIndex"); v != "" {
		n, err := parseIndex("startIndex", v)
		if err != nil {
			return err
		}
		query.StartIndex = max(n, 1) // RFC 7644 §3.4.2.4: values below 1 mean 1
	}
	if v := params.Get("count"); v != "" {
		n, err := parseIndex("count", v)
		if err != nil {
			return err
		}
		if n <= 0 {
			query.TotalOnly = true // RFC 7644 §3.4.2.4: count 0 (or less) asks for the total alone
		} else {
			query.Count = min(n, s.cfg.maxCount)
		}
	}
	rep := &q.filterReport // in the request, which is on the heap already
	if f := params.Get("filter"); strings.TrimSpace(f) != "" {
		// Filter is nil when Lookup answers the whole filter.
		opt := s.cfg.norm
		opt.Report = rep
		flt, lookup, err := rt.ParseFilter(f, opt)
		if err != nil {
			return err
		}
		if err := s.checkFilter(flt); err != nil {
			return err
		}
		query.Filter, query.Lookup = flt, lookup
	}
	proj := rt.ParseProjection(params.Get("attributes"), params.Get("excludedAttributes"))
	query.WithMembers = rt.Kind == storage.KindGroup && proj.Members
	startIndex := query.StartIndex
	// The page is read in chunks and rendered until the byte budget is
	// spent (at least one resource): a page of huge resources comes back
	// shorter, with itemsPerPage saying so (RFC 7644 §3.4.2.4), and the
	// resources read but not sent are at most one chunk.
	if query.Lookup == nil { // a page or a scan: see workBudget
		if err := s.gateWork(r, q); err != nil {
			return err
		}
	}
	want := query.Count
	if !query.TotalOnly {
		query.Count = min(want, listChunk)
	}
	page, err := s.store.List(r.Context(), q.tenant, query)
	if err != nil {
		return storeError(err)
	}
	total := page.Total
	// The resources are rendered into out after room for the ListResponse
	// header, which is written in front of them once their number is
	// known: the page is built in one buffer and sent in one write.
	var out buf
	out.Grow(listHead + min(pageEstimate(page.Resources, q), s.cfg.limits.pageBytes))
	var pad [listHead]byte
	out.Write(pad[:])
	itemsLen := func() int { return out.Len() - listHead }
	n, full := 0, false
	for {
		for i := range page.Resources {
			res := &page.Resources[i]
			mark := out.Len()
			if n > 0 {
				out.WriteByte(',')
			}
			if err := s.renderResource(&out, q, rt, res, proj, page.Members[res.ID]); err != nil {
				return err
			}
			if n > 0 && itemsLen() > s.cfg.limits.pageBytes {
				out.Truncate(mark)
				full = true
				break
			}
			n++
		}
		if full || query.TotalOnly || n >= want || len(page.Resources) < query.Count {
			break
		}
		if err := r.Context().Err(); err != nil {
			return storeError(err)
		}
		query.StartIndex += len(page.Resources)
		// Read about what the rest of the budget holds, at the sizes
		// seen so far.
		query.Count = min(want-n, listChunk, (s.cfg.limits.pageBytes-itemsLen())/max(1, itemsLen()/n)+1)
		if page, err = s.store.List(r.Context(), q.tenant, query); err != nil {
			return storeError(err)
		}
	}
	if full {
		s.limitHit(r.Context(), q.tenant, LimitPageBytes)
	}
	var head [listHead]byte
	h := append(head[:0], `{"schemas":["`+schema.ListResponseURN+`"],"totalResults":`...)
	h = strconv.AppendInt(h, int64(total), 10)
	h = append(h, `,"itemsPerPage":`...)
	h = strconv.AppendInt(h, int64(n), 10)
	h = append(h, `,"startIndex":`...)
	h = strconv.AppendInt(h, int64(startIndex), 10)
	h = append(h, `,"Resources":[`...)
	out.WriteString("]}")
	body := out.Bytes()[listHead-len(h):]
	copy(body, h)
	s.noteNormalizations(r.Context(), r, q.tenant, rep)
	return writeJSON(w, http.StatusOK, body)
}

// listHead is the room kept for a ListResponse's header: its fixed text
// and three numbers of at most 20 digits.
const listHead = 192

// pageEstimate is about the bytes a page of these resources renders to.
func pageEstimate(rs []storage.Resource, q *request) int {
	n := 0
	for i := range rs {
		n += len(rs[i].Data) + resourceOverhead(q, &rs[i])
	}
	return n
}

// resourceOverhead is about what rendering adds to a stored document:
// id, schemas and meta.
func resourceOverhead(q *request, res *storage.Resource) int {
	return 2*len(res.ID) + len(q.base) + 320
}

// listChunk is the most resources a list reads from the store at once:
// the default page (an IdP's usual page is one read), and a bound on the
// documents read but not sent when the page's byte budget runs out.
const listChunk = storage.DefaultCount

func (s *Server) get(w http.ResponseWriter, r *http.Request, q *request, rt *schema.ResourceType) error {
	if !validID(r.PathValue("id")) {
		return notFound(storage.ErrNotFound, rt, r.PathValue("id"))
	}
	res, err := s.store.Get(r.Context(), q.tenant, rt.Kind, r.PathValue("id"))
	if err != nil {
		return notFound(err, rt, r.PathValue("id"))
	}
	return s.respond(w, r, q, rt, res, http.StatusOK, projection(r, rt))
}

// projection reads the attributes and excludedAttributes parameters
// (RFC 7644 §3.9).
func projection(r *http.Request, rt *schema.ResourceType) *schema.Projection {
	params := r.URL.Query()
	return rt.ParseProjection(params.Get("attributes"), params.Get("excludedAttributes"))
}

func notFound(err error, rt *schema.ResourceType, id string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return ErrNotFound.WithDetail(fmt.Sprintf("%s %q not found", rt.Kind, id))
	}
	return storeError(err)
}

// respond writes one resource with its ETag (RFC 7644 §3.14), loading a
// Group's members only when the projection wants them.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, q *request, rt *schema.ResourceType, res *storage.Resource, status int, proj *schema.Projection) error {
	var ms []storage.Member
	if rt.Kind == storage.KindGroup && proj.Members {
		var err error
		if ms, err = s.store.ListMembers(r.Context(), q.tenant, res.ID); err != nil {
			return notFound(err, rt, res.ID)
		}
	}
	if rt.Kind == storage.KindUser && status != http.StatusCreated {
		var err error
		if ms, err = s.userGroups(r.Context(), q.tenant, res.ID); err != nil {
			return storeError(err)
		}
	}
	var b buf
	b.Grow(len(res.Data) + resourceOverhead(q, res) + len(ms)*(len(q.base)+100))
	if err := s.renderResource(&b, q, rt, res, proj, ms); err != nil {
		return err
	}
	w.Header().Set("ETag", etag(res.Version))
	if status == http.StatusCreated {
		w.Header().Set("Location", q.base+rt.Endpoint+"/"+res.ID)
	}
	return writeJSON(w, status, b.Bytes())
}

func etag(v int64) string { return `W/"` + strconv.FormatInt(v, 10) + `"` }

func writeJSON(w http.ResponseWriter, status int, body []byte) error {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}

// renderResource writes a resource: the stored document with id, meta and
// (for groups, when wanted) members spliced in, without decoding it unless
// a projection needs to.
func (s *Server) renderResource(b *buf, q *request, rt *schema.ResourceType, res *storage.Resource, proj *schema.Projection, ms []storage.Member) error {
	withMembers := rt.Kind == storage.KindGroup && proj.Members || rt.Kind == storage.KindUser && len(ms) > 0
	if proj.Trivial() {
		s.writeResource(b, q, rt, res, ms, withMembers)
		return nil
	}
	var tmp buf
	s.writeResource(&tmp, q, rt, res, ms, withMembers)
	var doc map[string]any
	if err := json.Unmarshal(tmp.Bytes(), &doc); err != nil {
		return ErrInternal.WithCause(err)
	}
	proj.Apply(doc)
	out, err := schema.Marshal(doc)
	if err != nil {
		return ErrInternal.WithCause(err)
	}
	b.Write(out)
	return nil
}

func (s *Server) writeResource(b *buf, q *request, rt *schema.ResourceType, res *storage.Resource, ms []storage.Member, withMembers bool) {
	b.WriteString(`{"id":`)
	b.str(res.ID)
	b.WriteByte(',')
	rt.WriteSchemas(&b.Buffer, res.Data)
	if inner := bytes.TrimSpace(res.Data); len(inner) >= 2 {
		if inner = bytes.TrimSpace(inner[1 : len(inner)-1]); len(inner) > 0 {
			b.WriteByte(',')
			b.Write(inner)
		}
	}
	b.WriteString(`,"meta":{"resourceType":"`)
	b.WriteString(string(rt.Kind))
	b.WriteString(`","created":"`)
	b.time(res.Created)
	b.WriteString(`","lastModified":"`)
	b.time(res.Modified)
	b.WriteString(`","location":"`)
	b.strBody(q.base) // as b.str of the whole URL: escaping is per character
	b.strBody(rt.Endpoint)
	b.WriteByte('/')
	b.strBody(res.ID)
	b.WriteString(`","version":"W/\"`)
	var v [20]byte
	b.Write(strconv.AppendInt(v[:0], res.Version, 10))
	b.WriteString(`\""}`)
	if withMembers {
		if rt.Kind == storage.KindUser {
			b.WriteString(`,"groups":[`) // RFC 7643 §4.1.2, from userGroups
		} else {
			b.WriteString(`,"members":[`)
		}
		for i, m := range ms {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"value":`)
			b.str(m.Value)
			ep := "/Users/"
			if m.Type == storage.KindGroup {
				ep = "/Groups/"
			}
			b.WriteString(`,"$ref":`)
			b.str(q.base + ep + m.Value)
			b.WriteString(`,"type":"`)
			if rt.Kind == storage.KindUser {
				b.WriteString("direct")
			} else {
				b.WriteString(string(m.Type))
			}
			b.WriteByte('"')
			if m.Display != "" {
				b.WriteString(`,"display":`)
				b.str(m.Display)
			}
			b.WriteByte('}')
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
}

// readResource decodes and normalises a POST or PUT body, noting into rep
// what normalisation did; members (of a group) are returned apart.
func (s *Server) readResource(r *http.Request, rt *schema.ResourceType, rep *schema.Report) (doc map[string]any, ms []storage.Member, hasMembers bool, err error) {
	var in map[string]any
	if err := decodeBody(r, &in); err != nil {
		return nil, nil, false, err
	}
	if in == nil {
		return nil, nil, false, ErrInvalidSyntax.WithDetail("the request body must be a JSON object")
	}
	opt := s.cfg.norm
	opt.Report = rep
	if doc, err = rt.Normalize(in, opt); err != nil {
		return nil, nil, false, err
	}
	if rt.Kind == storage.KindGroup {
		for k, v := range in {
			if strings.EqualFold(k, "members") {
				hasMembers = true
				if ms, err = schema.Members(v); err != nil {
					return nil, nil, false, err
				}
			}
		}
	}
	return doc, ms, hasMembers, nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, q *request, rt *schema.ResourceType) error {
	var rep schema.Report
	doc, ms, _, err := s.readResource(r, rt, &rep)
	if err != nil {
		return err
	}
	if err := s.applyUserNamePolicy(rt, doc, "", &rep); err != nil {
		return err
	}
	if err := s.checkWrite(doc, len(ms), ms); err != nil {
		return err
	}
	now := s.cfg.now()
	q.at = now
	res := &storage.Resource{ID: s.cfg.newID(), Version: 1, Created: now, Modified: now}
	if err := rt.Encode(doc, res); err != nil {
		return ErrInternal.WithCause(err)
	}
	res.Seat = rt.Kind == storage.KindUser && active(doc)
	q.auditID = res.ID
	if err := s.checkEncoded(rt, res); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.admitCreate(ctx, q, rt, res.ID, doc, ms); err != nil {
		return err
	}
	if err := s.handPassword(ctx, q.tenant, res.ID, rep.HasPassword, rep.Password); err != nil {
		return err
	}
	// One atomic write: the resource, a group's members, a user's
	// lifecycle state and the events.
	res.Members = ms
	s.pendingOnCreate(q, res)
	evs := s.createEvents(q.tenant, res, ms)
	recs, err := s.records(evs)
	if err != nil {
		return err
	}
	if err := s.store.Create(ctx, q.tenant, res, recs...); err != nil {
		switch {
		case errors.Is(err, storage.ErrConflict):
			return ErrUniqueness.WithDetail(fmt.Sprintf("%s %q is already in use", rt.NameAttr, res.Name)).WithCause(err)
		case errors.Is(err, storage.ErrSeatLimit):
			return seatError(q.policy, OpCreate, err)
		}
		return storeError(err)
	}
	res.Members, res.State = nil, nil
	s.noteNormalizations(ctx, r, q.tenant, &rep)
	s.notify(ctx, res.Version, evs)
	return s.respond(w, r, q, rt, res, http.StatusCreated, projection(r, rt))
}

// ifMatch checks an If-Match precondition (RFC 7644 §3.14).
func ifMatch(r *http.Request, res *storage.Resource) error {
	h := r.Header.Get("If-Match")
	if h == "" || h == "*" {
		return nil
	}
	for _, t := range strings.Split(h, ",") {
		t = strings.TrimSpace(t)
		if t == etag(res.Version) || t == strings.TrimPrefix(etag(res.Version), "W/") {
			return nil
		}
	}
	return ErrPreconditionFailed
}

// update runs a read-modify-write cycle on one resource (RFC 7644 §3.5):
// it reads the stored resource, checks If-Match, lets change compute the
// new document (and, for a Group, a member delta), and stores both in one
// atomic step with a version check, retrying when another server instance
// wrote in between. An unchanged document is not written.
func (s *Server) update(r *http.Request, q *request, rt *schema.ResourceType, id string, rep *schema.Report, change func(old *storage.Resource) (map[string]any, *storage.MemberChange, error)) (*storage.Resource, map[string]any, error) {
	ctx := r.Context()
	if !validID(id) {
		return nil, nil, notFound(storage.ErrNotFound, rt, id)
	}
	unlock, err := s.locks.lock(ctx, q.tenant, id)
	if err != nil {
		return nil, nil, storeError(err)
	}
	defer unlock()
	for try := 0; ; try++ {
		if try > 0 {
			backoff(try)
		}
		old, err := s.store.Get(ctx, q.tenant, rt.Kind, id)
		if err != nil {
			return nil, nil, notFound(err, rt, id)
		}
		if err := ifMatch(r, old); err != nil {
			return nil, nil, err
		}
		doc, members, err := change(old)
		if err == nil {
			err = s.applyUserNamePolicy(rt, doc, old.Name, rep)
		}
		if err == nil && members != nil {
			err = s.checkWrite(doc, len(members.Add)+len(members.Remove), members.Add)
		} else if err == nil {
			err = s.checkWrite(doc, 0)
		}
		if err != nil {
			return nil, nil, err
		}
		now := s.cfg.now()
		q.at = now
		// old.ID, not id: id is a substring of the request line, which a
		// store keeping the string would keep alive with it.
		res := &storage.Resource{ID: old.ID, Version: old.Version, Created: old.Created, Modified: now}
		if err := rt.Encode(doc, res); err != nil {
			return nil, nil, ErrInternal.WithCause(err)
		}
		res.Seat = rt.Kind == storage.KindUser && active(doc)
		if err := s.checkEncoded(rt, res); err != nil {
			return nil, nil, err
		}
		changed := !bytes.Equal(res.Data, old.Data)
		var evs []provisioning.Event
		if s.eventsOn() {
			var added, removed []string
			if members != nil {
				var cur []storage.Member
				if members.ReplaceAll {
					if cur, err = s.store.ListMembers(ctx, q.tenant, old.ID); err != nil {
						return nil, nil, notFound(err, rt, id)
					}
				}
				added, removed = memberDelta(cur, members)
				if len(added) == 0 && len(removed) == 0 && members.ReplaceAll {
					members = nil // the same member set: no member write
				} else {
					// The member delta was computed from this version:
					// make the write check it.
					changed = true
				}
			}
			if evs = s.updateEvents(q.tenant, old, res, added, removed); len(evs) == 0 {
				return old, doc, nil // nothing changed: no write, no version, no event
			}
		}
		s.lifecycleWrite(q, res, evs)
		recs, err := s.records(evs)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case members != nil:
			members.Modified = now
			members.Events = recs
			if changed {
				members.Group = res
			}
			if err = s.store.ChangeMembers(ctx, q.tenant, id, *members); err == nil && !changed {
				res, err = s.store.Get(ctx, q.tenant, rt.Kind, id)
			}
		case changed:
			err = s.store.Replace(ctx, q.tenant, res, recs...)
		default:
			return old, doc, nil
		}
		switch {
		case err == nil:
			s.notify(ctx, res.Version, evs)
			return res, doc, nil
		case errors.Is(err, storage.ErrConflict):
			return nil, nil, ErrUniqueness.WithDetail(fmt.Sprintf("%s %q is already in use", rt.NameAttr, res.Name)).WithCause(err)
		case !errors.Is(err, storage.ErrVersionMismatch) || try >= maxRetries:
			return nil, nil, notFound(err, rt, id)
		}
	}
}

func (s *Server) replace(w http.ResponseWriter, r *http.Request, q *request, rt *schema.ResourceType) error {
	id := r.PathValue("id")
	var rep schema.Report
	doc, ms, hasMembers, err := s.readResource(r, rt, &rep)
	if err != nil {
		return err
	}
	var handed bool
	var uc userChange
	q.auditID, q.life = id, &uc
	res, _, err := s.update(r, q, rt, id, &rep, func(old *storage.Resource) (map[string]any, *storage.MemberChange, error) {
		uc.is = active(doc)
		var ch *storage.MemberChange
		if hasMembers {
			ch = &storage.MemberChange{ReplaceAll: true, Add: ms}
		}
		if err := s.admitChange(r.Context(), q, rt, old, doc, ch, &uc); err != nil {
			return nil, nil, err
		}
		if !handed {
			handed = true
			if err := s.handPassword(r.Context(), q.tenant, old.ID, rep.HasPassword, rep.Password); err != nil {
				return nil, nil, err
			}
		}
		return doc, ch, nil
	})
	if err != nil {
		return s.seatRefusal(q, err)
	}
	s.noteNormalizations(r.Context(), r, q.tenant, &rep)
	s.afterChange(q, &uc)
	return s.respond(w, r, q, rt, res, http.StatusOK, projection(r, rt))
}

// patchRequest is the PatchOp message (RFC 7644 §3.5.2).
type patchRequest struct {
	Schemas    []string         `json:"schemas"`
	Operations []schema.PatchOp `json:"Operations"`
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, q *request, rt *schema.ResourceType) error {
	id := r.PathValue("id")
	var pr patchRequest
	if err := decodeBody(r, &pr); err != nil {
		return err
	}
	var handed bool
	var uc userChange
	var rep schema.Report
	opt := s.cfg.norm
	opt.Report = &rep
	q.auditID, q.life = id, &uc
	res, _, err := s.update(r, q, rt, id, &rep, func(old *storage.Resource) (map[string]any, *storage.MemberChange, error) {
		doc := map[string]any{}
		if err := json.Unmarshal(old.Data, &doc); err != nil {
			return nil, nil, ErrInternal.WithCause(err)
		}
		rep.Reset() // a retry applies the operations again
		mo, err := rt.ApplyPatch(doc, pr.Operations, opt)
		if err != nil {
			return nil, nil, err
		}
		if !handed {
			handed = true
			if err := s.handPassword(r.Context(), q.tenant, old.ID, rep.HasPassword, rep.Password); err != nil {
				return nil, nil, err
			}
		}
		var ch *storage.MemberChange
		if mo.Any {
			ch = &mo.Change
		}
		uc.is = active(doc)
		if err := s.admitChange(r.Context(), q, rt, old, doc, ch, &uc); err != nil {
			return nil, nil, err
		}
		return doc, ch, nil
	})
	if err != nil {
		return s.seatRefusal(q, err)
	}
	s.noteNormalizations(r.Context(), r, q.tenant, &rep)
	s.afterChange(q, &uc)
	if rt.Kind == storage.KindGroup && r.URL.Query().Get("attributes") == "" {
		// Entra: "returning a body with all members isn't advisable".
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return s.respond(w, r, q, rt, res, http.StatusOK, projection(r, rt))
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, q *request, rt *schema.ResourceType) error {
	id := r.PathValue("id")
	ctx := r.Context()
	q.auditID = id
	if !validID(id) {
		return notFound(storage.ErrNotFound, rt, id)
	}
	var old *storage.Resource
	if rt.Kind == storage.KindUser && (s.policyStore() != nil || len(s.cfg.admission) > 0) {
		return s.deleteUserRequest(w, r, q, id)
	}
	if rt.Kind == storage.KindGroup && len(s.cfg.admission) > 0 {
		pol, err := s.writePolicy(ctx, q)
		if err != nil {
			return err
		}
		if err := s.admit(ctx, Admission{Tenant: q.tenant, Op: OpDelete, Kind: rt.Kind, ID: id, Policy: *pol}); err != nil {
			return err
		}
	}
	if s.eventsOn() || r.Header.Get("If-Match") != "" {
		unlock, err := s.locks.lock(ctx, q.tenant, id)
		if err != nil {
			return storeError(err)
		}
		defer unlock()
		if old, err = s.store.Get(ctx, q.tenant, rt.Kind, id); err != nil {
			return notFound(err, rt, id)
		}
		if err := ifMatch(r, old); err != nil {
			return err
		}
	}
	var evs []provisioning.Event
	if old != nil {
		evs = s.deleteEvents(q.tenant, old)
	}
	recs, err := s.records(evs)
	if err != nil {
		return err
	}
	if err := s.store.Delete(ctx, q.tenant, rt.Kind, id, recs...); err != nil {
		return notFound(err, rt, id)
	}
	s.notify(ctx, 0, evs)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteUserRequest answers DELETE of a User under the tenant's policy.
func (s *Server) deleteUserRequest(w http.ResponseWriter, r *http.Request, q *request, id string) error {
	ctx := r.Context()
	unlock, err := s.locks.lock(ctx, q.tenant, id)
	if err != nil {
		return storeError(err)
	}
	defer unlock()
	old, err := s.store.Get(ctx, q.tenant, storage.KindUser, id)
	if err != nil {
		return notFound(err, s.users, id)
	}
	if err := ifMatch(r, old); err != nil {
		return err
	}
	evs, err := s.deleteUser(ctx, q, old)
	if err != nil {
		return err
	}
	s.notify(ctx, 0, evs)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// active reads a user's active flag from a document (true when absent,
// and for groups: RFC 7643 §4.1.1 leaves the default to the provider).
func active(doc map[string]any) bool {
	b, ok := doc["active"].(bool)
	return b || !ok
}

// seatRefusal gives a write refused for want of a seat its detailed
// error.
func (s *Server) seatRefusal(q *request, err error) error {
	if errors.Is(err, storage.ErrSeatLimit) && q.policy != nil {
		return seatError(q.policy, OpReactivate, err)
	}
	return err
}

package sqlstoretest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// benchUser is a user as the server stores an Entra-provisioned one.
func benchUser(i int) *storage.Resource {
	name := fmt.Sprintf("user%06d@example.com", i)
	t := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	return &storage.Resource{
		Kind: storage.KindUser, ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: name,
		ExternalID: fmt.Sprintf("ext-%06d", i), Emails: []string{name}, Created: t, Modified: t,
		Data: fmt.Appendf(nil, `{"active":true,"displayName":"Given%06d Family%06d","emails":[{"primary":true,"type":"work","value":%q}],`+
			`"externalId":"ext-%06d","name":{"familyName":"Family%06d","givenName":"Given%06d"},`+
			`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","manager":{"value":"manager-%06d"}},"userName":%q}`,
			i, i, name, i, i, i, i, name),
	}
}

// seedUsers creates users [from, to) with a few concurrent writers.
func seedUsers(b *testing.B, s storage.Store, from, to int) {
	b.Helper()
	ctx := context.Background()
	const workers = 4
	var (
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := from + w; i < to; i += workers {
				if err := s.Create(ctx, "acme", benchUser(i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	require.NoError(b, <-errs)
}

// Bench measures what IdPs do most against a store on a new database:
// the userName lookup before every create at 1k, 10k and 100k users
// (it should stay flat), a batch of 100 members added to groups of 100
// and 10,000 (flat), and a page of 100 at offset 0 and 90,000.
func Bench(b *testing.B, open Opener) {
	ctx := context.Background()
	s, err := open(ctx)
	require.NoError(b, err)
	seeded := 0
	for _, n := range []int{1_000, 10_000, 100_000} {
		seedUsers(b, s, seeded, n)
		seeded = n
		b.Run(fmt.Sprintf("LookupUserName/users=%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i = (i + 7919) % n
				p, err := s.List(ctx, "acme", storage.Query{Kind: storage.KindUser, Count: 100,
					Lookup: &storage.Lookup{Field: storage.LookupName, Value: fmt.Sprintf("USER%06d@example.com", i)}})
				if err != nil || p.Total != 1 {
					b.Fatalf("lookup %d: %v, total %d", i, err, p.Total)
				}
			}
		})
	}
	for _, at := range []int{0, 90_000} {
		b.Run(fmt.Sprintf("Page100/offset=%d", at), func(b *testing.B) {
			for b.Loop() {
				p, err := s.List(ctx, "acme", storage.Query{Kind: storage.KindUser, StartIndex: at + 1, Count: 100})
				if err != nil || len(p.Resources) != 100 {
					b.Fatalf("page at %d: %v, %d resources", at, err, len(p.Resources))
				}
			}
		})
	}
	for _, size := range []int{100, 10_000} {
		gid := fmt.Sprintf("group-%d", size)
		g := &storage.Resource{Kind: storage.KindGroup, ID: gid, Name: gid, Data: []byte(`{"displayName":"` + gid + `"}`)}
		require.NoError(b, s.Create(ctx, "acme", g))
		var initial []storage.Member
		for i := range size {
			initial = append(initial, storage.Member{Value: benchUser(i).ID})
		}
		require.NoError(b, s.ChangeMembers(ctx, "acme", gid, storage.MemberChange{Add: initial}))
		b.Run(fmt.Sprintf("AddMembers100/group=%d", size), func(b *testing.B) {
			batch := 0
			for b.Loop() {
				// Batches cycle through users outside the group; each
				// is removed again, untimed, to keep the group's size.
				first := size + (batch%800)*100
				batch++
				add := make([]storage.Member, 100)
				ids := make([]string, 100)
				for i := range add {
					ids[i] = benchUser(first + i).ID
					add[i] = storage.Member{Value: ids[i]}
				}
				if err := s.ChangeMembers(ctx, "acme", gid, storage.MemberChange{Add: add}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := s.ChangeMembers(ctx, "acme", gid, storage.MemberChange{Remove: ids}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

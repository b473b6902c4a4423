package memory_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

const benchTenant = "bench"

// benchUser returns user i with a Data document of about 500 bytes.
func benchUser(i int) *storage.Resource {
	name := fmt.Sprintf("user%06d@example.com", i)
	email := fmt.Sprintf("User%06d@Example.com", i)
	data := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",`+
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":%q,`+
		`"externalId":"ext-%06d","name":{"givenName":"Given%06d","familyName":"Family%06d"},`+
		`"displayName":"Given%06d Family%06d","active":true,`+
		`"emails":[{"value":%q,"type":"work","primary":true}],`+
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"%06d",`+
		`"department":"R&D","manager":{"value":"manager-%06d"}}}`,
		name, i, i, i, i, i, email, i, i%100)
	t := time.Date(2024, time.March, 1, 12, 0, 0, 0, time.UTC)
	return &storage.Resource{
		Kind:       storage.KindUser,
		ID:         fmt.Sprintf("2819c223-7f76-453a-919d-%012d", i),
		ExternalID: fmt.Sprintf("ext-%06d", i),
		Name:       name,
		Emails:     []string{email},
		Created:    t,
		Modified:   t,
		Data:       []byte(data),
	}
}

// benchStore returns a store holding users 0..n-1 in benchTenant.
func benchStore(b *testing.B, n int) *memory.Store {
	b.Helper()
	s := memory.New()
	for i := range n {
		if err := s.Create(b.Context(), benchTenant, benchUser(i)); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func BenchmarkLookupUserName(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		s := benchStore(b, n)
		name := benchUser(n / 2).Name
		q := storage.Query{
			Kind:   storage.KindUser,
			Lookup: &storage.Lookup{Field: storage.LookupName, Value: strings.ToUpper(name)},
			Filter: storage.Compare{
				Path: storage.AttrPath{Name: "userName", Type: storage.TypeString},
				Op:   storage.OpEq, Value: strings.ToUpper(name),
			},
			StartIndex: 1,
			Count:      1,
		}
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := s.List(b.Context(), benchTenant, q)
				if err != nil || p.Total != 1 {
					b.Fatalf("got %d results, %v", p.Total, err)
				}
			}
		})
	}
}

func BenchmarkAddMembers(b *testing.B) {
	const batch = 100
	for _, size := range []int{100, 10_000} {
		s := benchStore(b, size+batch)
		g := &storage.Resource{Kind: storage.KindGroup, ID: "g1", Name: "Group", Data: []byte(`{}`)}
		if err := s.Create(b.Context(), benchTenant, g); err != nil {
			b.Fatal(err)
		}
		var base, fresh storage.MemberChange
		for i := range size {
			base.Add = append(base.Add, storage.Member{Value: benchUser(i).ID})
		}
		for i := size; i < size+batch; i++ {
			id := benchUser(i).ID
			fresh.Add = append(fresh.Add, storage.Member{Value: id, Display: "Fresh"})
			fresh.Remove = append(fresh.Remove, id)
		}
		if err := s.ChangeMembers(b.Context(), benchTenant, "g1", base); err != nil {
			b.Fatal(err)
		}
		add := storage.MemberChange{Add: fresh.Add}
		remove := storage.MemberChange{Remove: fresh.Remove}
		b.Run(fmt.Sprintf("group%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := s.ChangeMembers(b.Context(), benchTenant, "g1", add); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := s.ChangeMembers(b.Context(), benchTenant, "g1", remove); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

func BenchmarkPage(b *testing.B) {
	const n = 100_000
	s := benchStore(b, n)
	for _, offset := range []int{0, 90_000} {
		q := storage.Query{Kind: storage.KindUser, StartIndex: offset + 1, Count: 100}
		b.Run(fmt.Sprintf("offset%d", offset), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := s.List(b.Context(), benchTenant, q)
				if err != nil || p.Total != n || len(p.Resources) != 100 {
					b.Fatalf("got %d of %d, %v", len(p.Resources), p.Total, err)
				}
			}
		})
	}
}

package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// BenchmarkCreate: the cost of one write transaction (a user with one
// email), go test -run XXX -bench Create ./storage/sqlite
func BenchmarkCreate(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	t := time.Now()
	i := 0
	for b.Loop() {
		i++
		name := fmt.Sprintf("user%07d@example.com", i)
		err := s.Create(ctx, "acme", &storage.Resource{Kind: storage.KindUser, ID: fmt.Sprint(i), Name: name,
			Emails: []string{name}, Created: t, Modified: t,
			Data: []byte(`{"active":true,"emails":[{"primary":true,"type":"work","value":"` + name + `"}],"name":{"familyName":"Lee","givenName":"Ann"},"userName":"` + name + `"}`)})
		if err != nil {
			b.Fatal(err)
		}
	}
}

package storagetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// workers is how many goroutines each concurrency test runs.
const workers = 64

func testConcurrency(t *testing.T, newStore newStoreFunc) {
	t.Run("read-modify-write replaces with retry lose no update", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		mustCreate(t, s, tenantA, newUser(t, "u1", "alice@example.com", attrs{"seen": []int{}}))

		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					r, err := s.Get(t.Context(), tenantA, storage.KindUser, "u1")
					if !assert.NoError(t, err) {
						return
					}
					var d struct {
						UserName string `json:"userName"`
						Seen     []int  `json:"seen"`
					}
					if !assert.NoError(t, json.Unmarshal(r.Data, &d)) {
						return
					}
					d.Seen = append(d.Seen, w)
					if r.Data, err = json.Marshal(d); !assert.NoError(t, err) {
						return
					}
					err = s.Replace(t.Context(), tenantA, r)
					if errors.Is(err, storage.ErrVersionMismatch) {
						continue
					}
					assert.NoError(t, err)
					return
				}
			}()
		}
		wg.Wait()

		r := mustGet(t, s, tenantA, storage.KindUser, "u1")
		assert.Equal(t, int64(workers+1), r.Version)
		var d struct{ Seen []int }
		require.NoError(t, json.Unmarshal(r.Data, &d))
		want := make([]int, workers)
		for i := range want {
			want[i] = i
		}
		assert.ElementsMatch(t, want, d.Seen, "every increment is present exactly once")
	})

	t.Run("concurrent member additions all land", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		mustCreate(t, s, tenantA, newGroup(t, "g1", "Admins", nil))
		var want []string
		for i := range workers {
			id := fmt.Sprintf("u%02d", i)
			mustCreate(t, s, tenantA, newUser(t, id, id+"@example.com", nil))
			want = append(want, id)
		}

		var wg sync.WaitGroup
		for _, id := range want {
			wg.Add(1)
			go func() {
				defer wg.Done()
				assert.NoError(t, s.ChangeMembers(t.Context(), tenantA, "g1", add(id)))
			}()
		}
		wg.Wait()

		assert.ElementsMatch(t, want, memberIDs(mustMembers(t, s, tenantA, "g1")))
		assert.Equal(t, int64(workers+1), mustGet(t, s, tenantA, storage.KindGroup, "g1").Version)
	})

	t.Run("concurrent creates of one userName: exactly one wins", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := "alice@example.com"
				if w%2 == 1 {
					name = "Alice@EXAMPLE.com"
				}
				r := &storage.Resource{Kind: storage.KindUser, ID: fmt.Sprintf("u%02d", w), Name: name, Data: []byte(`{}`)}
				errs[w] = s.Create(t.Context(), tenantA, r)
			}()
		}
		wg.Wait()

		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			assert.ErrorIs(t, err, storage.ErrConflict)
		}
		assert.Equal(t, 1, won)
		assert.Equal(t, 1, mustList(t, s, tenantA, storage.Query{Kind: storage.KindUser}).Total)
	})

	t.Run("readers, writers and deleters together", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		mustCreate(t, s, tenantA, newGroup(t, "g1", "Admins", nil))
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := t.Context()
				id := fmt.Sprintf("u%02d", w)
				r := &storage.Resource{Kind: storage.KindUser, ID: id, Name: id, Data: []byte(`{"title":"x"}`)}
				if !assert.NoError(t, s.Create(ctx, tenantA, r)) {
					return
				}
				assert.NoError(t, s.ChangeMembers(ctx, tenantA, "g1", add(id)))
				_, err := s.List(ctx, tenantA, storage.Query{Kind: storage.KindUser, Filter: eq(pTitle, "x"), Count: 5})
				assert.NoError(t, err)
				_, err = s.ListMembers(ctx, tenantA, "g1")
				assert.NoError(t, err)
				if w%2 == 0 {
					assert.NoError(t, s.Delete(ctx, tenantA, storage.KindUser, id))
				}
			}()
		}
		wg.Wait()

		assert.Len(t, mustMembers(t, s, tenantA, "g1"), workers/2)
		assert.Equal(t, workers/2, mustList(t, s, tenantA, storage.Query{Kind: storage.KindUser}).Total)
	})
}

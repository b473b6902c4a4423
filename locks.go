package scimkit

import (
	"context"
	"hash/maphash"
	"sync"
)

// resourceLocks serialises read-modify-write cycles on one resource within
// this server instance. There is one lock per (tenant, resource) in use,
// made on demand and dropped when its last holder or waiter leaves, so a
// tenant's slow write never queues a write of another tenant (or of
// another resource), and idle tenants cost nothing. The map is sharded so
// that looking a lock up is never a point of contention either.
type resourceLocks struct {
	seed   maphash.Seed
	shards [64]lockShard
}

type lockShard struct {
	mu sync.Mutex
	m  map[lockKey]*keyLock
}

type lockKey struct{ tenant, id string }

// keyLock is a mutex a waiter can give up on: a one-slot channel.
type keyLock struct {
	ch   chan struct{}
	refs int // holders and waiters; guarded by the shard's mu
}

func newResourceLocks() *resourceLocks { return &resourceLocks{seed: maphash.MakeSeed()} }

// lock takes the lock of one resource, waiting at most until ctx is done
// (the client has gone): then it returns ctx's error and holds nothing.
func (l *resourceLocks) lock(ctx context.Context, tenant, id string) (unlock func(), err error) {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.WriteString(tenant)
	h.WriteByte(0)
	h.WriteString(id)
	sh := &l.shards[h.Sum64()%uint64(len(l.shards))]
	key := lockKey{tenant, id}
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[lockKey]*keyLock)
	}
	k := sh.m[key]
	if k == nil {
		k = &keyLock{ch: make(chan struct{}, 1)}
		sh.m[key] = k
	}
	k.refs++
	sh.mu.Unlock()
	release := func() {
		sh.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(sh.m, key)
		}
		sh.mu.Unlock()
	}
	select {
	case k.ch <- struct{}{}:
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
	return func() {
		<-k.ch
		release()
	}, nil
}

package scimkit

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func (h *healthTracker) size() int {
	n := 0
	for i := range h.shards {
		h.shards[i].mu.Lock()
		n += len(h.shards[i].tenants)
		h.shards[i].mu.Unlock()
	}
	return n
}

// TestHealthMemoryIsBounded: past maxHealthTenants no tenant is added,
// unauthenticated tenants are never added, and idle tenants are forgotten
// after HealthRetention.
func TestHealthMemoryIsBounded(t *testing.T) {
	var h healthTracker
	now := time.Date(2024, 5, 6, 7, 0, 0, 0, time.UTC)
	for i := range maxHealthTenants + 5000 {
		h.record(fmt.Sprintf("t%d", i), now, 200, "", true)
	}
	assert.LessOrEqual(t, h.size(), maxHealthTenants)
	assert.Greater(t, h.size(), maxHealthTenants*9/10, "shards fill about evenly")

	var anon healthTracker
	for i := range 1000 {
		anon.record(fmt.Sprintf("guess%d", i), now, 401, "", false)
	}
	assert.Zero(t, anon.size(), "unknown tenants from URLs are not tracked")

	later := now.Add(HealthRetention + time.Hour)
	for i := range healthShards * 40 {
		h.record(fmt.Sprintf("fresh%d", i), later, 200, "", true)
	}
	assert.Equal(t, healthShards*40, h.size(), "idle tenants forgotten")
}

// TestHealthAnyClock: injected clocks may be anywhere in time.
func TestHealthAnyClock(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1900, 3, 4, 5, 6, 7, 0, time.UTC),
		time.Unix(0, 0),
		time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		var h healthTracker
		h.record("acme", now, 500, "", true)
		h.record("acme", now.Add(time.Minute), 200, "", true)
		got := h.get("acme", now.Add(2*time.Minute))
		assert.Equal(t, 2, got.Requests, now)
		assert.Equal(t, 1, got.Failures, now)
	}
}

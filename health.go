package scimkit

import (
	"hash/maphash"
	"sync"
	"time"
)

// Health is one tenant's provisioning health as one [Server] instance
// saw it: when its identity provider last succeeded, and how many of its
// requests failed in the last hour. Each instance of a replicated
// deployment keeps its own; sum Requests and Failures over instances for
// the whole picture.
type Health struct {
	Tenant string `json:"tenant"`
	// LastSuccess is when a request of the tenant last got a 2xx or 3xx
	// answer; zero when none has on this instance since it started (or in
	// the last day: idle tenants are forgotten after HealthRetention).
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	// LastFailure is when a request last got a 4xx or 5xx answer, with
	// that status and scimType.
	LastFailure         time.Time `json:"lastFailure,omitzero"`
	LastFailureStatus   int       `json:"lastFailureStatus,omitempty"`
	LastFailureScimType string    `json:"lastFailureScimType,omitempty"`
	// Requests and Failures count the tenant's requests, and those
	// answered 4xx or 5xx, in the last hour (in 5-minute buckets, so the
	// window is between 55 and 60 minutes long). Requests refused with
	// 401 count when the tenant is known: an expired token of the tenant,
	// or a wrong token sent to the tenant's URL ([Server.TenantHandler])
	// once the tenant has been seen on this instance.
	Requests int `json:"requests"`
	Failures int `json:"failures"`
	// ErrorRate is Failures/Requests, 0 without requests.
	ErrorRate float64 `json:"errorRate"`
	// QuarantineRisk is true when at least [QuarantineMinRequests]
	// requests came in the last hour and at least half of them failed.
	// Microsoft Entra ID puts a provisioning job in quarantine "if most,
	// or all, of the calls made against the target system consistently
	// fail" (an invalid token is its example), slows it to one cycle a
	// day, and disables it after four weeks in quarantine
	// (https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status).
	// Entra publishes no exact threshold; "most" is read as half.
	QuarantineRisk bool `json:"quarantineRisk"`
	// Warning explains QuarantineRisk for an admin, "" when false.
	Warning string `json:"warning,omitempty"`
}

// QuarantineMinRequests is the fewest requests in the last hour for
// which [Health.QuarantineRisk] is reported: below it, a few failures of
// a quiet tenant are no pattern.
const QuarantineMinRequests = 10

// HealthRetention is how long a [Server] remembers the health of a
// tenant that sends no request.
const HealthRetention = 24 * time.Hour

const (
	healthBucket  = 5 * time.Minute
	healthBuckets = int(time.Hour / healthBucket)
	// maxHealthTenants bounds the tenants tracked (about 300 bytes
	// each); beyond it new tenants are not tracked until idle ones are
	// forgotten.
	maxHealthTenants = 100_000
)

// tenantHealth is what a healthTracker keeps of one tenant.
type tenantHealth struct {
	lastSeen, lastSuccess, lastFailure time.Time
	lastStatus                         int
	lastScimType                       string
	buckets                            [healthBuckets]struct {
		start           int64 // bucket number (unix time / healthBucket)
		total, failures int32
	}
}

// healthShards spreads tenants over independently locked maps, so that
// tenants' requests rarely contend for one lock.
const healthShards = 16

// healthTracker keeps per-tenant health with bounded memory. It is safe
// for concurrent use. The zero value is ready to use.
type healthTracker struct {
	once   sync.Once
	seed   maphash.Seed
	shards [healthShards]healthShard
}

type healthShard struct {
	mu      sync.Mutex               // guards the fields below
	tenants map[string]*tenantHealth // by tenant
	swept   time.Time                // when idle tenants were last forgotten
}

func (h *healthTracker) shard(tenant string) *healthShard {
	h.once.Do(func() { h.seed = maphash.MakeSeed() })
	return &h.shards[maphash.String(h.seed, tenant)%healthShards]
}

// record notes a request of tenant answered with status at now. known
// says the tenant was authenticated; a request refused before
// authentication is counted only for a tenant already tracked, so
// unauthenticated clients cannot grow the map.
func (h *healthTracker) record(tenant string, now time.Time, status int, scimType string, known bool) {
	sh := h.shard(tenant)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.tenants == nil {
		sh.tenants = make(map[string]*tenantHealth)
	}
	if now.Sub(sh.swept) >= healthBucket {
		sh.swept = now
		for k, t := range sh.tenants {
			if now.Sub(t.lastSeen) > HealthRetention {
				delete(sh.tenants, k)
			}
		}
	}
	t := sh.tenants[tenant]
	if t == nil {
		if !known || len(sh.tenants) >= maxHealthTenants/healthShards {
			return
		}
		t = &tenantHealth{}
		sh.tenants[tenant] = t
	}
	t.lastSeen = now
	failed := status >= 400
	if failed {
		t.lastFailure, t.lastStatus, t.lastScimType = now, status, scimType
	} else {
		t.lastSuccess = now
	}
	n := bucketOf(now)
	b := &t.buckets[(n%int64(healthBuckets)+int64(healthBuckets))%int64(healthBuckets)] // n < 0 before 1970
	if b.start != n {
		b.start, b.total, b.failures = n, 0, 0
	}
	b.total++
	if failed {
		b.failures++
	}
}

// bucketOf numbers the healthBucket holding t: negative before 1970,
// which an injected clock ([WithClock]) may well be.
func bucketOf(t time.Time) int64 {
	return t.Unix() / int64(healthBucket/time.Second)
}

// get returns tenant's health at now.
func (h *healthTracker) get(tenant string, now time.Time) Health {
	out := Health{Tenant: tenant}
	sh := h.shard(tenant)
	sh.mu.Lock()
	t := sh.tenants[tenant]
	if t != nil {
		out.LastSuccess, out.LastFailure = t.lastSuccess, t.lastFailure
		out.LastFailureStatus, out.LastFailureScimType = t.lastStatus, t.lastScimType
		n := bucketOf(now)
		for _, b := range t.buckets {
			if b.start > n-int64(healthBuckets) && b.start <= n {
				out.Requests += int(b.total)
				out.Failures += int(b.failures)
			}
		}
	}
	sh.mu.Unlock()
	if out.Requests > 0 {
		out.ErrorRate = float64(out.Failures) / float64(out.Requests)
	}
	if out.Requests >= QuarantineMinRequests && 2*out.Failures >= out.Requests {
		out.QuarantineRisk = true
		out.Warning = "most of this tenant's provisioning requests failed in the last hour: Microsoft Entra ID quarantines a provisioning job whose calls mostly fail (checking the last failure's status and scimType, and the token, is the first step)"
	}
	return out
}

// Health returns tenant's provisioning health as this instance saw it
// (see [Health]): last success and failure, requests and failures in the
// last hour, and whether the error rate risks an Entra quarantine. A
// tenant the instance has not served returns a Health with only Tenant
// set. Memory is bounded: twelve 5-minute buckets per tenant, tenants
// idle for [HealthRetention] forgotten.
func (s *Server) Health(tenant string) Health {
	return s.health.get(tenant, s.cfg.now())
}

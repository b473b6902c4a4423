package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHealthAndMetrics: the admin API shows a tenant's provisioning
// health, and /metrics (behind the admin token) its requests.
func TestHealthAndMetrics(t *testing.T) {
	clock := newTestClock()
	e := newEnv(t, config{store: "memory", now: clock.now})
	e.admin(http.MethodPost, "/admin/tenants/acme/scim/enable", "")
	tok := e.createToken("acme", `{"label":"Entra"}`)["token"].(string)

	h := e.admin(http.MethodGet, "/admin/tenants/acme/scim/health", "")
	assert.Equal(t, "acme", h["tenant"])
	assert.Equal(t, float64(0), h["requests"])
	assert.Nil(t, h["lastSuccess"])

	require.Equal(t, http.StatusOK, e.do(http.MethodGet, "/scim/v2/Users", tok, "").status)
	clock.advance(time.Second)
	for range 10 {
		require.Equal(t, http.StatusBadRequest, e.do(http.MethodGet, "/t/acme/scim/v2/Users?filter=bad", tok, "").status)
	}
	h = e.admin(http.MethodGet, "/admin/tenants/acme/scim/health", "")
	assert.Equal(t, float64(11), h["requests"])
	assert.Equal(t, float64(10), h["failures"])
	assert.Equal(t, true, h["quarantineRisk"])
	assert.Contains(t, h["warning"], "quarantine")
	assert.Equal(t, "invalidFilter", h["lastFailureScimType"])
	assert.True(t, parseTime(t, h["lastSuccess"]).Before(parseTime(t, h["lastFailure"])))

	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/metrics", "", "").status, "metrics need the admin token")
	m := e.do(http.MethodGet, "/metrics", testAdminToken, "")
	body := string(m.body)
	require.Equal(t, http.StatusOK, m.status)
	assert.Contains(t, body, `scim_requests_total{operation="list",resource="User",scim_type="invalidFilter",status="400",tenant="acme"} 10`)
	assert.Contains(t, body, `scim_requests_total{operation="list",resource="User",scim_type="",status="200",tenant="acme"} 1`)
	assert.Contains(t, body, "scim_request_duration_seconds_bucket")
	assert.NotContains(t, body, tok)
}

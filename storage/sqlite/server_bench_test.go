package sqlite_test

import (
	"testing"

	"github.com/scimkit/scimkit/internal/tenantbench"
)

func openBench(b *testing.B) tenantbench.Store { return open(b) }

// BenchmarkServerPaths runs every IdP path through a whole scimkit
// server on SQLite (see tenantbench.Paths).
func BenchmarkServerPaths(b *testing.B) { tenantbench.Paths(b, openBench) }

// BenchmarkServerTenants: W1 and W2 with one tenant and with 10,000 on
// SQLite (see tenantbench.Tenants).
func BenchmarkServerTenants(b *testing.B) { tenantbench.Tenants(b, openBench) }

//go:build unix

package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScimcheckAgainstBinary builds the real backupd and the scimcheck
// command, starts backupd as a new user would (fresh directory, SQLite,
// dev token) and runs scimcheck against it: every check passes and the
// last line is "N passed, 0 failed".
func TestScimcheckAgainstBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := buildBackupd(t, ctx)
	check := filepath.Join(t.TempDir(), "scimcheck")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", check, "github.com/scimkit/scimkit/cmd/scimcheck").CombinedOutput()
	require.NoError(t, err, "go build scimcheck: %s", out)

	// No work limit: scimcheck sends four IdPs' lists back to back to one
	// tenant, and on a loaded machine a list waited up to a second for
	// the tenant's budget, over Okta's 600 ms (the limit has tests of its
	// own; the README says to run scimcheck so).
	p := startBackupd(t, ctx, bin, t.TempDir(), "-addr", "127.0.0.1:0", "-dev-token", "scimcheck-dev-token", "-work-limit", "0")
	out, err = exec.CommandContext(ctx, check, "-url", p.origin+"/scim/v2", "-token", "scimcheck-dev-token").CombinedOutput()
	require.NoError(t, err, "scimcheck: %s", out)
	m := regexp.MustCompile(`\n(\d+) passed, 0 failed\n$`).FindSubmatch(out)
	require.NotNil(t, m, "%s", out)
	t.Logf("scimcheck against backupd: %s passed", m[1])
	assert.NotContains(t, string(out), "FAIL")
	p.stop()
}

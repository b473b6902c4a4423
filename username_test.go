package scimkit_test

import (
	"testing"

	"github.com/scimkit/scimkit/storage/memory"
	"github.com/scimkit/scimkit/storage/sqlstore/sqlstoretest"
)

// TestUserNameEquality runs the userName equality checks (trim, NFC, case
// folding; README "userName equality") on the memory store; the SQL stores
// run the same checks from their sqlstoretest suites.
func TestUserNameEquality(t *testing.T) {
	sqlstoretest.NameEquality(t, memory.New())
}

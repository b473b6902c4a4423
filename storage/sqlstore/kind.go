package sqlstore

import (
	"strings"

	"github.com/scimkit/scimkit/storage"
)

// kindLit is kind as an SQL string literal, written into a list query's
// text rather than bound. With a bound kind, SQLite's planner compares
// the value with the constant of the seat index's WHERE clause (kind =
// 'User') while planning a membership lookup, which ties the compiled
// statement to the value, so SQLite recompiled it on every execution.
// A literal compiles once per kind. Kinds are a fixed set ("User",
// "Group"); quotes are doubled all the same.
func kindLit(kind storage.Kind) string {
	switch kind {
	case storage.KindUser:
		return "'User'"
	case storage.KindGroup:
		return "'Group'"
	}
	return "'" + strings.ReplaceAll(string(kind), "'", "''") + "'"
}

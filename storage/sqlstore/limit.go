package sqlstore

// limitWriter is a Dialect that writes the bound LIMIT and OFFSET of a
// statement its own way. SQLite's planner reads a bare bound LIMIT's
// value, which ties the compiled statement to it: the next execution with
// another value recompiles the statement (SQLITE_SCHEMA-style reprepare),
// which cost about as much as the query itself.
type limitWriter interface {
	// Limit is the LIMIT clause with one bound parameter.
	Limit() string
	// Offset is the OFFSET clause with one bound parameter.
	Offset() string
}

// limit is " LIMIT ?" in the dialect's form.
func (s *Store) limit() string {
	if l, ok := s.d.(limitWriter); ok {
		return " " + l.Limit()
	}
	return " LIMIT ?"
}

// offset is " OFFSET ?" in the dialect's form.
func (s *Store) offset() string {
	if l, ok := s.d.(limitWriter); ok {
		return " " + l.Offset()
	}
	return " OFFSET ?"
}

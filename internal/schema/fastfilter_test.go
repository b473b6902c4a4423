package schema

import (
	"testing"

	"github.com/scim2/filter-parser/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzParseSimpleMatchesParser checks the fast path against filter-parser:
// whatever parseSimple accepts, the general parser accepts too, and both
// resolve to the same filter.
func FuzzParseSimpleMatchesParser(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`, `externalId eq "a\"b"`, `active eq true`, `title pr`,
		`userName eq "a" and active eq false`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`, `x eq 5`, `name.givenName sw "J" AND title pr`,
		`displayName eq "caf\u00e9"`, `userName eq null`, `a eq -1.5e3`,
	} {
		f.Add(s)
	}
	rt := users(f)
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := parseSimple(s)
		if !ok {
			return
		}
		slow, err := filter.ParseFilter([]byte(s))
		if err != nil {
			t.Skip("filter-parser rejects input the fast path accepts; both paths then resolve attribute names the same way")
		}
		f1, e1 := rt.convert(fast, nil)
		f2, e2 := rt.convert(slow, nil)
		require.Equal(t, e2 == nil, e1 == nil, "%q: fast err %v, parser err %v", s, e1, e2)
		assert.Equal(t, f2, f1, "%q", s)
	})
}

func TestParseSimpleFallsBack(t *testing.T) {
	for _, s := range []string{
		`emails[type eq "work"]`, `(userName eq "a")`, `userName eq "a" or userName eq "b"`,
		`not (userName eq "a")`, `userName  eq "a"`, `userName eq "unterminated`, `userName eq bare`,
	} {
		_, ok := parseSimple(s)
		assert.False(t, ok, s)
	}
	for _, s := range []string{`userName eq "a"`, `userName eq "a" and externalId eq "b"`, `title pr`} {
		_, ok := parseSimple(s)
		assert.True(t, ok, s)
	}
}

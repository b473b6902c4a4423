package schema

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/scim2/filter-parser/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// Paths as RFC 7643's User schema defines them, written out by hand.
var (
	tUserName    = storage.AttrPath{Name: "userName", Type: storage.TypeString}
	tDisplayName = storage.AttrPath{Name: "displayName", Type: storage.TypeString}
	tTitle       = storage.AttrPath{Name: "title", Type: storage.TypeString}
	tName        = storage.AttrPath{Name: "name", Type: storage.TypeComplex}
	// A complex attribute's own path carries its "value"'s type.
	tEmails       = storage.AttrPath{Name: "emails", Type: storage.TypeString, MultiValued: true}
	tEmailsValue  = storage.AttrPath{Name: "emails", Sub: "value", Type: storage.TypeString, MultiValued: true}
	tEmailsType   = storage.AttrPath{Name: "emails", Sub: "type", Type: storage.TypeString, MultiValued: true}
	tEmailsPrim   = storage.AttrPath{Name: "emails", Sub: "primary", Type: storage.TypeBoolean, MultiValued: true}
	tRolesPrimary = storage.AttrPath{Name: "roles", Sub: "primary", Type: storage.TypeBoolean, MultiValued: true}
	tActive       = storage.AttrPath{Name: "active", Type: storage.TypeBoolean}
	tCreated      = storage.AttrPath{Name: "meta", Sub: "created", Type: storage.TypeDateTime}
	tEmployeeNo   = storage.AttrPath{Schema: EnterpriseUserURN, Name: "employeeNumber", Type: storage.TypeString}
)

func cmp(p storage.AttrPath, op storage.Operator, v any) storage.Compare {
	return storage.Compare{Path: p, Op: op, Value: v}
}

func TestFilterGrammar(t *testing.T) {
	rt := users(t)
	tests := []struct {
		name, filter string
		want         storage.Filter
	}{
		{"operators and attribute names are case-insensitive", `USERNAME EQ "a" AND Title Pr`,
			storage.And{Left: cmp(tUserName, storage.OpEq, "a"), Right: cmp(tTitle, storage.OpPresent, nil)}},
		{"and binds tighter than or", `title pr or userName eq "a" and active eq true`,
			storage.Or{Left: cmp(tTitle, storage.OpPresent, nil), Right: storage.And{Left: cmp(tUserName, storage.OpEq, "a"), Right: cmp(tActive, storage.OpEq, true)}}},
		{"parentheses group", `(title pr or userName eq "a") and active eq true`,
			storage.And{Left: storage.Or{Left: cmp(tTitle, storage.OpPresent, nil), Right: cmp(tUserName, storage.OpEq, "a")}, Right: cmp(tActive, storage.OpEq, true)}},
		{"not", `not (title pr)`, storage.Not{X: cmp(tTitle, storage.OpPresent, nil)}},
		{"not without a space", `not(title pr)`, storage.Not{X: cmp(tTitle, storage.OpPresent, nil)}},
		{"extra spaces", `  title   pr  and ( userName  eq  "a" )  `,
			storage.And{Left: cmp(tTitle, storage.OpPresent, nil), Right: cmp(tUserName, storage.OpEq, "a")}},
		{"URN-qualified core attribute", `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`, cmp(tUserName, storage.OpEq, "a")},
		{"URN-qualified extension attribute, mixed case", `URN:ietf:params:scim:schemas:extension:enterprise:2.0:User:EMPLOYEENUMBER eq "7"`,
			cmp(tEmployeeNo, storage.OpEq, "7")},
		{"value filter with three comparisons", `emails[type eq "work" and value co "@x" and primary eq true]`,
			storage.ValuePath{Path: tEmails, Filter: storage.And{Left: cmp(tEmailsType, storage.OpEq, "work"),
				Right: storage.And{Left: cmp(tEmailsValue, storage.OpCo, "@x"), Right: cmp(tEmailsPrim, storage.OpEq, true)}}}},
		{"parentheses inside a value filter", `emails[(type eq "work" or type eq "home")]`,
			storage.ValuePath{Path: tEmails, Filter: storage.Or{Left: cmp(tEmailsType, storage.OpEq, "work"), Right: cmp(tEmailsType, storage.OpEq, "home")}}},
		{"not mixed with or inside a value filter", `emails[value pr or not (value sw "1b")]`,
			storage.ValuePath{Path: tEmails, Filter: storage.Or{Left: cmp(tEmailsValue, storage.OpPresent, nil), Right: storage.Not{X: cmp(tEmailsValue, storage.OpSw, "1b")}}}},
		{"Entra's value path with a sub-attribute inside a compound filter", `title pr and emails[type eq "work"].value eq "x"`,
			storage.And{Left: cmp(tTitle, storage.OpPresent, nil), Right: storage.ValuePath{Path: tEmails,
				Filter: storage.And{Left: cmp(tEmailsType, storage.OpEq, "work"), Right: cmp(tEmailsValue, storage.OpEq, "x")}}}},
		{"Entra's value path inside not", `not (emails[type eq "work"].value eq "x")`,
			storage.Not{X: storage.ValuePath{Path: tEmails, Filter: storage.And{Left: cmp(tEmailsType, storage.OpEq, "work"), Right: cmp(tEmailsValue, storage.OpEq, "x")}}}},
		{"complex attribute present", `name pr`, cmp(tName, storage.OpPresent, nil)},
		{"meta present", `meta pr`, cmp(storage.AttrPath{Name: "meta", Type: storage.TypeComplex}, storage.OpPresent, nil)},
		{"value path on a single-valued complex attribute", `name[givenName sw "J" and not (familyName pr)]`,
			storage.ValuePath{Path: tName, Filter: storage.And{
				Left:  cmp(storage.AttrPath{Name: "name", Sub: "givenName", Type: storage.TypeString}, storage.OpSw, "J"),
				Right: storage.Not{X: cmp(storage.AttrPath{Name: "name", Sub: "familyName", Type: storage.TypeString}, storage.OpPresent, nil)}}}},
		{"string boolean in a value filter", `emails[primary eq "True"]`,
			storage.ValuePath{Path: tEmails, Filter: cmp(tEmailsPrim, storage.OpEq, true)}},
		{"string boolean, any case", `active ne "fALSE"`, cmp(tActive, storage.OpNe, false)},
		{"boolean literal, any case", `active eq TRUE`, cmp(tActive, storage.OpEq, true)},
		{"null", `title eq null`, cmp(tTitle, storage.OpEq, nil)},
		{"JSON number", `title pr or active eq true`, storage.Or{Left: cmp(tTitle, storage.OpPresent, nil), Right: cmp(tActive, storage.OpEq, true)}},
		{"backslash escape", `title eq "CORP\\tom"`, cmp(tTitle, storage.OpEq, `CORP\tom`)},
		{"control escapes", `title eq "\n\r\b\f\t\/\""`, cmp(tTitle, storage.OpEq, "\n\r\b\f\t/\"")},
		{"unicode escape", `title eq "caf\u00e9\u005c"`, cmp(tTitle, storage.OpEq, `café\`)},
		{"surrogate pair", `title eq "\ud83d\ude00"`, cmp(tTitle, storage.OpEq, "😀")},
		{"raw UTF-8", `title eq "Zürich"`, cmp(tTitle, storage.OpEq, "Zürich")},
		{"escape inside a value filter", `emails[value eq "\u00e9"]`, storage.ValuePath{Path: tEmails, Filter: cmp(tEmailsValue, storage.OpEq, "é")}},
		{"escape inside not", `not (title eq "\u00e9")`, storage.Not{X: cmp(tTitle, storage.OpEq, "é")}},
		{"brackets and parentheses inside a string", `title eq "a]b) or (c[" and title pr`,
			storage.And{Left: cmp(tTitle, storage.OpEq, "a]b) or (c["), Right: cmp(tTitle, storage.OpPresent, nil)}},
		{"keywords inside a string", `title eq "x and y"`, cmp(tTitle, storage.OpEq, "x and y")},
		{"dateTime with a lower-case t and z", `meta.created lt "9999-12-31t23:59:59z"`, cmp(tCreated, storage.OpLt, "9999-12-31T23:59:59Z")},
		{"dateTime with an offset keeps its instant", `meta.created ge "0001-01-01T00:00:00+14:00"`, cmp(tCreated, storage.OpGe, "0001-01-01T00:00:00+14:00")},
		{"dateTime substring tests stay text", `meta.created sw "2024-"`, cmp(tCreated, storage.OpSw, "2024-")},
		{"roles primary", `roles[primary eq "False"]`, storage.ValuePath{Path: storage.AttrPath{Name: "roles", Type: storage.TypeString, MultiValued: true},
			Filter: cmp(tRolesPrimary, storage.OpEq, false)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := rt.parseFilter(tc.filter, nil, Options{})
			require.NoError(t, err)
			assert.Equal(t, tc.want, f)
		})
	}
	t.Run("a long chain is a balanced tree", func(t *testing.T) {
		f, err := rt.parseFilter(strings.Repeat(`title pr or `, 63)+`title pr`, nil, Options{})
		require.NoError(t, err)
		assert.Equal(t, 7, depth(f))
	})
}

func depth(f storage.Filter) int {
	switch f := f.(type) {
	case storage.And:
		return 1 + max(depth(f.Left), depth(f.Right))
	case storage.Or:
		return 1 + max(depth(f.Left), depth(f.Right))
	case storage.Not:
		return 1 + depth(f.X)
	case storage.ValuePath:
		return 1 + depth(f.Filter)
	}
	return 1
}

func TestFilterGrammarErrors(t *testing.T) {
	rt := users(t)
	for _, s := range []string{
		``, `title`, `title pr and`, `(title pr`, `title pr)`, `not title pr`, `title eq`, `title eq bare`,
		`title eq "unterminated`, `title eq "bad \x escape"`, `title eq "bad \u12 escape"`, "title eq \"raw\ttab\"",
		`title eq 01`, `title eq 1.`, `title eq -`, `title eq 1e999`, `titleeq "a"`, `title eq"a"`, `title xx "a"`,
		`emails[type eq "work"`, `emails[type eq "work"]]`, `emails[emails[type eq "a"]]`, `emails[type eq "a"].`,
		`emails[bogus eq "a"]`, `emails[type.x eq "a"]`, `title[value eq "a"]`, `name.givenName[value eq "a"]`, `meta[created pr]`, `meta eq "x"`, `meta.location pr`,
		`name eq "a"`, `active eq "yes"`, `meta.created gt "2024-13-01T00:00:00Z"`, `meta.created gt "yesterday"`,
		`meta.created gt "2024-01-01T00:00:00"`, `meta.created gt "2024-01-01T00:00:00+24:00"`, `meta.created gt "2024-01-01 00:00:00Z"`,
		`title pr or`, `title pr andtitle pr`, `title pr or or title pr`,
		strings.Repeat("(", MaxFilterDepth+1) + "title pr" + strings.Repeat(")", MaxFilterDepth+1),
		strings.Repeat("not (", MaxFilterDepth+1) + "title pr" + strings.Repeat(")", MaxFilterDepth+1),
		strings.Repeat("x", MaxFilterLength+1),
	} {
		_, _, err := rt.ParseFilter(s, Options{})
		requireScimType(t, err, "invalidFilter")
	}
	t.Run("strict booleans reject string booleans", func(t *testing.T) {
		_, _, err := rt.ParseFilter(`emails[primary eq "True"]`, Options{StrictBooleans: true})
		requireScimType(t, err, "invalidFilter")
	})
	t.Run("64 levels are fine", func(t *testing.T) {
		_, _, err := rt.ParseFilter(strings.Repeat("(", MaxFilterDepth)+"title pr"+strings.Repeat(")", MaxFilterDepth), Options{})
		require.NoError(t, err)
	})
	t.Run("a PATCH value filter error is invalidPath", func(t *testing.T) {
		_, err := rt.ParseValueFilter(`type eq`, nil, rt.Core.Attr("emails"), Options{})
		requireScimType(t, err, "invalidPath")
	})
}

func TestParseDateTime(t *testing.T) {
	bad := time.Unix(0, 0) // marks an invalid input
	tests := []struct {
		in   string
		want time.Time // Unix epoch: invalid
	}{
		{"2024-03-01T12:00:00Z", time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"2024-03-01t12:00:00z", time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"2024-03-01T12:00:00.5+01:30", time.Date(2024, 3, 1, 10, 30, 0, 5e8, time.UTC)},
		{"2024-03-01T12:00:00.123456789123Z", time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC)},
		{"0001-01-01T00:00:00Z", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"9999-12-31T23:59:59-23:59", time.Date(10000, 1, 1, 23, 58, 59, 0, time.UTC)},
		{"2016-12-31T23:59:60Z", time.Date(2016, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{"2024-03-01T12:00:00", bad},
		{"2024-03-01T12:00:00,5Z", bad},
		{"2024-03-01T12:00:00.Z", bad},
		{"2024-03-01T12:00:00+2:00", bad},
		{"2024-03-01T12:00:00+14:60", bad},
		{"2024-02-30T12:00:00Z", bad},
		{"2024-03-01T24:00:00Z", bad},
		{"+2024-03-01T12:00:00Z", bad},
	}
	for _, tc := range tests {
		got, ok := parseDateTime(tc.in)
		require.Equal(t, !tc.want.Equal(bad), ok, tc.in)
		if ok {
			assert.True(t, tc.want.Equal(got), "%s: got %v", tc.in, got.UTC())
		}
	}
}

// FuzzFilterStrings checks string values against encoding/json: a filter
// value decodes as the same JSON string would.
func FuzzFilterStrings(f *testing.F) {
	for _, s := range []string{`"a"`, `"CORP\\tom"`, `"\u00e9"`, `"\ud83d\ude00"`, `"\ud800"`, `"é"`, "\"\xff\"", `"\"\/"`, `"\x"`} {
		f.Add(s)
	}
	rt := users(f)
	f.Fuzz(func(t *testing.T, lit string) {
		var want string
		jerr := json.Unmarshal([]byte(lit), &want)
		flt, err := rt.parseFilter(`title eq `+lit, nil, Options{})
		if jerr != nil || !strings.HasPrefix(lit, `"`) {
			if err == nil {
				// A valid filter whose value is not one JSON string
				// must be something else, e.g. `"a" or title pr`.
				_, isCompare := flt.(storage.Compare)
				assert.False(t, isCompare && strings.HasPrefix(lit, `"`) && strings.Count(lit, `"`) == 2, "%q accepted", lit)
			}
			return
		}
		require.NoError(t, err, "%q", lit)
		assert.Equal(t, cmp(tTitle, storage.OpEq, want), flt, "%q", lit)
	})
}

// FuzzFilterMatchesParser checks the parser against filter-parser, the
// general-purpose parser scimkit used before, on the inputs both accept:
// both must resolve to the same filter (up to how and/or chains
// associate).
func FuzzFilterMatchesParser(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`, `name.familyName co "O'Malley"`, `userName sw "J"`, `title pr`,
		`title pr and userType eq "Employee"`, `title pr or userType eq "Intern"`,
		`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`externalId eq "a\"b"`, `active eq true`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`, `name.givenName sw "J" AND title pr`, `userName eq null`,
		`title pr and active eq false or userName sw "a"`, `title pr or active eq false and userName sw "a"`,
		`x eq 5`, `not (userName eq "a")`,
	} {
		f.Add(s)
	}
	rt := users(f)
	f.Fuzz(func(t *testing.T, s string) {
		exp, err := filter.ParseFilter([]byte(s))
		if err != nil {
			return
		}
		want, werr := oracleConvert(rt, exp, nil)
		got, gerr := rt.parseFilter(s, nil, Options{})
		if werr != nil {
			return // filter-parser's reading does not resolve; ours may differ in why
		}
		require.NoError(t, gerr, "%q: filter-parser reads %v", s, exp)
		assert.Equal(t, flatten(want), flatten(got), "%q", s)
	})
}

// flatten rewrites nested And (Or) chains as one n-ary list, so trees
// that differ only in how they associate compare equal.
func flatten(f storage.Filter) any {
	type nary struct {
		Op    string
		Terms []any
	}
	var collect func(f storage.Filter, op string, out []any) []any
	collect = func(f storage.Filter, op string, out []any) []any {
		switch g := f.(type) {
		case storage.And:
			if op == "and" {
				return collect(g.Right, op, collect(g.Left, op, out))
			}
		case storage.Or:
			if op == "or" {
				return collect(g.Right, op, collect(g.Left, op, out))
			}
		}
		return append(out, flatten(f))
	}
	switch g := f.(type) {
	case storage.And:
		return nary{"and", collect(g, "and", nil)}
	case storage.Or:
		return nary{"or", collect(g, "or", nil)}
	case storage.Not:
		return nary{"not", []any{flatten(g.X)}}
	case storage.ValuePath:
		return nary{"[" + g.Path.String() + "]", []any{flatten(g.Filter)}}
	}
	return f
}

// oracleConvert turns filter-parser's syntax tree into a storage.Filter
// with the same resolution rules as the parser (compareAt).
func oracleConvert(rt *ResourceType, exp filter.Expression, sc *scope) (storage.Filter, error) {
	switch e := exp.(type) {
	case *filter.LogicalExpression:
		l, err := oracleConvert(rt, e.Left, sc)
		if err != nil {
			return nil, err
		}
		r, err := oracleConvert(rt, e.Right, sc)
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(string(e.Operator), "or") {
			return storage.Or{Left: l, Right: r}, nil
		}
		return storage.And{Left: l, Right: r}, nil
	case *filter.NotExpression:
		x, err := oracleConvert(rt, e.Expression, sc)
		if err != nil {
			return nil, err
		}
		return storage.Not{X: x}, nil
	case *filter.ValuePath:
		if sc != nil {
			return nil, errorf("invalidFilter", "nested")
		}
		ext, attr, sub, ok := rt.Resolve(e.AttributePath.String())
		if !ok || sub != nil || !attr.IsComplex() || !attr.MultiValued {
			return nil, errorf("invalidFilter", "not multi-valued complex")
		}
		inner, err := oracleConvert(rt, e.ValueFilter, &scope{ext: ext, attr: attr})
		if err != nil {
			return nil, err
		}
		return storage.ValuePath{Path: Path(ext, attr, nil), Filter: inner}, nil
	case *filter.AttributeExpression:
		var v any
		switch x := e.CompareValue.(type) {
		case nil, bool, float64:
			v = x
		case int:
			v = float64(x)
		case string:
			// filter-parser leaves JSON escapes in.
			if err := json.Unmarshal([]byte(`"`+x+`"`), &v); err != nil {
				return nil, err
			}
		default:
			return nil, errorf("invalidFilter", "value")
		}
		c, err := rt.compareAt(e.AttributePath.String(), storage.Operator(strings.ToLower(string(e.Operator))), v, sc, Options{})
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	return nil, errorf("invalidFilter", "unsupported")
}

func BenchmarkParseFilter(b *testing.B) {
	rt := users(b)
	for _, s := range []string{
		`userName eq "bjensen@example.com"`, `externalId eq "a1b2" and userName eq "x"`,
		`emails[type eq "work" and value eq "x@y.z"]`, `userName eq "CORP\\tom"`, `emails[type eq "work"].value eq "x@y.z"`,
	} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := rt.ParseFilter(s, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

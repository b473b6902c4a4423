package schema

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMarshalMatchesEncodingJSON checks Marshal against its reference,
// encoding/json with SetEscapeHTML(false) (marshalSlow), byte for byte.
func TestMarshalMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"empty map", map[string]any{}},
		{"nil map", map[string]any(nil)},
		{"nil slice", []any(nil)},
		{"keys sorted bytewise", map[string]any{"b": 1.0, "B": 2.0, "a": true, "é": false, "_": nil, "": "x"}},
		{"HTML is not escaped", "R&D <b>"},
		{"control characters", "a\x00b\x01\b\f\n\r\t\x1f\x7f\"\\"},
		{"invalid UTF-8", "a\xffb\xc3"},
		{"line and paragraph separators", "x\u2028y\u2029z"},
		{"non-ASCII", "Zoë 日本 🎉"},
		{"floats", []any{0.0, math.Copysign(0, -1), 1.0, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, 5e-324, math.MaxFloat64, 0.1}},
		{"ints", []any{0, -7, int64(math.MaxInt64), int64(math.MinInt64)}},
		{"nested", map[string]any{"emails": []any{map[string]any{"value": "a@b", "primary": true}}, "name": map[string]any{"givenName": "A"}}},
		{"json.Number takes the slow path", map[string]any{"n": json.Number("12.50")}},
		{"other types take the slow path", map[string]any{"s": []string{"a"}, "m": map[string]string{"k": "v"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, werr := marshalSlow(tc.v)
			got, err := Marshal(tc.v)
			require.Equal(t, werr, err)
			assert.Equal(t, string(want), string(got))
		})
	}
	for _, v := range []any{math.NaN(), math.Inf(1), map[string]any{"x": math.Inf(-1)}} {
		_, err := Marshal(v)
		require.Error(t, err, "%v", v)
	}
}

// TestMarshalRandom compares Marshal with encoding/json on random
// documents.
func TestMarshalRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		v := randomValue(r, 0)
		want, werr := marshalSlow(v)
		got, err := Marshal(v)
		require.Equal(t, werr, err, "case %d", i)
		require.Equal(t, string(want), string(got), "case %d", i)
	}
}

func randomValue(r *rand.Rand, depth int) any {
	n := 7
	if depth > 4 {
		n = 4
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return randomString(r)
	case 3:
		switch r.IntN(4) {
		case 0:
			return float64(r.IntN(2000) - 1000)
		case 1:
			return r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30))
		case 2:
			return math.Float64frombits(r.Uint64())
		}
		return r.Float64()
	case 4, 5:
		m := map[string]any{}
		for range r.IntN(6) {
			m[randomString(r)] = randomValue(r, depth+1)
		}
		return m
	}
	s := make([]any, r.IntN(5))
	for i := range s {
		s[i] = randomValue(r, depth+1)
	}
	return s
}

func randomString(r *rand.Rand) string {
	pieces := []string{"a", "Z", "é", "\u2028", "\u2029", "\xff", "\xe2\x80", "\x00", "\n", "\"", "\\", "<", "&", "🎉", "\x7f", " ", "\t", "\x1b"}
	var sb strings.Builder
	for range r.IntN(8) {
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

// FuzzMarshal: any JSON document, decoded as the server decodes request
// bodies, encodes as encoding/json encodes it.
func FuzzMarshal(f *testing.F) {
	for _, s := range []string{`{"userName":"a","emails":[{"value":"x","primary":true}],"n":1e21}`, `[1,"\u2028",null]`, `"\ud800"`, `{"a":{"b":{"c":[]}}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		want, werr := marshalSlow(v)
		got, err := Marshal(v)
		require.Equal(t, werr, err)
		require.Equal(t, string(want), string(got))
	})
}

package memory

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPackRoundTrip(t *testing.T) {
	entra := `{"active":true,"displayName":"Ann Lee","emails":[{"primary":true,"type":"work","value":"ann@x.test"}],"externalId":"e1","name":{"familyName":"Lee","formatted":"Ann Lee","givenName":"Ann"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","employeeNumber":"E1","manager":{"value":"m1"}},"userName":"ann@x.test"}`
	tests := []struct {
		name, data string
		maxPacked  int
	}{
		{"Entra user packs to under half", entra, len(entra) / 2},
		{"fragments inside string values are kept", `{"title":"\"userName\":\"","x":"\"value\":\""}`, 100},
		{"whitespace and unicode survive", "{ \"a\" :\t\"é\\u0001\",\n\"b\":[1,2]}", 100},
		{"empty object", `{}`, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pack([]byte(tc.data))
			require.NoError(t, err)
			assert.LessOrEqual(t, len(p), tc.maxPacked)
			assert.Equal(t, tc.data, string(unpack(p)))
		})
	}
	for _, bad := range []string{`[1]`, `"s"`, "{\"a\":\"\x01\"}", "\x00{}"} {
		_, err := pack([]byte(bad))
		assert.ErrorIs(t, err, errNotObject, "%q", bad)
	}
}

// No fragment may be a prefix of another (so the first match is the only
// one) or hold a control byte.
func TestFragmentsArePrefixFreeAndClean(t *testing.T) {
	require.Len(t, codes, len(fragments))
	for i, f := range fragments {
		for j, g := range fragments {
			assert.False(t, i != j && strings.HasPrefix(g, f), "%q is a prefix of %q", f, g)
		}
		for _, c := range []byte(f) {
			assert.GreaterOrEqual(t, c, byte(0x20), "fragment %q holds a control byte", f)
		}
	}
}

func FuzzPack(f *testing.F) {
	f.Add([]byte(`{"userName":"a","emails":[{"type":"work","value":"x"}]}`))
	f.Add([]byte(`{"title":"\"name\":{"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := pack(data)
		if err != nil {
			return
		}
		require.Equal(t, string(data), string(unpack(p)))
		if json.Valid(data) {
			require.True(t, json.Valid(unpack(p)))
		}
	})
}

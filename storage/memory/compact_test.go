package memory

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPackRoundTrip(t *testing.T) {
	entra := `{"active":true,"displayName":"Ann Lee","emails":[{"primary":true,"type":"work","value":"ann@x.test"}],"externalId":"e1","name":{"familyName":"Lee","formatted":"Ann Lee","givenName":"Ann"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","employeeNumber":"E1","manager":{"value":"m1"}},"userName":"ann@x.test"}`
	tests := []struct {
		name, data, userName, ext string
		maxPacked                 int
	}{
		{"Entra user packs to under 40%", entra, "ann@x.test", "e1", len(entra) * 2 / 5},
		{"fragments inside string values are kept", `{"title":"\"userName\":\"","x":"\"value\":\""}`, "", "", 100},
		{"whitespace and unicode survive", "{ \"a\" :\t\"é\\u0001\",\n\"b\":[1,2]}", "", "", 100},
		{"references inside longer strings and escapes", `{"a":"ann@x.test","b":"x\"ann@x.test\"","c":"ann@x.testy","d":"e1"}`, "ann@x.test", "e1", 100},
		{"empty object", `{}`, "n", "e", 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pack([]byte(tc.data), tc.userName, tc.ext)
			require.NoError(t, err)
			assert.LessOrEqual(t, len(p), tc.maxPacked)
			assert.Equal(t, tc.data, string(unpack(p, tc.userName, tc.ext)))
		})
	}
	for _, bad := range []string{`[1]`, `"s"`, "{\"a\":\"\x01\"}", "\x00{}"} {
		_, err := pack([]byte(bad), "", "")
		assert.ErrorIs(t, err, errNotObject, "%q", bad)
	}
}

// No fragment may be a prefix of another (so the first match is the only
// one) or hold a control byte.
func TestFragmentsArePrefixFreeAndClean(t *testing.T) {
	require.Len(t, codes, len(fragments))
	assert.NotContains(t, codes[:], byte(refName))
	assert.NotContains(t, codes[:], byte(refExternal))
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
	f.Add([]byte(`{"userName":"a","emails":[{"type":"work","value":"a"}]}`), "a", "x")
	f.Add([]byte(`{"title":"\"name\":{"}`), "", "")
	f.Add([]byte(`{"externalId":"x","a":"\"x\""}`), "x", "x")
	f.Fuzz(func(t *testing.T, data []byte, name, ext string) {
		p, err := pack(data, name, ext)
		if err != nil {
			return
		}
		require.Equal(t, string(data), string(unpack(p, name, ext)))
	})
}

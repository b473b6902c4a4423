package scimkit

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/internal/schema"
)

func FuzzBufStr(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uote\back`, "tab\tnl\nnul\x00", "R&D <b>", "é€😀", "bad\xffutf8", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b buf
		b.str(s)
		want, err := schema.Marshal(s)
		require.NoError(t, err)
		var got, exp string
		require.NoError(t, json.Unmarshal(b.Bytes(), &got), "%q -> %s", s, b.Bytes())
		require.NoError(t, json.Unmarshal(want, &exp))
		assert.Equal(t, exp, got, "%q", s)
	})
}

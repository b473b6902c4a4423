package scimkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/internal/schema"
	"github.com/scimkit/scimkit/provisioning"
)

// refActive and refChanges are dataActive and changes by encoding/json
// alone: the reference the scanner must match.
func refActive(data []byte) bool {
	var v struct {
		Active *bool `json:"active"`
	}
	if json.Unmarshal(data, &v) != nil || v.Active == nil {
		return true
	}
	return *v.Active
}

func refChanges(before, after []byte) []provisioning.Change {
	var b, a map[string]json.RawMessage
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(after, &a)
	var out []provisioning.Change
	add := func(k string, x, y json.RawMessage) {
		c := provisioning.Change{Attribute: k, Before: x, After: y}
		if len(x) > provisioning.MaxChangeValue || len(y) > provisioning.MaxChangeValue {
			c.Before, c.After, c.Truncated = nil, nil, true
		}
		out = append(out, c)
	}
	for k, x := range b {
		if y, ok := a[k]; !ok || !bytes.Equal(x, y) {
			add(k, x, y)
		}
	}
	for k, y := range a {
		if _, ok := b[k]; !ok {
			add(k, nil, y)
		}
	}
	slices.SortFunc(out, func(x, y provisioning.Change) int { return cmpString(x.Attribute, y.Attribute) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var scanCases = []string{
	``, `null`, `[]`, `"x"`, `{}`, ` { } `, `{`, `{"a":}`, `{"a" 1}`, `{"a":1,}`, `{"a":1}x`, `{"a":[1,2}`,
	`{"active":true}`, `{"active":false}`, `{"active":null}`, `{"active":"false"}`, `{"active":0}`,
	`{"Active":false}`, `{"ACTIVE":false,"x":1}`, `{"active":false,"active":true}`, `{"active":true,"active":false}`,
	`{"active":"x","active":false}`, `{"act\u0069ve":false}`, `{"a\"b":1,"active":false}`,
	`{"userName":"a}\"{b","active":false,"emails":[{"value":"x]","primary":true}],"name":{"givenName":"G"}}`,
	"{\n \"active\" : false ,\n \"n\" : [ 1 , 2 ] \n}", `{"a":1,"a":2}`, `{"a":{"b":{"c":[[[]]]}}}`,
	`{"x":tru}`, `{"x":-1.5e3}`, `{"a":[1,tru]}`, "{\"a\":\"\x01\"}", `{"a":"\q"}`, `{"a":"\u12g4"}`, `{"a":01}`, `{"a":1.}`,
	`{"a":-}`, `{"a":1e}`, `{"a":{"b" 1}}`, `{"a":[1 2]}`, `{"a":[1,]}`, `{"a":{"b":1,}}`, `{"a":"\u00e9\n"}`, "{\"a\xff\":1}", `{"big":"` + string(bytes.Repeat([]byte("y"), provisioning.MaxChangeValue)) + `"}`,
}

// TestScanActive: the scanner reads the active flag as encoding/json does.
func TestScanActive(t *testing.T) {
	for _, c := range scanCases {
		t.Run(c, func(t *testing.T) {
			assert.Equal(t, refActive([]byte(c)), dataActive([]byte(c)))
			assert.Equal(t, refActive([]byte(c)), docActive([]byte(c)))
		})
	}
}

// TestScanChanges: the scanner finds the changed attributes as
// encoding/json does, on hand-made pairs and on random documents.
func TestScanChanges(t *testing.T) {
	for _, b := range scanCases {
		for _, a := range scanCases {
			require.Equal(t, refChanges([]byte(b), []byte(a)), changes([]byte(b), []byte(a)), "before %s after %s", b, a)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	doc := func() []byte {
		m := map[string]any{}
		for range r.IntN(8) {
			k := []string{"active", "userName", "name", "emails", "a]b", "é", "x"}[r.IntN(7)]
			switch r.IntN(4) {
			case 0:
				m[k] = r.IntN(2) == 0
			case 1:
				m[k] = fmt.Sprint(r.IntN(3), "}\"]")
			case 2:
				m[k] = []any{map[string]any{"value": fmt.Sprint(r.IntN(3))}}
			default:
				m[k] = map[string]any{"givenName": fmt.Sprint(r.IntN(2))}
			}
		}
		out, err := schema.Marshal(m)
		require.NoError(t, err)
		return out
	}
	for range 3000 {
		b, a := doc(), doc()
		require.Equal(t, refChanges(b, a), changes(b, a), "before %s after %s", b, a)
		require.Equal(t, refActive(a), dataActive(a), "%s", a)
		_, ok := scanChanges(b, a) // stored documents take the fast path
		require.True(t, ok, "before %s after %s", b, a)
	}
}

// FuzzScanChanges: on any pair of documents the scanner agrees with
// encoding/json.
func FuzzScanChanges(f *testing.F) {
	for i, c := range scanCases {
		f.Add([]byte(c), []byte(scanCases[(i+1)%len(scanCases)]))
	}
	f.Fuzz(func(t *testing.T, b, a []byte) {
		require.Equal(t, refChanges(b, a), changes(b, a))
		require.Equal(t, refActive(a), dataActive(a))
	})
}

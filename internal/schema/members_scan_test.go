package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// refDecodeMembers is decodeMembers by encoding/json alone.
func refDecodeMembers(raw json.RawMessage) ([]storage.Member, error) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, nil
	}
	var list []memberJSON
	var err error
	if len(raw) > 0 && raw[0] == '{' {
		list = make([]memberJSON, 1)
		err = json.Unmarshal(raw, &list[0])
	} else {
		err = json.Unmarshal(raw, &list)
	}
	if err != nil {
		return nil, errorf("invalidValue", "members must be a list of objects with a string value (the member's id)")
	}
	out := make([]storage.Member, len(list))
	for i, m := range list {
		if m.Value == "" {
			return nil, errorf("invalidValue", "each member needs a string value (the member's id)")
		}
		out[i] = storage.Member{Value: m.Value, Display: m.Display}
	}
	return out, nil
}

var memberCases = []string{
	`[]`, ` [ ] `, `[{"value":"a"}]`, `[{"value":"a","display":"A"},{"display":"B","value":"b"}]`, `[{"value":"a"},]`,
	`[{"value":""}]`, `[{}]`, `[null]`, `["a"]`, `[{"value":1}]`, `[{"value":null}]`, `[{"Value":"a"}]`, `[{"value":"a","$ref":"x"}]`,
	`[{"value":"a\u00e9"}]`, `[{"value":"a\"b"}]`, "[{\"value\":\"a\xffb\"}]", `[{"value":"a","value":"b"}]`, `{"value":"a"}`,
	"[ {\n\"value\" : \"a\" } , { \"value\":\"b\" } ]", `[{"value":"a"}`, `[{"value":"a"}]x`, `[{"value":"a",}]`, `[{"value" "a"}]`,
	`[{"value":"a"}{"value":"b"}]`, `[[]]`, `[{"value":"a","type":"User"}]`, `[{"display":"only"}]`,
}

// TestScanMembers: the member scanner decodes as encoding/json does.
func TestScanMembers(t *testing.T) {
	check := func(raw string) {
		want, werr := refDecodeMembers(json.RawMessage(raw))
		got, err := decodeMembers(json.RawMessage(raw))
		require.Equal(t, werr, err, "%s", raw)
		require.Equal(t, want, got, "%s", raw)
	}
	for _, c := range memberCases {
		check(c)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 3000 {
		var sb strings.Builder
		sb.WriteString("[")
		for i := range r.IntN(5) {
			if i > 0 {
				sb.WriteString([]string{",", " , ", ",\n"}[r.IntN(3)])
			}
			fmt.Fprintf(&sb, `{"value":%q`, []string{"a", "", "é", "x y"}[r.IntN(4)])
			if r.IntN(2) == 0 {
				fmt.Fprintf(&sb, `,"display":%q`, []string{"A", "", "<b>"}[r.IntN(3)])
			}
			sb.WriteString("}")
		}
		sb.WriteString("]")
		check(sb.String())
		_, ok := scanMembers([]byte(sb.String()))
		require.True(t, ok, sb.String()) // IdP batches take the fast path
	}
}

// FuzzScanMembers: on any input the member scanner agrees with
// encoding/json.
func FuzzScanMembers(f *testing.F) {
	for _, c := range memberCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		want, werr := refDecodeMembers(json.RawMessage(raw))
		got, err := decodeMembers(json.RawMessage(raw))
		require.Equal(t, werr, err)
		require.Equal(t, want, got)
	})
}

package provisioning

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRecordMatchesJSON: Record's own encoder writes what json.Marshal
// writes, byte for byte, and hands over what it does not handle.
func TestRecordMatchesJSON(t *testing.T) {
	raws := []string{"", `{"userName":"a@b","active":true}`, `"R&D"`, `{"a":"x\u2028y"}`, "{\"a\":\"x\xe2\x80\xa8y\"}",
		`{"a": 1}`, `[1,2,{"b":null}]`, `{"a":tru}`, `{"a":"<b>"}`, `12.5e3`, `"\u00e9"`, `{"a":"é\n"}`, `{`, `{"a":"\x01"}`}
	strs := []string{"", "a@b.test", "R&D <x>", "x\u2028y", "bad\xff", "tab\there", `q"uote\`, "Zoë"}
	r := rand.New(rand.NewPCG(5, 6))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	for i := range 5000 {
		e := Event{ID: "id", Type: Updated, Name: pick(strs), ExternalID: pick(strs), Active: r.IntN(2) == 0}
		if raw := pick(raws); raw != "" {
			e.Resource = json.RawMessage(raw)
		}
		for range r.IntN(3) {
			c := Change{Attribute: pick(strs), Truncated: r.IntN(4) == 0}
			if raw := pick(raws); raw != "" {
				c.Before = json.RawMessage(raw)
			}
			if raw := pick(raws); raw != "" {
				c.After = json.RawMessage(raw)
			}
			e.Changes = append(e.Changes, c)
		}
		for range r.IntN(3) {
			e.Added = append(e.Added, pick(strs))
		}
		for range r.IntN(2) {
			e.Removed = append(e.Removed, pick(strs))
		}
		if r.IntN(10) == 0 {
			e.Until = time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
		}
		want, werr := json.Marshal(e)
		got, err := Record(e)
		if werr != nil {
			require.Error(t, err, "case %d", i)
			continue
		}
		require.NoError(t, err, "case %d", i)
		require.Equal(t, string(want), string(got.Data), "case %d: %+v", i, e)
	}
	// The events a server writes take the fast path.
	e := Event{Name: "a@b", Active: true, Resource: json.RawMessage(`{"userName":"a@b","emails":[{"value":"a@b"}]}`),
		Changes: []Change{{Attribute: "displayName", Before: json.RawMessage(`"A"`), After: json.RawMessage(`"B"`)}}}
	_, ok := appendEvent(nil, &e)
	require.True(t, ok)
}

// FuzzRecord: for any name and raw resource, Record writes what
// json.Marshal writes.
func FuzzRecord(f *testing.F) {
	f.Add("a@b", []byte(`{"a":1}`))
	f.Add("R&D", []byte(`{"a": "<"}`))
	f.Fuzz(func(t *testing.T, name string, raw []byte) {
		e := Event{Name: name, Active: true, Resource: raw, Added: []string{name}, Changes: []Change{{Attribute: name, After: raw}}}
		want, werr := json.Marshal(e)
		got, err := Record(e)
		if werr != nil {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		require.Equal(t, string(want), string(got.Data), fmt.Sprintf("%q %q", name, strings.ToValidUTF8(string(raw), "?")))
	})
}

package schema

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// TestMultiValuedPatchIsLinear adds n values to an attribute holding n,
// half of them already there, then removes n values of which half exist,
// and applies a member delta of n removes and n adds of the same ids. At
// this size comparing each value with every other one (the former code,
// and members' former slice scans) takes tens of minutes; sets of
// canonical forms take seconds even under -race on a loaded machine.
func TestMultiValuedPatchIsLinear(t *testing.T) {
	const n = 20000
	emails := func(from, k int) json.RawMessage {
		var b strings.Builder
		b.WriteByte('[')
		for i := range k {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"value":"u%d@example.com","type":"work"}`, from+i)
		}
		b.WriteByte(']')
		return json.RawMessage(b.String())
	}
	rt := users(t)
	doc := map[string]any{"userName": "big"}
	start := time.Now()
	_, err := rt.ApplyPatch(doc, []PatchOp{
		{Op: "add", Path: "emails", Value: emails(0, n)},
		{Op: "add", Path: "emails", Value: emails(n/2, n)},
	}, Options{})
	require.NoError(t, err)
	list := doc["emails"].([]any)
	require.Len(t, list, n+n/2, "the union of [0,n) and [n/2,3n/2), each once")
	for i, el := range list {
		if v := el.(map[string]any)["value"]; v != fmt.Sprintf("u%d@example.com", i) {
			t.Fatalf("element %d is %v: order not kept", i, v)
		}
	}
	_, err = rt.ApplyPatch(doc, []PatchOp{{Op: "remove", Path: "emails", Value: emails(n, n)}}, Options{})
	require.NoError(t, err)
	assert.Len(t, doc["emails"], n)
	t.Logf("emails: %v", time.Since(start))

	ids := make([]string, n)
	var members strings.Builder
	members.WriteByte('[')
	for i := range ids {
		ids[i] = fmt.Sprint("m", i)
		if i > 0 {
			members.WriteByte(',')
		}
		fmt.Fprintf(&members, `{"value":%q}`, ids[i])
	}
	members.WriteByte(']')
	start2 := time.Now()
	mo, err := groups(t).ApplyPatch(map[string]any{"displayName": "g"}, []PatchOp{
		{Op: "remove", Path: "members", Value: json.RawMessage(members.String())},
		{Op: "add", Path: "members", Value: json.RawMessage(members.String())},
		{Op: "remove", Path: "members", Value: json.RawMessage(members.String())},
		{Op: "add", Path: "members", Value: json.RawMessage(members.String())},
	}, Options{})
	require.NoError(t, err)
	assert.Len(t, mo.Change.Add, n, "the last add wins")
	assert.Empty(t, mo.Change.Remove, "every remove was undone by a later add")
	assert.Equal(t, storage.Member{Value: "m0"}, mo.Change.Add[0])
	t.Logf("members: %v", time.Since(start2))
	assert.Less(t, time.Since(start), time.Minute, "linear work")
}

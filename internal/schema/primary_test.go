package schema

import (
	"encoding/json"
	"testing"

	escim "github.com/elimity-com/scim/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// TestPrimaryInExtension: the primary rule (RFC 7643 §2.4) holds for an
// extension's multi-valued attribute too (the public Extension type only
// makes simple attributes, so this is checked on a compiled schema).
func TestPrimaryInExtension(t *testing.T) {
	const urn = "urn:example:params:scim:schemas:extension:Badges:2.0:User"
	ext := escim.Schema{ID: urn, Attributes: []escim.CoreAttribute{
		escim.ComplexCoreAttribute(escim.ComplexParams{Name: "badges", MultiValued: true, SubAttributes: []escim.SimpleParams{
			escim.SimpleStringParams(escim.StringParams{Name: "value"}),
			escim.SimpleBooleanParams(escim.BooleanParams{Name: "primary"}),
		}}),
	}}
	rt := NewResourceType(storage.KindUser, "/Users", escim.CoreUserSchema(), ext)
	badges := func(doc map[string]any) any { return doc[urn].(map[string]any)["badges"] }

	var rep Report
	doc, err := rt.Normalize(decode(t, `{"userName":"a","`+urn+`":{"badges":[{"value":"x","primary":true},{"value":"y","primary":true}]}}`), Options{Report: &rep})
	require.NoError(t, err)
	assert.Equal(t, []any{map[string]any{"value": "x", "primary": true}, map[string]any{"value": "y", "primary": false}}, badges(doc), "the first primary of a body is kept")
	assert.Equal(t, []Note{{Kind: NotePrimary, Attr: urn + ":badges"}}, rep.Notes)

	var ops []PatchOp
	require.NoError(t, json.Unmarshal([]byte(`[{"op":"add","path":"`+urn+`:badges","value":[{"value":"z","primary":true}]}]`), &ops))
	_, err = rt.ApplyPatch(doc, ops, Options{})
	require.NoError(t, err)
	assert.Equal(t, []any{map[string]any{"value": "x", "primary": false}, map[string]any{"value": "y", "primary": false}, map[string]any{"value": "z", "primary": true}}, badges(doc), "a new primary wins")
}

// TestKeepOnePrimaryIsLinear: a PATCH on a long list does one pass, not
// one per element (a million-element list would take minutes if it were
// quadratic).
func TestKeepOnePrimaryIsLinear(t *testing.T) {
	list := make([]any, 100000)
	for i := range list {
		list[i] = map[string]any{"value": "v", "primary": true}
	}
	before := primaries(list[:len(list)/2])
	assert.Equal(t, len(list)/2-1, keepOnePrimary(list, before))
	n := 0
	for _, el := range list {
		if el.(map[string]any)["primary"] == true {
			n++
		}
	}
	assert.Equal(t, 1, n)
	assert.Equal(t, true, list[len(list)/2].(map[string]any)["primary"], "the first element the request made primary")
}

package jsonscan

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

var cases = []string{
	``, ` `, `{}`, `[]`, `[1,2]`, `{"a":1}`, `{"a":1,}`, `[1,]`, `{"a" 1}`, `{"a":}`, `"x`, `"\q"`, `"\u12G4"`, "\"\x01\"",
	`01`, `-`, `1.`, `1e`, `1e+5`, `-0.5E-3`, `tru`, `true`, `null`, `nul`, `{"a":[{"b":"}"}]}`, " {\n\"a\" : [ 1 , \"\\\"\" ] } ",
	`{"a":1}x`, `[[[[]]]]`, `{"a":{"b":{}}`, "\"\xff\"",
}

// TestValue: a whole text is one value exactly when json.Valid says so.
func TestValue(t *testing.T) {
	for _, c := range cases {
		i := SkipSpace([]byte(c), 0)
		end := Value([]byte(c), i)
		got := end >= 0 && SkipSpace([]byte(c), end) == len(c)
		assert.Equal(t, json.Valid([]byte(c)), got, "%q", c)
	}
}

// FuzzValue: the scanner agrees with json.Valid on any text.
func FuzzValue(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		end := Value(data, SkipSpace(data, 0))
		got := end >= 0 && SkipSpace(data, end) == len(data)
		if got != json.Valid(data) {
			t.Fatalf("%q: scanner says %v, json.Valid %v", data, got, !got)
		}
	})
}

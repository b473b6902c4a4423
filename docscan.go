package scimkit

import (
	"bytes"
	"unicode/utf8"

	"github.com/scimkit/scimkit/internal/jsonscan"
)

// The stored documents of resources are JSON objects written by
// schema.Marshal. Events read their top-level members (the active flag,
// which attributes changed) with the scanner below instead of decoding
// them whole; on anything it does not expect (a malformed document, an
// escaped key) it reports false and the caller decodes with
// encoding/json, so results never differ.

// topLevel calls f with each top-level member of the JSON object data, in
// order: its key (keys without escapes, in UTF-8, only) and its raw value. It returns false,
// possibly after some calls, when data is not an object it can split.
func topLevel(data []byte, f func(key, val []byte)) bool {
	i := jsonscan.SkipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = jsonscan.SkipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return jsonscan.SkipSpace(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return false
		}
		end := jsonscan.String(data, i)
		if end < 0 {
			return false
		}
		key := data[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) { // encoding/json would rewrite it
			return false
		}
		i = jsonscan.SkipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = jsonscan.SkipSpace(data, i+1)
		j := jsonscan.Value(data, i)
		if j < 0 {
			return false
		}
		f(key, data[i:j])
		i = jsonscan.SkipSpace(data, j)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = jsonscan.SkipSpace(data, i+1)
		case '}':
			return jsonscan.SkipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// asciiFoldEqual reports whether key equals the lower-case ASCII word w
// under ASCII case folding (the matching encoding/json gives a struct
// field named w that has no K or S in it).
func asciiFoldEqual(key []byte, w string) bool {
	if len(key) != len(w) {
		return false
	}
	for i := range key {
		c := key[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// scanActive reads the active flag of a stored document as decoding it
// into struct{ Active *bool `json:"active"` } does: true when absent,
// null or not a boolean; ok is false when the scanner cannot tell.
func scanActive(data []byte) (active, ok bool) {
	active, bad := true, false
	ok = topLevel(data, func(key, val []byte) {
		if !asciiFoldEqual(key, "active") {
			return
		}
		switch string(val) {
		case "true":
			active = true
		case "false":
			active = false
		case "null":
			active = true
		default:
			bad = true
		}
	})
	if bad {
		active = true
	}
	return active, ok
}

package scimkit

import (
	"bytes"
	"unicode/utf8"
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
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return false
		}
		end := skipString(data, i)
		if end < 0 {
			return false
		}
		key := data[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) { // encoding/json would rewrite it
			return false
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		j := skipValue(data, i)
		if j < 0 {
			return false
		}
		f(key, data[i:j])
		i = skipSpace(data, j)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at data[i], or
// -1 when it is not valid JSON (RFC 8259, as encoding/json's scanner
// checks it: bytes in strings are not checked for UTF-8).
func skipValue(data []byte, i int) int { return validValue(data, i, 0) }

// maxScanDepth is encoding/json's nesting limit.
const maxScanDepth = 10000

func validValue(data []byte, i, depth int) int {
	if i >= len(data) {
		return -1
	}
	switch c := data[i]; {
	case c == '"':
		return skipString(data, i)
	case c == '{' || c == '[':
		if depth >= maxScanDepth {
			return -1
		}
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == close {
			return i + 1
		}
		for {
			if c == '{' {
				if i >= len(data) || data[i] != '"' {
					return -1
				}
				if i = skipString(data, i); i < 0 {
					return -1
				}
				if i = skipSpace(data, i); i >= len(data) || data[i] != ':' {
					return -1
				}
				i = skipSpace(data, i+1)
			}
			if i = validValue(data, i, depth+1); i < 0 {
				return -1
			}
			if i = skipSpace(data, i); i >= len(data) {
				return -1
			}
			switch data[i] {
			case ',':
				i = skipSpace(data, i+1)
			case close:
				return i + 1
			default:
				return -1
			}
		}
	case c == 't':
		return literal(data, i, "true")
	case c == 'f':
		return literal(data, i, "false")
	case c == 'n':
		return literal(data, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return skipNumber(data, i)
	}
	return -1
}

func literal(data []byte, i int, w string) int {
	if len(data)-i < len(w) || string(data[i:i+len(w)]) != w {
		return -1
	}
	return i + len(w)
}

// skipNumber returns the end of the JSON number at data[i], or -1.
func skipNumber(data []byte, i int) int {
	digits := func(i int) (int, bool) {
		start := i
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		return i, i > start
	}
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	default:
		var ok bool
		if i, ok = digits(i); !ok {
			return -1
		}
	}
	if i < len(data) && data[i] == '.' {
		var ok bool
		if i, ok = digits(i + 1); !ok {
			return -1
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		var ok bool
		if i, ok = digits(i); !ok {
			return -1
		}
	}
	return i
}

// skipString returns the end of the JSON string starting at data[i], or
// -1 when it is unterminated, holds a control character or a bad escape.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(data) {
				return -1
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(data)-i < 5 {
					return -1
				}
				for _, h := range data[i+1 : i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
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

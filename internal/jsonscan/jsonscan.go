// Package jsonscan splits and checks JSON text without decoding it: the
// hot paths use it to read a few members of a document, and decode with
// encoding/json whatever it reports it cannot handle. What it calls valid
// is what encoding/json's scanner accepts (RFC 8259; bytes inside strings
// are not checked for UTF-8).
package jsonscan

// SkipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func SkipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// Value returns the end of the valid JSON value starting at data[i], or
// -1 when there is none.
func Value(data []byte, i int) int { return validValue(data, i, 0) }

// maxScanDepth is encoding/json's nesting limit.
const maxScanDepth = 10000

func validValue(data []byte, i, depth int) int {
	if i >= len(data) {
		return -1
	}
	switch c := data[i]; {
	case c == '"':
		return String(data, i)
	case c == '{' || c == '[':
		if depth >= maxScanDepth {
			return -1
		}
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		i = SkipSpace(data, i+1)
		if i < len(data) && data[i] == close {
			return i + 1
		}
		for {
			if c == '{' {
				if i >= len(data) || data[i] != '"' {
					return -1
				}
				if i = String(data, i); i < 0 {
					return -1
				}
				if i = SkipSpace(data, i); i >= len(data) || data[i] != ':' {
					return -1
				}
				i = SkipSpace(data, i+1)
			}
			if i = validValue(data, i, depth+1); i < 0 {
				return -1
			}
			if i = SkipSpace(data, i); i >= len(data) {
				return -1
			}
			switch data[i] {
			case ',':
				i = SkipSpace(data, i+1)
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

// String returns the end of the JSON string starting at data[i] (a
// quote), or -1 when it is unterminated, holds a control character or a
// bad escape.
func String(data []byte, i int) int {
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

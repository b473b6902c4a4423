package provisioning

import "github.com/scimkit/scimkit/internal/jsonscan"

// appendEvent appends e's JSON exactly as json.Marshal writes it, for the
// events a Server builds; ok is false for anything it does not handle
// (an Until time, a raw value that is not compact, valid JSON free of
// characters json.Marshal would escape in it), and Record then calls
// json.Marshal.
func appendEvent(dst []byte, e *Event) (out []byte, ok bool) {
	if !e.Until.IsZero() {
		return dst, false
	}
	dst = append(dst, '{')
	sep := false
	field := func(name string) {
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, '"', ':')
	}
	if e.Name != "" {
		field("name")
		dst = jsonscan.AppendString(dst, e.Name, true)
	}
	if e.ExternalID != "" {
		field("externalId")
		dst = jsonscan.AppendString(dst, e.ExternalID, true)
	}
	field("active")
	if e.Active {
		dst = append(dst, "true"...)
	} else {
		dst = append(dst, "false"...)
	}
	if len(e.Resource) > 0 {
		if !plainRaw(e.Resource) {
			return dst, false
		}
		field("resource")
		dst = append(dst, e.Resource...)
	}
	if len(e.Changes) > 0 {
		field("changes")
		dst = append(dst, '[')
		for i := range e.Changes {
			c := &e.Changes[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"attribute":`...)
			dst = jsonscan.AppendString(dst, c.Attribute, true)
			for _, raw := range [...]struct {
				name string
				v    []byte
			}{{`,"before":`, c.Before}, {`,"after":`, c.After}} {
				if len(raw.v) == 0 {
					continue
				}
				if !plainRaw(raw.v) {
					return dst, false
				}
				dst = append(dst, raw.name...)
				dst = append(dst, raw.v...)
			}
			if c.Truncated {
				dst = append(dst, `,"truncated":true`...)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	for _, l := range [...]struct {
		name string
		v    []string
	}{{"added", e.Added}, {"removed", e.Removed}} {
		if len(l.v) == 0 {
			continue
		}
		field(l.name)
		dst = append(dst, '[')
		for i, s := range l.v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonscan.AppendString(dst, s, true)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), true
}

// plainRaw reports whether json.Marshal copies raw unchanged: it is
// valid JSON, holds no insignificant white space and no '<', '>', '&' or
// U+2028/U+2029 (which it would escape). It is strict: a raw value it
// refuses may still be fine, and then json.Marshal decides.
func plainRaw(raw []byte) bool {
	for _, c := range raw {
		switch c {
		case '<', '>', '&', 0xE2: // 0xE2: the first byte of U+2028 and U+2029
			return false
		}
	}
	end, ok := scanValue(raw, 0, 0)
	return ok && end == len(raw)
}

// scanValue checks the JSON value at raw[i] and returns its end; ok is
// false when it is invalid or has white space outside strings.
func scanValue(raw []byte, i, depth int) (int, bool) {
	if i >= len(raw) || depth > 10000 {
		return i, false
	}
	switch c := raw[i]; {
	case c == '"':
		return scanString(raw, i)
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		i++
		if i < len(raw) && raw[i] == end {
			return i + 1, true
		}
		for {
			var ok bool
			if c == '{' {
				if i >= len(raw) || raw[i] != '"' {
					return i, false
				}
				if i, ok = scanString(raw, i); !ok || i >= len(raw) || raw[i] != ':' {
					return i, false
				}
				i++
			}
			if i, ok = scanValue(raw, i, depth+1); !ok || i >= len(raw) {
				return i, false
			}
			switch raw[i] {
			case ',':
				i++
			case end:
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == 't':
		return literal(raw, i, "true")
	case c == 'f':
		return literal(raw, i, "false")
	case c == 'n':
		return literal(raw, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return scanNumber(raw, i)
	}
	return i, false
}

func literal(raw []byte, i int, w string) (int, bool) {
	if len(raw)-i < len(w) || string(raw[i:i+len(w)]) != w {
		return i, false
	}
	return i + len(w), true
}

func scanNumber(raw []byte, i int) (int, bool) {
	digits := func(i int) (int, bool) {
		start := i
		for i < len(raw) && '0' <= raw[i] && raw[i] <= '9' {
			i++
		}
		return i, i > start
	}
	if raw[i] == '-' {
		i++
	}
	ok := true
	if i < len(raw) && raw[i] == '0' {
		i++
	} else if i, ok = digits(i); !ok {
		return i, false
	}
	if i < len(raw) && raw[i] == '.' {
		if i, ok = digits(i + 1); !ok {
			return i, false
		}
	}
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			i++
		}
		if i, ok = digits(i); !ok {
			return i, false
		}
	}
	return i, true
}

func scanString(raw []byte, i int) (int, bool) {
	for i++; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			i++
			if i >= len(raw) {
				return i, false
			}
			switch raw[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(raw)-i < 5 {
					return i, false
				}
				for _, h := range raw[i+1 : i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return i, false
					}
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

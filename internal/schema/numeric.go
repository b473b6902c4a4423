package schema

import "strconv"

// numericString reads a number sent as a JSON string ("3", "-2.5e3"), as
// Entra sends integer and decimal extension attributes, by the rule that
// accepts "True" for booleans: only the JSON number grammar (RFC 8259 §6),
// so "0x10", "Inf", "NaN", " 3" and "1_000" are refused.
func numericString(v any) (float64, bool) {
	s, ok := v.(string)
	if !ok || !isJSONNumber(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// isJSONNumber reports whether s is a number by RFC 8259 §6:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

package schema

import "time"

// parseDateTime parses an RFC 3339 §5.6 date-time, the form of SCIM
// dateTime values (RFC 7643 §2.3.5): any year 0000-9999, "T"/"t" and
// "Z"/"z" in either case, any number of fractional digits, any offset
// from -23:59 to +23:59, and a leap second (":60", taken as the last
// instant of the minute before it, since Go has no leap seconds).
func parseDateTime(s string) (time.Time, bool) {
	// YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm)
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if !isDigit(s[i]) {
			return time.Time{}, false
		}
	}
	if s[10] != 'T' && s[10] != 't' {
		return time.Time{}, false
	}
	i := 19
	if s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == 20 {
			return time.Time{}, false
		}
	}
	switch rest := s[i:]; {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
		isDigit(rest[1]) && isDigit(rest[2]) && isDigit(rest[4]) && isDigit(rest[5]) &&
		rest[1] <= '2' && (rest[1] < '2' || rest[2] <= '3') && rest[4] <= '5':
	default:
		return time.Time{}, false
	}
	b := []byte(s)
	b[10] = 'T'
	if b[len(b)-1] == 'z' {
		b[len(b)-1] = 'Z'
	}
	leap := s[17] == '6' && s[18] == '0'
	if leap {
		b[17], b[18] = '5', '9'
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, false
	}
	if leap {
		t = t.Truncate(time.Second).Add(time.Second - 1)
	}
	return t, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

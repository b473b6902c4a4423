package schema

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/scim2/filter-parser/v2"
)

// parseSimple parses the filters IdPs send on every provisioning step —
// `attrPath op value` comparisons joined by "and" — without the general
// parser, which costs ~100 µs and ~1,800 allocations per filter (PERF.md
// trap 1). It returns ok=false for anything else (brackets, parentheses,
// or, not, odd spacing), which then goes to filter-parser; both give the
// same expressions for the inputs parseSimple accepts (see the
// differential fuzz test).
func parseSimple(s string) (filter.Expression, bool) {
	var out filter.Expression
	for {
		e, rest, ok := simpleCompare(s)
		if !ok {
			return nil, false
		}
		if out == nil {
			out = e
		} else {
			out = &filter.LogicalExpression{Left: out, Right: e, Operator: filter.AND}
		}
		if rest == "" {
			return out, true
		}
		if len(rest) < 6 || rest[0] != ' ' || !strings.EqualFold(rest[1:4], "and") || rest[4] != ' ' {
			return nil, false
		}
		s = rest[5:]
	}
}

func isAttrChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '$' || c == '.' || c == ':'
}

// simpleCompare parses one `attrPath SP op [SP value]` from the start of s.
func simpleCompare(s string) (*filter.AttributeExpression, string, bool) {
	i := 0
	for i < len(s) && isAttrChar(s[i]) {
		i++
	}
	if i == 0 || i+3 > len(s) || s[i] != ' ' {
		return nil, "", false
	}
	path, ok := simplePath(s[:i])
	if !ok {
		return nil, "", false
	}
	op := filter.CompareOperator(strings.ToLower(s[i+1 : i+3]))
	rest := s[i+3:]
	e := &filter.AttributeExpression{AttributePath: path, Operator: op}
	switch op {
	case filter.PR:
		return e, rest, true
	case filter.EQ, filter.NE, filter.CO, filter.SW, filter.EW, filter.GT, filter.GE, filter.LT, filter.LE:
	default:
		return nil, "", false
	}
	if len(rest) < 2 || rest[0] != ' ' {
		return nil, "", false
	}
	rest = rest[1:]
	switch {
	case rest[0] == '"':
		j, esc := 1, false
		for ; j < len(rest) && rest[j] != '"'; j++ {
			if rest[j] == '\\' {
				esc = true
				j++
			}
		}
		if j >= len(rest) {
			return nil, "", false
		}
		if esc {
			var v string
			if json.Unmarshal([]byte(rest[:j+1]), &v) != nil {
				return nil, "", false
			}
			e.CompareValue = v
		} else {
			e.CompareValue = rest[1:j]
		}
		return e, rest[j+1:], true
	default:
		j := 0
		for j < len(rest) && rest[j] != ' ' {
			j++
		}
		word := rest[:j]
		switch strings.ToLower(word) {
		case "true":
			e.CompareValue = true
		case "false":
			e.CompareValue = false
		case "null":
			e.CompareValue = nil
		default:
			if word == "" || !(word[0] == '-' || word[0] >= '0' && word[0] <= '9') {
				return nil, "", false
			}
			f, err := strconv.ParseFloat(word, 64)
			if err != nil {
				return nil, "", false
			}
			if n, err := strconv.Atoi(word); err == nil {
				e.CompareValue = n
			} else {
				e.CompareValue = f
			}
		}
		return e, rest[j:], true
	}
}

// simplePath splits "urn:...:attr.sub", "attr.sub" or "attr".
func simplePath(p string) (filter.AttributePath, bool) {
	var ap filter.AttributePath
	if i := strings.LastIndexByte(p, ':'); i >= 0 {
		if !strings.HasPrefix(strings.ToLower(p), "urn:") {
			return ap, false
		}
		uri := p[:i]
		ap.URIPrefix = &uri
		p = p[i+1:]
	}
	name, sub, dotted := strings.Cut(p, ".")
	if name == "" || strings.ContainsAny(name, ".:") || dotted && (sub == "" || strings.ContainsAny(sub, ".:")) {
		return ap, false
	}
	if c := name[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return ap, false
	}
	ap.AttributeName = name
	if dotted {
		ap.SubAttribute = &sub
	}
	return ap, true
}

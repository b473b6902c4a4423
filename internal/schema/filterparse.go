package schema

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/scimkit/scimkit/storage"
)

// MaxFilterDepth bounds how deeply a filter nests parentheses, "not" and
// value filters, so that no filter costs unbounded recursion here or in
// a backend's translation.
const MaxFilterDepth = 64

// filterParser is a recursive-descent parser of the filter grammar of
// RFC 7644 §3.4.2.2 that resolves every attribute path against the
// resource type as it goes, so a filter is read once, in one pass, into
// the storage.Filter the backends evaluate:
//
//	FILTER    = orExp
//	orExp     = andExp *(SP "or" SP andExp)      ; "and" binds tighter
//	andExp    = unary *(SP "and" SP unary)
//	unary     = "not" [SP] "(" FILTER ")" / "(" FILTER ")" / valuePath / attrExp
//	valuePath = attrPath "[" valFilter "]" [ "." ATTRNAME SP compareOp SP compValue ]
//	attrExp   = attrPath SP "pr" / attrPath SP compareOp SP compValue
//	compValue = false / null / true / number / string  ; JSON (RFC 8259)
//
// valFilter is FILTER over the sub-attributes of the value path's
// complex attribute, multi-valued or not (no nested value path). The optional ".sub op value" after a
// value path is Entra's non-RFC form `emails[type eq "work"].value eq "x"`
// (IDP.md §1), read as `emails[type eq "work" and value eq "x"]`.
// Keywords and operators are case-insensitive; spaces between tokens are
// optional where the tokens cannot run together, and may be repeated.
type filterParser struct {
	rt    *ResourceType
	s     string
	i     int
	depth int
	sc    *scope // the value path being read, if any
	opt   Options
}

// parseFilter parses s; sc is non-nil for a PATCH path's value filter.
func (rt *ResourceType) parseFilter(s string, sc *scope, opt Options) (storage.Filter, error) {
	if len(s) > MaxFilterLength {
		return nil, errorf("invalidFilter", "filter longer than %d bytes", MaxFilterLength)
	}
	p := filterParser{rt: rt, s: s, sc: sc, opt: opt}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.fail("unexpected %q", p.rest())
	}
	return f, nil
}

func (p *filterParser) fail(format string, args ...any) *Error {
	e := errorf("invalidFilter", format, args...)
	e.Detail = "cannot parse filter " + strconv.Quote(p.s) + ": " + e.Detail + " at offset " + strconv.Itoa(p.i)
	return e
}

// rest is the unread input, shortened for error messages.
func (p *filterParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

func (p *filterParser) space() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// isSpace reports whether c separates tokens: SP, and leniently the
// other JSON whitespace (tab, CR, LF).
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isNameChar reports whether c may appear in an attribute path (RFC 7644
// §3.10 ATTRNAME and URN characters, plus "$" of "$ref").
func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '$' || c == '.' || c == ':'
}

// word consumes the case-insensitive keyword w when it comes next (after
// spaces) as a whole word.
func (p *filterParser) word(w string) bool {
	j := p.i
	for j < len(p.s) && isSpace(p.s[j]) {
		j++
	}
	if len(p.s)-j < len(w) || !strings.EqualFold(p.s[j:j+len(w)], w) ||
		j+len(w) < len(p.s) && isNameChar(p.s[j+len(w)]) {
		return false
	}
	p.i = j + len(w)
	return true
}

func (p *filterParser) enter() error {
	if p.depth++; p.depth > MaxFilterDepth {
		return p.fail("filter nests deeper than %d levels", MaxFilterDepth)
	}
	return nil
}

// or reads andExp *("or" andExp). Chains are built as balanced trees so
// that a long chain does not nest deeply in a backend's translation.
func (p *filterParser) or() (storage.Filter, error) {
	l, err := p.and()
	if err != nil || !p.word("or") {
		return l, err
	}
	terms := append(make([]storage.Filter, 0, 4), l)
	for {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		terms = append(terms, r)
		if !p.word("or") {
			return balance(terms, true), nil
		}
	}
}

func (p *filterParser) and() (storage.Filter, error) {
	l, err := p.unary()
	if err != nil || !p.word("and") {
		return l, err
	}
	r, err := p.unary()
	if err != nil {
		return nil, err
	}
	if !p.word("and") {
		return storage.And{Left: l, Right: r}, nil // the common IdP conjunction
	}
	terms := append(make([]storage.Filter, 0, 4), l, r)
	for {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		terms = append(terms, r)
		if !p.word("and") {
			return balance(terms, false), nil
		}
	}
}

// balance joins terms with Or (or And) as a tree of logarithmic depth.
func balance(terms []storage.Filter, or bool) storage.Filter {
	if len(terms) == 1 {
		return terms[0]
	}
	m := len(terms) / 2
	l, r := balance(terms[:m], or), balance(terms[m:], or)
	if or {
		return storage.Or{Left: l, Right: r}
	}
	return storage.And{Left: l, Right: r}
}

func (p *filterParser) unary() (storage.Filter, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, p.fail("unexpected end, want an attribute path, \"not\" or \"(\"")
	}
	not := false
	if p.word("not") {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '(' {
			return nil, p.fail(`"not" must be followed by "("`)
		}
		not = true
	}
	if p.s[p.i] != '(' {
		return p.attrExp()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.i++
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != ')' {
		return nil, p.fail(`missing ")"`)
	}
	p.i++
	p.depth--
	if not {
		return storage.Not{X: f}, nil
	}
	return f, nil
}

// path reads an attribute path.
func (p *filterParser) path() (string, error) {
	j := p.i
	for j < len(p.s) && isNameChar(p.s[j]) {
		j++
	}
	if j == p.i {
		return "", p.fail("want an attribute path, got %q", p.rest())
	}
	path := p.s[p.i:j]
	p.i = j
	return path, nil
}

func (p *filterParser) attrExp() (storage.Filter, error) {
	start := p.i
	key, err := p.path()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.s) && p.s[p.i] == '[' {
		return p.valuePath(key)
	}
	op, v, err := p.comparison()
	if err != nil {
		return nil, err
	}
	c, cerr := p.rt.compareAt(key, op, v, p.sc, p.opt)
	if cerr != nil {
		p.i = start
		return nil, p.fail("%s", cerr.Detail)
	}
	return c, nil
}

// comparison reads SP compareOp [SP compValue].
func (p *filterParser) comparison() (storage.Operator, any, error) {
	if p.i >= len(p.s) || !isSpace(p.s[p.i]) {
		return "", nil, p.fail("want a space and an operator after the attribute path")
	}
	p.space()
	if len(p.s)-p.i < 2 || p.i+2 < len(p.s) && isNameChar(p.s[p.i+2]) {
		return "", nil, p.fail("want an operator, got %q", p.rest())
	}
	var op storage.Operator
	switch o := p.s[p.i : p.i+2]; {
	case strings.EqualFold(o, "eq"):
		op = storage.OpEq
	case strings.EqualFold(o, "ne"):
		op = storage.OpNe
	case strings.EqualFold(o, "co"):
		op = storage.OpCo
	case strings.EqualFold(o, "sw"):
		op = storage.OpSw
	case strings.EqualFold(o, "ew"):
		op = storage.OpEw
	case strings.EqualFold(o, "gt"):
		op = storage.OpGt
	case strings.EqualFold(o, "ge"):
		op = storage.OpGe
	case strings.EqualFold(o, "lt"):
		op = storage.OpLt
	case strings.EqualFold(o, "le"):
		op = storage.OpLe
	case strings.EqualFold(o, "pr"):
		p.i += 2
		return storage.OpPresent, nil, nil
	default:
		return "", nil, p.fail("unknown operator %q", o)
	}
	p.i += 2
	if p.space(); p.i >= len(p.s) {
		return "", nil, p.fail("missing value after %q", string(op))
	}
	if !isSpace(p.s[p.i-1]) {
		return "", nil, p.fail("want a space and a value after %q", string(op))
	}
	p.space()
	v, err := p.value()
	return op, v, err
}

// value reads a compValue: a JSON string, number, true, false or null.
func (p *filterParser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, p.fail("missing value")
	}
	switch c := p.s[p.i]; {
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, w := range [...]string{"true", "false", "null"} {
		if p.word(w) {
			switch w {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return nil, nil
		}
	}
	return nil, p.fail("want a value (a JSON string, number, true, false or null), got %q", p.rest())
}

// str reads a JSON string (RFC 8259 §7) and decodes its escapes once, as
// encoding/json does.
func (p *filterParser) str() (string, error) {
	j, esc, high := p.i+1, false, false
	for ; j < len(p.s) && p.s[j] != '"'; j++ {
		switch c := p.s[j]; {
		case c == '\\':
			esc = true
			j++
		case c < 0x20:
			esc = true
		case c >= utf8.RuneSelf:
			high = true
		}
	}
	if j >= len(p.s) {
		return "", p.fail("unterminated string")
	}
	raw := p.s[p.i : j+1]
	if !esc && (!high || utf8.ValidString(raw)) {
		p.i = j + 1
		return raw[1 : len(raw)-1], nil
	}
	v, ok := unquote(raw[1 : len(raw)-1])
	if !ok {
		return "", p.fail("invalid JSON string %s", raw)
	}
	p.i = j + 1
	return v, nil
}

// unquote decodes the inside of a JSON string exactly as encoding/json
// does: the escapes of RFC 8259 §7 (a \u surrogate pair is one rune, a
// lone surrogate U+FFFD), each byte of invalid UTF-8 as U+FFFD, and a raw
// control character is an error.
func unquote(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < 0x20:
			return "", false
		case c == '\\':
			if i+1 >= len(s) {
				return "", false
			}
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s[i+2:])
				if r < 0 {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r2 := uEscape(s[i:]); r2 >= 0 {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							b = utf8.AppendRune(b, d)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return "", false
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
		}
	}
	return string(b), true
}

// uEscape is the rune of a \uXXXX escape at the start of s, or -1.
func uEscape(s string) rune {
	if len(s) < 2 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	return hex4(s[2:])
}

// hex4 is the value of four hex digits at the start of s, or -1.
func hex4(s string) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range []byte(s[:4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// number reads a JSON number (RFC 8259 §6).
func (p *filterParser) number() (float64, error) {
	s, j := p.s, p.i
	digits := func() bool {
		k := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j > k
	}
	if j < len(s) && s[j] == '-' {
		j++
	}
	if j < len(s) && s[j] == '0' {
		j++
	} else if !digits() {
		return 0, p.fail("invalid number")
	}
	if j < len(s) && s[j] == '.' {
		j++
		if !digits() {
			return 0, p.fail("invalid number")
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if !digits() {
			return 0, p.fail("invalid number")
		}
	}
	f, err := strconv.ParseFloat(s[p.i:j], 64)
	if err != nil {
		return 0, p.fail("number %s out of range", s[p.i:j])
	}
	p.i = j
	return f, nil
}

// valuePath reads "[valFilter]" after key, and Entra's ".sub op value".
func (p *filterParser) valuePath(key string) (storage.Filter, error) {
	if p.sc != nil {
		return nil, p.fail("a value filter cannot hold another value filter")
	}
	// RFC 7644 §3.4.2.2 applies "[...]" to a complex attribute's value,
	// single-valued ones too (name[givenName eq "x"]). meta is derived
	// at render time and filtered only through its sub-attributes.
	ext, attr, sub, ok := p.rt.Resolve(key)
	if !ok || sub != nil || !attr.IsComplex() || attr == metaAttr {
		return nil, p.fail("%q is not a complex attribute", key)
	}
	if renderedOnly(ext, attr) {
		return nil, p.fail("attribute %q cannot be filtered", key)
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.i++ // [
	p.sc = &scope{ext: ext, attr: attr}
	inner, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != ']' {
		return nil, p.fail(`missing "]"`)
	}
	p.i++
	p.depth--
	if p.i < len(p.s) && p.s[p.i] == '.' {
		// Entra: emails[type eq "work"].value eq "x".
		p.opt.Report.note(NoteValuePathFilter, key)
		p.i++
		start := p.i
		name, err := p.path()
		if err != nil {
			return nil, err
		}
		op, v, err := p.comparison()
		if err != nil {
			return nil, err
		}
		c, cerr := p.rt.compareAt(name, op, v, p.sc, p.opt)
		if cerr != nil {
			p.i = start
			return nil, p.fail("%s", cerr.Detail)
		}
		inner = storage.And{Left: inner, Right: c}
	}
	p.sc = nil
	return storage.ValuePath{Path: Path(ext, attr, nil), Filter: inner}, nil
}

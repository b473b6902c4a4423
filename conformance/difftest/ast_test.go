package difftest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// A filter is generated as this AST and printed to text, so the test knows
// exactly what each filter means. The AST keeps the written form (the case
// of names, the URN prefix, the escapes of a string) so printing is
// deterministic and shrinking can simplify the form too.

// node is one of *cmpNode, *logicNode, *notNode, *parenNode, *valuePathNode
// and *entraNode.
type node interface{ isNode() }

// path is an attribute path as written: URN prefix ("" for none), the
// attribute name and the sub-attribute name ("" for none).
type path struct {
	URN, Name, Sub string
}

func (p path) String() string {
	s := p.Name
	if p.Sub != "" {
		s += "." + p.Sub
	}
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	return s
}

// litKind is the JSON type of a comparison value.
type litKind int

const (
	litString litKind = iota
	litBool
	litNumber
	litNull
)

// lit is a comparison value. Str is the decoded string (for litString),
// Num the number as written (for litNumber); Enc picks how a string is
// escaped when printed (see quote).
type lit struct {
	Kind litKind
	Str  string
	Bool bool
	Num  string
	Enc  int
}

// cmpNode is "path op value", or "path pr" (Val nil).
type cmpNode struct {
	Path path
	Op   string // as written: "eq", "EQ", "Ne", ...
	Val  *lit
}

// logicNode is "left and right" or "left or right".
type logicNode struct {
	Op          string // "and" or "or", as written
	Left, Right node
}

// notNode is "not (x)"; Tight prints "not(x)".
type notNode struct {
	X     node
	Tight bool
}

// parenNode is "(x)": redundant parentheses the client wrote.
type parenNode struct{ X node }

// valuePathNode is "path[filter]"; the inner filter's paths name
// sub-attributes of path.
type valuePathNode struct {
	Path path
	F    node
}

// entraNode is Entra's non-RFC form "path[filter].sub op value" (IDP.md §1).
type entraNode struct {
	Path path
	F    node
	Sub  string
	Op   string
	Val  *lit
}

func (*cmpNode) isNode()       {}
func (*logicNode) isNode()     {}
func (*notNode) isNode()       {}
func (*parenNode) isNode()     {}
func (*valuePathNode) isNode() {}
func (*entraNode) isNode()     {}

// text renders a filter in RFC 7644 §3.4.2.2 syntax. "and" binds tighter
// than "or", so an "or" under an "and" is parenthesised.
func text(n node) string {
	var b strings.Builder
	printTo(&b, n)
	return b.String()
}

func printTo(b *strings.Builder, n node) {
	switch n := n.(type) {
	case *cmpNode:
		b.WriteString(n.Path.String())
		b.WriteByte(' ')
		b.WriteString(n.Op)
		if n.Val != nil {
			b.WriteByte(' ')
			b.WriteString(n.Val.String())
		}
	case *logicNode:
		side := func(x node) {
			if l, ok := x.(*logicNode); ok && isOr(l.Op) && !isOr(n.Op) {
				b.WriteByte('(')
				printTo(b, x)
				b.WriteByte(')')
				return
			}
			printTo(b, x)
		}
		side(n.Left)
		b.WriteString(" " + n.Op + " ")
		side(n.Right)
	case *notNode:
		if n.Tight {
			b.WriteString("not(")
		} else {
			b.WriteString("not (")
		}
		printTo(b, n.X)
		b.WriteByte(')')
	case *parenNode:
		b.WriteByte('(')
		printTo(b, n.X)
		b.WriteByte(')')
	case *valuePathNode:
		b.WriteString(n.Path.String())
		b.WriteByte('[')
		printTo(b, n.F)
		b.WriteByte(']')
	case *entraNode:
		b.WriteString(n.Path.String())
		b.WriteByte('[')
		printTo(b, n.F)
		b.WriteString("].")
		b.WriteString(n.Sub)
		b.WriteString(" " + n.Op + " ")
		b.WriteString(n.Val.String())
	default:
		panic(fmt.Sprintf("difftest: unknown node %T", n))
	}
}

func isOr(op string) bool { return strings.EqualFold(op, "or") }

// String prints a value as a JSON literal.
func (l *lit) String() string {
	switch l.Kind {
	case litBool:
		if l.Bool {
			return "true"
		}
		return "false"
	case litNumber:
		return l.Num
	case litNull:
		return "null"
	}
	return quote(l.Str, l.Enc)
}

// quote writes s as a JSON string (RFC 8259 §7). enc chooses among the
// equivalent spellings: 0 escapes only what must be escaped, using the
// short forms (\" \\ \n \t ...); 1 also writes every non-ASCII character
// as \uXXXX (with surrogate pairs); 2 writes backslash and quote as
// \u005c and \u0022 and escapes "/" as \/; 3 writes every character as
// \uXXXX.
func quote(s string, enc int) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case enc == 3:
			writeU(&b, r)
		case r == '"' || r == '\\':
			if enc == 2 {
				writeU(&b, r)
			} else {
				b.WriteByte('\\')
				b.WriteRune(r)
			}
		case r == '/' && enc == 2:
			b.WriteString(`\/`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			writeU(&b, r)
		case r >= utf8.RuneSelf && enc == 1:
			writeU(&b, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeU(b *strings.Builder, r rune) {
	if r > 0xFFFF {
		r -= 0x10000
		fmt.Fprintf(b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		return
	}
	fmt.Fprintf(b, `\u%04x`, r)
}

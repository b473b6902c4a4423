package schema

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/scimkit/scimkit/storage"
)

// CanonicalUserName returns the form under which a User's userName (and a
// Group's displayName, the other unique name) is stored, checked for
// uniqueness and compared by `eq` and `ne` filters: Unicode NFC (so a
// decomposed "e" + U+0301 equals the precomposed "é"), without leading and
// trailing white space (unicode.IsSpace) and zero-width characters (U+200B,
// U+200C, U+200D, U+2060, U+FEFF, U+180E). Case is not folded here: the
// stores compare names case-insensitively (RFC 7643 §4.1.1: userName has
// caseExact false). A name empty in that form is an invalidValue error.
func CanonicalUserName(s string) (string, error) {
	c := strings.TrimFunc(norm.NFC.String(s), trimmable)
	if c == "" {
		return "", errorf("invalidValue", "a name must not be empty or only white space")
	}
	return c, nil
}

// trimmable reports whether r is white space or a zero-width character.
func trimmable(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u180e':
		return true
	}
	return unicode.IsSpace(r)
}

// canonicalNameOperand is the value a filter compares the unique name
// with: for eq and ne its [CanonicalUserName] form (a value empty in that
// form is kept: no stored name equals it), for the other operators its NFC
// form, as stored names are NFC.
func canonicalNameOperand(op storage.Operator, s string) string {
	if op == storage.OpEq || op == storage.OpNe {
		if c, err := CanonicalUserName(s); err == nil {
			return c
		}
		return s
	}
	return norm.NFC.String(s)
}

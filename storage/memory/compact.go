package memory

import (
	"bytes"
	"errors"
	"slices"
)

// The store keeps each resource's Data in a compact form, the JSON text
// with two kinds of substitution, each written as one control byte:
//
//   - the most common SCIM fragments (keys with their opening quote or
//     brace, `"type":"work"`, the enterprise extension's URN);
//   - right after a quote, the resource's own userName (or displayName) or
//     externalId followed by the closing quote: these values are kept in
//     the record anyway, and appear in the document once or twice (the
//     userName is often the work email too).
//
// Valid JSON never holds a raw control byte other than tab, newline and
// carriage return, so the codes cannot clash with text, and a packed value
// starts with packMarker, which JSON never does. Substitution is textual,
// so unpacking gives back the exact bytes. A typical Entra user of 430
// bytes packs into about 160, for about a microsecond per write and read.

// packMarker starts a packed value.
const packMarker = 0x00

// fragments are the replaced texts; fragment i is written as codes[i]. No
// fragment is a prefix of another, so the first that matches is the only.
var fragments = [...]string{
	`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{`,
	`"manager":{"value":"`,
	`"employeeNumber":"`,
	`"phoneNumbers":[{`,
	`"organization":"`,
	`"displayName":"`,
	`"department":"`,
	`"costCenter":"`,
	`"externalId":"`,
	`"familyName":"`,
	`"addresses":[{`,
	`"active":false`,
	`"primary":true`,
	`"givenName":"`,
	`"formatted":"`,
	`"userName":"`,
	`"nickName":"`,
	`"userType":"`,
	`"timezone":"`,
	`"type":"work"`,
	`"active":true`,
	`"emails":[{`,
	`"locale":"`,
	`"value":"`,
	`"title":"`,
	`"name":{`,
}

// codes are the control bytes that stand for fragments, then for the two
// back-references: 0x01-0x1f less tab, newline and carriage return.
var codes = [...]byte{
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0b, 0x0c, 0x0e, 0x0f, 0x10, 0x11,
	0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
}

// The back-reference codes: the record's Name or ExternalID, then `"`.
const (
	refName     = 0x1e
	refExternal = 0x1f
)

// expand maps a fragment code to its index + 1 (0: not a fragment code).
var expand = func() (t [0x20]uint8) {
	for i, c := range codes {
		t[c] = uint8(i + 1)
	}
	return t
}()

var errNotObject = errors.New("memory: Data must be a JSON object")

// pack returns data in compact form (always a new slice), with
// back-references to name and ext. It fails when data is not a JSON
// object's text (checked loosely: first non-space byte '{', no raw control
// bytes).
func pack(data []byte, name, ext string) ([]byte, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, errNotObject
	}
	out := make([]byte, 1, len(data)/2+16)
	out[0] = packMarker
	afterQuote := false // the text so far ends with a quote
next:
	for i := 0; i < len(data); {
		c := data[i]
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return nil, errNotObject
		}
		rest := data[i:]
		if afterQuote {
			for _, ref := range [...]struct {
				v    string
				code byte
			}{{name, refName}, {ext, refExternal}} {
				if n := len(ref.v); n > 0 && len(rest) > n && rest[n] == '"' && string(rest[:n]) == ref.v {
					out = append(out, ref.code)
					i += n + 1
					continue next // afterQuote stays true: the reference ends with a quote
				}
			}
		}
		if c == '"' {
			for k, f := range fragments {
				if len(rest) >= len(f) && string(rest[:len(f)]) == f {
					out = append(out, codes[k])
					i += len(f)
					afterQuote = f[len(f)-1] == '"'
					continue next
				}
			}
		}
		out = append(out, c)
		i++
		afterQuote = c == '"'
	}
	return slices.Clip(out), nil
}

// unpack returns the JSON text of a value packed with the same name and
// ext (always a new slice).
func unpack(stored []byte, name, ext string) []byte {
	if len(stored) == 0 {
		return nil
	}
	n := 0
	for _, c := range stored[1:] {
		n += expandLen(c, name, ext)
	}
	out := make([]byte, 0, n)
	for _, c := range stored[1:] {
		switch {
		case c >= 0x20:
			out = append(out, c)
		case c == refName:
			out = append(append(out, name...), '"')
		case c == refExternal:
			out = append(append(out, ext...), '"')
		case expand[c] > 0:
			out = append(out, fragments[expand[c]-1]...)
		default:
			out = append(out, c) // tab, newline, carriage return
		}
	}
	return out
}

// expandLen is the length of the text byte c of a packed value stands for.
func expandLen(c byte, name, ext string) int {
	switch {
	case c >= 0x20:
		return 1
	case c == refName:
		return len(name) + 1
	case c == refExternal:
		return len(ext) + 1
	case expand[c] > 0:
		return len(fragments[expand[c]-1])
	}
	return 1
}

package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/scimkit/scimkit/internal/jsonscan"
)

// errSlowPath makes appendJSON give a value up to encoding/json.
var errSlowPath = errors.New("schema: value needs encoding/json")

// maxFastDepth bounds appendJSON's recursion; deeper documents take
// encoding/json's path (which bounds it its own way).
const maxFastDepth = 64

// appendJSON appends v as encoding/json (with SetEscapeHTML(false))
// would, for the values a decoded document holds: map[string]any (keys
// sorted), []any, string, float64, bool, nil, and int and int64. Any
// other type, a NaN or an infinity, or nesting deeper than maxFastDepth
// gives errSlowPath, and the caller encodes the whole value with
// encoding/json instead, so output and errors stay exactly encoding/json's.
func appendJSON(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxFastDepth {
		return dst, errSlowPath
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return jsonscan.AppendString(dst, x, false), nil
	case bool:
		if x {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case float64:
		return appendFloat(dst, x)
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		var keysBuf [16]string
		keys := keysBuf[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, strings.Compare)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonscan.AppendString(dst, k, false)
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSON(dst, x[k], depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSON(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	}
	return dst, errSlowPath
}

// appendFloat formats f as encoding/json does (ES6 number formatting).
func appendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, errSlowPath
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// marshalSlow is Marshal by encoding/json.
func marshalSlow(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

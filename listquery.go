package scimkit

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// listParam gives the RFC 7644 §3.4.2 spelling of a list request's
// query parameter named key in any case, or "" when key is none of them.
func listParam(key string) string {
	switch strings.ToLower(key) {
	case "filter":
		return "filter"
	case "startindex":
		return "startIndex"
	case "count":
		return "count"
	case "attributes":
		return "attributes"
	case "excludedattributes":
		return "excludedAttributes"
	case "sortby":
		return "sortBy"
	case "sortorder":
		return "sortOrder"
	}
	return ""
}

// parseListQuery decodes the query string of a list request. A query
// string that does not decode is an error rather than the pairs Go could
// read: url.Values.Get would see no filter in "filter=x%ZZ" and the list
// would answer the whole tenant to a lookup an IdP then takes as a match.
// For the same reason a parameter spelt in another case ("Filter") is
// read as the RFC's, and one given twice in any spelling is refused.
func parseListQuery(raw string) (url.Values, error) {
	params, err := url.ParseQuery(raw)
	if err != nil {
		e := ErrInvalidValue
		if strings.Contains(strings.ToLower(raw), "filter") {
			e = ErrInvalidFilter
		}
		return nil, e.WithDetail("the query string is not valid URL encoding: " + err.Error())
	}
	var respelt []string // keys in another case, rare: no allocation otherwise
	for key, vals := range params {
		name := listParam(key)
		if name == "" {
			continue
		}
		if len(vals) > 1 {
			return nil, givenTwice(name)
		}
		if key != name {
			respelt = append(respelt, key)
		}
	}
	for _, key := range respelt {
		name := listParam(key)
		if _, dup := params[name]; dup {
			return nil, givenTwice(name)
		}
		params[name] = params[key]
		delete(params, key)
	}
	return params, nil
}

func givenTwice(name string) error {
	e := ErrInvalidValue
	if name == "filter" {
		e = ErrInvalidFilter
	}
	return e.WithDetail("the query parameter " + name + " is given more than once")
}

// parseIndex reads startIndex or count (RFC 7644 §3.4.2.4): a decimal
// integer, where one beyond the int range is clamped to it rather than
// refused (the RFC's bounds are "less than 1" and "greater than the
// maximum", both of which the caller clamps).
func parseIndex(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err == nil {
		return n, nil
	}
	var ne *strconv.NumError
	if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
		return n, nil // Atoi returns the nearest bound on overflow
	}
	return 0, ErrInvalidValue.WithDetail(name + " must be an integer")
}

package scimkit

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/elimity-com/scim/optional"
	escim "github.com/elimity-com/scim/schema"
)

// Extension declares a custom User extension schema (RFC 7643 §3.3), such
// as Druva's "urn:ietf:params:scim:schemas:extension:Druva:2.0:User" with
// userPrincipalName, city, country and department. Register it with
// [WithUserExtension]: /Schemas and /ResourceTypes then list it (Entra reads
// them), and its attributes are accepted nested under the URN (as Entra and
// Okta send them, even when the URN is missing from "schemas"), as flat
// full-URN keys, and as PATCH paths. Values are checked against each
// attribute's type, and [User.Extension] reads them back typed.
//
// Build one with a struct literal, with [StringExtension], or with
// [NewExtension] and its typed methods:
//
//	ext := scimkit.NewExtension("urn:ietf:params:scim:schemas:extension:Acme:2.0:User").
//		String("city").
//		Integer("seats", scimkit.Required()).
//		String("tier", scimkit.CanonicalValues("gold", "silver"))
type Extension struct {
	// URN is the schema id; it must start with "urn:".
	URN string
	// Name and Description are shown in /Schemas.
	Name, Description string
	// Attributes are the extension's attributes.
	Attributes []ExtensionAttribute
}

// AttrType is the data type of an extension attribute (RFC 7643 §2.3).
type AttrType string

// The simple attribute types an [Extension] may declare (RFC 7643 §2.3.1
// to §2.3.7).
const (
	TypeString    AttrType = "string"
	TypeBoolean   AttrType = "boolean"
	TypeInteger   AttrType = "integer"
	TypeDecimal   AttrType = "decimal"
	TypeDateTime  AttrType = "dateTime"
	TypeReference AttrType = "reference"
	TypeBinary    AttrType = "binary"
)

// ExtensionAttribute is one simple attribute of an [Extension] (RFC 7643
// §7). Entra flows only simple attributes to custom extensions, so complex
// ones are not supported.
type ExtensionAttribute struct {
	Name        string
	Description string
	// Type is the data type; "" means [TypeString].
	Type AttrType
	// MultiValued makes the attribute a list of values.
	MultiValued bool
	// CaseExact makes a string compare case-sensitively in filters.
	CaseExact bool
	// Required is advertised in /Schemas (RFC 7643 §7 "required").
	Required bool
	// Uniqueness is advertised in /Schemas: "" or "none", "server" or
	// "global" (RFC 7643 §7). The server does not enforce it.
	Uniqueness string
	// CanonicalValues are advertised in /Schemas for a string attribute
	// (RFC 7643 §7: suggested values, so other values are accepted).
	CanonicalValues []string
}

// AttributeOption refines one attribute added with an [Extension] builder
// method such as [Extension.String].
type AttributeOption struct{ apply func(*ExtensionAttribute) }

// Required marks the attribute required in /Schemas.
func Required() AttributeOption {
	return AttributeOption{func(a *ExtensionAttribute) { a.Required = true }}
}

// CaseExact makes a string attribute compare case-sensitively.
func CaseExact() AttributeOption {
	return AttributeOption{func(a *ExtensionAttribute) { a.CaseExact = true }}
}

// MultiValued makes the attribute a list of values.
func MultiValued() AttributeOption {
	return AttributeOption{func(a *ExtensionAttribute) { a.MultiValued = true }}
}

// Uniqueness sets the advertised uniqueness: "none", "server" or "global".
func Uniqueness(u string) AttributeOption {
	return AttributeOption{func(a *ExtensionAttribute) { a.Uniqueness = u }}
}

// CanonicalValues sets the suggested values of a string attribute.
func CanonicalValues(v ...string) AttributeOption {
	return AttributeOption{func(a *ExtensionAttribute) { a.CanonicalValues = append([]string(nil), v...) }}
}

// Description sets the attribute's description shown in /Schemas.
func Description(d string) AttributeOption {
	return AttributeOption{func(a *ExtensionAttribute) { a.Description = d }}
}

// NewExtension starts an extension with the given URN and no attributes;
// add them with the typed methods ([Extension.String], [Extension.Integer],
// ...). Mistakes (bad URN or name, duplicates) are reported by
// [WithUserExtension].
func NewExtension(urn string) Extension { return Extension{URN: urn} }

// Attribute returns a copy of e with one more attribute of type t.
func (e Extension) Attribute(name string, t AttrType, opts ...AttributeOption) Extension {
	a := ExtensionAttribute{Name: name, Type: t}
	for _, o := range opts {
		o.apply(&a)
	}
	e.Attributes = append(e.Attributes[:len(e.Attributes):len(e.Attributes)], a)
	return e
}

// String returns a copy of e with a string attribute.
func (e Extension) String(name string, opts ...AttributeOption) Extension {
	return e.Attribute(name, TypeString, opts...)
}

// Boolean returns a copy of e with a boolean attribute. "True" and "False"
// strings are accepted unless [WithStrictTypes] is set.
func (e Extension) Boolean(name string, opts ...AttributeOption) Extension {
	return e.Attribute(name, TypeBoolean, opts...)
}

// Integer returns a copy of e with an integer attribute. Numeric strings
// ("3") are accepted unless [WithStrictTypes] is set.
func (e Extension) Integer(name string, opts ...AttributeOption) Extension {
	return e.Attribute(name, TypeInteger, opts...)
}

// Decimal returns a copy of e with a decimal attribute. Numeric strings
// ("2.5") are accepted unless [WithStrictTypes] is set.
func (e Extension) Decimal(name string, opts ...AttributeOption) Extension {
	return e.Attribute(name, TypeDecimal, opts...)
}

// DateTime returns a copy of e with a dateTime attribute (xsd:dateTime,
// RFC 3339).
func (e Extension) DateTime(name string, opts ...AttributeOption) Extension {
	return e.Attribute(name, TypeDateTime, opts...)
}

// Reference returns a copy of e with a reference attribute (an external
// URI, case-exact).
func (e Extension) Reference(name string, opts ...AttributeOption) Extension {
	return e.Attribute(name, TypeReference, opts...)
}

// Binary returns a copy of e with a binary attribute (base64 text,
// RFC 7643 §2.3.6).
func (e Extension) Binary(name string, opts ...AttributeOption) Extension {
	return e.Attribute(name, TypeBinary, opts...)
}

// StringExtension returns an Extension whose attributes are case-insensitive
// strings: the common shape of IdP custom attributes.
func StringExtension(urn string, attrs ...string) Extension {
	e := Extension{URN: urn}
	for _, a := range attrs {
		e.Attributes = append(e.Attributes, ExtensionAttribute{Name: a})
	}
	return e
}

// ParseExtension parses the compact form "URN:attr1,attr2" used by command
// line flags into a [StringExtension].
func ParseExtension(s string) (Extension, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Extension{}, fmt.Errorf("scim: extension %q: want URN:attr1,attr2", s)
	}
	if tail := s[i+1:]; tail == "User" || tail == "Group" {
		return Extension{}, fmt.Errorf("scim: extension %q: the attribute list is missing (want URN:attr1,attr2)", s)
	}
	var attrs []string
	for _, a := range strings.Split(s[i+1:], ",") {
		if a = strings.TrimSpace(a); a != "" {
			attrs = append(attrs, a)
		}
	}
	e := StringExtension(s[:i], attrs...)
	return e, e.validate()
}

// EntraAttribute returns the target attribute name to enter in Entra's
// attribute mapping editor for attr: "<URN>:<attr>" (Entra "Customizing
// user provisioning attribute-mappings").
func (e Extension) EntraAttribute(attr string) string { return e.URN + ":" + attr }

// OktaNamespace returns the "External namespace" to enter for each custom
// attribute in Okta's profile editor: the extension URN.
func (e Extension) OktaNamespace() string { return e.URN }

var attrName = regexp.MustCompile(`^[A-Za-z][\w$-]*$`)

func (e Extension) validate() error {
	if !strings.HasPrefix(strings.ToLower(e.URN), "urn:") || strings.ContainsAny(e.URN, " \t\"[]") {
		return fmt.Errorf("scim: extension URN %q must start with \"urn:\" and hold no spaces", e.URN)
	}
	if len(e.Attributes) == 0 {
		return fmt.Errorf("scim: extension %q has no attributes", e.URN)
	}
	seen := map[string]bool{}
	for _, a := range e.Attributes {
		if !attrName.MatchString(a.Name) {
			return fmt.Errorf("scim: extension %q: invalid attribute name %q", e.URN, a.Name)
		}
		if seen[strings.ToLower(a.Name)] {
			return fmt.Errorf("scim: extension %q: duplicate attribute %q", e.URN, a.Name)
		}
		seen[strings.ToLower(a.Name)] = true
		switch a.Type {
		case "", TypeString, TypeBoolean, TypeInteger, TypeDecimal, TypeDateTime, TypeReference, TypeBinary:
		default:
			return fmt.Errorf("scim: extension %q: attribute %q has unsupported type %q", e.URN, a.Name, a.Type)
		}
		switch a.Uniqueness {
		case "", "none", "server", "global":
		default:
			return fmt.Errorf("scim: extension %q: attribute %q: uniqueness %q is not none, server or global", e.URN, a.Name, a.Uniqueness)
		}
		if len(a.CanonicalValues) > 0 && a.Type != "" && a.Type != TypeString {
			return fmt.Errorf("scim: extension %q: attribute %q: canonicalValues need a string attribute", e.URN, a.Name)
		}
	}
	return nil
}

func (a ExtensionAttribute) uniqueness() escim.AttributeUniqueness {
	switch a.Uniqueness {
	case "server":
		return escim.AttributeUniquenessServer()
	case "global":
		return escim.AttributeUniquenessGlobal()
	}
	return escim.AttributeUniquenessNone()
}

// schema converts a validated extension to elimity's schema model.
func (e Extension) schema() escim.Schema {
	name := e.Name
	if name == "" {
		trimmed := strings.TrimSuffix(e.URN, ":2.0:User")
		name = trimmed[strings.LastIndexByte(trimmed, ':')+1:]
	}
	s := escim.Schema{ID: e.URN, Name: optional.NewString(name), Description: optional.NewString(e.Description)}
	for _, a := range e.Attributes {
		d := optional.NewString(a.Description)
		var p escim.SimpleParams
		switch a.Type {
		case TypeBoolean:
			p = escim.SimpleBooleanParams(escim.BooleanParams{Name: a.Name, Description: d, Required: a.Required, MultiValued: a.MultiValued})
		case TypeInteger:
			p = escim.SimpleNumberParams(escim.NumberParams{Name: a.Name, Description: d, Required: a.Required, MultiValued: a.MultiValued, Type: escim.AttributeTypeInteger(), Uniqueness: a.uniqueness()})
		case TypeDecimal:
			p = escim.SimpleNumberParams(escim.NumberParams{Name: a.Name, Description: d, Required: a.Required, MultiValued: a.MultiValued, Type: escim.AttributeTypeDecimal(), Uniqueness: a.uniqueness()})
		case TypeDateTime:
			p = escim.SimpleDateTimeParams(escim.DateTimeParams{Name: a.Name, Description: d, Required: a.Required, MultiValued: a.MultiValued})
		case TypeReference:
			p = escim.SimpleReferenceParams(escim.ReferenceParams{Name: a.Name, Description: d, Required: a.Required, MultiValued: a.MultiValued, Uniqueness: a.uniqueness(), ReferenceTypes: []escim.AttributeReferenceType{escim.AttributeReferenceTypeExternal}})
		case TypeBinary:
			p = escim.SimpleBinaryParams(escim.BinaryParams{Name: a.Name, Description: d, Required: a.Required, MultiValued: a.MultiValued})
		default:
			p = escim.SimpleStringParams(escim.StringParams{Name: a.Name, Description: d, Required: a.Required, MultiValued: a.MultiValued, CaseExact: a.CaseExact, Uniqueness: a.uniqueness(), CanonicalValues: a.CanonicalValues})
		}
		s.Attributes = append(s.Attributes, escim.SimpleCoreAttribute(p))
	}
	return s
}

// WithStrictTypes rejects values sent as strings for non-string
// attributes: "True"/"False" for booleans and numeric strings ("3",
// "2.5") for integers and decimals. By default both are accepted by one
// rule, because Entra's default provisioning job (without
// aadOptscim062020) sends them. It replaces [WithStrictBooleans].
func WithStrictTypes() Option { return WithStrictBooleans() }

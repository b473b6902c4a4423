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
// full-URN keys, and as PATCH paths.
type Extension struct {
	// URN is the schema id; it must start with "urn:".
	URN string
	// Name and Description are shown in /Schemas.
	Name, Description string
	// Attributes are the extension's attributes.
	Attributes []ExtensionAttribute
}

// ExtensionAttribute is one attribute of an [Extension]. Entra flows only
// simple single-valued attributes to custom extensions, so that is all an
// Extension supports.
type ExtensionAttribute struct {
	Name        string
	Description string
	// Type is "string" (the default), "boolean", "integer", "decimal",
	// "dateTime" or "reference".
	Type      string
	CaseExact bool
	Required  bool
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
		case "", "string", "boolean", "integer", "decimal", "dateTime", "reference":
		default:
			return fmt.Errorf("scim: extension %q: attribute %q has unsupported type %q", e.URN, a.Name, a.Type)
		}
	}
	return nil
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
		case "boolean":
			p = escim.SimpleBooleanParams(escim.BooleanParams{Name: a.Name, Description: d, Required: a.Required})
		case "integer":
			p = escim.SimpleNumberParams(escim.NumberParams{Name: a.Name, Description: d, Required: a.Required, Type: escim.AttributeTypeInteger()})
		case "decimal":
			p = escim.SimpleNumberParams(escim.NumberParams{Name: a.Name, Description: d, Required: a.Required, Type: escim.AttributeTypeDecimal()})
		case "dateTime":
			p = escim.SimpleDateTimeParams(escim.DateTimeParams{Name: a.Name, Description: d, Required: a.Required})
		case "reference":
			p = escim.SimpleReferenceParams(escim.ReferenceParams{Name: a.Name, Description: d, Required: a.Required, ReferenceTypes: []escim.AttributeReferenceType{escim.AttributeReferenceTypeExternal}})
		default:
			p = escim.SimpleStringParams(escim.StringParams{Name: a.Name, Description: d, Required: a.Required, CaseExact: a.CaseExact})
		}
		s.Attributes = append(s.Attributes, escim.SimpleCoreAttribute(p))
	}
	return s
}

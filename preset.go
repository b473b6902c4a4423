package scimkit

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/scimkit/scimkit/internal/schema"
)

// DruvaExtensionURN is the custom User extension of the Entra preset
// (Druva's guide, "Map additional attributes").
const DruvaExtensionURN = "urn:ietf:params:scim:schemas:extension:Druva:2.0:User"

// Preset is an identity provider's documented attribute-mapping set-up: the
// rows an administrator configures in the IdP's mapping screen, and the
// extensions the server must register for them. Get one from
// [EntraPreset] or [OktaPreset] (each call returns a fresh value); print
// its admin table with [Preset.Table] or [Preset.Markdown]; check a host
// mapping against it with [ForPreset]; register its extensions with
// [Preset.Options].
type Preset struct {
	// Name names the IdP and the guide the preset follows.
	Name string
	// SourceHeader, TargetHeader and ActionHeader are the column titles
	// of the IdP's mapping screen.
	SourceHeader, TargetHeader, ActionHeader string
	// Rules are the rows, in the order the admin enters them.
	Rules []MappingRule
	// Extensions are the custom schemas the rules target.
	Extensions []Extension
	// Notes are shown under the table.
	Notes []string
}

// MappingRule is one row of an IdP's attribute-mapping screen.
type MappingRule struct {
	// Source is the IdP's attribute or expression ("userPrincipalName",
	// "Not([IsSoftDeleted])", "user.firstName").
	Source string
	// Target is the SCIM attribute path the IdP writes, as its screen
	// names it (`emails[type eq "work"].value`,
	// "urn:...:enterprise:2.0:User:department").
	Target string
	// Action is what the admin selects: when the mapping applies, and
	// whether it matches objects.
	Action string
	// Required is set for rows the product needs; the others are
	// optional.
	Required bool
}

// EntraPreset returns the set-up of Druva's guide for Microsoft Entra ID
// ("Manage Users from Microsoft Azure Active Directory using SCIM"):
// userName from userPrincipalName (or mail, when the product's login is
// the e-mail address), active from Not([IsSoftDeleted]), displayName,
// externalId from objectId, and the optional Druva extension
// (userPrincipalName, city, country, department). Following Keepnet's
// guide the work e-mail from mail is mandatory.
func EntraPreset() Preset {
	ext := NewExtension(DruvaExtensionURN).String("userPrincipalName").String("city").String("country").String("department")
	ext.Name, ext.Description = "Druva", "Druva user attributes (Druva's Entra guide)"
	return Preset{
		Name:         "Microsoft Entra ID (Druva's guide)",
		SourceHeader: "Microsoft Entra ID attribute",
		TargetHeader: "customappsso attribute",
		ActionHeader: "Mapping type / apply / matching",
		Rules: []MappingRule{
			{Source: "userPrincipalName (or mail)", Target: "userName", Action: "Direct, always, match objects (precedence 1)", Required: true},
			{Source: "Not([IsSoftDeleted])", Target: "active", Action: "Expression, always", Required: true},
			{Source: "displayName", Target: "displayName", Action: "Direct, always", Required: true},
			{Source: "mail", Target: `emails[type eq "work"].value`, Action: "Direct, always (mail is mandatory)", Required: true},
			{Source: "objectId", Target: "externalId", Action: "Direct, always", Required: true},
			{Source: "userPrincipalName", Target: ext.EntraAttribute("userPrincipalName"), Action: "Direct, always (optional)"},
			{Source: "city", Target: ext.EntraAttribute("city"), Action: "Direct, always (optional)"},
			{Source: "country", Target: ext.EntraAttribute("country"), Action: "Direct, always (optional)"},
			{Source: "department", Target: ext.EntraAttribute("department"), Action: "Direct, always (optional)"},
		},
		Extensions: []Extension{ext},
		Notes: []string{
			"Add the Druva attributes under Show advanced options > Edit attribute list for customappsso, type String.",
			"Users without mail are skipped by the product: mail is mandatory.",
		},
	}
}

// OktaPreset returns the set-up of Infrascale's guide for Okta (SCIM 2.0
// app): userName is the unique identifier; exactly Username, Given name,
// Family name, Email, Primary email type and Display name are mapped, with
// given name, family name and e-mail type applied on create only.
func OktaPreset() Preset {
	return Preset{
		Name:         "Okta (Infrascale's guide)",
		SourceHeader: "Okta attribute",
		TargetHeader: "App attribute (SCIM)",
		ActionHeader: "Apply on",
		Rules: []MappingRule{
			{Source: "Okta username (Application username format)", Target: "userName", Action: "Create and update (unique identifier)", Required: true},
			{Source: "user.firstName", Target: "name.givenName", Action: "Create", Required: true},
			{Source: "user.lastName", Target: "name.familyName", Action: "Create", Required: true},
			{Source: "user.email", Target: `emails[type eq "work"].value`, Action: "Create and update", Required: true},
			{Source: "(user.email != null) ? 'work' : ''", Target: "emails[primary eq true].type", Action: "Create", Required: true},
			{Source: "user.displayName", Target: "displayName", Action: "Create and update", Required: true},
		},
		Notes: []string{
			"Delete every other attribute from the app's To App mappings; the product reads only these six.",
		},
	}
}

// Options returns the server options the preset needs: its extensions,
// registered with [WithUserExtension].
func (p Preset) Options() []Option {
	var out []Option
	for _, e := range p.Extensions {
		out = append(out, WithUserExtension(e))
	}
	return out
}

// Targets returns the SCIM paths the preset's rules write. [ForPreset]
// also accepts id, active and meta.created/lastModified, which every
// provisioned user has.
func (p Preset) Targets() []string {
	var out []string
	for _, r := range p.Rules {
		out = append(out, r.Target)
	}
	return out
}

// sends reports whether path is a target of p or one of the attributes
// every provisioned user has (id, active: the server defaults it). Paths
// compare case-insensitively, ignoring spaces.
func (p Preset) sends(path string) bool {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }
	n := norm(path)
	switch n {
	case "id", "active", "meta.created", "meta.lastmodified":
		return true
	}
	for _, r := range p.Rules {
		t := norm(r.Target)
		if t == n || strings.HasPrefix(t, "emails[") && n == "emails.value" {
			return true
		}
		if strings.EqualFold(strings.TrimPrefix(t, strings.ToLower(schema.UserURN)+":"), n) {
			return true
		}
	}
	return false
}

// Table returns the admin mapping table as aligned text: one row per
// rule (source, target, action), required rows marked with *, then the
// notes.
func (p Preset) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", p.Name)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\t%s\n", p.SourceHeader, p.TargetHeader, p.ActionHeader)
	for _, r := range p.Rules {
		mark := ""
		if r.Required {
			mark = " *"
		}
		fmt.Fprintf(tw, "%s\t%s%s\t%s\n", r.Source, r.Target, mark, r.Action)
	}
	_ = tw.Flush()
	b.WriteString("* required\n")
	for _, n := range p.Notes {
		b.WriteString("- " + n + "\n")
	}
	return b.String()
}

// Markdown returns the admin mapping table as a GitHub-flavoured Markdown
// table, for a product's docs or admin page.
func (p Preset) Markdown() string {
	var b strings.Builder
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	fmt.Fprintf(&b, "| %s | %s | %s | Required |\n|---|---|---|---|\n", p.SourceHeader, p.TargetHeader, p.ActionHeader)
	for _, r := range p.Rules {
		req := "no"
		if r.Required {
			req = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", esc(r.Source), esc(r.Target), esc(r.Action), req)
	}
	if len(p.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range p.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return b.String()
}

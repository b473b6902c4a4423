package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
)

// accountProfile is what the admin's account list shows of the user
// behind each backup account: the attributes backupd's IdP set-ups map
// (scimkit.EntraPreset, Druva's guide, and scimkit.OktaPreset,
// Infrascale's), declared once with scim tags and read through
// scimkit.Mapping.
type accountProfile struct {
	DisplayName string `scim:"displayName" json:"displayName,omitempty"`
	Email       string `scim:"emails[type eq \"work\"].value" json:"email,omitempty"`
	GivenName   string `scim:"name.givenName" json:"givenName,omitempty"`
	FamilyName  string `scim:"name.familyName" json:"familyName,omitempty"`
	ExternalID  string `scim:"externalId" json:"externalId,omitempty"`
	City        string `scim:"urn:ietf:params:scim:schemas:extension:Druva:2.0:User:city" json:"city,omitempty"`
	Country     string `scim:"urn:ietf:params:scim:schemas:extension:Druva:2.0:User:country" json:"country,omitempty"`
	Department  string `scim:"urn:ietf:params:scim:schemas:extension:Druva:2.0:User:department" json:"department,omitempty"`
	// Groups are the display names of the user's groups (the typed
	// view's readOnly "groups", from the member index).
	Groups []string `json:"groups,omitempty"`
}

// accountView is one entry of the admin's account list.
type accountView struct {
	account
	// State is the user's lifecycle state: active, pending, suspended or
	// preserved (until PreservedUntil; null: until an admin purges it).
	State          string          `json:"state"`
	PreservedUntil *time.Time      `json:"preservedUntil,omitempty"`
	Profile        *accountProfile `json:"profile,omitempty"`
}

// presetOptions registers the Druva extension of the Entra preset, unless
// -user-extension declares that URN itself.
func presetOptions(exts []scimkit.Extension) []scimkit.Option {
	for _, e := range exts {
		if strings.EqualFold(e.URN, scimkit.DruvaExtensionURN) {
			return nil
		}
	}
	return scimkit.EntraPreset().Options()
}

// profiles adds each account's profile. A user that is gone (deleted
// between the two reads) shows no profile. It reads each user (and its
// groups) on its own: fine for an admin page of one tenant, not for bulk
// export.
func (a *app) profiles(ctx context.Context, tenant string, accs []account) ([]accountView, error) {
	out := make([]accountView, len(accs))
	for i, acc := range accs {
		out[i].account = acc
		u, err := a.scim.User(ctx, tenant, acc.UserID)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		p, err := a.profileMap.FromUser(u)
		if err != nil {
			return nil, err
		}
		for _, g := range u.Groups {
			p.Groups = append(p.Groups, g.Display)
		}
		out[i].Profile = &p
	}
	return out, nil
}

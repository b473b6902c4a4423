package main

import (
	"net/http"
	"time"

	"github.com/scimkit/scimkit"
)

// profileResponse is the body of GET /admin/tenants/{tenant}/scim/profile.
type profileResponse struct {
	Tenant         string              `json:"tenant"`
	Client         scimkit.IdPClient   `json:"client"`
	Detected       scimkit.IdPClient   `json:"detected"`
	Confidence     scimkit.Confidence  `json:"confidence"`
	Overridden     bool                `json:"overridden"`
	FirstSeen      *time.Time          `json:"firstSeen"`
	LastSeen       *time.Time          `json:"lastSeen"`
	Evidence       []profileEvidence   `json:"evidence"`
	Normalizations []profileNormalized `json:"normalizations"`
	Scope          string              `json:"scope"`
}

type profileEvidence struct {
	Signal    scimkit.Signal    `json:"signal"`
	Client    scimkit.IdPClient `json:"client"`
	Count     int64             `json:"count"`
	FirstSeen time.Time         `json:"firstSeen"`
	LastSeen  time.Time         `json:"lastSeen"`
}

type profileNormalized struct {
	Kind      scimkit.NormalizationKind `json:"kind"`
	Attribute string                    `json:"attribute"`
	Count     int64                     `json:"count"`
}

// getProfile answers which IdP client provisions the tenant, as this
// instance detected it from the tenant's SCIM traffic
// (scimkit.Server.IdPProfile), and how often each normalisation was
// applied to its requests (scimkit.Server.Normalizations): what an
// operator looks at to see "this tenant still sends "False"".
func (a *app) getProfile(w http.ResponseWriter, r *http.Request, tenant string) error {
	p := a.scim.IdPProfile(tenant)
	out := profileResponse{
		Tenant:         tenant,
		Client:         p.Client,
		Detected:       p.Detected,
		Confidence:     p.Confidence,
		Overridden:     p.Overridden,
		Evidence:       []profileEvidence{},
		Normalizations: []profileNormalized{},
		Scope:          "this instance, since it started",
	}
	if !p.FirstSeen.IsZero() {
		out.FirstSeen, out.LastSeen = &p.FirstSeen, &p.LastSeen
	}
	for _, e := range p.Evidence {
		out.Evidence = append(out.Evidence, profileEvidence(e))
	}
	for _, n := range a.scim.Normalizations(tenant) {
		out.Normalizations = append(out.Normalizations, profileNormalized(n))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

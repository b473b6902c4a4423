package scimkit

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/scimkit/scimkit/internal/schema"
)

// IdPClient names the provisioning client a tenant's requests come from.
type IdPClient string

// The clients [Server.IdPProfile] tells apart (the README's "IdP profile"
// section lists the evidence each rests on).
const (
	// ClientGeneric: no request showed a known IdP's signature.
	ClientGeneric IdPClient = "generic"
	// ClientEntra: Microsoft Entra ID's provisioning service, default
	// "scim" job (capitalised ops, "True"/"False" strings, members
	// removed with a value list).
	ClientEntra IdPClient = "entra"
	// ClientEntraFlag: Entra's job with the aadOptscim062020 flag in the
	// Tenant URL (RFC-compliant PATCH, path-less replace with dotted and
	// flat-URN keys).
	ClientEntraFlag IdPClient = "entra-aadOptscim062020"
	// ClientOktaOIN: an Okta Integration Network app (deactivates with a
	// path-less PATCH of active, renames groups with a path-less PATCH
	// carrying id).
	ClientOktaOIN IdPClient = "okta-oin"
	// ClientOktaCustom: an Okta custom (App Integration Wizard) SCIM app,
	// which sends every update, deactivation and group push included, as
	// a PUT.
	ClientOktaCustom IdPClient = "okta-custom"
)

// Signal names one observation that points at a client.
type Signal string

// The signals recorded. Each points at one client, or at a vendor when
// both of its jobs or app types send it.
const (
	// SignalOktaUserAgent: User-Agent "Okta SCIM Client ..." (Okta's SCIM
	// guide shows "User-Agent: Okta SCIM Client 1.0.0"). Okta, either app type.
	SignalOktaUserAgent Signal = "userAgent:Okta SCIM Client"
	// SignalEntraFlag: the aadOptscim062020 flag in the request's query
	// string (Entra appends the Tenant URL's query to its requests).
	SignalEntraFlag Signal = "query:aadOptscim062020"
	// SignalStringBoolean: "True"/"False" for a boolean: Entra's default job.
	SignalStringBoolean Signal = "stringBoolean"
	// SignalCapitalisedOp: "Replace", "Add", "Remove": Entra's default job.
	SignalCapitalisedOp Signal = "capitalisedOp"
	// SignalRemoveMembersWithValue: a members remove with a value list:
	// Entra's default job.
	SignalRemoveMembersWithValue Signal = "removeMembersWithValue"
	// SignalDottedPatch: a path-less PATCH replace with dotted or flat-URN
	// keys: Entra's aadOptscim062020 job.
	SignalDottedPatch Signal = "pathlessDottedKeys"
	// SignalValuePathFilter: the filter emails[type eq "work"].value eq:
	// Entra, either job.
	SignalValuePathFilter Signal = "valuePathFilter"
	// SignalBareManager: a complex attribute (manager) as a bare string:
	// Entra, either job.
	SignalBareManager Signal = "bareStringValue"
	// SignalPathlessActive: a path-less PATCH of active, or one carrying
	// id (group rename): Okta OIN.
	SignalPathlessActive Signal = "pathlessActiveOrID"
	// SignalPutUser: a PUT of a User: Okta, either app type (Entra never
	// sends PUT).
	SignalPutUser Signal = "putUser"
	// SignalPutGroup: a PUT of a Group: Okta custom app (OIN apps PATCH
	// groups).
	SignalPutGroup Signal = "putGroup"
)

// vendor groups clients for scoring.
type vendor uint8

const (
	vendorEntra vendor = iota
	vendorOkta
)

// signalInfo says what a signal points at: the vendor, and the client
// when it is specific to one job or app type ("" when not).
var signalInfo = [...]struct {
	sig    Signal
	vendor vendor
	client IdPClient
}{
	{SignalOktaUserAgent, vendorOkta, ""},
	{SignalEntraFlag, vendorEntra, ClientEntraFlag},
	{SignalStringBoolean, vendorEntra, ClientEntra},
	{SignalCapitalisedOp, vendorEntra, ClientEntra},
	{SignalRemoveMembersWithValue, vendorEntra, ClientEntra},
	{SignalDottedPatch, vendorEntra, ClientEntraFlag},
	{SignalValuePathFilter, vendorEntra, ""},
	{SignalBareManager, vendorEntra, ""},
	{SignalPathlessActive, vendorOkta, ClientOktaOIN},
	{SignalPutUser, vendorOkta, ""},
	{SignalPutGroup, vendorOkta, ClientOktaCustom},
}

const numSignals = len(signalInfo)

// Evidence is how often one signal was seen in a tenant's requests.
type Evidence struct {
	Signal Signal
	// Client is the client the signal points at; for a signal both jobs
	// or app types of a vendor send, the vendor's default client.
	Client    IdPClient
	Count     int64
	FirstSeen time.Time
	LastSeen  time.Time
}

// Confidence grades a detected profile.
type Confidence string

// The confidences.
const (
	// ConfidenceNone: no evidence (Client is generic).
	ConfidenceNone Confidence = "none"
	// ConfidenceLow: only signals common to both of a vendor's clients;
	// the client is the vendor's default (Entra's default job, Okta's
	// custom app).
	ConfidenceLow Confidence = "low"
	// ConfidenceHigh: a signal specific to the client was seen.
	ConfidenceHigh Confidence = "high"
)

// IdPProfile is what a server knows about the client provisioning one
// tenant.
type IdPProfile struct {
	// Client is the override when Overridden, else the detected client.
	Client IdPClient
	// Detected is the client the evidence points at.
	Detected   IdPClient
	Confidence Confidence
	// Overridden is true when the host set Client with
	// [Server.SetIdPProfile].
	Overridden bool
	// Evidence lists the signals seen, in a fixed order (at most one
	// entry per [Signal]).
	Evidence []Evidence
	// FirstSeen and LastSeen bound the requests that gave evidence
	// (zero without evidence), by the server's clock ([WithClock]).
	FirstSeen time.Time
	LastSeen  time.Time
}

// IdPProfile returns the client detected for tenant from its
// authenticated requests (the User-Agent, the aadOptscim062020 flag, and
// request shapes of successful writes and filters; see [Signal]), or the
// one the host set with [Server.SetIdPProfile]. When signals of both
// vendors were seen, the one with more requests wins (a tie: the latest),
// and within the vendor the latest job-specific signal picks the client,
// so a tenant that adds the aadOptscim062020 flag moves over. The profile
// is informational: every client's quirks are accepted for every tenant.
// It lives in this Server's memory (a fixed-size record, about 700
// bytes, per tenant that sent evidence; at most 100,000 tenants, later
// ones stay generic unless overridden), so each instance of a replicated deployment detects
// from its own requests and forgets on restart.
func (s *Server) IdPProfile(tenant string) IdPProfile {
	return s.profiles.get(tenant)
}

// SetIdPProfile overrides the client of tenant's profile (for example
// from the host's tenant settings); ClientGeneric included. An empty
// client removes the override. Detection goes on and stays visible in
// [IdPProfile.Detected]. Like detection, it is per Server instance.
func (s *Server) SetIdPProfile(tenant string, client IdPClient) {
	s.profiles.set(tenant, client)
}

// maxProfileTenants bounds the tenants whose evidence is recorded (about
// 700 bytes each).
const maxProfileTenants = 100_000

type signalCount struct {
	n           int64
	first, last time.Time
}

type tenantProfile struct {
	signals  [numSignals]signalCount
	override IdPClient
}

// profiles holds the per-tenant profiles.
type profiles struct {
	mu      sync.Mutex
	tenants map[string]*tenantProfile // guarded by mu
}

func (p *profiles) tenant(t string) *tenantProfile {
	if p.tenants == nil {
		p.tenants = map[string]*tenantProfile{}
	}
	tp := p.tenants[t]
	if tp == nil {
		tp = &tenantProfile{}
		p.tenants[t] = tp
	}
	return tp
}

// record counts the signals set in sigs (a bit per signalInfo index).
func (p *profiles) record(t string, sigs uint32, now time.Time) {
	if sigs == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.tenants[t]; !ok && len(p.tenants) >= maxProfileTenants {
		return // bounded memory: tenants beyond the limit stay generic
	}
	tp := p.tenant(t)
	for i := range numSignals {
		if sigs&(1<<i) == 0 {
			continue
		}
		c := &tp.signals[i]
		if c.n == 0 {
			c.first = now
		}
		c.n++
		c.last = now
	}
}

func (p *profiles) set(t string, c IdPClient) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tenant(t).override = c
}

func (p *profiles) get(t string) IdPProfile {
	p.mu.Lock()
	var tp tenantProfile
	if x := p.tenants[t]; x != nil {
		tp = *x
	}
	p.mu.Unlock()
	prof := IdPProfile{Detected: ClientGeneric, Confidence: ConfidenceNone}
	var total [2]int64
	var latest [2]time.Time
	for i, c := range tp.signals {
		if c.n == 0 {
			continue
		}
		info := signalInfo[i]
		client := info.client
		if client == "" {
			client = defaultClient(info.vendor)
		}
		prof.Evidence = append(prof.Evidence, Evidence{Signal: info.sig, Client: client, Count: c.n, FirstSeen: c.first, LastSeen: c.last})
		total[info.vendor] += c.n
		if c.last.After(latest[info.vendor]) {
			latest[info.vendor] = c.last
		}
		if prof.FirstSeen.IsZero() || c.first.Before(prof.FirstSeen) {
			prof.FirstSeen = c.first
		}
		if c.last.After(prof.LastSeen) {
			prof.LastSeen = c.last
		}
	}
	if len(prof.Evidence) > 0 {
		v := vendorEntra
		if total[vendorOkta] > total[vendorEntra] || total[vendorOkta] == total[vendorEntra] && latest[vendorOkta].After(latest[vendorEntra]) {
			v = vendorOkta
		}
		prof.Detected, prof.Confidence = defaultClient(v), ConfidenceLow
		var at time.Time
		for i, c := range tp.signals {
			info := signalInfo[i]
			if c.n > 0 && info.vendor == v && info.client != "" && !c.last.Before(at) {
				prof.Detected, prof.Confidence, at = info.client, ConfidenceHigh, c.last
			}
		}
	}
	prof.Client = prof.Detected
	if tp.override != "" {
		prof.Client, prof.Overridden = tp.override, true
	}
	return prof
}

func defaultClient(v vendor) IdPClient {
	if v == vendorOkta {
		return ClientOktaCustom
	}
	return ClientEntra
}

func signalBit(sig Signal) uint32 {
	for i, info := range signalInfo {
		if info.sig == sig {
			return 1 << i
		}
	}
	return 0
}

// requestSignals returns the signals of an authenticated request's
// headers and query string: cheap, no allocation.
func requestSignals(r *http.Request) uint32 {
	var sigs uint32
	if strings.HasPrefix(r.UserAgent(), "Okta SCIM Client") {
		sigs |= signalBit(SignalOktaUserAgent)
	}
	if q := r.URL.RawQuery; q != "" && containsFold(q, "aadOptscim062020") {
		sigs |= signalBit(SignalEntraFlag)
	}
	return sigs
}

// containsFold reports whether s contains sub, ASCII case-insensitively.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// writeSignals returns the signals of a successful request's shapes:
// its method and resource, and what normalisation noted.
func writeSignals(method, resource string, rep *schema.Report) uint32 {
	var sigs uint32
	if method == http.MethodPut {
		if resource == "User" {
			sigs |= signalBit(SignalPutUser)
		} else if resource == "Group" {
			sigs |= signalBit(SignalPutGroup)
		}
	}
	dotted := false
	for _, n := range rep.Notes {
		switch n.Kind {
		case schema.NoteStringBoolean:
			sigs |= signalBit(SignalStringBoolean)
		case schema.NoteCapitalisedOp:
			sigs |= signalBit(SignalCapitalisedOp)
		case schema.NoteRemoveMembersValue:
			sigs |= signalBit(SignalRemoveMembersWithValue)
		case schema.NoteDottedKey, schema.NoteFlatExtension:
			if method == http.MethodPatch {
				sigs |= signalBit(SignalDottedPatch)
				dotted = true
			}
		case schema.NoteValuePathFilter:
			sigs |= signalBit(SignalValuePathFilter)
		case schema.NoteBareValue:
			sigs |= signalBit(SignalBareManager)
		}
	}
	// Entra's aadOptscim062020 path-less replace may carry active among
	// dotted keys; Okta's never has them.
	if method == http.MethodPatch && !dotted && rep.Shapes&(schema.ShapePathlessActive|schema.ShapePathlessID) != 0 {
		sigs |= signalBit(SignalPathlessActive)
	}
	return sigs
}

package scimkit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/scimkit/scimkit/storage"
)

// TokenStore persists tenants' API credentials; see [storage.Credentials]
// for the contract. storage/memory implements it, as do the SQL backends.
// A token itself is never stored: only its SHA-256 hash, beside an id,
// label, creation time, optional expiry and last use.
//
// SHA-256 without salt or stretching is enough because scimkit's tokens
// carry 256 random bits: there is nothing to guess from a hash, no
// dictionary to precompute, and a slow hash would only slow down every
// request. Tokens chosen by a person ([SetToken]) lack that strength.
type TokenStore interface {
	storage.Credentials
}

// tokenPrefix marks scimkit tokens so secret scanners can find leaked ones.
const tokenPrefix = "scim_"

// maxLabelBytes bounds a credential's label.
const maxLabelBytes = 128

// TokenOption configures [GenerateToken], [SetToken] and [RotateToken].
// Options are created only by this package's WithToken functions.
type TokenOption interface{ applyToken(*tokenConfig) error }

type tokenOptionFunc func(*tokenConfig) error

func (f tokenOptionFunc) applyToken(c *tokenConfig) error { return f(c) }

type tokenConfig struct {
	label    string
	labelSet bool
	lifetime time.Duration // 0: never expires
	now      func() time.Time
}

// WithTokenLabel names the credential for admins ("Entra production"): at
// most 128 bytes of UTF-8 without control characters. The default is
// empty; [RotateToken] defaults to the label of the token it replaces.
func WithTokenLabel(label string) TokenOption {
	return tokenOptionFunc(func(c *tokenConfig) error {
		if len(label) > maxLabelBytes || !utf8.ValidString(label) || strings.ContainsFunc(label, unicode.IsControl) {
			return fmt.Errorf("scim: token label must be at most %d bytes of UTF-8 without control characters", maxLabelBytes)
		}
		c.label, c.labelSet = label, true
		return nil
	})
}

// WithTokenLifetime makes the token expire d after it is created (d > 0):
// from then on it is answered 401 like an unknown token. Without it a
// token never expires.
func WithTokenLifetime(d time.Duration) TokenOption {
	return tokenOptionFunc(func(c *tokenConfig) error {
		if d <= 0 {
			return errors.New("scim: token lifetime must be positive")
		}
		c.lifetime = d
		return nil
	})
}

// WithTokenClock sets the clock that dates the credential (Created,
// Expires, a rotation's overlap); the default is time.Now. Give it the
// clock the [Server] has ([WithClock]) in tests.
func WithTokenClock(now func() time.Time) TokenOption {
	return tokenOptionFunc(func(c *tokenConfig) error {
		if now == nil {
			return errors.New("scim: nil token clock")
		}
		c.now = now
		return nil
	})
}

func tokenOptions(opts []TokenOption) (tokenConfig, error) {
	cfg := tokenConfig{now: time.Now}
	for _, o := range opts {
		if o == nil {
			return tokenConfig{}, errors.New("scim: nil token option")
		}
		if err := o.applyToken(&cfg); err != nil {
			return tokenConfig{}, err
		}
	}
	return cfg, nil
}

// credential returns a new credential as cfg describes, created now.
func (cfg tokenConfig) credential() storage.Credential {
	now := cfg.now().Truncate(time.Microsecond)
	c := storage.Credential{ID: newUUID(), Label: cfg.label, Created: now}
	if cfg.lifetime > 0 {
		c.Expires = now.Add(cfg.lifetime)
	}
	return c
}

// GenerateToken creates a new API credential for tenant and returns its
// token, which the caller shows once (the "Secret Token" an admin pastes
// into Entra, or the HTTP header value for Okta), and the credential
// (id, label, times; never the token). The token is "scim_" and 256 bits
// from crypto/rand in base64url; only its hash is stored. The tenant's
// other tokens keep working: a tenant has any number of credentials,
// each revoked on its own ([RevokeToken]).
//
// The tenant id must have 1 to 128 bytes of ASCII letters, digits and
// "-_.", beginning with a letter or digit (so never "." or ".."): the
// rule the [Server] applies to tenants it serves, and every token
// function checks. Options set
// a label and a lifetime ([WithTokenLabel], [WithTokenLifetime]).
func GenerateToken(ctx context.Context, tokens TokenStore, tenant string, opts ...TokenOption) (string, storage.Credential, error) {
	if err := validTenant(tenant); err != nil {
		return "", storage.Credential{}, err
	}
	cfg, err := tokenOptions(opts)
	if err != nil {
		return "", storage.Credential{}, err
	}
	return generateToken(ctx, tokens, tenant, cfg)
}

func generateToken(ctx context.Context, tokens TokenStore, tenant string, cfg tokenConfig) (string, storage.Credential, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", storage.Credential{}, fmt.Errorf("scim: generate token: %w", err)
	}
	tok := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	c := cfg.credential()
	if err := tokens.CreateCredential(ctx, tenant, c, HashToken(tok)); err != nil {
		return "", storage.Credential{}, fmt.Errorf("scim: store token hash: %w", err)
	}
	c.Tenant = tenant
	return tok, c, nil
}

// SetToken adds a token chosen by the caller to tenant's credentials: a
// fixed development token, or one migrated from another system. Prefer
// [GenerateToken]: a chosen token is only as strong as its choice, and
// its unsalted hash does not protect a weak one. Tokens shorter than 8
// bytes are refused. Setting a token the tenant already has, unexpired,
// is a no-op (so a process may set its development token on every
// start, from several instances at once); an expired one is replaced by
// a fresh credential. A token another tenant has gives an error wrapping
// [storage.ErrConflict]. Tenant ids follow [GenerateToken]'s rule.
func SetToken(ctx context.Context, tokens TokenStore, tenant, token string, opts ...TokenOption) error {
	if err := validTenant(tenant); err != nil {
		return err
	}
	if len(token) < 8 {
		return errors.New("scim: token shorter than 8 bytes")
	}
	cfg, err := tokenOptions(opts)
	if err != nil {
		return err
	}
	hash := HashToken(token)
	have := func() (bool, error) {
		old, err := tokens.CredentialByHash(ctx, hash)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("scim: look up token: %w", err)
		case old.Tenant != tenant:
			return false, fmt.Errorf("scim: the token belongs to another tenant: %w", storage.ErrConflict)
		case !old.Expired(cfg.now()):
			return true, nil
		}
		if err := tokens.RevokeCredential(ctx, tenant, old.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return false, fmt.Errorf("scim: replace expired token: %w", err)
		}
		return false, nil
	}
	if ok, err := have(); ok || err != nil {
		return err
	}
	err = tokens.CreateCredential(ctx, tenant, cfg.credential(), hash)
	if errors.Is(err, storage.ErrConflict) {
		// Another instance set the same token meanwhile.
		if ok, herr := have(); ok || herr != nil {
			return herr
		}
	}
	if err != nil {
		return fmt.Errorf("scim: store token hash: %w", err)
	}
	return nil
}

// ListTokens returns tenant's credentials, expired ones included, oldest
// first. They hold id, label and times, never a token or its hash. An
// invalid tenant id ([GenerateToken] states the rule) is an error.
func ListTokens(ctx context.Context, tokens TokenStore, tenant string) ([]storage.Credential, error) {
	if err := validTenant(tenant); err != nil {
		return nil, err
	}
	return tokens.ListCredentials(ctx, tenant)
}

// RevokeToken revokes tenant's credential id at once: its token is
// answered 401 from the next request on, and its hash is deleted. An
// unknown id, or one of another tenant, gives an error wrapping
// [storage.ErrNotFound]; an invalid tenant id ([GenerateToken] states the
// rule) is an error too.
func RevokeToken(ctx context.Context, tokens TokenStore, tenant, id string) error {
	if err := validTenant(tenant); err != nil {
		return err
	}
	if !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0 {
		// No credential has such an id, and PostgreSQL refuses the text.
		return fmt.Errorf("scim: revoke token: %w", storage.ErrNotFound)
	}
	if err := tokens.RevokeCredential(ctx, tenant, id); err != nil {
		return fmt.Errorf("scim: revoke token: %w", err)
	}
	return nil
}

// RevokeAllTokens revokes every credential of tenant (offboarding, or an
// admin disabling SCIM): its SCIM endpoint answers 401 until a new token
// is generated. A tenant without tokens is not an error; an invalid
// tenant id ([GenerateToken] states the rule) is.
func RevokeAllTokens(ctx context.Context, tokens TokenStore, tenant string) error {
	cs, err := ListTokens(ctx, tokens, tenant)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := tokens.RevokeCredential(ctx, tenant, c.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("scim: revoke token: %w", err)
		}
	}
	return nil
}

// RotateToken replaces tenant's credential id with a new token (returned
// once, as [GenerateToken] does) and lets the old token expire overlap
// from now, so a live provisioning job keeps working while an admin
// pastes the new token into the identity provider; overlap 0 ends the
// old token at once. An old token that expires sooner keeps its expiry.
// The new credential takes the old one's label unless [WithTokenLabel]
// is given; its lifetime comes from [WithTokenLifetime] only. An unknown
// id gives an error wrapping [storage.ErrNotFound]; an invalid tenant id
// ([GenerateToken] states the rule) is an error too.
func RotateToken(ctx context.Context, tokens TokenStore, tenant, id string, overlap time.Duration, opts ...TokenOption) (string, storage.Credential, error) {
	if err := validTenant(tenant); err != nil {
		return "", storage.Credential{}, err
	}
	if overlap < 0 {
		return "", storage.Credential{}, errors.New("scim: rotation overlap must not be negative")
	}
	cfg, err := tokenOptions(opts)
	if err != nil {
		return "", storage.Credential{}, err
	}
	cs, err := tokens.ListCredentials(ctx, tenant)
	if err != nil {
		return "", storage.Credential{}, err
	}
	var old *storage.Credential
	for i := range cs {
		if cs[i].ID == id {
			old = &cs[i]
		}
	}
	if old == nil {
		return "", storage.Credential{}, fmt.Errorf("scim: rotate token %q: %w", id, storage.ErrNotFound)
	}
	if !cfg.labelSet {
		cfg.label = old.Label
	}
	tok, c, err := generateToken(ctx, tokens, tenant, cfg)
	if err != nil {
		return "", storage.Credential{}, err
	}
	if err := tokens.ExpireCredential(ctx, tenant, id, c.Created.Add(overlap)); err != nil {
		// Leave things as they were: the old token, no new one.
		_ = tokens.RevokeCredential(ctx, tenant, c.ID)
		return "", storage.Credential{}, fmt.Errorf("scim: expire rotated token: %w", err)
	}
	return tok, c, nil
}

// HashToken returns the hash under which a token is stored (SHA-256).
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// bearer extracts the token of an "Authorization: Bearer <token>" header
// (RFC 6750 §2.1; the scheme is case-insensitive).
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// authenticate resolves the tenant and credential of a request: one
// lookup of the token's hash in the store's unique index. The token is
// never compared itself; only its SHA-256 is looked up, so the lookup's
// timing can tell an attacker at most about hashes of guesses, never
// about a stored token. An unknown, revoked or expired token, and with
// pathTenant set (the tenant came from the URL) a token of another
// tenant, all get the same 401.
func (s *Server) authenticate(r *http.Request, pathTenant string) (storage.Credential, error) {
	tok, ok := bearer(r)
	if !ok {
		return storage.Credential{}, ErrUnauthorized.WithDetail("authorization failure: send the API token as \"Authorization: Bearer <token>\"")
	}
	c, err := s.tokens.CredentialByHash(r.Context(), HashToken(tok))
	if err != nil {
		return storage.Credential{}, s.authError(err)
	}
	now := requestTime(r.Context(), s.cfg.now)
	if c.Expired(now) && (pathTenant == "" || c.Tenant == pathTenant) && validTenant(c.Tenant) == nil {
		// The same 401 as any other, but the log and the tenant's health
		// name the expired credential: its holder once had the tenant's
		// token, and an IdP sending it is a job about to be quarantined.
		return storage.Credential{Tenant: c.Tenant, ID: c.ID}, ErrUnauthorized
	}
	if c.Expired(now) || (pathTenant != "" && c.Tenant != pathTenant) || validTenant(c.Tenant) != nil {
		return storage.Credential{}, ErrUnauthorized
	}
	s.used.record(c, now)
	return c, nil
}

func (s *Server) authError(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return ErrUnauthorized
	}
	return storeError(err)
}

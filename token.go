package scimkit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/scimkit/scimkit/storage"
)

// TokenStore persists the hash of each tenant's API token; see
// [storage.Tokens] for the contract. storage/memory implements it, as do
// the SQL backends. The token itself is never stored: only its SHA-256,
// which is safe because tokens carry 256 random bits.
type TokenStore interface {
	storage.Tokens
}

// tokenPrefix marks scimkit tokens so secret scanners can find leaked ones.
const tokenPrefix = "scim_"

// GenerateToken creates a new API token for tenant, stores its hash and
// returns the token, which the caller shows once (the "Secret Token" an
// admin pastes into Entra, or the HTTP header value for Okta). The token has
// 256 bits from crypto/rand. Generating a token invalidates the tenant's
// previous one.
func GenerateToken(ctx context.Context, tokens TokenStore, tenant string) (string, error) {
	if err := validTenant(tenant); err != nil {
		return "", err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("scim: generate token: %w", err)
	}
	tok := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	if err := tokens.SetTokenHash(ctx, tenant, HashToken(tok)); err != nil {
		return "", fmt.Errorf("scim: store token hash: %w", err)
	}
	return tok, nil
}

// SetToken stores the hash of a token chosen by the caller (for example a
// fixed development token, or a token migrated from another system). Prefer
// [GenerateToken]: a chosen token is only as strong as its choice. Tokens
// shorter than 8 bytes are refused.
func SetToken(ctx context.Context, tokens TokenStore, tenant, token string) error {
	if err := validTenant(tenant); err != nil {
		return err
	}
	if len(token) < 8 {
		return errors.New("scim: token shorter than 8 bytes")
	}
	return tokens.SetTokenHash(ctx, tenant, HashToken(token))
}

// RevokeToken removes the tenant's token: its SCIM endpoint answers 401
// until a new token is generated.
func RevokeToken(ctx context.Context, tokens TokenStore, tenant string) error {
	return tokens.DeleteTokenHash(ctx, tenant)
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

// authenticate resolves the tenant of a request. With pathTenant set (the
// tenant came from the URL) the token must be that tenant's; otherwise the
// token alone names the tenant. Hashes are compared in constant time.
func (s *Server) authenticate(r *http.Request, pathTenant string) (string, error) {
	tok, ok := bearer(r)
	if !ok {
		return "", ErrUnauthorized.WithDetail("authorization failure: send the API token as \"Authorization: Bearer <token>\"")
	}
	sum := HashToken(tok)
	ctx := r.Context()
	tenant := pathTenant
	if tenant == "" {
		t, err := s.tokens.TenantByTokenHash(ctx, sum)
		if err != nil {
			return "", s.authError(err)
		}
		tenant = t
	}
	want, err := s.tokens.TokenHash(ctx, tenant)
	if err != nil {
		return "", s.authError(err)
	}
	if subtle.ConstantTimeCompare(want, sum) != 1 {
		return "", ErrUnauthorized
	}
	return tenant, nil
}

func (s *Server) authError(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return ErrUnauthorized
	}
	return storeError(err)
}

package scimkit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

func ExampleNewError() {
	err := scimkit.NewError(http.StatusConflict, "uniqueness", "userName alice is taken")
	fmt.Println(errors.Is(err, scimkit.ErrUniqueness), err.Status(), err.ScimType())
	fmt.Println(scimkit.ErrNotFound.WithDetail("no such user").Detail())
	fmt.Println(scimkit.ErrNotFound.Detail())
	// Output:
	// true 409 uniqueness
	// no such user
	// resource not found
}

func TestErrorValues(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		name             string
		err              *scimkit.Error
		status           int
		scimType, detail string
		is               error
		isNot            error
		unwrapsTo        error
	}{
		{"predeclared", scimkit.ErrUniqueness, 409, "uniqueness", "a value is already in use", scimkit.ErrUniqueness, scimkit.ErrInvalidValue, nil},
		{"WithDetail copies", scimkit.ErrInvalidValue.WithDetail("bad email"), 400, "invalidValue", "bad email", scimkit.ErrInvalidValue, scimkit.ErrInvalidSyntax, nil},
		{"WithCause keeps the detail", scimkit.ErrInternal.WithCause(cause), 500, "", "internal server error", scimkit.ErrInternal, scimkit.ErrUnavailable, cause},
		{"NewError is the predeclared kind", scimkit.NewError(403, "sensitive", "no"), 403, "sensitive", "no", scimkit.ErrSensitive, scimkit.ErrUnauthorized, nil},
		{"NewError status out of range is 500", scimkit.NewError(200, "", "ok?"), 500, "", "ok?", scimkit.ErrInternal, scimkit.ErrNotFound, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.status, tc.err.Status())
			assert.Equal(t, tc.scimType, tc.err.ScimType())
			assert.Equal(t, tc.detail, tc.err.Detail())
			assert.ErrorIs(t, tc.err, tc.is)
			assert.NotErrorIs(t, tc.err, tc.isNot)
			if tc.unwrapsTo != nil {
				assert.ErrorIs(t, tc.err, tc.unwrapsTo)
			}
		})
	}
	// The refinements above left the predeclared values alone.
	assert.Equal(t, "resource not found", scimkit.ErrNotFound.Detail())
	assert.Equal(t, "a required value is missing or a value is not compatible", scimkit.ErrInvalidValue.Detail())
	assert.NoError(t, scimkit.ErrInternal.Unwrap())
}

// refusing is a store whose Get answers a host's own SCIM error.
type refusing struct {
	*memory.Store
	err error
}

func (r refusing) Get(context.Context, string, storage.Kind, string) (*storage.Resource, error) {
	return nil, r.err
}

func TestHandlerErrorIsSentAsGiven(t *testing.T) {
	mem := memory.New()
	srv, err := scimkit.New(refusing{mem, fmt.Errorf("wrapped: %w", scimkit.NewError(403, "sensitive", "this account is locked"))}, mem)
	require.NoError(t, err)
	tok, _, err := scimkit.GenerateToken(context.Background(), mem, "acme")
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, "/Users/u1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	assert.Equal(t, 403, rec.Code)
	assert.JSONEq(t, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","scimType":"sensitive","detail":"this account is locked"}`, rec.Body.String())
	assert.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "application/scim+json"))
}

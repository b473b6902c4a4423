package scimkit

import (
	"context"
	"errors"
)

// PasswordHandler receives a User's password, which a SCIM client sets
// with POST or PUT (the "password" attribute) or PATCH (Okta's password
// push: {"op":"replace","path":"password","value":"..."}). The password
// is writeOnly and returned never (RFC 7643 §4.1.1): scimkit never stores
// it in the resource, never returns it and never logs it; this is the only
// place it goes. userID is the SCIM id of the user (for a POST, the id the
// new user gets).
//
// It is called at most once per request, after the request has been read
// and validated and before the change is stored, in the request's
// goroutine. When it returns an error nothing is stored and the request
// fails: an [*Error] is answered as is (for example ErrInvalidValue with
// a detail, for a password the product's policy refuses), storage
// sentinels as the server answers them (storage.ErrUnavailable: 503 with
// Retry-After, so the client retries), anything else as 500. Its error
// is logged for a 5xx answer, so it must not contain the password. Since
// the write comes after it, a request may still fail after the handler
// succeeded (a userName taken, a concurrent delete, a lost database); the
// client then retries with the same password, so the handler should store
// it idempotently, keyed by tenant and userID. It must be safe for
// concurrent use.
type PasswordHandler func(ctx context.Context, tenant, userID, password string) error

// WithPasswordHandler registers the handler that receives the passwords
// clients set (see [PasswordHandler]). Without one, passwords are accepted
// and discarded on every method.
func WithPasswordHandler(h PasswordHandler) Option {
	return optionFunc(func(c *config) error {
		if h == nil {
			return errors.New("scim: nil password handler")
		}
		c.password = h
		return nil
	})
}

// handPassword gives a request's password to the host, if there is one
// and a handler wants it.
func (s *Server) handPassword(ctx context.Context, tenant, userID string, has bool, password string) error {
	if !has || s.cfg.password == nil {
		return nil
	}
	if err := s.cfg.password(ctx, tenant, userID, password); err != nil {
		return storeError(err)
	}
	return nil
}

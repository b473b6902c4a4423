package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// The dashboard's sign-in: one admin password, kept only as a hash in the
// database (table backupd_admin), so every backupd process on the database
// accepts it and a restart keeps it. A password an admin chose is hashed
// with bcrypt (slow, salted: people choose guessable passwords); the one
// backupd makes carries 144 random bits, so, like scimkit's tokens, its
// SHA-256 is enough (nothing to guess, and bcrypt under the race detector
// takes seconds, which every test start would pay).
//
//   - -admin-password (or $BACKUPD_ADMIN_PASSWORD) sets it on every start;
//   - without it, the first start on a database makes a random one and
//     prints it once; later starts print nothing. Start once with
//     -admin-password to replace a lost one.
//
// A signed-in browser holds a session cookie: a random id naming a
// server-side session of this process (in memory, so a restart signs
// everyone out, and several processes behind a load balancer need sticky
// sessions). The cookie is HttpOnly, SameSite=Strict, Path=/admin/, and
// Secure when the request came over TLS or -base-url is https (a TLS
// proxy in front: set -base-url; X-Forwarded-Proto is not trusted, as
// anyone can send it to a directly exposed backupd). Every form carries
// the session's CSRF token (a synchronizer token); a POST without it is
// refused with 403. The sign-in form, before any session, carries a token
// bound to a pre-session cookie by HMAC.

// adminPasswordKey names the password hash in backupd_admin.
const adminPasswordKey = "dashboard_password_bcrypt"

// minAdminPasswordBytes is the shortest -admin-password accepted.
const minAdminPasswordBytes = 12

// Session lifetimes: idle timeout, absolute limit, and how long a sign-in
// form stays valid.
const (
	sessionIdle     = time.Hour
	sessionMaxAge   = 12 * time.Hour
	loginFormMaxAge = 30 * time.Minute
	// maxSessions bounds the sessions kept; the oldest is dropped
	// beyond it.
	maxSessions = 10000
)

// Cookie names.
const (
	sessionCookie = "backupd_session"
	loginCookie   = "backupd_login"
)

// initAdminPassword stores the hash of password when given, or of a new
// random one when the database holds none. It returns the password made
// here ("" otherwise): the caller prints it once.
func initAdminPassword(ctx context.Context, st productState, password string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	if password != "" {
		if len(password) < minAdminPasswordBytes {
			return "", fmt.Errorf("-admin-password (or $BACKUPD_ADMIN_PASSWORD) has %d bytes, fewer than %d", len(password), minAdminPasswordBytes)
		}
		h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
		if err != nil {
			return "", err
		}
		_, err = st.putAdminSecret(ctx, adminPasswordKey, string(h), true)
		return "", err
	}
	if _, ok, err := st.adminSecret(ctx, adminPasswordKey); err != nil || ok {
		return "", err
	}
	pw := randomSecret("")[:24] // 144 random bits, URL-safe base64
	stored, err := st.putAdminSecret(ctx, adminPasswordKey, sha256Prefix+sha256Hex(pw), false)
	if err != nil || !stored {
		return "", err // another instance made one first
	}
	return pw, nil
}

// sha256Prefix marks the stored hash of a generated password.
const sha256Prefix = "sha256:"

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// checkPassword compares password with the stored hash, in time that does
// not depend on how much of it matches.
func (d *dashboard) checkPassword(ctx context.Context, password string) (bool, error) {
	h, ok, err := d.app.product.adminSecret(ctx, adminPasswordKey)
	if err != nil || !ok {
		return false, err
	}
	if want, ok := strings.CutPrefix(h, sha256Prefix); ok {
		return subtle.ConstantTimeCompare([]byte(sha256Hex(password)), []byte(want)) == 1, nil
	}
	return bcrypt.CompareHashAndPassword([]byte(h), []byte(password)) == nil, nil
}

// session is one signed-in browser.
type session struct {
	csrf    string
	created time.Time
	seen    time.Time
	// shown is a token generated and not displayed yet: the next page
	// of its tenant's tokens shows it once and forgets it.
	shown *shownToken
	// notice is a one-time message for the next page ("Saved.").
	notice string
}

// shownToken is a token waiting to be shown once.
type shownToken struct {
	Tenant, ID, Label, Token string
}

// sessions are the signed-in browsers of this process, by the SHA-256 of
// their cookie (so a memory dump holds no usable cookie).
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: make(map[string]*session), now: now}
}

func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// create starts a session and returns its cookie value.
func (s *sessions) create() string {
	id := randomSecret("")
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxSessions {
		s.pruneLocked(now)
	}
	s.m[sessionKey(id)] = &session{csrf: randomSecret(""), created: now, seen: now}
	return id
}

// pruneLocked drops expired sessions, and the oldest when still full.
func (s *sessions) pruneLocked(now time.Time) {
	var oldestKey string
	var oldest time.Time
	for k, v := range s.m {
		if s.expired(v, now) {
			delete(s.m, k)
			continue
		}
		if oldestKey == "" || v.created.Before(oldest) {
			oldestKey, oldest = k, v.created
		}
	}
	if len(s.m) >= maxSessions {
		delete(s.m, oldestKey)
	}
}

func (s *sessions) expired(v *session, now time.Time) bool {
	return now.Sub(v.seen) > sessionIdle || now.Sub(v.created) > sessionMaxAge
}

// with runs f on the live session named by id, under the lock, and
// reports whether there was one.
func (s *sessions) with(id string, f func(*session)) bool {
	if id == "" {
		return false
	}
	now := s.now()
	k := sessionKey(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.m[k]
	if v == nil {
		return false
	}
	if s.expired(v, now) {
		delete(s.m, k)
		return false
	}
	v.seen = now
	f(v)
	return true
}

func (s *sessions) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sessionKey(id))
}

// loginLimiter slows password guessing: at most loginFailures failed
// sign-ins per client address per loginWindow (and, so that many
// addresses cannot guess in parallel, ten times that in all).
type loginLimiter struct {
	mu     sync.Mutex
	start  time.Time
	byAddr map[string]int
	total  int
	now    func() time.Time
}

const (
	loginFailures = 5
	loginWindow   = time.Minute
)

func (l *loginLimiter) roll() {
	if now := l.now(); now.Sub(l.start) >= loginWindow {
		l.start, l.byAddr, l.total = now, make(map[string]int), 0
	}
}

// attempt reports whether addr may try a password now and, if so, counts
// the try as a failure until succeeded says otherwise: counting before
// the (slow) password check keeps parallel guesses within the limit.
func (l *loginLimiter) attempt(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll()
	if l.byAddr[addr] >= loginFailures || l.total >= 10*loginFailures {
		return false
	}
	l.byAddr[addr]++
	l.total++
	return true
}

// succeeded takes back the try of a right password from addr.
func (l *loginLimiter) succeeded(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr[addr] > 0 {
		l.byAddr[addr]--
		l.total--
	}
}

// clientAddr is the request's remote IP (not a forwarded header, which a
// client sets at will).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// secure reports whether cookies must be Secure: the request came over
// TLS, or -base-url says the public origin is https.
func (d *dashboard) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(d.app.cfg.baseURL), "https://")
}

func (d *dashboard) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/admin/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: d.secure(r),
	})
}

// loginToken is the sign-in form's CSRF token for the pre-session nonce:
// an HMAC under this process's key, so a forged form cannot carry it.
func (d *dashboard) loginToken(nonce string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte("login\x00" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validLoginToken checks the sign-in form's token against its cookie.
func (d *dashboard) validLoginToken(r *http.Request, token string) bool {
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(d.loginToken(c.Value)), []byte(token))
}

// sameToken compares two CSRF tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

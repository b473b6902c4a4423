package scimkit

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/scimkit/scimkit/internal/schema"
	"github.com/scimkit/scimkit/storage"
)

// UserNamePolicy is a rule the server applies to userName whenever a
// client writes it (POST, PUT, or a PATCH that changes it): it rewrites
// the value the host will store, or rejects it with 400 invalidValue
// naming the rule. Build one with [DruvaUserNames], [LowerCaseUserNames],
// [EmailUserNames] or [NewUserNamePolicy]; enable with
// [WithUserNamePolicy].
//
// A rewrite changes what is stored, not what the IdP knows: an IdP that
// looks users up by the value it sent (Entra's `userName eq "..."`) will
// not find a rewritten one unless its mapping applies the same rewrite
// (Druva's guide has the admin do so), so prefer rejecting when the IdP
// side cannot be configured.
type UserNamePolicy struct {
	name  string
	apply func(string) (string, error)
}

// NewUserNamePolicy returns a policy named rule (used in the 400 detail)
// that calls apply with the value sent; apply returns the value to store,
// or an error whose text explains the refusal.
func NewUserNamePolicy(rule string, apply func(userName string) (string, error)) UserNamePolicy {
	return UserNamePolicy{name: rule, apply: apply}
}

// DruvaUserNames replaces the characters Druva cannot store in a user
// name, ? * / \ < and >, with "_".
func DruvaUserNames() UserNamePolicy {
	r := strings.NewReplacer("?", "_", "*", "_", "/", "_", `\`, "_", "<", "_", ">", "_")
	return NewUserNamePolicy(`Druva: ? * / \ < > become _`, func(s string) (string, error) { return r.Replace(s), nil })
}

// LowerCaseUserNames stores user names in lower case.
func LowerCaseUserNames() UserNamePolicy {
	return NewUserNamePolicy("lower-case", func(s string) (string, error) { return strings.ToLower(s), nil })
}

// EmailUserNames accepts only a bare e-mail address (RFC 5322
// addr-spec, as net/mail parses it) as userName.
func EmailUserNames() UserNamePolicy {
	return NewUserNamePolicy("e-mail address only", func(s string) (string, error) {
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || a.Name != "" {
			return "", fmt.Errorf("it is not an e-mail address such as alice@example.com")
		}
		return s, nil
	})
}

// RejectUserNames refuses user names containing any of chars, for a host
// that cannot store them and wants the IdP to report the user instead of
// storing a rewritten name.
func RejectUserNames(chars string) UserNamePolicy {
	return NewUserNamePolicy("no "+strings.Join(strings.Split(chars, ""), " "), func(s string) (string, error) {
		if i := strings.IndexAny(s, chars); i >= 0 {
			return "", fmt.Errorf("it contains %q", s[i:i+1])
		}
		return s, nil
	})
}

// WithUserNamePolicy applies policies, in order, to every userName a
// client writes (POST, PUT, PATCH that changes it). A refusal is a 400
// invalidValue whose detail names the rule; nothing is stored.
func WithUserNamePolicy(policies ...UserNamePolicy) Option {
	return optionFunc(func(c *config) error {
		for _, p := range policies {
			if p.apply == nil {
				return fmt.Errorf("scim: user name policy %q has no function", p.name)
			}
		}
		c.userNames = append(c.userNames, policies...)
		return nil
	})
}

// applyUserNamePolicy rewrites or rejects doc's userName when it differs
// from old (the stored name; "" on create), noting a rewrite in rep.
func (s *Server) applyUserNamePolicy(rt *schema.ResourceType, doc map[string]any, old string, rep *schema.Report) error {
	if rt.Kind != storage.KindUser || len(s.cfg.userNames) == 0 {
		return nil
	}
	name, ok := doc["userName"].(string)
	if !ok || (old != "" && name == old) {
		return nil
	}
	for _, p := range s.cfg.userNames {
		n, err := p.apply(name)
		if err == nil && n == "" {
			err = fmt.Errorf("it becomes empty")
		}
		if err != nil {
			return ErrInvalidValue.WithDetail(fmt.Sprintf("userName %q breaks the rule %q: %v", name, p.name, err))
		}
		name = n
	}
	if name != doc["userName"] {
		rep.Add(schema.NoteKind(SanitizedUserName), "userName")
	}
	doc["userName"] = name
	return nil
}

// Package policy is the only place that decides who may read and write
// project data: the key rules, the users-collection block and row-level
// security (contract/REST.md §2.2, §2.5–§2.7). It is pure: callers load
// collections and documents and pass them in; policy answers with an
// *errs.Error carrying the exact client message, or with what the data layer
// must add (an owner filter for reads, owner values for inserts).
package policy

import (
	"strings"

	"github.com/urbackend/urbackend/errs"
)

// KeyKind is the kind of project API key a request presented.
type KeyKind int

// The key kinds. The zero value is Publishable, the less privileged one.
const (
	Publishable KeyKind = iota
	Secret
)

// String returns "publishable" or "secret".
func (k KeyKind) String() string {
	if k == Secret {
		return "secret"
	}
	return "publishable"
}

// Principal is what policy needs to know about the caller of a project API.
type Principal struct {
	// Key is the kind of API key presented.
	Key KeyKind
	// UserID is the end user's id from a valid bearer token, "" when the
	// request is anonymous or the token was invalid (§2.4). Ignored for
	// secret keys.
	UserID string
}

// IsSecret reports whether the caller used the secret key.
func (p Principal) IsSecret() bool { return p.Key == Secret }

// HasUser reports whether a valid end-user token came with a publishable
// key.
func (p Principal) HasUser() bool { return p.Key != Secret && p.UserID != "" }

// RequireSecret refuses publishable keys on secret-only routes (§2.2).
// Errors: Forbidden.
func RequireSecret(p Principal) error {
	if p.IsSecret() {
		return nil
	}
	return errs.New(errs.Forbidden, "%s", MsgSecretRequired)
}

// CheckCollectionName refuses every data route on the users collection, for
// both keys (§2.5): the name is trimmed and lower-cased first, so "Users" and
// " users " are blocked too. Errors: Forbidden.
func CheckCollectionName(name string) error {
	if strings.ToLower(strings.TrimFunc(name, isJSSpace)) == "users" {
		return errs.New(errs.Forbidden, "%s", MsgUsersBlocked)
	}
	return nil
}

// isJSSpace reports whether JavaScript's String.prototype.trim removes r:
// the WhiteSpace and LineTerminator code points, which include the BOM.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff':
		return true
	}
	return r >= '\u2000' && r <= '\u200a'
}

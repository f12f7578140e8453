package principal

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/usertoken"
)

// Caller is who calls a project API: the project (as a cached snapshot),
// the kind of key, and the end user of a valid bearer token.
type Caller struct {
	Snapshot *catalog.Snapshot
	Key      projects.KeyKind
	// UserID is the end user of a valid access token sent with a
	// publishable key; "" otherwise (secret keys ignore user tokens).
	UserID string
}

// Policy is the caller as the policy package sees it.
func (c *Caller) Policy() policy.Principal {
	p := policy.Principal{Key: policy.Publishable, UserID: c.UserID}
	if c.Key == projects.Secret {
		p = policy.Principal{Key: policy.Secret}
	}
	return p
}

type callerKey struct{}

// WithCaller returns a context carrying the caller.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller on ctx.
func CallerFrom(ctx context.Context) (*Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(*Caller)
	return c, ok
}

// Credentials are what a request presents.
type Credentials struct {
	APIKey string
	// Origin is the Origin header, else the Referer header.
	Origin string
	// Authorization is the Authorization header.
	Authorization string
}

// Resolve finds the caller of a project API: the key's project from the
// catalog (cached), the publishable key's domain allow-list, and the user
// of a valid bearer token. An invalid, expired or foreign user token is
// ignored (the caller is anonymous), as contract/REST.md §2.4 requires.
// Errors: Unauthenticated, Forbidden, Invalid with the §2.1 messages.
func Resolve(ctx context.Context, cat *catalog.Catalog, cr Credentials, now time.Time) (*Caller, error) {
	snap, kind, err := cat.ByKey(ctx, cr.APIKey)
	if err != nil {
		return nil, err
	}
	c := &Caller{Snapshot: snap, Key: kind}
	if kind == projects.Secret {
		return c, nil
	}
	if err := checkOrigin(snap.Project.AllowedOrigins, cr.Origin); err != nil {
		return nil, err
	}
	if tok, ok := Bearer(cr.Authorization); ok {
		if uid, err := usertoken.Verify(snap.JWTSecret, snap.Project.ID.Hex(), tok, now); err == nil {
			c.UserID = uid
		}
	}
	return c, nil
}

// Bearer returns the token of an "Authorization: Bearer <token>" value,
// accepting any case of "bearer".
func Bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// checkOrigin applies a publishable key's domain allow-list (§2.1).
func checkOrigin(allowed []string, origin string) error {
	for _, a := range allowed {
		if a == "*" {
			return nil
		}
	}
	if origin == "" {
		return errs.New(errs.Forbidden, "Forbidden: Origin header missing and this key is restricted to specific domains.")
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return errs.New(errs.Invalid, "Invalid Origin header format.")
	}
	o := u.Scheme + "://" + u.Host
	host := u.Hostname()
	for _, a := range allowed {
		if d, ok := strings.CutPrefix(a, "*."); ok {
			if strings.EqualFold(host, d) || strings.HasSuffix(strings.ToLower(host), "."+strings.ToLower(d)) {
				return nil
			}
			continue
		}
		if strings.EqualFold(a, o) || strings.EqualFold(a, host) {
			return nil
		}
	}
	return errs.New(errs.Forbidden, "Forbidden: Origin %s is not allowed by this project's CORS policy.", o)
}

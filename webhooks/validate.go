package webhooks

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

const (
	maxNameLen   = 100
	maxURLLen    = 2048
	maxEvents    = 50
	resolveLimit = 5 * time.Second
)

// isOp reports whether op is one an event name may end in.
func isOp(op string) bool { return op == "insert" || op == "update" || op == "delete" }

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxNameLen {
		return "", errs.New(errs.Invalid, "webhook name must be at most %d characters", maxNameLen)
	}
	return name, nil
}

// ValidateURL checks a webhook URL and returns it trimmed: an absolute
// https URL (or http when private addresses are allowed) whose host does
// not resolve to a loopback, private, link-local or metadata address,
// unless Options.AllowPrivate. The same check runs again on every
// delivery, after DNS. Errors: Invalid.
func (s *Service) ValidateURL(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errs.New(errs.Invalid, "webhook url is required")
	}
	if len(raw) > maxURLLen {
		return "", errs.New(errs.Invalid, "webhook url must be at most %d characters", maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", errs.New(errs.Invalid, "webhook url %q must be an absolute http(s) URL", raw)
	}
	if u.Fragment != "" {
		return "", errs.New(errs.Invalid, "webhook url must not have a #fragment")
	}
	if s.opts.AllowPrivate {
		return u.String(), nil
	}
	if err := checkHost(ctx, u.Hostname()); err != nil {
		return "", err
	}
	if u.Scheme != "https" {
		return "", errs.New(errs.Invalid, "webhook url must use https (plain http only with UB_WEBHOOK_ALLOW_PRIVATE=true)")
	}
	return u.String(), nil
}

// checkHost refuses a host that is, or resolves to, an address webhooks
// may not call. Errors: Invalid.
func checkHost(ctx context.Context, host string) error {
	if ip := net.ParseIP(host); ip != nil {
		if why := blocked(ip); why != "" {
			return refusedOnCreate(host, why)
		}
		return nil
	}
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return refusedOnCreate(host, "loopback")
	}
	ctx, cancel := context.WithTimeout(ctx, resolveLimit)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return errs.New(errs.Invalid, "webhook url host %q cannot be resolved", host)
	}
	for _, a := range addrs {
		if why := blocked(a.IP); why != "" {
			return refusedOnCreate(host, why)
		}
	}
	return nil
}

func refusedOnCreate(host, why string) error {
	return errs.New(errs.Invalid, "webhook url host %q is not a public address (%s): webhooks may only call public addresses; a self-hosted server may allow private ones with UB_WEBHOOK_ALLOW_PRIVATE=true", host, why)
}

// ValidateEvents checks event names and returns them trimmed, without
// duplicates: "<collection>.<op>" with op insert, update or delete, where
// the collection or the op may be "*"; "users.<op>" are account events
// (sign-up, profile and verification changes, deletion). Errors: Invalid.
func ValidateEvents(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, errs.New(errs.Invalid, `webhook events are required, e.g. ["posts.insert", "posts.*", "*.delete"]`)
	}
	if len(in) > maxEvents {
		return nil, errs.New(errs.Invalid, "a webhook can have at most %d events", maxEvents)
	}
	out := make([]string, 0, len(in))
	for _, e := range in {
		e = strings.TrimSpace(e)
		coll, op, ok := strings.Cut(e, ".")
		if !ok || (op != "*" && !isOp(op)) {
			return nil, errs.New(errs.Invalid, `webhook event %q must be "<collection>.<insert|update|delete>" (either part may be *)`, e)
		}
		// users.* are the account events of the auth API.
		if coll != "*" && coll != collections.UsersCollection {
			if err := collections.ValidateName(coll); err != nil {
				return nil, errs.New(errs.Invalid, "webhook event %q: %s", e, errs.ClientMessage(err))
			}
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// matches reports whether a webhook with these event names receives the
// event "<collection>.<op>".
func matches(names []string, collection, op string) bool {
	for _, n := range names {
		c, o, _ := strings.Cut(n, ".")
		if (c == "*" || c == collection) && (o == "*" || o == op) {
			return true
		}
	}
	return false
}

package projects

import (
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/urbackend/urbackend/errs"
)

const (
	maxNameLen        = 100
	maxDescriptionLen = 1000
	maxOrigins        = 100
)

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", errs.New(errs.Invalid, "project name is required")
	}
	if utf8.RuneCountInString(name) > maxNameLen {
		return "", errs.New(errs.Invalid, "project name must be at most %d characters", maxNameLen)
	}
	return name, nil
}

func validDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > maxDescriptionLen {
		return "", errs.New(errs.Invalid, "description must be at most %d characters", maxDescriptionLen)
	}
	return d, nil
}

// ValidateMailFrom checks a sender address ("Name <a@b.c>" or "a@b.c");
// empty is allowed and means the server's default.
func ValidateMailFrom(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || strings.ContainsAny(s, "\r\n") {
		return "", errs.New(errs.Invalid, "mailFrom must be an e-mail address, like \"My App <hello@myapp.com>\"")
	}
	return a.String(), nil
}

// ValidateSiteURL checks an absolute http(s) URL; empty is allowed and
// means none. It returns the URL without a trailing slash.
func ValidateSiteURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", errs.New(errs.Invalid, "siteUrl must be an absolute http(s) URL, like https://app.example.com")
	}
	return strings.TrimSuffix(s, "/"), nil
}

// ValidateOrigins checks and normalises an allowed-origins list. Each entry
// is "*" (any origin), "*.example.com" (the domain and its sub-domains), a
// host name ("app.example.com") or an origin ("https://app.example.com:8443").
func ValidateOrigins(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, errs.New(errs.Invalid, `allowedOrigins must not be empty; use ["*"] to allow every origin`)
	}
	if len(in) > maxOrigins {
		return nil, errs.New(errs.Invalid, "allowedOrigins may have at most %d entries", maxOrigins)
	}
	out := make([]string, 0, len(in))
	for _, o := range in {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if !validOrigin(o) {
			return nil, errs.New(errs.Invalid, "allowedOrigins: %q is not an origin (https://app.example.com), a host name (app.example.com), a wildcard domain (*.example.com) or *", o)
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out, nil
}

func validOrigin(o string) bool {
	switch {
	case o == "*":
		return true
	case strings.HasPrefix(o, "*."):
		return validHost(o[2:])
	case strings.Contains(o, "://"):
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
			return false
		}
		host := u.Hostname()
		if net.ParseIP(host) != nil {
			return true
		}
		return validHost(host)
	default:
		if net.ParseIP(o) != nil {
			return true
		}
		return validHost(o)
	}
}

func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

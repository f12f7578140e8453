package mail

import (
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
)

// Default ports: submission with STARTTLS, and implicit TLS (RFC 8314).
const (
	DefaultPort    = 587
	DefaultTLSPort = 465
)

// Config says how to reach an SMTP server. A zero field means its default.
type Config struct {
	// Host is the server's host name or IP address. Required.
	Host string
	// Port defaults to DefaultPort, or DefaultTLSPort with ImplicitTLS.
	Port int
	// ImplicitTLS speaks TLS from the first byte (smtps://). Otherwise the
	// client upgrades with STARTTLS whenever the server offers it.
	ImplicitTLS bool
	// Username and Password, when Username is set, are sent with AUTH
	// PLAIN or LOGIN — only over TLS or to a loopback address.
	Username string
	Password string
	// From is the default author for messages without one, e.g.
	// "urBackend <noreply@example.com>".
	From string
	// HelloName is the name sent with EHLO; default "localhost".
	HelloName string
	// TLSConfig is used for STARTTLS and implicit TLS; nil means the
	// system roots. ServerName defaults to Host.
	TLSConfig *tls.Config
}

// ParseSMTPURL parses UB_SMTP_URL:
//
//	smtp://[user:password@]host[:port][?from=address]   port 587, STARTTLS when offered
//	smtps://[user:password@]host[:port][?from=address]  port 465, implicit TLS
//
// The user name and password are percent-decoded. from is an RFC 5322
// address, display name allowed (percent-encode it). Errors never contain
// the password.
func ParseSMTPURL(raw string) (Config, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Config{}, errors.New("invalid SMTP URL: empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the whole URL, password included; and its
		// inner error may quote part of the user information.
		var ue *url.Error
		if !strings.Contains(raw, "@") && errors.As(err, &ue) {
			return Config{}, fmt.Errorf("invalid SMTP URL: %w", ue.Err)
		}
		return Config{}, errors.New("invalid SMTP URL: malformed (percent-encode special characters in the user name and password)")
	}
	var cfg Config
	switch strings.ToLower(u.Scheme) {
	case "smtp":
	case "smtps":
		cfg.ImplicitTLS = true
	case "":
		return Config{}, errors.New("invalid SMTP URL: missing scheme (want smtp:// or smtps://)")
	default:
		return Config{}, fmt.Errorf("invalid SMTP URL: unsupported scheme %q (want smtp or smtps)", u.Scheme)
	}
	if u.Opaque != "" {
		return Config{}, fmt.Errorf("invalid SMTP URL: want %s://host", u.Scheme)
	}
	cfg.Host = u.Hostname()
	if cfg.Host == "" {
		return Config{}, errors.New("invalid SMTP URL: missing host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("invalid SMTP URL: bad port %q", p)
		}
		cfg.Port = n
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, errors.New("invalid SMTP URL: unexpected path")
	}
	if u.Fragment != "" {
		return Config{}, errors.New("invalid SMTP URL: unexpected fragment")
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if cfg.Username == "" && cfg.Password != "" {
			return Config{}, errors.New("invalid SMTP URL: password without a user name")
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("invalid SMTP URL: bad query: %w", err)
	}
	for k, v := range q {
		switch k {
		case "from":
			if len(v) != 1 {
				return Config{}, errors.New("invalid SMTP URL: from given more than once")
			}
			from := v[0]
			if strings.ContainsAny(from, "\r\n") {
				return Config{}, errors.New("invalid SMTP URL: from must not contain line breaks")
			}
			if _, err := netmail.ParseAddress(from); err != nil {
				return Config{}, fmt.Errorf("invalid SMTP URL: bad from address %q: %w", from, err)
			}
			cfg.From = from
		default:
			return Config{}, fmt.Errorf("invalid SMTP URL: unknown parameter %q", k)
		}
	}
	return cfg, nil
}

// String gives the configuration as a URL with the password redacted, for
// logs.
func (c Config) String() string {
	u := url.URL{Scheme: "smtp", Host: c.addr()}
	if c.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		if c.Password != "" {
			u.User = url.UserPassword(c.Username, "xxxxx")
		} else {
			u.User = url.User(c.Username)
		}
	}
	if c.From != "" {
		u.RawQuery = url.Values{"from": {c.From}}.Encode()
	}
	return u.String()
}

// addr is host:port with the default port filled in.
func (c Config) addr() string {
	port := c.Port
	if port == 0 {
		port = DefaultPort
		if c.ImplicitTLS {
			port = DefaultTLSPort
		}
	}
	return joinHostPort(c.Host, port)
}

func (c Config) tlsConfig() *tls.Config {
	var t *tls.Config
	if c.TLSConfig != nil {
		t = c.TLSConfig.Clone()
	} else {
		t = &tls.Config{}
	}
	if t.ServerName == "" {
		t.ServerName = c.Host
	}
	if t.MinVersion == 0 {
		t.MinVersion = tls.VersionTLS12
	}
	return t
}

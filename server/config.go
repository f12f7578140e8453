// Package server is the composition root: configuration, start-up on the
// embedded or an external MongoDB, services, router and shutdown.
package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/urbackend/urbackend/files"
	"github.com/urbackend/urbackend/mail"
	"github.com/urbackend/urbackend/social"
)

// Config is the server's whole configuration. A zero field means its
// default. main fills it from flags and UB_* environment variables.
type Config struct {
	// Addr is the HTTP listen address (UB_ADDR, default 127.0.0.1:8080).
	Addr string
	// DataDir holds the embedded database and the generated master key
	// (UB_DATA_DIR, default ./ub_data).
	DataDir string
	// PublicURL is the externally visible base URL (UB_PUBLIC_URL; default
	// http://<Addr>, with localhost for an unspecified host).
	PublicURL string
	// MongoURI is any MongoDB (UB_MONGODB_URI). Empty: start the embedded
	// FerretDB in DataDir.
	MongoURI string
	// EmbeddedDBAddr is where the embedded database listens
	// (UB_EMBEDDED_DB_ADDR, default 127.0.0.1:27018; loopback only).
	EmbeddedDBAddr string
	// PlatformDB is the database of admins, projects and definitions
	// (UB_PLATFORM_DB, default urbackend).
	PlatformDB string
	// MasterKey seals stored secrets (UB_MASTER_KEY: 32 bytes, hex or
	// base64). With the embedded database it is generated on first start
	// and kept in DataDir/master.key; with MongoURI it is required.
	MasterKey string
	// AdminEmail and AdminPassword create the first admin when none exists
	// (UB_ADMIN_EMAIL, UB_ADMIN_PASSWORD). Without a password one is
	// generated and printed once.
	AdminEmail    string
	AdminPassword string

	// DBTimeout bounds connecting to MongoDB (UB_DB_TIMEOUT, default 10s).
	DBTimeout time.Duration
	// ShutdownTimeout bounds finishing in-flight requests on SIGINT or
	// SIGTERM (UB_SHUTDOWN_TIMEOUT, default 15s).
	ShutdownTimeout time.Duration
	// AdminTokenTTL is how long an admin token is valid (default 12h).
	AdminTokenTTL time.Duration
	// MaxBodyBytes caps request bodies (default 1 MiB for GraphQL).
	MaxBodyBytes int64
	// RateLimitPerMinute is the safety-net limit of requests per client
	// address per minute on /api (a project may use ten times that); 0
	// turns rate limiting off (UB_RATE_LIMIT_PER_MINUTE, default 1000).
	RateLimitPerMinute int
	// WSMaxSubscriptionsPerConnection caps the active subscriptions of one
	// /graphql websocket (UB_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION, default
	// 100); WSMaxConnectionsPerProject caps a project's open /graphql
	// websockets on one instance (UB_WS_MAX_CONNECTIONS_PER_PROJECT,
	// default 20000). WSKeepAliveInterval is how often websockets are
	// pinged (UB_WS_KEEPALIVE_INTERVAL, default 15s).
	WSMaxSubscriptionsPerConnection int
	WSMaxConnectionsPerProject      int
	WSKeepAliveInterval             time.Duration
	// TrustProxy takes the client address from the last X-Forwarded-For
	// entry, for a server behind one reverse proxy (UB_TRUST_PROXY).
	TrustProxy bool
	// BcryptCost is the admin password hashing cost (default 12; tests use
	// less).
	BcryptCost int

	// SMTPURL sends e-mail (UB_SMTP_URL: smtp://user:pass@host:587 or
	// smtps://…:465). Empty: e-mails are written to the log, not sent.
	SMTPURL string
	// MailFrom is the default sender (UB_MAIL_FROM); a project may set
	// its own.
	MailFrom string
	// AccessTokenTTL and RefreshTokenTTL are the end-user token lifetimes
	// (UB_ACCESS_TOKEN_TTL, default 15m; UB_REFRESH_TOKEN_TTL, default
	// 168h).
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// Social holds the GitHub and Google endpoints (UB_GITHUB_URL,
	// UB_GITHUB_API_URL, UB_GOOGLE_AUTH_URL, UB_GOOGLE_TOKEN_URL,
	// UB_GOOGLE_USERINFO_URL, UB_GOOGLE_CERTS_URL); empty fields mean the
	// public services.
	Social social.Endpoints
	// UserBcryptCost hashes end-user passwords (default 10).
	UserBcryptCost int

	// WebhookAllowPrivate lets webhooks call loopback, private, link-local
	// and metadata addresses, and plain http URLs
	// (UB_WEBHOOK_ALLOW_PRIVATE; for self-hosted setups and tests).
	WebhookAllowPrivate bool
	// WebhookRetrySchedule is the wait before each webhook retry; a
	// delivery gets len+1 attempts (default 1m, 5m, 15m, 1h, 4h: six).
	WebhookRetrySchedule []time.Duration
	// WebhookKeepDeliveries is how many finished deliveries are kept per
	// webhook (default 100).
	WebhookKeepDeliveries int

	// MetricsToken protects /metrics with a bearer token when set
	// (UB_METRICS_TOKEN).
	MetricsToken string

	// MaxFileBytes is the largest stored file (UB_MAX_FILE_BYTES, default
	// 10 MiB). StorageQuotaBytes is each project's storage quota
	// (UB_STORAGE_QUOTA_BYTES); 0, the default, turns it off.
	// UploadTTL is how long a signed upload URL works, and then how long
	// an uploaded file waits for its confirmation (default 10m).
	MaxFileBytes      int64
	StorageQuotaBytes int64
	UploadTTL         time.Duration

	// CommandMonitor, when set, observes every command sent to MongoDB
	// (tests count queries with it).
	CommandMonitor *event.CommandMonitor

	// Logger receives structured logs (default: text on stderr).
	Logger *slog.Logger
	// Console receives the first-start banner with generated credentials
	// (default: stdout).
	Console io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./ub_data"
	}
	if c.EmbeddedDBAddr == "" {
		c.EmbeddedDBAddr = "127.0.0.1:27018"
	}
	if c.PlatformDB == "" {
		c.PlatformDB = "urbackend"
	}
	if c.DBTimeout == 0 {
		c.DBTimeout = 10 * time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 15 * time.Second
	}
	if c.RefreshTokenTTL == 0 {
		c.RefreshTokenTTL = 7 * 24 * time.Hour
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = files.DefaultMaxFileBytes
	}
	if c.UploadTTL == 0 {
		c.UploadTTL = 10 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// validate checks settings that need no I/O. Each error is one clear line
// naming the setting.
func (c *Config) validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("UB_ADDR %q is not host:port", c.Addr)
	}
	if c.MongoURI == "" {
		host, _, err := net.SplitHostPort(c.EmbeddedDBAddr)
		if err != nil {
			return fmt.Errorf("UB_EMBEDDED_DB_ADDR %q is not host:port", c.EmbeddedDBAddr)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("UB_EMBEDDED_DB_ADDR %q must be a loopback address: the embedded database has no authentication", c.EmbeddedDBAddr)
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("UB_PUBLIC_URL %q must be an absolute http(s) URL", c.PublicURL)
		}
	}
	if !validDBName(c.PlatformDB) {
		return fmt.Errorf("UB_PLATFORM_DB %q must be 1-63 letters, digits, _ or -", c.PlatformDB)
	}
	for name, v := range map[string]string{
		"UB_GITHUB_URL": c.Social.GitHubURL, "UB_GITHUB_API_URL": c.Social.GitHubAPIURL,
		"UB_GOOGLE_AUTH_URL": c.Social.GoogleAuthURL, "UB_GOOGLE_TOKEN_URL": c.Social.GoogleTokenURL,
		"UB_GOOGLE_USERINFO_URL": c.Social.GoogleUserinfoURL, "UB_GOOGLE_CERTS_URL": c.Social.GoogleCertsURL,
	} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q must be an absolute http(s) URL", name, v)
		}
	}
	if c.SMTPURL != "" {
		if _, err := mail.ParseSMTPURL(c.SMTPURL); err != nil {
			return fmt.Errorf("UB_SMTP_URL: %v", err)
		}
	}
	if c.WSMaxSubscriptionsPerConnection < 0 {
		return fmt.Errorf("UB_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION %d must be a positive number", c.WSMaxSubscriptionsPerConnection)
	}
	if c.WSMaxConnectionsPerProject < 0 {
		return fmt.Errorf("UB_WS_MAX_CONNECTIONS_PER_PROJECT %d must be a positive number", c.WSMaxConnectionsPerProject)
	}
	if c.WSKeepAliveInterval < 0 {
		return fmt.Errorf("UB_WS_KEEPALIVE_INTERVAL %s must be a positive duration", c.WSKeepAliveInterval)
	}
	if c.MaxFileBytes < 0 {
		return fmt.Errorf("UB_MAX_FILE_BYTES %d must be a positive number of bytes", c.MaxFileBytes)
	}
	if c.StorageQuotaBytes < 0 {
		return fmt.Errorf("UB_STORAGE_QUOTA_BYTES %d must be a number of bytes, 0 for no quota", c.StorageQuotaBytes)
	}
	if c.MongoURI != "" && c.MasterKey == "" {
		return errors.New("UB_MASTER_KEY is required with UB_MONGODB_URI: every instance sharing the database must use the same key (generate one with: openssl rand -hex 32)")
	}
	return nil
}

func validDBName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// publicURL derives the external base URL from the listen address.
func publicURL(configured string, addr net.Addr) string {
	if configured != "" {
		return strings.TrimSuffix(configured, "/")
	}
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

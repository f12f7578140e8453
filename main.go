// Command urbackend is a GraphQL-first Backend-as-a-Service in one binary.
//
//	urbackend serve      start the server (embedded database unless UB_MONGODB_URI is set)
//	urbackend keygen     print a new master key for UB_MASTER_KEY
//
// Every setting is a flag of serve and a UB_* environment variable; the
// flag wins. See the README for the table.
package main

//go:generate go tool gqlgen generate --config gqlgen.yml

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urbackend/urbackend/secret"
	"github.com/urbackend/urbackend/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "urbackend:", err)
		stop()
		os.Exit(1)
	}
}

const usage = `urbackend — GraphQL-first Backend-as-a-Service

Usage:
  urbackend serve [flags]   start the server
  urbackend keygen          print a new master key (for UB_MASTER_KEY)

Run "urbackend serve -h" for the flags; each has a UB_* environment variable.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServe(args[1:], getenv, stdout, stderr)
		if err != nil {
			return err
		}
		return server.Run(ctx, cfg)
	case "keygen":
		fmt.Fprintln(stdout, hex.EncodeToString(secret.NewKey()))
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func parseServe(args []string, getenv func(string) string, stdout, stderr io.Writer) (server.Config, error) {
	var cfg server.Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	str := func(p *string, name, env, def, help string) {
		v := getenv(env)
		if v == "" {
			v = def
		}
		fs.StringVar(p, name, v, help+" ("+env+")")
	}
	str(&cfg.Addr, "addr", "UB_ADDR", "127.0.0.1:8080", "HTTP listen address")
	str(&cfg.DataDir, "data-dir", "UB_DATA_DIR", "./ub_data", "data directory: embedded database and generated master key")
	str(&cfg.PublicURL, "public-url", "UB_PUBLIC_URL", "", "externally visible base URL (default http://<addr>)")
	str(&cfg.MongoURI, "mongodb-uri", "UB_MONGODB_URI", "", "MongoDB connection string; empty starts the embedded database")
	str(&cfg.EmbeddedDBAddr, "embedded-db-addr", "UB_EMBEDDED_DB_ADDR", "127.0.0.1:27018", "embedded database listen address (loopback only)")
	str(&cfg.PlatformDB, "platform-db", "UB_PLATFORM_DB", "urbackend", "database for admins, projects and definitions")
	str(&cfg.Social.GitHubURL, "github-url", "UB_GITHUB_URL", "", "GitHub (Enterprise) base URL for sign-in (default https://github.com)")
	str(&cfg.Social.GitHubAPIURL, "github-api-url", "UB_GITHUB_API_URL", "", "GitHub API URL (default https://api.github.com)")
	str(&cfg.Social.GoogleAuthURL, "google-auth-url", "UB_GOOGLE_AUTH_URL", "", "Google authorize endpoint")
	str(&cfg.Social.GoogleTokenURL, "google-token-url", "UB_GOOGLE_TOKEN_URL", "", "Google token endpoint")
	str(&cfg.Social.GoogleUserinfoURL, "google-userinfo-url", "UB_GOOGLE_USERINFO_URL", "", "Google userinfo endpoint")
	str(&cfg.Social.GoogleCertsURL, "google-certs-url", "UB_GOOGLE_CERTS_URL", "", "Google id_token signing keys (JWKS)")
	str(&cfg.AdminEmail, "admin-email", "UB_ADMIN_EMAIL", "", "e-mail of the first admin, created when none exists")
	cfg.MasterKey = getenv("UB_MASTER_KEY")
	cfg.AdminPassword = getenv("UB_ADMIN_PASSWORD")
	cfg.SMTPURL = getenv("UB_SMTP_URL")
	cfg.MetricsToken = getenv("UB_METRICS_TOKEN")
	str(&cfg.MailFrom, "mail-from", "UB_MAIL_FROM", "", "default sender of e-mails, e.g. \"My App <hello@myapp.com>\"")
	var dbTimeout, shutdownTimeout, logLevel, rateLimit, trustProxy, accessTTL, refreshTTL, webhookAllowPrivate string
	str(&dbTimeout, "db-timeout", "UB_DB_TIMEOUT", "10s", "how long to wait for MongoDB to answer")
	str(&shutdownTimeout, "shutdown-timeout", "UB_SHUTDOWN_TIMEOUT", "15s", "how long in-flight requests may take on shutdown")
	str(&accessTTL, "access-token-ttl", "UB_ACCESS_TOKEN_TTL", "15m", "lifetime of end users' access tokens")
	str(&refreshTTL, "refresh-token-ttl", "UB_REFRESH_TOKEN_TTL", "168h", "lifetime of end users' refresh sessions")
	str(&logLevel, "log-level", "UB_LOG_LEVEL", "info", "debug, info, warn or error")
	str(&rateLimit, "rate-limit", "UB_RATE_LIMIT_PER_MINUTE", "1000", "requests per client address per minute on /api (a project may use 10x); 0 turns it off")
	str(&trustProxy, "trust-proxy", "UB_TRUST_PROXY", "false", "take the client address from X-Forwarded-For (one proxy in front)")
	str(&webhookAllowPrivate, "webhook-allow-private", "UB_WEBHOOK_ALLOW_PRIVATE", "false", "let webhooks call loopback, private and link-local addresses and plain http (self-hosted)")
	var wsMaxSubs, wsMaxConns, wsKeepAlive string
	str(&wsMaxSubs, "ws-max-subscriptions-per-connection", "UB_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION", "100", "active subscriptions per /graphql websocket")
	str(&wsMaxConns, "ws-max-connections-per-project", "UB_WS_MAX_CONNECTIONS_PER_PROJECT", "20000", "open /graphql websockets per project on this instance")
	str(&wsKeepAlive, "ws-keepalive-interval", "UB_WS_KEEPALIVE_INTERVAL", "15s", "how often /graphql websockets are pinged")
	var maxFileBytes, storageQuota string
	str(&maxFileBytes, "max-file-bytes", "UB_MAX_FILE_BYTES", "10485760", "largest stored file, in bytes")
	str(&storageQuota, "storage-quota-bytes", "UB_STORAGE_QUOTA_BYTES", "0", "storage quota of each project, in bytes; 0 for none")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "\nSecrets are read only from the environment: UB_MASTER_KEY, UB_ADMIN_PASSWORD, UB_SMTP_URL, UB_METRICS_TOKEN.")
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("serve takes no arguments, got %q", strings.Join(fs.Args(), " "))
	}
	var err error
	if cfg.DBTimeout, err = positiveDuration("UB_DB_TIMEOUT", dbTimeout); err != nil {
		return cfg, err
	}
	if cfg.ShutdownTimeout, err = positiveDuration("UB_SHUTDOWN_TIMEOUT", shutdownTimeout); err != nil {
		return cfg, err
	}
	if cfg.AccessTokenTTL, err = positiveDuration("UB_ACCESS_TOKEN_TTL", accessTTL); err != nil {
		return cfg, err
	}
	if cfg.RefreshTokenTTL, err = positiveDuration("UB_REFRESH_TOKEN_TTL", refreshTTL); err != nil {
		return cfg, err
	}
	if cfg.RateLimitPerMinute, err = strconv.Atoi(rateLimit); err != nil || cfg.RateLimitPerMinute < 0 {
		return cfg, fmt.Errorf("UB_RATE_LIMIT_PER_MINUTE %q must be a whole number, 0 to turn rate limiting off", rateLimit)
	}
	if cfg.TrustProxy, err = strconv.ParseBool(trustProxy); err != nil {
		return cfg, fmt.Errorf("UB_TRUST_PROXY %q must be true or false", trustProxy)
	}
	if cfg.WebhookAllowPrivate, err = strconv.ParseBool(webhookAllowPrivate); err != nil {
		return cfg, fmt.Errorf("UB_WEBHOOK_ALLOW_PRIVATE %q must be true or false", webhookAllowPrivate)
	}
	if cfg.WSMaxSubscriptionsPerConnection, err = strconv.Atoi(wsMaxSubs); err != nil || cfg.WSMaxSubscriptionsPerConnection <= 0 {
		return cfg, fmt.Errorf("UB_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION %q must be a positive whole number", wsMaxSubs)
	}
	if cfg.WSMaxConnectionsPerProject, err = strconv.Atoi(wsMaxConns); err != nil || cfg.WSMaxConnectionsPerProject <= 0 {
		return cfg, fmt.Errorf("UB_WS_MAX_CONNECTIONS_PER_PROJECT %q must be a positive whole number", wsMaxConns)
	}
	if cfg.WSKeepAliveInterval, err = positiveDuration("UB_WS_KEEPALIVE_INTERVAL", wsKeepAlive); err != nil {
		return cfg, err
	}
	if cfg.MaxFileBytes, err = strconv.ParseInt(maxFileBytes, 10, 64); err != nil || cfg.MaxFileBytes <= 0 {
		return cfg, fmt.Errorf("UB_MAX_FILE_BYTES %q must be a positive number of bytes", maxFileBytes)
	}
	if cfg.StorageQuotaBytes, err = strconv.ParseInt(storageQuota, 10, 64); err != nil || cfg.StorageQuotaBytes < 0 {
		return cfg, fmt.Errorf("UB_STORAGE_QUOTA_BYTES %q must be a number of bytes, 0 for no quota", storageQuota)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return cfg, fmt.Errorf("UB_LOG_LEVEL %q must be debug, info, warn or error", logLevel)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Console = stdout
	return cfg, nil
}

func positiveDuration(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q must be a positive duration such as 10s", name, v)
	}
	return d, nil
}

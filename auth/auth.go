// Package auth is the operations layer for a project's end users: sign-up,
// login, access and refresh tokens, e-mail verification and password reset
// codes, profiles, and social sign-in. Users live in the project's own
// database (collection "users"); sessions, codes and OAuth states live in
// the platform database.
package auth

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/crypto/bcrypt"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/mail"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/secret"
)

// Config tunes the auth service; zero values mean the defaults.
type Config struct {
	// AccessTTL is the access token lifetime (default 15m).
	AccessTTL time.Duration
	// RefreshTTL is the refresh session lifetime (default 7 days).
	RefreshTTL time.Duration
	// OTPTTL is how long an e-mailed code is valid (default 5m).
	OTPTTL time.Duration
	// OTPCooldown is the wait between two codes to one address (60s).
	OTPCooldown time.Duration
	// OTPAttempts is how many wrong codes end a code (5).
	OTPAttempts int
	// BcryptCost hashes passwords (default 10, as the original).
	BcryptCost int
	// SecureCookies marks the refresh cookie Secure; SameSite=None (when
	// the public URL is https).
	SecureCookies bool
	// MailFrom is the default sender of auth e-mails.
	MailFrom string
	// LoginFailures is how many failed logins per account (and five times
	// that per client address) within FailureWindow are allowed (5, 15m).
	LoginFailures int
	FailureWindow time.Duration
}

func (c *Config) defaults() {
	if c.AccessTTL == 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 7 * 24 * time.Hour
	}
	if c.OTPTTL == 0 {
		c.OTPTTL = 5 * time.Minute
	}
	if c.OTPCooldown == 0 {
		c.OTPCooldown = time.Minute
	}
	if c.OTPAttempts == 0 {
		c.OTPAttempts = 5
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = 10
	}
	if c.MailFrom == "" {
		c.MailFrom = "urBackend <no-reply@urbackend.local>"
	}
	if c.LoginFailures == 0 {
		c.LoginFailures = 5
	}
	if c.FailureWindow == 0 {
		c.FailureWindow = 15 * time.Minute
	}
}

// Service runs the auth operations.
type Service struct {
	cfg      Config
	mailer   mail.Sender
	logger   *slog.Logger
	now      func() time.Time
	otpKey   []byte // HMAC key for stored codes
	sessions *mongo.Collection
	codes    *mongo.Collection
	states   *mongo.Collection

	failures *throttle
	emitters []data.Emitter
	social   *Social
	// dummyHash is compared against when no user has the e-mail, so a
	// login takes as long for an unknown address as for a wrong password.
	dummyHash []byte

	indexed sync.Map // database name → struct{}: users indexes made
}

// New returns a Service storing sessions and codes in platformDB. otpKey is
// a secret that keys the stored hashes of e-mailed codes.
func New(platformDB *mongo.Database, mailer mail.Sender, otpKey []byte, cfg Config, logger *slog.Logger, now func() time.Time) *Service {
	cfg.defaults()
	if now == nil {
		now = time.Now
	}
	dummy, _ := bcrypt.GenerateFromPassword([]byte(secret.Token(16)), cfg.BcryptCost)
	return &Service{
		dummyHash: dummy,
		cfg:       cfg,
		mailer:    mailer,
		logger:    logger,
		now:       now,
		otpKey:    otpKey,
		sessions:  platformDB.Collection("sessions"),
		codes:     platformDB.Collection("auth_codes"),
		states:    platformDB.Collection("oauth_states"),
		failures:  newThrottle(now),
	}
}

// EnsureIndexes creates the platform indexes auth needs.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	for _, c := range []*mongo.Collection{s.sessions, s.codes, s.states} {
		if err := dbpool.EnsureIndexes(ctx, c, mongo.IndexModel{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: options.Index().SetName("ub_expires")}); err != nil {
			return err
		}
	}
	return dbpool.EnsureIndexes(ctx, s.sessions,
		mongo.IndexModel{Keys: bson.D{{Key: "family", Value: 1}}, Options: options.Index().SetName("ub_family")},
		mongo.IndexModel{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "userId", Value: 1}}, Options: options.Index().SetName("ub_user")},
	)
}

// Sweep deletes expired sessions, codes and states until ctx is done. The
// embedded database has no TTL indexes, so this runs everywhere.
func (s *Service) Sweep(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, c := range []*mongo.Collection{s.sessions, s.codes, s.states} {
			_, err := c.DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: s.now().UTC()}}}})
			if err != nil && ctx.Err() == nil {
				s.logger.Warn("sweep expired auth records", "collection", c.Name(), "err", err)
			}
		}
		s.failures.sweep()
	}
}

// Client is what auth knows of the HTTP client, for sessions and
// throttling.
type Client struct {
	IP        string
	UserAgent string
}

// ready applies the §5.1 precondition: auth enabled for the project.
// Errors: Forbidden.
func ready(c *principal.Caller) error {
	if !c.Snapshot.Project.Auth.Enabled {
		return errs.New(errs.Forbidden, "Please enable Auth in the urBackend dashboard for this project to use this endpoint.")
	}
	return nil
}

func (s *Service) users(ctx context.Context, c *principal.Caller) (*mongo.Collection, error) {
	db := c.Snapshot.DB
	coll := db.Collection(UsersCollection)
	key := dbKey(db)
	if _, ok := s.indexed.Load(key); ok {
		return coll, nil
	}
	if err := dbpool.EnsureIndexes(ctx, coll, usersIndexes()...); err != nil {
		return nil, fmt.Errorf("users indexes: %w", err)
	}
	s.indexed.Store(key, struct{}{})
	return coll, nil
}

func dbKey(db *mongo.Database) string {
	return fmt.Sprintf("%p/%s", db.Client(), db.Name())
}

func (s *Service) timestamp() bson.DateTime {
	return bson.NewDateTimeFromTime(s.now().UTC().Truncate(time.Millisecond))
}

// ExpiresIn renders a token lifetime as the original does ("15m").
func ExpiresIn(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

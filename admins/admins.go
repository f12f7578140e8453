// Package admins manages the platform's administrator accounts and their
// signed session tokens.
package admins

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/crypto/bcrypt"

	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/secret"
)

// DefaultTokenTTL is how long an admin token stays valid.
const DefaultTokenTTL = 12 * time.Hour

// MinPasswordLength is the shortest admin password accepted.
const MinPasswordLength = 10

const tokenAudience = "urbackend-admin"

// Admin is a platform administrator.
type Admin struct {
	ID           bson.ObjectID `bson:"_id"`
	Email        string        `bson:"email"`
	PasswordHash string        `bson:"passwordHash"`
	CreatedAt    time.Time     `bson:"createdAt"`
	CreatedBy    bson.ObjectID `bson:"createdBy,omitempty"`
}

// Service stores admins and issues their tokens.
type Service struct {
	coll       *mongo.Collection
	signingKey []byte
	ttl        time.Duration
	bcryptCost int
	now        func() time.Time
	dummyHash  []byte
}

// Options tune a Service; zero values mean defaults.
type Options struct {
	TokenTTL   time.Duration
	BcryptCost int
	Now        func() time.Time
}

// New returns a Service storing admins in db.admins and signing tokens with
// signingKey.
func New(db *mongo.Database, signingKey []byte, o Options) *Service {
	s := &Service{
		coll:       db.Collection("admins"),
		signingKey: signingKey,
		ttl:        o.TokenTTL,
		bcryptCost: o.BcryptCost,
		now:        o.Now,
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTokenTTL
	}
	if s.bcryptCost == 0 {
		s.bcryptCost = 12
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a real password"), s.bcryptCost)
	return s
}

// EnsureIndexes creates the unique index on e-mail addresses.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	_, err := s.coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "email", Value: 1}},
		Options: options.Index().SetUnique(true).SetName("ub_unique_email"),
	})
	if err != nil {
		return fmt.Errorf("create admins index: %w", err)
	}
	return nil
}

// Count returns the number of admins.
func (s *Service) Count(ctx context.Context) (int64, error) {
	n, err := s.coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

// NormalizeEmail trims and lower-cases an address and checks its syntax.
func NormalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email[strings.Index(email, "@"):], ".") {
		return "", errs.New(errs.Invalid, "invalid e-mail address")
	}
	return email, nil
}

// Create adds an admin. createdBy may be zero for the first admin.
// Errors: Invalid (e-mail, password), Conflict (e-mail taken).
func (s *Service) Create(ctx context.Context, email, password string, createdBy bson.ObjectID) (*Admin, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if len(password) < MinPasswordLength {
		return nil, errs.New(errs.Invalid, "password must be at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return nil, errs.New(errs.Invalid, "password must be at most 72 bytes")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	a := &Admin{ID: bson.NewObjectID(), Email: email, PasswordHash: string(hash), CreatedAt: s.now().UTC().Truncate(time.Millisecond), CreatedBy: createdBy}
	if _, err := s.coll.InsertOne(ctx, a); err != nil {
		if dbpool.IsDuplicateKey(err) {
			return nil, errs.New(errs.Conflict, "an admin with this e-mail already exists")
		}
		return nil, fmt.Errorf("insert admin: %w", err)
	}
	return a, nil
}

// Get loads an admin by id. Errors: NotFound.
func (s *Service) Get(ctx context.Context, id bson.ObjectID) (*Admin, error) {
	var a Admin
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&a)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "admin not found")
	}
	if err != nil {
		return nil, fmt.Errorf("load admin %s: %w", id.Hex(), err)
	}
	return &a, nil
}

// Login checks an e-mail and password and returns a signed token.
// Errors: Unauthenticated (unknown e-mail or wrong password, alike).
func (s *Service) Login(ctx context.Context, email, password string) (string, *Admin, error) {
	bad := errs.New(errs.Unauthenticated, "invalid e-mail or password")
	email = strings.ToLower(strings.TrimSpace(email))
	var a Admin
	err := s.coll.FindOne(ctx, bson.D{{Key: "email", Value: email}}).Decode(&a)
	if errors.Is(err, mongo.ErrNoDocuments) {
		// Spend the same time as a real check so that timing does not
		// reveal which addresses exist.
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return "", nil, bad
	}
	if err != nil {
		return "", nil, fmt.Errorf("load admin: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil {
		return "", nil, bad
	}
	tok, err := s.issue(a.ID)
	if err != nil {
		return "", nil, err
	}
	return tok, &a, nil
}

func (s *Service) issue(id bson.ObjectID) (string, error) {
	now := s.now()
	claims := jwt.RegisteredClaims{
		Subject:   id.Hex(),
		Audience:  jwt.ClaimStrings{tokenAudience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.signingKey)
	if err != nil {
		return "", fmt.Errorf("sign admin token: %w", err)
	}
	return tok, nil
}

// Verify checks a token's signature, audience and expiry and returns the
// admin id it names. Errors: Unauthenticated.
func (s *Service) Verify(token string) (bson.ObjectID, error) {
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return s.signingKey, nil },
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithAudience(tokenAudience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil {
		return bson.ObjectID{}, errs.New(errs.Unauthenticated, "invalid or expired admin token")
	}
	id, err := bson.ObjectIDFromHex(claims.Subject)
	if err != nil {
		return bson.ObjectID{}, errs.New(errs.Unauthenticated, "invalid or expired admin token")
	}
	return id, nil
}

// Bootstrap creates the first admin when there is none. When password is
// empty it generates one and returns it, so the caller can show it once.
// It returns created=false when an admin already exists.
func (s *Service) Bootstrap(ctx context.Context, email, password string) (created bool, generated string, err error) {
	n, err := s.Count(ctx)
	if err != nil || n > 0 {
		return false, "", err
	}
	if email == "" {
		email = "admin@urbackend.local"
	}
	if password == "" {
		generated = secret.Token(18)
		password = generated
	}
	if _, err := s.Create(ctx, email, password, bson.ObjectID{}); err != nil {
		if errs.Is(err, errs.Conflict) {
			// Another instance created it first.
			return false, "", nil
		}
		return false, "", fmt.Errorf("create first admin: %w", err)
	}
	return true, generated, nil
}

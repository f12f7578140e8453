package auth

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/validate"
)

// MsgVerifyFirst refuses an unverified user when the project requires
// verified e-mails.
const MsgVerifyFirst = "Please verify your email before logging in."

// field reads a member of a decoded JSON body.
func field(body any, key string) (any, bool) {
	switch b := body.(type) {
	case bson.D:
		for _, e := range b {
			if e.Key == key {
				return e.Value, true
			}
		}
	case map[string]any:
		v, ok := b[key]
		return v, ok
	}
	return nil, false
}

// stringField returns a required string member, or the validator's
// default message for a missing or non-string one.
func stringField(body any, key string) (string, error) {
	v, ok := field(body, key)
	s, isStr := v.(string)
	if !ok || !isStr {
		return "", errs.New(errs.Invalid, "Invalid input: expected string, received %s", jsType(v, ok))
	}
	return s, nil
}

func jsType(v any, present bool) string {
	switch v.(type) {
	case nil:
		if present {
			return "null"
		}
		return "undefined"
	case string:
		return "string"
	case bool:
		return "boolean"
	case bson.D, map[string]any:
		return "object"
	case []any, bson.A:
		return "array"
	}
	return "number"
}

// emailRE is the contract's pattern without its two look-aheads, which
// validEmail checks by hand (Go's regexp has none).
var emailRE = regexp.MustCompile(`^([A-Za-z0-9_'+\-.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)

func validEmail(e string) bool {
	return !strings.HasPrefix(e, ".") && !strings.Contains(e, "..") && emailRE.MatchString(e)
}

// checkEmail applies the sign-up rules: required, format, length.
func checkEmail(body any, dot string) (string, error) {
	email, err := stringField(body, "email")
	if err != nil {
		return "", err
	}
	email = strings.TrimSpace(email)
	switch {
	case email == "":
		return "", errs.New(errs.Invalid, "Email is required.")
	case !validEmail(email):
		return "", errs.New(errs.Invalid, "Invalid email format%s", dot)
	case len(email) > 100:
		return "", errs.New(errs.Invalid, "Email is too long.")
	}
	return strings.ToLower(email), nil
}

func checkPassword(body any, key, dot string) (string, error) {
	pw, err := stringField(body, key)
	if err != nil {
		return "", err
	}
	switch {
	case utf8.RuneCountInString(pw) < 6:
		return "", errs.New(errs.Invalid, "Password must be at least 6 characters%s", dot)
	case utf8.RuneCountInString(pw) > 100:
		return "", errs.New(errs.Invalid, "Password is too long.")
	}
	return pw, nil
}

func checkUsername(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", errs.New(errs.Invalid, "Username must be between 3 and 50 characters.")
	}
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	switch {
	case n < 3:
		return "", errs.New(errs.Invalid, "Username must be at least 3 characters.")
	case n > 50:
		return "", errs.New(errs.Invalid, "Username must be between 3 and 50 characters.")
	}
	return s, nil
}

// SignUpResult is the outcome of a sign-up: tokens for a new user, or
// (Existing) a fresh verification code for an unverified one.
type SignUpResult struct {
	Tokens   *Tokens
	Existing bool
	UserID   string
}

// SignUp creates a user (contract/REST.md §5.3.1): e-mail lower-cased, a
// bcrypt password hash, declared profile fields (name, username,
// avatarUrl) validated, a verification code e-mailed, tokens issued.
// Signing up again with the address of an unverified user sends a new
// code instead. Errors: Forbidden (auth disabled, sign-ups closed),
// Invalid, Conflict (username taken), RateLimited (code cooldown).
func (s *Service) SignUp(ctx context.Context, c *principal.Caller, body any, cl Client) (*SignUpResult, error) {
	if err := ready(c); err != nil {
		return nil, err
	}
	var username string
	if v, ok := field(body, "username"); ok {
		if _, isStr := v.(string); !isStr {
			return nil, errs.New(errs.Invalid, "Invalid input: expected string, received %s", jsType(v, true))
		}
		u, err := checkUsername(v)
		if err != nil {
			return nil, err
		}
		username = u
	}
	email, err := checkEmail(body, ".")
	if err != nil {
		return nil, err
	}
	password, err := checkPassword(body, "password", ".")
	if err != nil {
		return nil, err
	}
	if !c.Snapshot.Project.Auth.AllowPublicSignups {
		return nil, errs.New(errs.Forbidden, "Public signups are disabled for this project.")
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return nil, err
	}
	existing, err := findUser(ctx, users, bson.D{{Key: "email", Value: email}})
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if existing.Verified {
			return nil, errs.New(errs.Invalid, "User already exists with this email.")
		}
		if err := s.sendCode(ctx, c, purposeVerify, email); err != nil {
			return nil, err
		}
		return &SignUpResult{Existing: true, UserID: existing.ID.Hex()}, nil
	}

	// Declared profile fields the client may set at sign-up.
	profile := bson.D{}
	for _, k := range []string{"name", "avatarUrl"} {
		if v, ok := field(body, k); ok && v != nil {
			profile = append(profile, bson.E{Key: k, Value: v})
		}
	}
	patch, err := validate.Update(UsersFields, profile)
	if err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword(passwordBytes(password), s.cfg.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	now := s.timestamp()
	id := bson.NewObjectID()
	doc := bson.D{{Key: "_id", Value: id}, {Key: "email", Value: email}, {Key: "password", Value: string(hash)}}
	if username != "" {
		doc = append(doc, bson.E{Key: "username", Value: username})
	}
	doc = append(doc, patch.Set...)
	doc = append(doc,
		bson.E{Key: VerifiedField, Value: false},
		bson.E{Key: "createdAt", Value: now}, bson.E{Key: "updatedAt", Value: now}, bson.E{Key: "__v", Value: int32(0)})
	if _, err := users.InsertOne(ctx, doc); err != nil {
		if dbpool.IsDuplicateKey(err) {
			// The embedded database does not name the index: the e-mail
			// was taken if a user has it now, else the username.
			if u, ferr := findUser(ctx, users, bson.D{{Key: "email", Value: email}}); ferr == nil && u == nil && username != "" {
				return nil, errs.New(errs.Conflict, "Username is already taken.")
			}
			return nil, errs.New(errs.Invalid, "User already exists with this email.")
		}
		return nil, errs.Wrap(errs.Internal, err, "Failed to create user.")
	}
	if err := s.sendCode(ctx, c, purposeVerify, email); err != nil && !errs.Is(err, errs.RateLimited) {
		s.logger.Warn("send verification code", "err", err)
	}
	t, err := s.issue(ctx, c, id, cl, "", "")
	if err != nil {
		return nil, err
	}
	s.emitUser(ctx, c, data.OpInsert, id, nil)
	return &SignUpResult{Tokens: t, UserID: id.Hex()}, nil
}

// Login checks an e-mail and password (§5.3.2). Repeated failures for one
// account or one address are throttled. Errors: Forbidden, Invalid,
// RateLimited.
func (s *Service) Login(ctx context.Context, c *principal.Caller, body any, cl Client) (*Tokens, error) {
	if err := ready(c); err != nil {
		return nil, err
	}
	email, err := checkEmail(body, ".")
	if err != nil {
		return nil, err
	}
	password, err := checkPassword(body, "password", "")
	if err != nil {
		return nil, err
	}
	acct := "login:" + c.Snapshot.Project.ID.Hex() + ":" + email
	addr := "login-ip:" + cl.IP
	if s.failures.blocked(acct, s.cfg.LoginFailures, s.cfg.FailureWindow) || s.failures.blocked(addr, 5*s.cfg.LoginFailures, s.cfg.FailureWindow) {
		return nil, errs.New(errs.RateLimited, "Too many failed login attempts. Please try again later.")
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return nil, err
	}
	u, err := findUser(ctx, users, bson.D{{Key: "email", Value: email}})
	if err != nil {
		return nil, err
	}
	hash := s.dummyHash
	if u != nil {
		hash = []byte(u.Password)
	}
	if bcrypt.CompareHashAndPassword(hash, passwordBytes(password)) != nil || u == nil {
		s.failures.fail(acct, s.cfg.FailureWindow)
		s.failures.fail(addr, s.cfg.FailureWindow)
		return nil, errs.New(errs.Invalid, "Invalid email or password")
	}
	s.failures.reset(acct)
	if c.Snapshot.Project.Auth.RequireEmailVerification && !u.Verified {
		return nil, errs.New(errs.Forbidden, MsgVerifyFirst)
	}
	return s.issue(ctx, c, u.ID, cl, "", "")
}

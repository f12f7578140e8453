package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/secret"
	"github.com/urbackend/urbackend/usertoken"
)

// Tokens are what a successful sign-in hands out.
type Tokens struct {
	AccessToken  string
	ExpiresIn    string
	RefreshToken string
	UserID       string
}

// MsgForeignRefresh is the one refresh refusal that keeps the cookie.
const MsgForeignRefresh = "Refresh token does not belong to this project"

// session is a stored refresh session; the raw token is "<id>.<secret>"
// and only sha256(raw) is kept.
type session struct {
	ID          string        `bson:"_id"`
	Family      string        `bson:"family"`
	ProjectID   bson.ObjectID `bson:"projectId"`
	UserID      bson.ObjectID `bson:"userId"`
	Hash        string        `bson:"hash"`
	RotatedFrom string        `bson:"rotatedFrom,omitempty"`
	RotatedTo   string        `bson:"rotatedTo,omitempty"`
	Used        bool          `bson:"used"`
	Revoked     bool          `bson:"revoked"`
	IP          string        `bson:"ip,omitempty"`
	UserAgent   string        `bson:"userAgent,omitempty"`
	CreatedAt   time.Time     `bson:"createdAt"`
	LastUsedAt  time.Time     `bson:"lastUsedAt"`
	ExpiresAt   time.Time     `bson:"expiresAt"`
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

var refreshRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[0-9a-f]{64}$`)

// issue signs an access token and opens a refresh session (in family, or
// a new family).
func (s *Service) issue(ctx context.Context, c *principal.Caller, userID bson.ObjectID, cl Client, family, rotatedFrom string) (*Tokens, error) {
	now := s.now().UTC()
	sec := make([]byte, 32)
	rand.Read(sec)
	id := newUUID()
	raw := id + "." + hex.EncodeToString(sec)
	if family == "" {
		family = id
	}
	access, err := usertoken.IssueForSession(c.Snapshot.JWTSecret, c.Snapshot.Project.ID.Hex(), userID.Hex(), family, s.cfg.AccessTTL, now)
	if err != nil {
		return nil, fmt.Errorf("sign access token: %w", err)
	}
	sess := session{
		ID: id, Family: family, ProjectID: c.Snapshot.Project.ID, UserID: userID, Hash: secret.Hash(raw),
		RotatedFrom: rotatedFrom, IP: cl.IP, UserAgent: truncate(cl.UserAgent, 300),
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL),
	}
	if _, err := s.sessions.InsertOne(ctx, sess); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "Failed to create session.")
	}
	return &Tokens{AccessToken: access, ExpiresIn: ExpiresIn(s.cfg.AccessTTL), RefreshToken: raw, UserID: userID.Hex()}, nil
}

// Refresh rotates a refresh token (contract/REST.md §5.3.11): the old
// session is used up, a new one in the same family is opened. Presenting a
// token that was already rotated (or revoked) revokes the whole family.
// Errors: Unauthenticated, Forbidden, RateLimited with the contract's
// messages; the transport clears the cookie on every error but
// MsgForeignRefresh.
func (s *Service) Refresh(ctx context.Context, c *principal.Caller, raw string, cl Client) (*Tokens, error) {
	// §5.1 applies first, as on every keyed userAuth route; so the
	// contract's "Project auth is unavailable" (auth turned off between
	// two checks of the original) cannot happen here.
	if err := ready(c); err != nil {
		return nil, err
	}
	if raw == "" {
		return nil, errs.New(errs.Unauthenticated, "Refresh token missing")
	}
	if !refreshRE.MatchString(raw) {
		return nil, errs.New(errs.Unauthenticated, "Invalid refresh token format")
	}
	if s.failures.limited("refresh-ip:"+cl.IP, 30, time.Minute) {
		return nil, errs.New(errs.RateLimited, "Too many refresh attempts from this IP")
	}
	if s.failures.limited("refresh-token:"+secret.Hash(raw), 10, time.Minute) {
		return nil, errs.New(errs.RateLimited, "Too many refresh attempts for this token")
	}
	id, _, _ := strings.Cut(raw, ".")
	var sess session
	err := s.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&sess)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.Unauthenticated, "Refresh session not found")
	}
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "Failed to refresh the session.")
	}
	if sess.ProjectID != c.Snapshot.Project.ID {
		return nil, errs.New(errs.Forbidden, MsgForeignRefresh)
	}
	if s.failures.limited("refresh-user:"+sess.UserID.Hex(), 20, time.Minute) {
		return nil, errs.New(errs.RateLimited, "Too many refresh attempts for this user")
	}
	now := s.now().UTC()
	if sess.Used || sess.Revoked || !now.Before(sess.ExpiresAt) {
		s.revokeFamily(ctx, sess.Family)
		return nil, errs.New(errs.Forbidden, "Refresh token is invalid or already used")
	}
	if !secret.Equal(sess.Hash, secret.Hash(raw)) {
		s.revokeFamily(ctx, sess.Family)
		return nil, errs.New(errs.Forbidden, "Refresh token mismatch")
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return nil, err
	}
	// An unverified user is refused before the token is used up, so that
	// it still works once the e-mail is verified.
	if c.Snapshot.Project.Auth.RequireEmailVerification {
		u, err := findUser(ctx, users, bson.D{{Key: "_id", Value: sess.UserID}})
		if err != nil {
			return nil, err
		}
		if u != nil && !u.Verified {
			return nil, errs.New(errs.Forbidden, MsgVerifyFirst)
		}
	}
	// Use the session up atomically: of two concurrent refreshes with the
	// same token only one wins; the other is a reuse.
	res, err := s.sessions.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "used", Value: false}, {Key: "revoked", Value: false}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "used", Value: true}, {Key: "lastUsedAt", Value: now}}}})
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "Failed to refresh the session.")
	}
	if res.ModifiedCount == 0 {
		s.revokeFamily(ctx, sess.Family)
		return nil, errs.New(errs.Forbidden, "Refresh token is invalid or already used")
	}
	u, err := findUser(ctx, users, bson.D{{Key: "_id", Value: sess.UserID}})
	if err != nil {
		return nil, err
	}
	if u == nil {
		s.revokeFamily(ctx, sess.Family)
		return nil, errs.New(errs.Unauthenticated, "User not found for refresh token")
	}
	t, err := s.issue(ctx, c, sess.UserID, cl, sess.Family, sess.ID)
	if err != nil {
		return nil, err
	}
	newID, _, _ := strings.Cut(t.RefreshToken, ".")
	if _, err := s.sessions.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "rotatedTo", Value: newID}}}}); err != nil {
		s.logger.Warn("record session rotation", "err", err)
	}
	return t, nil
}

// Logout revokes the session of a refresh token when it is valid; any
// other token is ignored. Errors: Forbidden (auth disabled, another
// project's session).
func (s *Service) Logout(ctx context.Context, c *principal.Caller, raw string) error {
	if err := ready(c); err != nil {
		return err
	}
	if !refreshRE.MatchString(raw) {
		return nil
	}
	id, _, _ := strings.Cut(raw, ".")
	var sess session
	if err := s.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&sess); err != nil {
		return nil
	}
	if !secret.Equal(sess.Hash, secret.Hash(raw)) {
		return nil
	}
	if sess.ProjectID != c.Snapshot.Project.ID {
		return errs.New(errs.Forbidden, MsgForeignRefresh)
	}
	_, err := s.sessions.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "used", Value: true}, {Key: "revoked", Value: true}}}})
	if err != nil {
		return errs.Wrap(errs.Internal, err, "Failed to log out.")
	}
	return nil
}

func (s *Service) revokeFamily(ctx context.Context, family string) {
	_, err := s.sessions.UpdateMany(context.WithoutCancel(ctx), bson.D{{Key: "family", Value: family}}, bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}}}})
	if err != nil {
		s.logger.Error("revoke session family", "err", err)
	}
}

// revokeUser revokes every session of a user, except those of keepFamily.
func (s *Service) revokeUser(ctx context.Context, projectID, userID bson.ObjectID, keepFamily string) error {
	filter := bson.D{{Key: "projectId", Value: projectID}, {Key: "userId", Value: userID}}
	if keepFamily != "" {
		filter = append(filter, bson.E{Key: "family", Value: bson.D{{Key: "$ne", Value: keepFamily}}})
	}
	if _, err := s.sessions.UpdateMany(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}}}}); err != nil {
		return errs.Wrap(errs.Internal, err, "Failed to revoke sessions.")
	}
	return nil
}

// familyOf returns the family of a valid refresh token of this project
// ("" otherwise), so change-password can keep the caller's own session.
func (s *Service) familyOf(ctx context.Context, c *principal.Caller, raw string) string {
	if !refreshRE.MatchString(raw) {
		return ""
	}
	id, _, _ := strings.Cut(raw, ".")
	var sess session
	if err := s.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&sess); err != nil {
		return ""
	}
	if sess.ProjectID != c.Snapshot.Project.ID || !secret.Equal(sess.Hash, secret.Hash(raw)) {
		return ""
	}
	return sess.Family
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

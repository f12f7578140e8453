package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/mail"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/secret"
)

// Code purposes.
const (
	purposeVerify = "verify"
	purposeReset  = "reset"
)

// code is a stored e-mailed code: only an HMAC of it is kept.
type code struct {
	ID        string    `bson:"_id"`
	Hash      string    `bson:"hash"`
	Attempts  int       `bson:"attempts"`
	SentAt    time.Time `bson:"sentAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

func codeID(projectID bson.ObjectID, purpose, email string) string {
	return projectID.Hex() + ":" + purpose + ":" + email
}

func (s *Service) codeHash(id, value string) string {
	m := hmac.New(sha256.New, s.otpKey)
	m.Write([]byte(id + "\x00" + value))
	return hex.EncodeToString(m.Sum(nil))
}

func sixDigits() string {
	b := make([]byte, 8)
	rand.Read(b)
	return fmt.Sprintf("%06d", 100000+binary.BigEndian.Uint64(b)%900000)
}

// sendCode stores a new code for (purpose, email) and e-mails it, unless
// one was sent less than OTPCooldown ago. Errors: RateLimited.
func (s *Service) sendCode(ctx context.Context, c *principal.Caller, purpose, email string) error {
	id := codeID(c.Snapshot.Project.ID, purpose, email)
	now := s.now().UTC()
	var prev code
	err := s.codes.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&prev)
	if err == nil && now.Sub(prev.SentAt) < s.cfg.OTPCooldown {
		wait := int(math.Ceil((s.cfg.OTPCooldown - now.Sub(prev.SentAt)).Seconds()))
		return errs.New(errs.RateLimited, "Please wait %d seconds before requesting another code.", wait)
	}
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return errs.Wrap(errs.Internal, err, "Failed to send the code.")
	}
	value := sixDigits()
	doc := code{ID: id, Hash: s.codeHash(id, value), SentAt: now, ExpiresAt: now.Add(s.cfg.OTPTTL)}
	if _, err := s.codes.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc, options.Replace().SetUpsert(true)); err != nil {
		return errs.Wrap(errs.Internal, err, "Failed to send the code.")
	}
	subject, intro := "Verify your account", "Your verification code is"
	if purpose == purposeReset {
		subject, intro = "Reset your password", "Your password reset code is"
	}
	minutes := int(s.cfg.OTPTTL / time.Minute)
	msg := mail.Message{
		From:    s.from(c),
		To:      email,
		Subject: subject,
		Text:    fmt.Sprintf("%s %s.\n\nIt expires in %d minutes. If you did not ask for it, ignore this e-mail.\n\n— %s\n", intro, value, minutes, c.Snapshot.Project.Name),
	}
	if err := s.mailer.Send(ctx, msg); err != nil {
		s.logger.Error("send auth e-mail", "subject", subject, "err", err)
		return errs.Wrap(errs.Unavailable, err, "Could not send the e-mail. Please try again later.")
	}
	return nil
}

func (s *Service) from(c *principal.Caller) string {
	if f := c.Snapshot.Project.MailFrom; f != "" {
		return f
	}
	return s.cfg.MailFrom
}

// checkCode consumes a code: right → deleted; wrong → one attempt used,
// and the code is gone after OTPAttempts. Errors: Invalid.
func (s *Service) checkCode(ctx context.Context, c *principal.Caller, purpose, email, value string) error {
	bad := errs.New(errs.Invalid, "Invalid or expired OTP")
	id := codeID(c.Snapshot.Project.ID, purpose, email)
	var doc code
	if err := s.codes.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
		return bad
	}
	if !s.now().Before(doc.ExpiresAt) {
		return bad
	}
	if !secret.Equal(doc.Hash, s.codeHash(id, value)) {
		if doc.Attempts+1 >= s.cfg.OTPAttempts {
			_, _ = s.codes.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
		} else {
			_, _ = s.codes.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}}})
		}
		return bad
	}
	// Single use: whoever deletes it first wins.
	res, err := s.codes.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "hash", Value: doc.Hash}})
	if err != nil || res.DeletedCount == 0 {
		return bad
	}
	return nil
}

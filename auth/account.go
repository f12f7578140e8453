package auth

import (
	"context"
	"errors"
	"math"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/crypto/bcrypt"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/query"
	"github.com/urbackend/urbackend/usertoken"
	"github.com/urbackend/urbackend/validate"
)

// bearerUser verifies the access token of an Authorization header.
// Errors: Unauthenticated with "Access Denied: No Token Provided" or
// invalidMsg.
func (s *Service) bearerUser(c *principal.Caller, authorization, invalidMsg string) (bson.ObjectID, error) {
	id, _, err := s.bearerSession(c, authorization, invalidMsg)
	return id, err
}

// bearerSession is bearerUser that also returns the session family the
// token was issued with ("" for tokens that name none).
func (s *Service) bearerSession(c *principal.Caller, authorization, invalidMsg string) (bson.ObjectID, string, error) {
	tok, ok := principal.Bearer(authorization)
	if !ok {
		return bson.ObjectID{}, "", errs.New(errs.Unauthenticated, "Access Denied: No Token Provided")
	}
	claims, err := usertoken.VerifyClaims(c.Snapshot.JWTSecret, c.Snapshot.Project.ID.Hex(), tok, s.now())
	if err != nil {
		return bson.ObjectID{}, "", errs.New(errs.Unauthenticated, "%s", invalidMsg)
	}
	id, err := bson.ObjectIDFromHex(claims.UserID)
	if err != nil {
		return bson.ObjectID{}, "", errs.New(errs.Unauthenticated, "%s", invalidMsg)
	}
	return id, claims.SessionID, nil
}

// Me returns the signed-in user's document without its password hash.
// Errors: Forbidden, Unauthenticated, NotFound.
func (s *Service) Me(ctx context.Context, c *principal.Caller, authorization string) (bson.D, error) {
	if err := ready(c); err != nil {
		return nil, err
	}
	id, err := s.bearerUser(c, authorization, "Invalid or Expired Token")
	if err != nil {
		return nil, err
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return nil, err
	}
	var d bson.D
	err = users.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(bson.D{{Key: "password", Value: 0}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "User not found")
	}
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "Failed to load user.")
	}
	return withoutSecrets(d), nil
}

// PublicProfile returns a user's public fields by exact username.
// Errors: Forbidden, NotFound.
func (s *Service) PublicProfile(ctx context.Context, c *principal.Caller, username string) (bson.D, error) {
	if err := ready(c); err != nil {
		return nil, err
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return nil, err
	}
	proj := bson.D{}
	for _, f := range PublicFields {
		proj = append(proj, bson.E{Key: f, Value: 1})
	}
	var d bson.D
	err = users.FindOne(ctx, bson.D{{Key: "username", Value: username}}, options.FindOne().SetProjection(proj)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "User not found")
	}
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "Failed to load user.")
	}
	return d, nil
}

// UpdateProfile sets the signed-in user's own fields: declared ones are
// validated; the e-mail, password, verification flag, provider ids and
// timestamps are ignored, as are keys starting with "$" (refused).
// Errors: Forbidden, Unauthenticated, Invalid, Conflict.
func (s *Service) UpdateProfile(ctx context.Context, c *principal.Caller, authorization string, body any) error {
	if err := ready(c); err != nil {
		return err
	}
	id, err := s.bearerUser(c, authorization, "Access Denied: Invalid or expired token")
	if err != nil {
		return err
	}
	in, ok := body.(bson.D)
	if !ok {
		return errs.New(errs.Invalid, "Request body must be a JSON object.")
	}
	if err := query.RejectDollarKeys(in); err != nil {
		return err
	}
	set := bson.D{}
	for _, e := range in {
		if isPrivileged(e.Key) {
			continue
		}
		if strings.TrimSpace(e.Key) == "username" && e.Value != nil {
			u, err := checkUsername(e.Value)
			if err != nil || utf8Len(u) < 3 {
				return errs.New(errs.Invalid, "Username must be between 3 and 50 characters.")
			}
			e.Value = u
		}
		set = append(set, e)
	}
	patch, err := validate.Update(UsersFields, set)
	if err != nil {
		return err
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return err
	}
	update := bson.D{{Key: "$set", Value: append(patch.Set, bson.E{Key: "updatedAt", Value: s.timestamp()})}}
	if len(patch.Unset) > 0 {
		unset := bson.D{}
		for _, k := range patch.Unset {
			unset = append(unset, bson.E{Key: k, Value: ""})
		}
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	if _, err := users.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update); err != nil {
		if dbpool.IsDuplicateKey(err) {
			return errs.New(errs.Conflict, "Username is already taken.")
		}
		return errs.Wrap(errs.Internal, err, "Failed to update profile.")
	}
	s.emitUser(ctx, c, data.OpUpdate, id, nil)
	return nil
}

func utf8Len(s string) int { return len([]rune(s)) }

// ChangePassword replaces the signed-in user's password after checking
// the current one, and revokes the user's other sessions (all but the one
// of the refresh token the request carried, else of the access token). Errors: Forbidden,
// Unauthenticated, Invalid, NotFound.
func (s *Service) ChangePassword(ctx context.Context, c *principal.Caller, authorization, refreshToken string, body any) error {
	if err := ready(c); err != nil {
		return err
	}
	id, family, err := s.bearerSession(c, authorization, "Access Denied: Invalid or expired token")
	if err != nil {
		return err
	}
	current, err := stringField(body, "currentPassword")
	if err != nil {
		return err
	}
	if current == "" {
		return errs.New(errs.Invalid, "Current password is required")
	}
	next, err := stringField(body, "newPassword")
	if err != nil {
		return err
	}
	if utf8Len(next) < 6 {
		return errs.New(errs.Invalid, "New password must be at least 6 characters")
	}
	if utf8Len(next) > 100 {
		// As at sign-up and reset: a longer password could not log in.
		return errs.New(errs.Invalid, "Password is too long.")
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return err
	}
	u, err := findUser(ctx, users, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return err
	}
	if u == nil {
		return errs.New(errs.NotFound, "User not found")
	}
	if bcrypt.CompareHashAndPassword([]byte(u.Password), passwordBytes(current)) != nil {
		return errs.New(errs.Invalid, "Invalid current password")
	}
	if err := s.setPassword(ctx, users, id, next); err != nil {
		return err
	}
	// Spare the caller's own session: the one of the refresh token sent
	// along, else the one the access token was issued with.
	if f := s.familyOf(ctx, c, refreshToken); f != "" {
		family = f
	}
	return s.revokeUser(ctx, c.Snapshot.Project.ID, id, family)
}

func (s *Service) setPassword(ctx context.Context, users *mongo.Collection, id bson.ObjectID, password string) error {
	hash, err := bcrypt.GenerateFromPassword(passwordBytes(password), s.cfg.BcryptCost)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "Failed to change the password.")
	}
	_, err = users.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "password", Value: string(hash)}, {Key: "updatedAt", Value: s.timestamp()},
	}}})
	if err != nil {
		return errs.Wrap(errs.Internal, err, "Failed to change the password.")
	}
	return nil
}

var otpRE = regexp.MustCompile(`^[0-9]{6}$`)

// checkOTPBody reads {email, otp}: "Invalid email format", "OTP must be 6
// digits".
func checkOTPBody(body any) (string, string, error) {
	email, err := checkEmail(body, "")
	if err != nil {
		if errs.ClientMessage(err) == "Email is required." || errs.ClientMessage(err) == "Email is too long." {
			return "", "", errs.New(errs.Invalid, "Invalid email format")
		}
		return "", "", err
	}
	otp, _ := field(body, "otp")
	o, ok := otp.(string)
	if !ok || !otpRE.MatchString(o) {
		return "", "", errs.New(errs.Invalid, "OTP must be 6 digits")
	}
	return email, o, nil
}

// codeThrottle refuses a client address with too many wrong codes.
func (s *Service) codeThrottle(cl Client) error {
	if s.failures.blocked("code-ip:"+cl.IP, 5*s.cfg.OTPAttempts, s.cfg.FailureWindow) {
		return errs.New(errs.RateLimited, "Too many failed attempts. Please try again later.")
	}
	return nil
}

// VerifyEmail marks a user verified with the code e-mailed at sign-up.
// Errors: Forbidden, Invalid, NotFound, RateLimited.
func (s *Service) VerifyEmail(ctx context.Context, c *principal.Caller, body any, cl Client) error {
	if err := ready(c); err != nil {
		return err
	}
	email, otp, err := checkOTPBody(body)
	if err != nil {
		return err
	}
	if err := s.codeThrottle(cl); err != nil {
		return err
	}
	if err := s.checkCode(ctx, c, purposeVerify, email, otp); err != nil {
		s.failures.fail("code-ip:"+cl.IP, s.cfg.FailureWindow)
		return err
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return err
	}
	res, err := users.UpdateOne(ctx, bson.D{{Key: "email", Value: email}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: VerifiedField, Value: true}, {Key: "updatedAt", Value: s.timestamp()},
	}}})
	if err != nil {
		return errs.Wrap(errs.Internal, err, "Failed to verify the e-mail.")
	}
	if res.MatchedCount == 0 {
		return errs.New(errs.NotFound, "User not found")
	}
	if u, err := findUser(ctx, users, bson.D{{Key: "email", Value: email}}); err == nil && u != nil {
		s.emitUser(ctx, c, data.OpUpdate, u.ID, nil)
	}
	return nil
}

// userOfEmailBody reads {email} after the auth precondition and finds its
// user (nil when none). Errors: Forbidden, Invalid.
func (s *Service) userOfEmailBody(ctx context.Context, c *principal.Caller, body any) (string, *user, error) {
	if err := ready(c); err != nil {
		return "", nil, err
	}
	email, err := checkEmail(body, "")
	if err != nil {
		return "", nil, errs.New(errs.Invalid, "Invalid email format")
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return "", nil, err
	}
	u, err := findUser(ctx, users, bson.D{{Key: "email", Value: email}})
	return email, u, err
}

// ResendVerification e-mails a new verification code.
// Errors: Forbidden, Invalid, RateLimited.
func (s *Service) ResendVerification(ctx context.Context, c *principal.Caller, body any) error {
	email, u, err := s.userOfEmailBody(ctx, c, body)
	if err != nil {
		return err
	}
	if u == nil {
		return errs.New(errs.Invalid, "User not found with this email.")
	}
	if u.Verified {
		return errs.New(errs.Invalid, "Email is already verified.")
	}
	return s.sendCode(ctx, c, purposeVerify, email)
}

// RequestPasswordReset e-mails a reset code when the address belongs to a
// user; it answers the same either way. Errors: Forbidden, Invalid,
// RateLimited (per address, whether or not it exists).
func (s *Service) RequestPasswordReset(ctx context.Context, c *principal.Caller, body any) error {
	email, u, err := s.userOfEmailBody(ctx, c, body)
	if err != nil {
		return err
	}
	if u == nil {
		// Apply the same cooldown to unknown addresses, so the answers
		// do not tell which exist.
		if left, over := s.failures.limitedFor("reset-unknown:"+c.Snapshot.Project.ID.Hex()+":"+email, 1, s.cfg.OTPCooldown); over {
			return errs.New(errs.RateLimited, "Please wait %d seconds before requesting another code.", int(math.Ceil(left.Seconds())))
		}
		return nil
	}
	return s.sendCode(ctx, c, purposeReset, email)
}

// ResetPassword sets a new password with an e-mailed reset code and
// revokes every session of the user. Errors: Forbidden, Invalid, NotFound,
// RateLimited.
func (s *Service) ResetPassword(ctx context.Context, c *principal.Caller, body any, cl Client) error {
	if err := ready(c); err != nil {
		return err
	}
	email, otp, err := checkOTPBody(body)
	if err != nil {
		return err
	}
	password, err := checkPassword(body, "newPassword", "")
	if err != nil {
		return err
	}
	if err := s.codeThrottle(cl); err != nil {
		return err
	}
	if err := s.checkCode(ctx, c, purposeReset, email, otp); err != nil {
		s.failures.fail("code-ip:"+cl.IP, s.cfg.FailureWindow)
		return err
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return err
	}
	u, err := findUser(ctx, users, bson.D{{Key: "email", Value: email}})
	if err != nil {
		return err
	}
	if u == nil {
		return errs.New(errs.NotFound, "User not found")
	}
	if err := s.setPassword(ctx, users, u.ID, password); err != nil {
		return err
	}
	s.failures.reset("login:" + c.Snapshot.Project.ID.Hex() + ":" + email)
	return s.revokeUser(ctx, c.Snapshot.Project.ID, u.ID, "")
}

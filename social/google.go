package social

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/urbackend/urbackend/errs"
)

// googleIssuers are the accepted id_token issuers.
var googleIssuers = []string{"accounts.google.com", "https://accounts.google.com"}

// googleClaims are the id_token claims used here.
type googleClaims struct {
	Email         string   `json:"email"`
	EmailVerified flexBool `json:"email_verified"`
	Name          string   `json:"name"`
	Picture       string   `json:"picture"`
	jwt.RegisteredClaims
}

// flexBool reads a JSON boolean that some issuers write as a string.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(bytes.ToLower(bytes.TrimSpace(data))) {
	case "true", `"true"`:
		*b = true
	default:
		*b = false
	}
	return nil
}

// googleProfile verifies the id_token and builds the profile from it.
func (c *Client) googleProfile(ctx context.Context, clientID, idToken, accessToken string) (*Profile, error) {
	claims, err := c.verifyIDToken(ctx, clientID, idToken)
	if err != nil {
		return nil, err
	}
	p := &Profile{
		Provider:      Google,
		ID:            claims.Subject,
		Email:         claims.Email,
		EmailVerified: bool(claims.EmailVerified),
		Name:          claims.Name,
		AvatarURL:     claims.Picture,
	}
	if p.Email == "" && accessToken != "" {
		if err := c.googleUserinfo(ctx, accessToken, p); err != nil {
			return nil, err
		}
	}
	p.Username, _, _ = strings.Cut(p.Email, "@")
	return p, nil
}

// verifyIDToken checks a Google id_token (§5.4.2) and returns its claims.
// Errors are Internal with the Msg…Google… messages.
func (c *Client) verifyIDToken(ctx context.Context, clientID, raw string) (*googleClaims, error) {
	var claims googleClaims
	var keyErr error
	parser := jwt.NewParser(jwt.WithoutClaimsValidation())
	_, err := parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if t.Method.Alg() != jwt.SigningMethodRS256.Alg() || kid == "" {
			keyErr = errs.Wrap(errs.Internal, fmt.Errorf("id_token alg %q kid %q", t.Method.Alg(), kid), MsgGoogleIDTokenAlg)
			return nil, keyErr
		}
		key, err := c.keys.key(ctx, kid)
		if err != nil {
			keyErr = errs.Wrap(errs.Internal, err, MsgGoogleSigningKey)
			return nil, keyErr
		}
		return key, nil
	})
	switch {
	case keyErr != nil:
		return nil, keyErr
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, errs.Wrap(errs.Internal, err, MsgGoogleIDTokenFormat)
	case errors.Is(err, jwt.ErrTokenUnverifiable): // unknown or missing alg
		return nil, errs.Wrap(errs.Internal, err, MsgGoogleIDTokenAlg)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, errs.Wrap(errs.Internal, err, MsgGoogleSignature)
	case err != nil:
		return nil, errs.Wrap(errs.Internal, err, MsgGoogleIDTokenFormat)
	}

	if clientID == "" || !slices.Contains(claims.Audience, clientID) {
		return nil, errs.Wrap(errs.Internal, fmt.Errorf("id_token aud %q", claims.Audience), MsgGoogleAudience)
	}
	if !slices.Contains(googleIssuers, claims.Issuer) {
		return nil, errs.Wrap(errs.Internal, fmt.Errorf("id_token iss %q", claims.Issuer), MsgGoogleIssuer)
	}
	if claims.ExpiresAt == nil || !c.now().Before(claims.ExpiresAt.Time) {
		return nil, errs.Wrap(errs.Internal, fmt.Errorf("id_token exp %v", claims.ExpiresAt), MsgGoogleExpired)
	}
	if claims.Subject == "" {
		return nil, errs.Wrap(errs.Internal, errors.New("id_token has no sub"), MsgGoogleIDTokenFormat)
	}
	return &claims, nil
}

// googleUserinfo fills p's e-mail (and a missing name or picture) from the
// userinfo endpoint, for an id_token that carried no e-mail.
func (c *Client) googleUserinfo(ctx context.Context, accessToken string, p *Profile) error {
	status, body, err := c.get(ctx, c.ep.GoogleUserinfoURL, accessToken, nil)
	if err != nil {
		return errs.Wrap(errs.Internal, fmt.Errorf("google userinfo: %w", err), MsgGoogleProfile)
	}
	if !ok(status) {
		return errs.Wrap(errs.Internal, fmt.Errorf("google userinfo: status %d", status), MsgGoogleProfile)
	}
	var info struct {
		Sub           string   `json:"sub"`
		Email         string   `json:"email"`
		EmailVerified flexBool `json:"email_verified"`
		Name          string   `json:"name"`
		Picture       string   `json:"picture"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return errs.Wrap(errs.Internal, fmt.Errorf("google userinfo: %w", err), MsgGoogleProfile)
	}
	if info.Sub != p.ID {
		return errs.Wrap(errs.Internal, fmt.Errorf("google userinfo: sub %q, id_token sub %q", info.Sub, p.ID), MsgGoogleProfile)
	}
	p.Email, p.EmailVerified = info.Email, bool(info.EmailVerified)
	if p.Name == "" {
		p.Name = info.Name
	}
	if p.AvatarURL == "" {
		p.AvatarURL = info.Picture
	}
	return nil
}

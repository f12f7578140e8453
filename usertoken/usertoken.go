// Package usertoken issues and verifies end users' access tokens: HS256
// JWTs signed with the project's own secret.
package usertoken

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are an access token's claims, as the original issues them:
// {"userId","projectId","iat","exp"}. A user id is also read from the
// `_id` and `id` claims of older tokens.
type Claims struct {
	UserID    string `json:"userId"`
	LegacyID  string `json:"_id,omitempty"`
	ID        string `json:"id,omitempty"`
	ProjectID string `json:"projectId,omitempty"`
	// SessionID names the refresh session family the token was issued
	// with (an addition to the original's claims), so an action taken
	// with the token, such as a password change, can spare that session.
	SessionID string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// ErrInvalid is returned for every token that must not be trusted.
var ErrInvalid = errors.New("invalid or expired user token")

// Issue signs an access token for a user of a project.
func Issue(secret []byte, projectID, userID string, ttl time.Duration, now time.Time) (string, error) {
	return IssueForSession(secret, projectID, userID, "", ttl, now)
}

// IssueForSession signs an access token that names its session family.
func IssueForSession(secret []byte, projectID, userID, sessionID string, ttl time.Duration, now time.Time) (string, error) {
	c := Claims{
		UserID:    userID,
		ProjectID: projectID,
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}

// Verify checks a token's HS256 signature with the project's secret, its
// expiry, and that it was issued for this project, and returns the user
// id. Any other algorithm, an expired token or another project's token is
// ErrInvalid.
func Verify(secret []byte, projectID, token string, now time.Time) (string, error) {
	c, err := VerifyClaims(secret, projectID, token, now)
	if err != nil {
		return "", err
	}
	return c.UserID, nil
}

// VerifyClaims is Verify returning every claim; UserID is filled from the
// legacy claims when needed.
func VerifyClaims(secret []byte, projectID, token string, now time.Time) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return nil, ErrInvalid
	}
	if c.ProjectID != "" && c.ProjectID != projectID {
		return nil, ErrInvalid
	}
	id := c.UserID
	if id == "" {
		id = c.LegacyID
	}
	if id == "" {
		id = c.ID
	}
	if id == "" {
		return nil, ErrInvalid
	}
	c.UserID = id
	return &c, nil
}

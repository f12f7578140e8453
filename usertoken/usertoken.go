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
	jwt.RegisteredClaims
}

// ErrInvalid is returned for every token that must not be trusted.
var ErrInvalid = errors.New("invalid or expired user token")

// Issue signs an access token for a user of a project.
func Issue(secret []byte, projectID, userID string, ttl time.Duration, now time.Time) (string, error) {
	c := Claims{
		UserID:    userID,
		ProjectID: projectID,
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
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return "", ErrInvalid
	}
	if c.ProjectID != "" && c.ProjectID != projectID {
		return "", ErrInvalid
	}
	id := c.UserID
	if id == "" {
		id = c.LegacyID
	}
	if id == "" {
		id = c.ID
	}
	if id == "" {
		return "", ErrInvalid
	}
	return id, nil
}

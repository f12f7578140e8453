package social

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/urbackend/urbackend/errs"
)

// maxBody bounds every provider response body read here.
const maxBody = 1 << 20

// userAgent identifies urBackend to GitHub's API, which requires one.
const userAgent = "urBackend-social-auth"

// Exchange trades an authorization code for the account's profile
// (§5.4.2). redirectURI must be the one given to AuthURL.
//
// GitHub: POST <GitHubURL>/login/oauth/access_token (form body with the
// client id and secret, Accept: application/json), then GET
// <GitHubAPIURL>/user and /user/emails with the bearer token and
// User-Agent urBackend-social-auth. The e-mail is the primary verified
// address, else any verified one, else the profile's public e-mail
// (unverified).
//
// Google: POST the token endpoint (form, with codeVerifier as the PKCE
// code_verifier), then verify the returned id_token: RS256 with a key from
// the certs URL, aud = clientID, iss = accounts.google.com or
// https://accounts.google.com, exp in the future. The profile comes from
// its claims; the username is the e-mail's local part. Only when the
// id_token carries no e-mail is the userinfo endpoint asked, with the
// access token (its sub must match).
//
// Errors: NotFound (MsgUnsupportedProvider) for another provider; every
// other failure is Internal whose message is the provider's own error
// text when it sent one (error_description, else error; for GitHub's
// /user its message), otherwise one of the Msg… constants.
func (c *Client) Exchange(ctx context.Context, provider, clientID, clientSecret, redirectURI, code, codeVerifier string) (*Profile, error) {
	provider = normalize(provider)
	cfg, err := c.config(provider, clientID, clientSecret, redirectURI)
	if err != nil {
		return nil, err
	}
	tctx := context.WithValue(ctx, oauth2.HTTPClient, c.token)
	if provider == GitHub {
		tok, err := cfg.Exchange(tctx, code)
		if err != nil {
			return nil, tokenError(err, MsgGitHubTokenExchange)
		}
		return c.githubProfile(ctx, tok.AccessToken)
	}
	if codeVerifier == "" {
		return nil, errs.Wrap(errs.Internal, errNoVerifier, MsgGoogleTokenExchange)
	}
	tok, err := cfg.Exchange(tctx, code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return nil, tokenError(err, MsgGoogleTokenExchange)
	}
	idToken, _ := tok.Extra("id_token").(string)
	if idToken == "" {
		return nil, errs.Wrap(errs.Internal, errors.New("google token response has no id_token"), MsgGoogleTokenExchange)
	}
	return c.googleProfile(ctx, clientID, idToken, tok.AccessToken)
}

// tokenError turns an oauth2 exchange error into an Internal error whose
// message is the provider's error text, else fallback.
func tokenError(err error, fallback string) error {
	msg := fallback
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if d := strings.TrimSpace(re.ErrorDescription); d != "" {
			msg = d
		} else if code := strings.TrimSpace(re.ErrorCode); code != "" {
			msg = code
		}
	}
	return errs.Wrap(errs.Internal, fmt.Errorf("token exchange: %w", err), msg)
}

// get sends a GET with the bearer token and returns the status and body.
func (c *Client) get(ctx context.Context, url, accessToken string, header http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read %s: %w", url, err)
	}
	return resp.StatusCode, body, nil
}

func ok(status int) bool { return status >= 200 && status <= 299 }

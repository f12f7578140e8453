package social

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/urbackend/urbackend/errs"
)

// githubUser is the part of GitHub's GET /user answer used here; Message
// is set on errors.
type githubUser struct {
	ID        json.Number `json:"id"`
	Login     string      `json:"login"`
	Name      string      `json:"name"`
	Email     string      `json:"email"`
	AvatarURL string      `json:"avatar_url"`
	Message   string      `json:"message"`
}

// githubEmail is one entry of GET /user/emails.
type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// githubProfile fetches /user and /user/emails with the access token.
func (c *Client) githubProfile(ctx context.Context, accessToken string) (*Profile, error) {
	header := http.Header{
		"Accept":     {"application/vnd.github+json"},
		"User-Agent": {userAgent},
	}

	status, body, err := c.get(ctx, c.ep.GitHubAPIURL+"/user", accessToken, header)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, fmt.Errorf("github user: %w", err), MsgGitHubProfile)
	}
	var u githubUser
	jerr := json.Unmarshal(body, &u)
	if !ok(status) {
		msg := MsgGitHubProfile
		if jerr == nil && strings.TrimSpace(u.Message) != "" {
			msg = strings.TrimSpace(u.Message)
		}
		return nil, errs.Wrap(errs.Internal, fmt.Errorf("github user: status %d", status), msg)
	}
	if jerr != nil {
		return nil, errs.Wrap(errs.Internal, fmt.Errorf("github user: %w", jerr), MsgGitHubProfile)
	}
	id := u.ID.String()
	if id == "" || id == "0" {
		return nil, errs.Wrap(errs.Internal, errors.New("github user: no id"), MsgGitHubProfile)
	}

	status, body, err = c.get(ctx, c.ep.GitHubAPIURL+"/user/emails", accessToken, header)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, fmt.Errorf("github emails: %w", err), MsgGitHubEmails)
	}
	if !ok(status) {
		return nil, errs.Wrap(errs.Internal, fmt.Errorf("github emails: status %d", status), MsgGitHubEmails)
	}
	var emails []githubEmail
	if err := json.Unmarshal(body, &emails); err != nil {
		return nil, errs.Wrap(errs.Internal, fmt.Errorf("github emails: %w", err), MsgGitHubEmails)
	}
	if emails == nil { // JSON null, not an array
		return nil, errs.Wrap(errs.Internal, errors.New("github emails: not an array"), MsgGitHubEmails)
	}

	p := &Profile{
		Provider:  GitHub,
		ID:        id,
		Username:  u.Login,
		Name:      u.Name,
		AvatarURL: u.AvatarURL,
	}
	if p.Name == "" {
		p.Name = u.Login
	}
	p.Email, p.EmailVerified = pickGitHubEmail(emails, u.Email)
	return p, nil
}

// pickGitHubEmail chooses the primary verified address, else the first
// verified one, else the profile's public e-mail, unverified.
func pickGitHubEmail(emails []githubEmail, profileEmail string) (string, bool) {
	for _, e := range emails {
		if e.Primary && e.Verified && e.Email != "" {
			return e.Email, true
		}
	}
	for _, e := range emails {
		if e.Verified && e.Email != "" {
			return e.Email, true
		}
	}
	return profileEmail, false
}

package social

import (
	"errors"

	"golang.org/x/oauth2"

	"github.com/urbackend/urbackend/errs"
)

var errNoVerifier = errors.New("social: google sign-in needs a PKCE code verifier")

// config is the oauth2 configuration of one provider for one project.
func (c *Client) config(provider, clientID, clientSecret, redirectURI string) (*oauth2.Config, error) {
	switch provider {
	case GitHub:
		return &oauth2.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			RedirectURL:  redirectURI,
			Scopes:       []string{"read:user", "user:email"},
			Endpoint: oauth2.Endpoint{
				AuthURL:   c.ep.GitHubURL + "/login/oauth/authorize",
				TokenURL:  c.ep.GitHubURL + "/login/oauth/access_token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
		}, nil
	case Google:
		return &oauth2.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			RedirectURL:  redirectURI,
			Scopes:       []string{"openid", "email", "profile"},
			Endpoint: oauth2.Endpoint{
				AuthURL:   c.ep.GoogleAuthURL,
				TokenURL:  c.ep.GoogleTokenURL,
				AuthStyle: oauth2.AuthStyleInParams,
			},
		}, nil
	}
	return nil, errs.New(errs.NotFound, MsgUnsupportedProvider)
}

// AuthURL returns the provider's authorize URL (§5.4.1) for a project's
// OAuth app. GitHub: scope "read:user user:email". Google: scope
// "openid email profile", access_type=offline, prompt=consent and a PKCE
// S256 challenge of codeVerifier, which must then be given to Exchange
// (make one with NewCodeVerifier). GitHub ignores codeVerifier. Both URLs
// also carry response_type=code (oauth2 always adds it; GitHub ignores it).
//
// Errors: NotFound (MsgUnsupportedProvider) for another provider;
// Internal when Google is given no code verifier.
func (c *Client) AuthURL(provider, clientID, redirectURI, state, codeVerifier string) (string, error) {
	provider = normalize(provider)
	cfg, err := c.config(provider, clientID, "", redirectURI)
	if err != nil {
		return "", err
	}
	if provider == GitHub {
		return cfg.AuthCodeURL(state), nil
	}
	if codeVerifier == "" {
		return "", errs.Wrap(errs.Internal, errNoVerifier, "")
	}
	return cfg.AuthCodeURL(state,
		oauth2.AccessTypeOffline,
		oauth2.ApprovalForce,
		oauth2.S256ChallengeOption(codeVerifier),
	), nil
}

// Package social implements end users' sign-in with GitHub and Google
// (contract/REST.md §5.4): the provider authorize URL, the code exchange,
// the profile fetch, Google id_token verification and the signed OAuth
// state. It talks to the providers as an HTTP client through
// golang.org/x/oauth2; it serves nothing.
//
// Every error it returns is an *errs.Error whose message is the text the
// callback shows the client (§5.4.2): errs.ClientMessage(err) renders it.
package social

import (
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// The supported providers, as they appear in URLs and in Profile.Provider.
const (
	GitHub = "github"
	Google = "google"
)

// Client messages of the errors this package returns (§5.4.2). When the
// provider sent its own error text, that text is the message instead.
const (
	MsgUnsupportedProvider = "Unsupported social auth provider"
	MsgInvalidState        = "Invalid or expired OAuth state"

	MsgGitHubTokenExchange = "GitHub token exchange failed"
	MsgGitHubProfile       = "Failed to fetch GitHub profile"
	MsgGitHubEmails        = "Failed to fetch GitHub email addresses"

	MsgGoogleTokenExchange = "Google token exchange failed"
	MsgGoogleIDTokenFormat = "Invalid Google id_token format"
	MsgGoogleIDTokenAlg    = "Unsupported Google id_token signature"
	MsgGoogleSigningKey    = "Unable to verify Google id_token signing key"
	MsgGoogleSignature     = "Invalid Google id_token signature"
	MsgGoogleAudience      = "Google id_token audience mismatch"
	MsgGoogleIssuer        = "Google id_token issuer mismatch"
	MsgGoogleExpired       = "Google id_token has expired"
	// MsgGoogleProfile is a Go addition: the userinfo fallback (see
	// Client.Exchange) failed.
	MsgGoogleProfile = "Failed to fetch Google profile"
)

// Endpoints are the providers' URLs; GitHub Enterprise and tests point
// them elsewhere. A zero field means its default (DefaultEndpoints).
type Endpoints struct {
	// GitHubURL is the GitHub web root (UB_GITHUB_URL): authorize is
	// <GitHubURL>/login/oauth/authorize, token <GitHubURL>/login/oauth/access_token.
	GitHubURL string
	// GitHubAPIURL is the REST API root (UB_GITHUB_API_URL), serving
	// /user and /user/emails.
	GitHubAPIURL string
	// GoogleAuthURL is Google's authorize endpoint (UB_GOOGLE_AUTH_URL).
	GoogleAuthURL string
	// GoogleTokenURL is Google's token endpoint (UB_GOOGLE_TOKEN_URL).
	GoogleTokenURL string
	// GoogleUserinfoURL is the OpenID Connect userinfo endpoint
	// (UB_GOOGLE_USERINFO_URL), asked only when an id_token has no e-mail.
	GoogleUserinfoURL string
	// GoogleCertsURL serves the JWKS that signs id_tokens (UB_GOOGLE_CERTS_URL).
	GoogleCertsURL string
}

// DefaultEndpoints returns the public github.com and Google endpoints.
func DefaultEndpoints() Endpoints {
	return Endpoints{
		GitHubURL:         "https://github.com",
		GitHubAPIURL:      "https://api.github.com",
		GoogleAuthURL:     "https://accounts.google.com/o/oauth2/v2/auth",
		GoogleTokenURL:    "https://oauth2.googleapis.com/token",
		GoogleUserinfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
		GoogleCertsURL:    "https://www.googleapis.com/oauth2/v3/certs",
	}
}

// withDefaults fills zero fields and trims trailing slashes from the roots.
func (ep Endpoints) withDefaults() Endpoints {
	d := DefaultEndpoints()
	set := func(v *string, def string) {
		if strings.TrimSpace(*v) == "" {
			*v = def
		}
		*v = strings.TrimSpace(*v)
	}
	set(&ep.GitHubURL, d.GitHubURL)
	set(&ep.GitHubAPIURL, d.GitHubAPIURL)
	set(&ep.GoogleAuthURL, d.GoogleAuthURL)
	set(&ep.GoogleTokenURL, d.GoogleTokenURL)
	set(&ep.GoogleUserinfoURL, d.GoogleUserinfoURL)
	set(&ep.GoogleCertsURL, d.GoogleCertsURL)
	ep.GitHubURL = strings.TrimRight(ep.GitHubURL, "/")
	ep.GitHubAPIURL = strings.TrimRight(ep.GitHubAPIURL, "/")
	return ep
}

// Profile is what a provider says about the signed-in account.
type Profile struct {
	Provider string // GitHub or Google
	ID       string // the provider's stable account id (GitHub id, Google sub)
	Email    string // may be empty: the provider returned none
	// EmailVerified reports whether the provider vouches for Email.
	EmailVerified bool
	Username      string
	Name          string
	AvatarURL     string
}

// Client talks to the providers. It is safe for concurrent use; it caches
// Google's signing keys.
type Client struct {
	ep    Endpoints
	http  *http.Client // profile, userinfo and JWKS requests
	token *http.Client // token requests: http plus Accept: application/json
	now   func() time.Time
	keys  *jwksCache
}

// DefaultTimeout bounds each provider request when New is given no client.
const DefaultTimeout = 15 * time.Second

// New returns a Client for the endpoints. A nil httpClient means a client
// with DefaultTimeout; a nil now means time.Now.
func New(ep Endpoints, httpClient *http.Client, now func() time.Time) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: DefaultTimeout}
	}
	if now == nil {
		now = time.Now
	}
	token := *httpClient
	base := token.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	token.Transport = acceptJSON{base}
	c := &Client{ep: ep.withDefaults(), http: httpClient, token: &token, now: now}
	c.keys = newJWKSCache(c)
	return c
}

// NewCodeVerifier returns a fresh PKCE code verifier (RFC 7636, 32 random
// bytes) for AuthURL and Exchange.
func NewCodeVerifier() string { return oauth2.GenerateVerifier() }

// acceptJSON asks token endpoints for JSON: GitHub answers form-encoded
// otherwise.
type acceptJSON struct{ base http.RoundTripper }

func (t acceptJSON) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", "application/json")
	return t.base.RoundTrip(r)
}

// normalize trims and lower-cases a provider name.
func normalize(provider string) string {
	return strings.ToLower(strings.TrimSpace(provider))
}

package social

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/urbackend/urbackend/errs"
)

func parseURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return u
}

func TestDefaultEndpoints(t *testing.T) {
	got := New(Endpoints{}, nil, nil).ep
	want := Endpoints{
		GitHubURL:         "https://github.com",
		GitHubAPIURL:      "https://api.github.com",
		GoogleAuthURL:     "https://accounts.google.com/o/oauth2/v2/auth",
		GoogleTokenURL:    "https://oauth2.googleapis.com/token",
		GoogleUserinfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
		GoogleCertsURL:    "https://www.googleapis.com/oauth2/v3/certs",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("zero Endpoints (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, DefaultEndpoints()); diff != "" {
		t.Errorf("DefaultEndpoints (-want +got):\n%s", diff)
	}
	partial := New(Endpoints{GitHubURL: "https://ghe.example.com/", GitHubAPIURL: "https://ghe.example.com/api/v3/"}, nil, nil).ep
	if partial.GitHubURL != "https://ghe.example.com" || partial.GitHubAPIURL != "https://ghe.example.com/api/v3" {
		t.Errorf("got %q, %q, want trailing slashes trimmed", partial.GitHubURL, partial.GitHubAPIURL)
	}
	if partial.GoogleCertsURL != want.GoogleCertsURL {
		t.Errorf("got certs URL %q, want default", partial.GoogleCertsURL)
	}
}

func TestAuthURLGitHub(t *testing.T) {
	tests := []struct {
		name, base, wantPrefix string
	}{
		{"default", "", "https://github.com/login/oauth/authorize?"},
		{"enterprise", "https://ghe.example.com/", "https://ghe.example.com/login/oauth/authorize?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Endpoints{GitHubURL: tt.base}, nil, nil)
			raw, err := c.AuthURL(" GitHub ", "Iv1.abc", "https://api.example.com/api/userAuth/social/github/callback", "st.ate", "ignored-verifier")
			if err != nil {
				t.Fatal(err)
			}
			if got := raw[:len(tt.wantPrefix)]; got != tt.wantPrefix {
				t.Errorf("got %q, want prefix %q", raw, tt.wantPrefix)
			}
			q := parseURL(t, raw).Query()
			want := url.Values{
				"client_id":     {"Iv1.abc"},
				"redirect_uri":  {"https://api.example.com/api/userAuth/social/github/callback"},
				"scope":         {"read:user user:email"},
				"state":         {"st.ate"},
				"response_type": {"code"},
			}
			if diff := cmp.Diff(want, q); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthURLGoogle(t *testing.T) {
	c := New(Endpoints{}, nil, nil)
	verifier := NewCodeVerifier()
	raw, err := c.AuthURL("google", googleClientID, "https://api.example.com/api/userAuth/social/google/callback", "state-1", verifier)
	if err != nil {
		t.Fatal(err)
	}
	u := parseURL(t, raw)
	if got, want := u.Scheme+"://"+u.Host+u.Path, "https://accounts.google.com/o/oauth2/v2/auth"; got != want {
		t.Errorf("got endpoint %q, want %q", got, want)
	}
	sum := sha256.Sum256([]byte(verifier))
	want := url.Values{
		"client_id":             {googleClientID},
		"redirect_uri":          {"https://api.example.com/api/userAuth/social/google/callback"},
		"response_type":         {"code"},
		"scope":                 {"openid email profile"},
		"state":                 {"state-1"},
		"access_type":           {"offline"},
		"prompt":                {"consent"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if diff := cmp.Diff(want, u.Query()); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if u.Query().Get("code_challenge") == verifier {
		t.Error("the URL carries the verifier itself")
	}
}

func TestAuthURLErrors(t *testing.T) {
	c := New(Endpoints{}, nil, nil)
	_, err := c.AuthURL("gitlab", "id", "https://x/cb", "s", "v")
	wantErr(t, err, errs.NotFound, MsgUnsupportedProvider)

	_, err = c.AuthURL("google", "id", "https://x/cb", "s", "")
	wantErr(t, err, errs.Internal, "internal error")
}

func TestNewCodeVerifier(t *testing.T) {
	a, b := NewCodeVerifier(), NewCodeVerifier()
	if len(a) != 43 {
		t.Errorf("got verifier length %d, want 43", len(a))
	}
	if a == b {
		t.Error("two verifiers are equal")
	}
}

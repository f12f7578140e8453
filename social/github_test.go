package social

import (
	"context"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/urbackend/urbackend/errs"
)

const githubRedirect = "https://api.example.com/api/userAuth/social/github/callback"

func TestExchangeGitHub(t *testing.T) {
	g := newFakeGitHub(t)
	c := g.client(t, newClock())

	got, err := c.Exchange(context.Background(), "github", "Iv1.abc", "s3cret", githubRedirect, "code-1", "")
	if err != nil {
		t.Fatal(err)
	}
	want := &Profile{
		Provider:      "github",
		ID:            "583231",
		Email:         "octocat@example.com",
		EmailVerified: true,
		Username:      "octocat",
		Name:          "The Octocat",
		AvatarURL:     "https://avatars.example/u/583231",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profile (-want +got):\n%s", diff)
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	wantForm := url.Values{
		"client_id":     {"Iv1.abc"},
		"client_secret": {"s3cret"},
		"code":          {"code-1"},
		"redirect_uri":  {githubRedirect},
		"grant_type":    {"authorization_code"},
	}
	if diff := cmp.Diff(wantForm, g.tokenForm); diff != "" {
		t.Errorf("token request form (-want +got):\n%s", diff)
	}
	if got := g.tokenHeader.Get("Accept"); got != "application/json" {
		t.Errorf("got token Accept %q, want application/json", got)
	}
	if got := g.tokenHeader.Get("Authorization"); got != "" {
		t.Errorf("got token Authorization %q, want credentials in the body only", got)
	}
	for name, h := range map[string]map[string][]string{"/user": g.userHeader, "/user/emails": g.emailsHeader} {
		if got := h["Authorization"]; !cmp.Equal(got, []string{"Bearer gho_test"}) {
			t.Errorf("%s: got Authorization %q, want Bearer gho_test", name, got)
		}
		if got := h["User-Agent"]; !cmp.Equal(got, []string{"urBackend-social-auth"}) {
			t.Errorf("%s: got User-Agent %q, want urBackend-social-auth", name, got)
		}
		if got := h["Accept"]; !cmp.Equal(got, []string{"application/vnd.github+json"}) {
			t.Errorf("%s: got Accept %q, want application/vnd.github+json", name, got)
		}
	}
}

func TestExchangeGitHubProfileFields(t *testing.T) {
	g := newFakeGitHub(t)
	g.set(func(g *fakeGitHub) {
		g.userBody = map[string]any{"id": 7, "login": "nobody", "name": nil, "email": nil}
	})
	got, err := g.client(t, newClock()).Exchange(context.Background(), "github", "id", "secret", githubRedirect, "c", "")
	if err != nil {
		t.Fatal(err)
	}
	want := &Profile{Provider: "github", ID: "7", Email: "octocat@example.com", EmailVerified: true, Username: "nobody", Name: "nobody"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profile (-want +got):\n%s", diff)
	}
}

func TestGitHubEmailSelection(t *testing.T) {
	type e = map[string]any
	tests := []struct {
		name         string
		profileEmail any
		emails       []e
		wantEmail    string
		wantVerified bool
	}{
		{
			name:         "primary and verified wins",
			profileEmail: "public@example.com",
			emails: []e{
				{"email": "other@example.com", "primary": false, "verified": true},
				{"email": "primary@example.com", "primary": true, "verified": true},
			},
			wantEmail: "primary@example.com", wantVerified: true,
		},
		{
			name:         "unverified primary: first verified",
			profileEmail: "public@example.com",
			emails: []e{
				{"email": "primary@example.com", "primary": true, "verified": false},
				{"email": "unverified@example.com", "primary": false, "verified": false},
				{"email": "verified@example.com", "primary": false, "verified": true},
				{"email": "verified2@example.com", "primary": false, "verified": true},
			},
			wantEmail: "verified@example.com", wantVerified: true,
		},
		{
			name:         "none verified: profile e-mail, unverified",
			profileEmail: "public@example.com",
			emails: []e{
				{"email": "primary@example.com", "primary": true, "verified": false},
			},
			wantEmail: "public@example.com", wantVerified: false,
		},
		{
			name:         "empty list: profile e-mail, unverified",
			profileEmail: "public@example.com",
			emails:       []e{},
			wantEmail:    "public@example.com", wantVerified: false,
		},
		{
			name:         "nothing at all",
			profileEmail: nil,
			emails:       []e{},
			wantEmail:    "", wantVerified: false,
		},
		{
			name:         "verified entry without address is skipped",
			profileEmail: "public@example.com",
			emails: []e{
				{"email": "", "primary": true, "verified": true},
			},
			wantEmail: "public@example.com", wantVerified: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGitHub(t)
			g.set(func(g *fakeGitHub) {
				g.userBody = map[string]any{"id": 1, "login": "u", "email": tt.profileEmail}
				g.emailsBody = tt.emails
			})
			p, err := g.client(t, newClock()).Exchange(context.Background(), "github", "id", "secret", githubRedirect, "c", "")
			if err != nil {
				t.Fatal(err)
			}
			if p.Email != tt.wantEmail || p.EmailVerified != tt.wantVerified {
				t.Errorf("got %q verified=%v, want %q verified=%v", p.Email, p.EmailVerified, tt.wantEmail, tt.wantVerified)
			}
		})
	}
}

func TestExchangeGitHubErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(g *fakeGitHub)
		want  string
	}{
		{
			name: "provider error on 200 with description",
			setup: func(g *fakeGitHub) {
				g.tokenBody = map[string]any{"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired.", "error_uri": "https://docs.github.com/"}
			},
			want: "The code passed is incorrect or expired.",
		},
		{
			name: "provider error code only",
			setup: func(g *fakeGitHub) {
				g.tokenStatus = 401
				g.tokenBody = map[string]any{"error": "incorrect_client_credentials"}
			},
			want: "incorrect_client_credentials",
		},
		{
			name: "token endpoint down",
			setup: func(g *fakeGitHub) {
				g.tokenStatus = 502
				g.tokenRaw = "<html>Bad Gateway</html>"
			},
			want: MsgGitHubTokenExchange,
		},
		{
			name:  "no access token",
			setup: func(g *fakeGitHub) { g.tokenBody = map[string]any{"token_type": "bearer"} },
			want:  MsgGitHubTokenExchange,
		},
		{
			name: "profile error with GitHub message",
			setup: func(g *fakeGitHub) {
				g.userStatus = 401
				g.userBody = map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
			},
			want: "Bad credentials",
		},
		{
			name: "profile error without message",
			setup: func(g *fakeGitHub) {
				g.userStatus = 500
				g.userBody = "oops"
			},
			want: MsgGitHubProfile,
		},
		{
			name:  "profile without id",
			setup: func(g *fakeGitHub) { g.userBody = map[string]any{"login": "ghost"} },
			want:  MsgGitHubProfile,
		},
		{
			name:  "profile not an object",
			setup: func(g *fakeGitHub) { g.userBody = []int{1} },
			want:  MsgGitHubProfile,
		},
		{
			name: "emails forbidden",
			setup: func(g *fakeGitHub) {
				g.emailsStatus = 404
				g.emailsBody = map[string]any{"message": "Not Found"}
			},
			want: MsgGitHubEmails,
		},
		{
			name:  "emails not an array",
			setup: func(g *fakeGitHub) { g.emailsBody = map[string]any{"email": "a@b.c"} },
			want:  MsgGitHubEmails,
		},
		{
			name:  "emails null",
			setup: func(g *fakeGitHub) { g.emailsBody = nil },
			want:  MsgGitHubEmails,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGitHub(t)
			g.set(tt.setup)
			p, err := g.client(t, newClock()).Exchange(context.Background(), "github", "id", "secret", githubRedirect, "c", "")
			if p != nil {
				t.Errorf("got profile %+v, want nil", p)
			}
			wantErr(t, err, errs.Internal, tt.want)
		})
	}
}

func TestExchangeGitHubUnreachable(t *testing.T) {
	g := newFakeGitHub(t)
	c := g.client(t, newClock())
	g.srv.Close()
	_, err := c.Exchange(context.Background(), "github", "id", "secret", githubRedirect, "c", "")
	wantErr(t, err, errs.Internal, MsgGitHubTokenExchange)
}

func TestExchangeUnsupportedProvider(t *testing.T) {
	c := New(Endpoints{}, nil, nil)
	_, err := c.Exchange(context.Background(), "facebook", "id", "secret", "https://x/cb", "c", "v")
	wantErr(t, err, errs.NotFound, MsgUnsupportedProvider)
}

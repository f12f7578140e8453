package social

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/urbackend/urbackend/errs"
)

const googleRedirect = "https://api.example.com/api/userAuth/social/google/callback"

func exchangeGoogle(t *testing.T, c *Client, verifier string) (*Profile, error) {
	t.Helper()
	return c.Exchange(context.Background(), "google", googleClientID, "g-secret", googleRedirect, "4/0Ab-code", verifier)
}

func TestExchangeGoogle(t *testing.T) {
	clk := newClock()
	g := newFakeGoogle(t)
	g.set(func(g *fakeGoogle) { g.idToken = signRS256(t, testKey(), "kid-1", validClaims(clk.Now())) })
	c := g.client(t, clk)

	// The verifier goes into the start URL as a challenge and comes back
	// on the exchange.
	verifier := NewCodeVerifier()
	authURL, err := c.AuthURL("google", googleClientID, googleRedirect, "st", verifier)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := parseURL(t, authURL).Query().Get("code_challenge"), testS256(verifier); got != want {
		t.Errorf("got code_challenge %q, want %q", got, want)
	}
	if !strings.HasPrefix(authURL, g.srv.URL+"/auth?") {
		t.Errorf("got auth URL %q, want the configured endpoint", authURL)
	}

	got, err := exchangeGoogle(t, c, verifier)
	if err != nil {
		t.Fatal(err)
	}
	want := &Profile{
		Provider:      "google",
		ID:            "110169484474386276334",
		Email:         "jane.doe@gmail.com",
		EmailVerified: true,
		Username:      "jane.doe",
		Name:          "Jane Doe",
		AvatarURL:     "https://lh3.example/photo.jpg",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profile (-want +got):\n%s", diff)
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	wantForm := url.Values{
		"client_id":     {googleClientID},
		"client_secret": {"g-secret"},
		"code":          {"4/0Ab-code"},
		"code_verifier": {verifier},
		"grant_type":    {"authorization_code"},
		"redirect_uri":  {googleRedirect},
	}
	if diff := cmp.Diff(wantForm, g.tokenForm); diff != "" {
		t.Errorf("token request form (-want +got):\n%s", diff)
	}
	if g.userinfoHits != 0 {
		t.Errorf("got %d userinfo requests, want 0 (the id_token had an e-mail)", g.userinfoHits)
	}
}

func testS256(verifier string) string {
	// Independent of oauth2: RFC 7636 §4.2.
	return base64.RawURLEncoding.EncodeToString(sha256Sum([]byte(verifier)))
}

func TestExchangeGoogleClaims(t *testing.T) {
	tests := []struct {
		name   string
		modify func(jwt.MapClaims)
		check  func(t *testing.T, p *Profile)
	}{
		{
			name:   "email_verified as string",
			modify: func(c jwt.MapClaims) { c["email_verified"] = "true" },
			check: func(t *testing.T, p *Profile) {
				if !p.EmailVerified {
					t.Error("got unverified, want verified")
				}
			},
		},
		{
			name:   "email not verified",
			modify: func(c jwt.MapClaims) { c["email_verified"] = false },
			check: func(t *testing.T, p *Profile) {
				if p.EmailVerified {
					t.Error("got verified, want unverified")
				}
			},
		},
		{
			name:   "string false is false",
			modify: func(c jwt.MapClaims) { c["email_verified"] = "false" },
			check: func(t *testing.T, p *Profile) {
				if p.EmailVerified {
					t.Error("got verified, want unverified")
				}
			},
		},
		{
			name: "audience list and bare issuer",
			modify: func(c jwt.MapClaims) {
				c["aud"] = []string{"other-client", googleClientID}
				c["iss"] = "accounts.google.com"
			},
			check: func(t *testing.T, p *Profile) {},
		},
		{
			name: "no name or picture",
			modify: func(c jwt.MapClaims) {
				delete(c, "name")
				delete(c, "picture")
			},
			check: func(t *testing.T, p *Profile) {
				if p.Name != "" || p.AvatarURL != "" || p.Username != "jane.doe" {
					t.Errorf("got name %q avatar %q username %q, want empty, empty, jane.doe", p.Name, p.AvatarURL, p.Username)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			g := newFakeGoogle(t)
			claims := validClaims(clk.Now())
			tt.modify(claims)
			g.set(func(g *fakeGoogle) { g.idToken = signRS256(t, testKey(), "kid-1", claims) })
			p, err := exchangeGoogle(t, g.client(t, clk), "verifier")
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}

func TestExchangeGoogleErrors(t *testing.T) {
	hs256 := func(t *testing.T, now time.Time) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims(now))
		tok.Header["kid"] = "kid-1"
		s, err := tok.SignedString([]byte("shared"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none := func(t *testing.T, now time.Time) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims(now))
		tok.Header["kid"] = "kid-1"
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	withClaims := func(modify func(jwt.MapClaims)) func(t *testing.T, now time.Time) string {
		return func(t *testing.T, now time.Time) string {
			c := validClaims(now)
			modify(c)
			return signRS256(t, testKey(), "kid-1", c)
		}
	}
	tests := []struct {
		name    string
		setup   func(g *fakeGoogle)
		idToken func(t *testing.T, now time.Time) string
		want    string
	}{
		{
			name: "provider error with description",
			setup: func(g *fakeGoogle) {
				g.tokenStatus = 400
				g.tokenBody = map[string]any{"error": "invalid_grant", "error_description": "Bad Request"}
			},
			want: "Bad Request",
		},
		{
			name: "provider error code only",
			setup: func(g *fakeGoogle) {
				g.tokenStatus = 401
				g.tokenBody = map[string]any{"error": "invalid_client"}
			},
			want: "invalid_client",
		},
		{
			name: "token endpoint 500 without error",
			setup: func(g *fakeGoogle) {
				g.tokenStatus = 500
				g.tokenBody = map[string]any{}
			},
			want: MsgGoogleTokenExchange,
		},
		{
			name: "no id_token",
			want: MsgGoogleTokenExchange,
		},
		{
			name:    "two segments",
			idToken: func(*testing.T, time.Time) string { return "abc.def" },
			want:    MsgGoogleIDTokenFormat,
		},
		{
			name:    "garbage segments",
			idToken: func(*testing.T, time.Time) string { return "!!!.@@@.###" },
			want:    MsgGoogleIDTokenFormat,
		},
		{
			name: "claims not JSON",
			idToken: func(t *testing.T, now time.Time) string {
				parts := strings.Split(signRS256(t, testKey(), "kid-1", validClaims(now)), ".")
				parts[1] = base64.RawURLEncoding.EncodeToString([]byte("not json"))
				return strings.Join(parts, ".")
			},
			want: MsgGoogleIDTokenFormat,
		},
		{
			name:    "no sub",
			idToken: withClaims(func(c jwt.MapClaims) { delete(c, "sub") }),
			want:    MsgGoogleIDTokenFormat,
		},
		{name: "HS256", idToken: hs256, want: MsgGoogleIDTokenAlg},
		{name: "alg none", idToken: none, want: MsgGoogleIDTokenAlg},
		{
			name: "unknown alg",
			idToken: func(t *testing.T, now time.Time) string {
				parts := strings.Split(signRS256(t, testKey(), "kid-1", validClaims(now)), ".")
				parts[0] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"XX512","kid":"kid-1"}`))
				return strings.Join(parts, ".")
			},
			want: MsgGoogleIDTokenAlg,
		},
		{
			name:    "no kid",
			idToken: func(t *testing.T, now time.Time) string { return signRS256(t, testKey(), "", validClaims(now)) },
			want:    MsgGoogleIDTokenAlg,
		},
		{
			name:    "unknown kid",
			idToken: func(t *testing.T, now time.Time) string { return signRS256(t, testKey(), "kid-404", validClaims(now)) },
			want:    MsgGoogleSigningKey,
		},
		{
			name:    "certs endpoint fails",
			setup:   func(g *fakeGoogle) { g.certsStatus = 503 },
			idToken: withClaims(func(jwt.MapClaims) {}),
			want:    MsgGoogleSigningKey,
		},
		{
			name:    "certs without usable keys",
			setup:   func(g *fakeGoogle) { g.keys = []jwk{{Kid: "kid-1", Kty: "EC"}} },
			idToken: withClaims(func(jwt.MapClaims) {}),
			want:    MsgGoogleSigningKey,
		},
		{
			name:    "signed by another key",
			idToken: func(t *testing.T, now time.Time) string { return signRS256(t, otherKey(), "kid-1", validClaims(now)) },
			want:    MsgGoogleSignature,
		},
		{
			name: "tampered claims",
			idToken: func(t *testing.T, now time.Time) string {
				parts := strings.Split(signRS256(t, testKey(), "kid-1", validClaims(now)), ".")
				c := validClaims(now)
				c["email"] = "attacker@example.com"
				other := strings.Split(signRS256(t, otherKey(), "kid-1", c), ".")
				parts[1] = other[1]
				return strings.Join(parts, ".")
			},
			want: MsgGoogleSignature,
		},
		{
			name:    "audience mismatch",
			idToken: withClaims(func(c jwt.MapClaims) { c["aud"] = "someone-else.apps.googleusercontent.com" }),
			want:    MsgGoogleAudience,
		},
		{
			name:    "no audience",
			idToken: withClaims(func(c jwt.MapClaims) { delete(c, "aud") }),
			want:    MsgGoogleAudience,
		},
		{
			name:    "issuer mismatch",
			idToken: withClaims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com" }),
			want:    MsgGoogleIssuer,
		},
		{
			name: "expired",
			idToken: func(t *testing.T, now time.Time) string {
				c := validClaims(now.Add(-2 * time.Hour))
				return signRS256(t, testKey(), "kid-1", c)
			},
			want: MsgGoogleExpired,
		},
		{
			name: "expires now",
			idToken: withClaims(func(c jwt.MapClaims) {
				c["exp"] = c["iat"]
			}),
			want: MsgGoogleExpired,
		},
		{
			name:    "no exp",
			idToken: withClaims(func(c jwt.MapClaims) { delete(c, "exp") }),
			want:    MsgGoogleExpired,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			g := newFakeGoogle(t)
			g.set(func(g *fakeGoogle) {
				if tt.setup != nil {
					tt.setup(g)
				}
				if tt.idToken != nil {
					g.idToken = tt.idToken(t, clk.Now())
				}
			})
			p, err := exchangeGoogle(t, g.client(t, clk), "verifier")
			if p != nil {
				t.Errorf("got profile %+v, want nil", p)
			}
			wantErr(t, err, errs.Internal, tt.want)
		})
	}
}

func TestExchangeGoogleNeedsVerifier(t *testing.T) {
	clk := newClock()
	g := newFakeGoogle(t)
	g.set(func(g *fakeGoogle) { g.idToken = signRS256(t, testKey(), "kid-1", validClaims(clk.Now())) })
	_, err := exchangeGoogle(t, g.client(t, clk), "")
	wantErr(t, err, errs.Internal, MsgGoogleTokenExchange)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.tokenForm != nil {
		t.Error("the token endpoint was called without a code verifier")
	}
}

func TestExchangeGoogleUserinfoFallback(t *testing.T) {
	noEmail := func(now time.Time) jwt.MapClaims {
		c := validClaims(now)
		delete(c, "email")
		delete(c, "email_verified")
		delete(c, "picture")
		return c
	}
	t.Run("fills the e-mail", func(t *testing.T) {
		clk := newClock()
		g := newFakeGoogle(t)
		g.set(func(g *fakeGoogle) {
			g.idToken = signRS256(t, testKey(), "kid-1", noEmail(clk.Now()))
			g.userinfo = map[string]any{
				"sub": "110169484474386276334", "email": "jane@example.com", "email_verified": true,
				"name": "Other Name", "picture": "https://lh3.example/u.jpg",
			}
		})
		got, err := exchangeGoogle(t, g.client(t, clk), "verifier")
		if err != nil {
			t.Fatal(err)
		}
		want := &Profile{
			Provider: "google", ID: "110169484474386276334",
			Email: "jane@example.com", EmailVerified: true, Username: "jane",
			Name: "Jane Doe", AvatarURL: "https://lh3.example/u.jpg",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("profile (-want +got):\n%s", diff)
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if got := g.userinfoHeader.Get("Authorization"); got != "Bearer ya29.test" {
			t.Errorf("got userinfo Authorization %q, want Bearer ya29.test", got)
		}
	})
	t.Run("another subject", func(t *testing.T) {
		clk := newClock()
		g := newFakeGoogle(t)
		g.set(func(g *fakeGoogle) {
			g.idToken = signRS256(t, testKey(), "kid-1", noEmail(clk.Now()))
			g.userinfo = map[string]any{"sub": "999", "email": "victim@example.com", "email_verified": true}
		})
		_, err := exchangeGoogle(t, g.client(t, clk), "verifier")
		wantErr(t, err, errs.Internal, MsgGoogleProfile)
	})
	t.Run("userinfo fails", func(t *testing.T) {
		clk := newClock()
		g := newFakeGoogle(t)
		g.set(func(g *fakeGoogle) { g.idToken = signRS256(t, testKey(), "kid-1", noEmail(clk.Now())) })
		_, err := exchangeGoogle(t, g.client(t, clk), "verifier")
		wantErr(t, err, errs.Internal, MsgGoogleProfile)
	})
}

package projects

import (
	"context"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// OAuth providers a project can enable.
const (
	GitHub = "github"
	Google = "google"
)

// AuthSettings control end-user sign-in for a project.
type AuthSettings struct {
	Enabled                  bool          `bson:"enabled"`
	AllowPublicSignups       bool          `bson:"allowPublicSignups"`
	RequireEmailVerification bool          `bson:"requireEmailVerification"`
	GitHub                   OAuthProvider `bson:"github"`
	Google                   OAuthProvider `bson:"google"`
}

// OAuthProvider is one social sign-in provider's settings. ClientSecret is
// sealed with the master key and is never returned by any API.
type OAuthProvider struct {
	Enabled      bool   `bson:"enabled"`
	ClientID     string `bson:"clientId"`
	ClientSecret string `bson:"clientSecret,omitempty"`
}

// Provider returns the settings of a provider by name.
func (a *AuthSettings) Provider(name string) *OAuthProvider {
	switch name {
	case GitHub:
		return &a.GitHub
	case Google:
		return &a.Google
	}
	return nil
}

// AuthSettingsInput changes auth settings; nil fields stay as they are.
type AuthSettingsInput struct {
	Enabled                  *bool
	AllowPublicSignups       *bool
	RequireEmailVerification *bool
	GitHub                   *OAuthProviderInput
	Google                   *OAuthProviderInput
}

// OAuthProviderInput sets a provider. A nil ClientSecret keeps the stored
// one; an empty one removes it.
type OAuthProviderInput struct {
	Enabled      bool
	ClientID     string
	ClientSecret *string
}

// UpdateAuthSettings changes a project's auth settings.
// Errors: NotFound, Invalid (an enabled provider without client id or secret).
func (s *Service) UpdateAuthSettings(ctx context.Context, owner, id bson.ObjectID, in AuthSettingsInput) (*Project, error) {
	p, err := s.Get(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	a := &p.Auth
	if in.Enabled != nil {
		a.Enabled = *in.Enabled
	}
	if in.AllowPublicSignups != nil {
		a.AllowPublicSignups = *in.AllowPublicSignups
	}
	if in.RequireEmailVerification != nil {
		a.RequireEmailVerification = *in.RequireEmailVerification
	}
	for _, name := range []string{GitHub, Google} {
		pin := in.GitHub
		if name == Google {
			pin = in.Google
		}
		if pin == nil {
			continue
		}
		prov := a.Provider(name)
		prov.Enabled = pin.Enabled
		prov.ClientID = strings.TrimSpace(pin.ClientID)
		if pin.ClientSecret != nil {
			prov.ClientSecret = ""
			if v := strings.TrimSpace(*pin.ClientSecret); v != "" {
				prov.ClientSecret = s.box.Seal(v, oauthLabel(p.ID, name))
			}
		}
		if prov.Enabled && (prov.ClientID == "" || prov.ClientSecret == "") {
			return nil, errs.New(errs.Invalid, "%s sign-in needs a clientId and a clientSecret to be enabled", name)
		}
		if prov.Enabled && p.SiteURL == "" {
			return nil, errs.New(errs.Invalid, "set the project's siteUrl before enabling %s sign-in: users are sent back to <siteUrl>/auth/callback", name)
		}
	}
	p.UpdatedAt = s.timestamp()
	if err := s.update(ctx, p.ID, bson.D{{Key: "$set", Value: bson.D{
		{Key: "auth", Value: p.Auth}, {Key: "updatedAt", Value: p.UpdatedAt},
	}}}); err != nil {
		return nil, err
	}
	return p, nil
}

// OAuthClientSecret returns a provider's client secret in the clear, for
// talking to the provider. Errors: Invalid when none is set.
func (s *Service) OAuthClientSecret(p *Project, provider string) (string, error) {
	prov := p.Auth.Provider(provider)
	if prov == nil || prov.ClientSecret == "" {
		return "", errs.New(errs.Invalid, "%s sign-in is not configured", provider)
	}
	return s.box.Open(prov.ClientSecret, oauthLabel(p.ID, provider))
}

func sortByCreated(ps []*Project) {
	slices.SortStableFunc(ps, func(a, b *Project) int { return a.CreatedAt.Compare(b.CreatedAt) })
}

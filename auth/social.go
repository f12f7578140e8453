package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/crypto/bcrypt"

	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/secret"
	"github.com/urbackend/urbackend/social"
)

// Social holds what social sign-in needs besides the auth service.
type Social struct {
	Client *social.Client
	// StateKey signs and seals OAuth states.
	StateKey []byte
	// Secrets opens a project's OAuth client secrets.
	Secrets interface {
		OAuthClientSecret(p *projects.Project, provider string) (string, error)
	}
	// Catalog finds the project a callback's state names.
	Catalog interface {
		ByID(ctx context.Context, id bson.ObjectID) (*catalog.Snapshot, error)
	}
	// PublicURL is the server's external base URL (for redirect URIs).
	PublicURL string
}

// SetSocial enables social sign-in.
func (s *Service) SetSocial(sc *Social) { s.social = sc }

// exchangeTTL is how long an rtCode can be exchanged.
const exchangeTTL = 60 * time.Second

func providerName(p string) (string, error) {
	p = strings.ToLower(strings.TrimSpace(p))
	if p != social.GitHub && p != social.Google {
		return "", errs.New(errs.NotFound, "%s", social.MsgUnsupportedProvider)
	}
	return p, nil
}

func (s *Service) redirectURI(provider string) string {
	return strings.TrimSuffix(s.social.PublicURL, "/") + "/api/userAuth/social/" + provider + "/callback"
}

func incomplete(provider string) error {
	return errs.New(errs.Unprocessable, "%s social auth is disabled or incomplete for this project.", provider)
}

// providerConfig returns an enabled provider's client id and secret.
// Errors: Unprocessable.
func (s *Service) providerConfig(p *projects.Project, provider string) (string, string, error) {
	pc := p.Auth.Provider(provider)
	if pc == nil || !pc.Enabled || pc.ClientID == "" || pc.ClientSecret == "" {
		return "", "", incomplete(provider)
	}
	sec, err := s.social.Secrets.OAuthClientSecret(p, provider)
	if err != nil {
		return "", "", incomplete(provider)
	}
	return pc.ClientID, sec, nil
}

// SocialStart returns the provider's authorize URL for a browser redirect
// (§5.4.1): a signed, expiring state (with the PKCE verifier sealed in it)
// whose nonce is stored for single use. Errors: NotFound, Forbidden,
// Unprocessable.
func (s *Service) SocialStart(ctx context.Context, c *principal.Caller, provider string) (string, error) {
	if s.social == nil {
		return "", errs.New(errs.Unprocessable, "Social sign-in is not configured on this server.")
	}
	provider, err := providerName(provider)
	if err != nil {
		return "", err
	}
	if err := ready(c); err != nil {
		return "", err
	}
	clientID, _, err := s.providerConfig(c.Snapshot.Project, provider)
	if err != nil {
		return "", err
	}
	nonce := randomHex(24)
	verifier := social.NewCodeVerifier()
	now := s.now().UTC()
	st := social.SignState(s.social.StateKey, social.State{ProjectID: c.Snapshot.Project.ID.Hex(), Provider: provider, Nonce: nonce, CodeVerifier: verifier}, now)
	if _, err := s.states.InsertOne(ctx, bson.D{{Key: "_id", Value: "state:" + nonce}, {Key: "expiresAt", Value: now.Add(social.StateTTL)}}); err != nil {
		return "", errs.Wrap(errs.Internal, err, "Failed to start social sign-in.")
	}
	return s.social.Client.AuthURL(provider, clientID, s.redirectURI(provider), st, verifier)
}

// CallbackResult is where the provider callback sends the browser: to
// Redirect (always, when known) with the refresh token to set as a cookie
// when sign-in succeeded. When the callback URL cannot be known, Redirect
// is empty and the error is answered as JSON.
type CallbackResult struct {
	Redirect     string
	RefreshToken string
}

// SocialCallback finishes a provider sign-in (§5.4.2).
func (s *Service) SocialCallback(ctx context.Context, provider string, q url.Values, cl Client) (*CallbackResult, error) {
	if s.social == nil {
		return nil, errs.New(errs.Unprocessable, "Social sign-in is not configured on this server.")
	}
	provider, err := providerName(provider)
	if err != nil {
		return nil, err
	}
	denied := q.Get("error_description")
	if denied == "" {
		denied = q.Get("error")
	}
	code, rawState := q.Get("code"), q.Get("state")
	if rawState == "" {
		if denied != "" {
			return nil, errs.New(errs.Invalid, "%s", denied)
		}
		return nil, errs.New(errs.Invalid, "Missing code or state")
	}
	st, err := social.VerifyState(s.social.StateKey, rawState, s.now())
	if err != nil {
		return nil, errs.New(errs.Invalid, "%s", social.MsgInvalidState)
	}
	// Single use: the first callback with this state consumes it.
	res, err := s.states.DeleteOne(ctx, bson.D{{Key: "_id", Value: "state:" + st.Nonce}})
	if err != nil || res.DeletedCount == 0 {
		return nil, errs.New(errs.Invalid, "%s", social.MsgInvalidState)
	}
	pid, err := bson.ObjectIDFromHex(st.ProjectID)
	if err != nil {
		return nil, errs.New(errs.Invalid, "%s", social.MsgInvalidState)
	}
	snap, err := s.social.Catalog.ByID(ctx, pid)
	if err != nil {
		return nil, errs.New(errs.Invalid, "%s", social.MsgInvalidState)
	}
	back := strings.TrimSuffix(snap.Project.SiteURL, "/") + "/auth/callback"
	fail := func(err error) (*CallbackResult, error) {
		return &CallbackResult{Redirect: withQuery(back, "", "error", errs.ClientMessage(err))}, nil
	}
	switch {
	case denied != "":
		return fail(errs.New(errs.Invalid, "%s", denied))
	case code == "":
		return fail(errs.New(errs.Invalid, "Missing code or state"))
	case st.Provider != provider:
		return fail(errs.New(errs.Invalid, "OAuth state mismatch"))
	}
	if !snap.Project.Auth.Enabled {
		return fail(errs.New(errs.Forbidden, "Authentication service is disabled"))
	}
	clientID, clientSecret, err := s.providerConfig(snap.Project, provider)
	if err != nil {
		return fail(err)
	}
	prof, err := s.social.Client.Exchange(ctx, provider, clientID, clientSecret, s.redirectURI(provider), code, st.CodeVerifier)
	if err != nil {
		s.logger.Warn("social sign-in exchange", "provider", provider, "err", err)
		return fail(err)
	}
	c := &principal.Caller{Snapshot: snap, Key: projects.Publishable}
	uid, isNew, linked, err := s.socialUser(ctx, c, prof)
	if err != nil {
		return fail(err)
	}
	t, err := s.issue(ctx, c, uid, cl, "", "")
	if err != nil {
		return fail(err)
	}
	rtCode := randomHex(16)
	if _, err := s.states.InsertOne(ctx, bson.D{
		{Key: "_id", Value: "exchange:" + rtCode},
		{Key: "projectId", Value: pid},
		{Key: "accessHash", Value: secret.Hash(t.AccessToken)},
		{Key: "refreshToken", Value: t.RefreshToken},
		{Key: "expiresAt", Value: s.now().UTC().Add(exchangeTTL)},
	}); err != nil {
		return fail(errs.Wrap(errs.Internal, err, "Failed to finish social sign-in."))
	}
	// The parameters in the order of §5.4.2.
	to := withQuery(back, "token="+url.QueryEscape(t.AccessToken),
		"rtCode", rtCode, "provider", provider, "userId", uid.Hex(), "projectId", pid.Hex(),
		"isNewUser", fmt.Sprint(isNew), "linkedByEmail", fmt.Sprint(linked))
	return &CallbackResult{Redirect: to, RefreshToken: t.RefreshToken}, nil
}

// socialUser finds the user of a provider profile (by provider id, then by
// verified e-mail, linking), or creates one.
func (s *Service) socialUser(ctx context.Context, c *principal.Caller, p *social.Profile) (bson.ObjectID, bool, bool, error) {
	if p.Email == "" {
		return bson.ObjectID{}, false, false, errs.New(errs.Unprocessable, "%s did not return an email address for this account.", p.Provider)
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return bson.ObjectID{}, false, false, err
	}
	idField := p.Provider + "Id"
	email := lower(p.Email)
	requireVerified := c.Snapshot.Project.Auth.RequireEmailVerification
	if u, err := findUser(ctx, users, bson.D{{Key: idField, Value: p.ID}}); err != nil || u != nil {
		if err != nil {
			return bson.ObjectID{}, false, false, err
		}
		if requireVerified && !u.Verified {
			return bson.ObjectID{}, false, false, errs.New(errs.Forbidden, MsgVerifyFirst)
		}
		return u.ID, false, false, nil
	}
	now := s.timestamp()
	u, err := findUser(ctx, users, bson.D{{Key: "email", Value: email}})
	if err != nil {
		return bson.ObjectID{}, false, false, err
	}
	if u != nil {
		if !p.EmailVerified {
			return bson.ObjectID{}, false, false, errs.New(errs.Forbidden, "Cannot link %s account: the provider email is not verified. Please verify your email with %s first.", p.Provider, p.Provider)
		}
		set := bson.D{{Key: idField, Value: p.ID}, {Key: VerifiedField, Value: true}, {Key: "updatedAt", Value: now}}
		if p.AvatarURL != "" {
			set = append(set, bson.E{Key: "avatarUrl", Value: p.AvatarURL})
		}
		_, err := users.UpdateOne(ctx, bson.D{{Key: "_id", Value: u.ID}}, bson.D{
			{Key: "$set", Value: set},
			{Key: "$addToSet", Value: bson.D{{Key: "authProviders", Value: p.Provider}}},
		})
		if err != nil {
			return bson.ObjectID{}, false, false, errs.Wrap(errs.Internal, err, "Failed to link the account.")
		}
		s.emitUser(ctx, c, data.OpUpdate, u.ID, nil)
		return u.ID, false, true, nil
	}
	if !c.Snapshot.Project.Auth.AllowPublicSignups {
		return bson.ObjectID{}, false, false, errs.New(errs.Forbidden, "Public signups are disabled for this project.")
	}
	if requireVerified && !p.EmailVerified {
		return bson.ObjectID{}, false, false, errs.New(errs.Forbidden, MsgVerifyFirst)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(randomHex(24)), s.cfg.BcryptCost)
	if err != nil {
		return bson.ObjectID{}, false, false, errs.Wrap(errs.Internal, err, "Failed to create user.")
	}
	id := bson.NewObjectID()
	name := p.Name
	if name == "" {
		name = p.Username
	}
	doc := bson.D{{Key: "_id", Value: id}, {Key: "email", Value: email}, {Key: "password", Value: string(hash)}}
	username := p.Username
	if n := len([]rune(username)); n > 50 {
		username = string([]rune(username)[:50])
	}
	for len([]rune(username)) > 0 && len([]rune(username)) < 3 {
		username += "0"
	}
	if username != "" {
		doc = append(doc, bson.E{Key: "username", Value: username})
	}
	if name != "" {
		doc = append(doc, bson.E{Key: "name", Value: name})
	}
	if p.AvatarURL != "" {
		doc = append(doc, bson.E{Key: "avatarUrl", Value: p.AvatarURL})
	}
	doc = append(doc,
		bson.E{Key: VerifiedField, Value: p.EmailVerified},
		bson.E{Key: idField, Value: p.ID},
		bson.E{Key: "authProviders", Value: bson.A{p.Provider}},
		bson.E{Key: "createdAt", Value: now}, bson.E{Key: "updatedAt", Value: now}, bson.E{Key: "__v", Value: int32(0)})
	_, err = users.InsertOne(ctx, doc)
	if err != nil && dbpool.IsDuplicateKey(err) && username != "" && strings.Contains(err.Error(), "username") {
		// The provider's login is taken here: keep the account, with a
		// free username.
		for i := range doc {
			if doc[i].Key == "username" {
				doc[i].Value = truncate(username, 43) + "-" + randomHex(3)
			}
		}
		_, err = users.InsertOne(ctx, doc)
	}
	if err != nil {
		return bson.ObjectID{}, false, false, errs.Wrap(errs.Internal, err, "Failed to create user.")
	}
	s.emitUser(ctx, c, data.OpInsert, id, nil)
	return id, true, false, nil
}

// SocialExchange trades a one-time rtCode (and the access token it was
// issued with) for the refresh token (§5.4.3). Errors: Invalid, Forbidden.
func (s *Service) SocialExchange(ctx context.Context, c *principal.Caller, body any) (string, error) {
	rtCode, _ := field(body, "rtCode")
	token, _ := field(body, "token")
	code, ok1 := rtCode.(string)
	tok, ok2 := token.(string)
	if !ok1 || !ok2 || code == "" || tok == "" {
		return "", errs.New(errs.Invalid, "rtCode and token are required")
	}
	var rec struct {
		ProjectID    bson.ObjectID `bson:"projectId"`
		AccessHash   string        `bson:"accessHash"`
		RefreshToken string        `bson:"refreshToken"`
		ExpiresAt    time.Time     `bson:"expiresAt"`
	}
	err := s.states.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: "exchange:" + code}}).Decode(&rec)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && (!s.now().Before(rec.ExpiresAt) || rec.ProjectID != c.Snapshot.Project.ID)) {
		return "", errs.New(errs.Invalid, "Invalid or expired refresh token exchange code")
	}
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "Failed to exchange refresh token")
	}
	if !secret.Equal(rec.AccessHash, secret.Hash(tok)) {
		return "", errs.New(errs.Forbidden, "Invalid refresh token exchange payload")
	}
	return rec.RefreshToken, nil
}

// withQuery adds the name/value pairs kv to base's query, after the
// parameters it already has (same-named ones are replaced), in the order
// given, and sets the fragment when one is given.
func withQuery(base, fragment string, kv ...string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	existing := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		existing.Del(kv[i])
	}
	var b strings.Builder
	b.WriteString(existing.Encode())
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1]))
	}
	u.RawQuery = b.String()
	if fragment != "" {
		u.Fragment = ""
		u.RawFragment = ""
		return u.String() + "#" + fragment
	}
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

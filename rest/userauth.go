package rest

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/urbackend/urbackend/auth"
	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/errs"
)

const refreshCookie = "refreshToken"

func (a *API) mountUserAuth(r chi.Router) {
	r.Post("/signup", a.signUp)
	r.Post("/login", a.login)
	r.Get("/me", a.me)
	r.Get("/public/{username}", a.publicProfile)
	r.Put("/update-profile", a.updateProfile)
	r.Put("/change-password", a.changePassword)
	r.Post("/verify-email", a.verifyEmail)
	r.Post("/resend-verification-otp", a.resendOTP)
	r.Post("/request-password-reset", a.requestReset)
	r.Post("/reset-password", a.resetPassword)
	r.Post("/refresh-token", a.refresh)
	r.Post("/logout", a.logout)
	r.Get("/social/{provider}/start", a.socialStart)
	r.Post("/social/exchange", a.socialExchange)
}

func (a *API) socialStart(w http.ResponseWriter, r *http.Request) {
	to, err := a.Auth.SocialStart(r.Context(), caller(r), chi.URLParam(r, "provider"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// socialCallback has no API key: the signed state names the project.
func (a *API) socialCallback(w http.ResponseWriter, r *http.Request) {
	res, err := a.Auth.SocialCallback(r.Context(), chi.URLParam(r, "provider"), r.URL.Query(), a.client(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if res.RefreshToken != "" {
		a.setRefreshCookie(w, res.RefreshToken)
	}
	http.Redirect(w, r, res.Redirect, http.StatusFound)
}

func (a *API) socialExchange(w http.ResponseWriter, r *http.Request) {
	rt, err := a.Auth.SocialExchange(r.Context(), caller(r), bodyFrom(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, envelope{true, map[string]string{"refreshToken": rt}, "Refresh token exchanged successfully"})
}

func (a *API) client(r *http.Request) auth.Client {
	return auth.Client{IP: a.clientIP(r), UserAgent: r.UserAgent()}
}

// setRefreshCookie hands the refresh token to browsers (§5.2).
func (a *API) setRefreshCookie(w http.ResponseWriter, raw string) {
	ttl := a.RefreshTTL
	if ttl == 0 {
		ttl = 7 * 24 * time.Hour
	}
	http.SetCookie(w, a.cookie(raw, int(ttl.Seconds()), a.Now().Add(ttl)))
}

func (a *API) clearRefreshCookie(w http.ResponseWriter) {
	c := a.cookie("", 0, time.Unix(0, 0))
	c.MaxAge = -1
	http.SetCookie(w, c)
}

func (a *API) cookie(v string, maxAge int, expires time.Time) *http.Cookie {
	c := &http.Cookie{Name: refreshCookie, Value: v, Path: "/", MaxAge: maxAge, Expires: expires, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if a.SecureCookies {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	return c
}

// refreshTokenOf reads the refresh token: the cookie wins over the
// x-refresh-token header.
func refreshTokenOf(r *http.Request) (token string, fromHeader bool) {
	if c, err := r.Cookie(refreshCookie); err == nil && c.Value != "" {
		return c.Value, r.Header.Get("x-refresh-token") != ""
	}
	h := r.Header.Get("x-refresh-token")
	return h, h != ""
}

// tokenBody is the body of every issuance.
func tokenBody(t *auth.Tokens, withRefresh bool) map[string]any {
	b := map[string]any{"token": t.AccessToken, "accessToken": t.AccessToken, "expiresIn": t.ExpiresIn}
	if withRefresh {
		b["refreshToken"] = t.RefreshToken
	}
	return b
}

func headerMode(r *http.Request) bool { return r.Header.Get("x-refresh-token-mode") == "header" }

func (a *API) signUp(w http.ResponseWriter, r *http.Request) {
	res, err := a.Auth.SignUp(r.Context(), caller(r), bodyFrom(r), a.client(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if res.Existing {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "User already exists but is unverified. A new verification code has been sent.", "userId": res.UserID})
		return
	}
	a.setRefreshCookie(w, res.Tokens.RefreshToken)
	b := tokenBody(res.Tokens, headerMode(r))
	b["message"] = "User registered successfully. Please verify your email."
	b["userId"] = res.UserID
	writeJSON(w, http.StatusCreated, b)
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	t, err := a.Auth.Login(r.Context(), caller(r), bodyFrom(r), a.client(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.setRefreshCookie(w, t.RefreshToken)
	writeJSON(w, http.StatusOK, tokenBody(t, headerMode(r)))
}

func (a *API) me(w http.ResponseWriter, r *http.Request) {
	d, err := a.Auth.Me(r.Context(), caller(r), r.Header.Get("Authorization"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, data.Doc(d))
}

func (a *API) publicProfile(w http.ResponseWriter, r *http.Request) {
	d, err := a.Auth.PublicProfile(r.Context(), caller(r), chi.URLParam(r, "username"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, data.Doc(d))
}

func (a *API) updateProfile(w http.ResponseWriter, r *http.Request) {
	if err := a.Auth.UpdateProfile(r.Context(), caller(r), r.Header.Get("Authorization"), bodyFrom(r)); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Profile updated successfully"})
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) {
	rt, _ := refreshTokenOf(r)
	if err := a.Auth.ChangePassword(r.Context(), caller(r), r.Header.Get("Authorization"), rt, bodyFrom(r)); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Password changed successfully"})
}

func (a *API) verifyEmail(w http.ResponseWriter, r *http.Request) {
	if err := a.Auth.VerifyEmail(r.Context(), caller(r), bodyFrom(r), a.client(r)); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Email verified successfully"})
}

func (a *API) resendOTP(w http.ResponseWriter, r *http.Request) {
	if err := a.Auth.ResendVerification(r.Context(), caller(r), bodyFrom(r)); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Verification code sent successfully."})
}

func (a *API) requestReset(w http.ResponseWriter, r *http.Request) {
	if err := a.Auth.RequestPasswordReset(r.Context(), caller(r), bodyFrom(r)); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "If that email exists, a reset code has been sent."})
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) {
	if err := a.Auth.ResetPassword(r.Context(), caller(r), bodyFrom(r), a.client(r)); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Password updated successfully"})
}

func (a *API) refresh(w http.ResponseWriter, r *http.Request) {
	raw, fromHeader := refreshTokenOf(r)
	t, err := a.Auth.Refresh(r.Context(), caller(r), raw, a.client(r))
	if err != nil {
		if errs.ClientMessage(err) != auth.MsgForeignRefresh {
			a.clearRefreshCookie(w)
		}
		a.fail(w, r, err)
		return
	}
	a.setRefreshCookie(w, t.RefreshToken)
	writeJSON(w, http.StatusOK, tokenBody(t, fromHeader))
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	raw, _ := refreshTokenOf(r)
	err := a.Auth.Logout(r.Context(), caller(r), raw)
	a.clearRefreshCookie(w)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Logged out successfully"})
}

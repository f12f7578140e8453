package server_test

import (
	"fmt"
	"testing"
	"time"
)

// uaWrong returns a 6-digit code that is not code.
func uaWrong(code string, i int) string {
	for n := 100000 + i; ; n++ {
		if s := fmt.Sprint(n); s != code {
			return s
		}
	}
}

// TestUserAuthVerifyEmail checks §5.3.7: messages, single use, expiry and
// the attempt limit.
func TestUserAuthVerifyEmail(t *testing.T) {
	u := uaNew(t)
	verified := map[string]any{"message": "Email verified successfully"}

	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"email empty", map[string]any{"email": "", "otp": "123456"}, "Invalid email format"},
		{"email invalid", map[string]any{"email": "ada", "otp": "123456"}, "Invalid email format"},
		{"email wins over otp", map[string]any{"email": "ada", "otp": "1"}, "Invalid email format"},
		{"otp missing", map[string]any{"email": "ada@example.com"}, "OTP must be 6 digits"},
		{"otp short", map[string]any{"email": "ada@example.com", "otp": "12345"}, "OTP must be 6 digits"},
		{"otp long", map[string]any{"email": "ada@example.com", "otp": "1234567"}, "OTP must be 6 digits"},
		{"otp not digits", map[string]any{"email": "ada@example.com", "otp": "12a456"}, "OTP must be 6 digits"},
		{"otp a number", map[string]any{"email": "ada@example.com", "otp": 123456}, "OTP must be 6 digits"},
		{"no code sent", map[string]any{"email": "ada@example.com", "otp": "123456"}, uaMsgBadOTP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u.post("/verify-email", tc.body).wantError(t, 400, tc.want)
		})
	}

	// Right code, any case of the address: verified, once.
	ada := u.signup(t, "ada@example.com", "secret-pw-1", nil)
	code := u.code(t, "ada@example.com", "Verify your account")
	u.post("/verify-email", map[string]any{"email": "ada@example.com", "otp": uaWrong(code, 0)}).wantError(t, 400, uaMsgBadOTP)
	uaWantBody(t, u.post("/verify-email", map[string]any{"email": "Ada@Example.com", "otp": code}), 200, verified)
	if me := u.meOK(t, ada.Access); me["emailVerified"] != true {
		t.Errorf("emailVerified after verification: got %v, want true", me["emailVerified"])
	}
	u.post("/verify-email", map[string]any{"email": "ada@example.com", "otp": code}).wantError(t, 400, uaMsgBadOTP)

	// Valid for 5 minutes.
	u.signup(t, "bob@example.com", "secret-pw-2", nil)
	bobCode := u.code(t, "bob@example.com", "Verify your account")
	u.signup(t, "cy@example.com", "secret-pw-3", nil)
	cyCode := u.code(t, "cy@example.com", "Verify your account")
	u.clock.Advance(5*time.Minute - time.Second)
	uaWantBody(t, u.post("/verify-email", map[string]any{"email": "bob@example.com", "otp": bobCode}), 200, verified)
	u.clock.Advance(time.Second)
	u.post("/verify-email", map[string]any{"email": "cy@example.com", "otp": cyCode}).wantError(t, 400, uaMsgBadOTP)

	// Four wrong codes leave the code usable ...
	u.signup(t, "dee@example.com", "secret-pw-4", nil)
	deeCode := u.code(t, "dee@example.com", "Verify your account")
	for i := 0; i < 4; i++ {
		u.post("/verify-email", map[string]any{"email": "dee@example.com", "otp": uaWrong(deeCode, i)}).wantError(t, 400, uaMsgBadOTP)
	}
	uaWantBody(t, u.post("/verify-email", map[string]any{"email": "dee@example.com", "otp": deeCode}), 200, verified)

	// ... the fifth ends it: then even the right code fails.
	u.signup(t, "eve@example.com", "secret-pw-5", nil)
	eveCode := u.code(t, "eve@example.com", "Verify your account")
	for i := 0; i < 5; i++ {
		u.post("/verify-email", map[string]any{"email": "eve@example.com", "otp": uaWrong(eveCode, i)}).wantError(t, 400, uaMsgBadOTP)
	}
	u.post("/verify-email", map[string]any{"email": "eve@example.com", "otp": eveCode}).wantError(t, 400, uaMsgBadOTP)
	if me := u.storedUser(t, "eve@example.com"); me["emailVerified"] != false {
		t.Errorf("eve: got emailVerified %v, want false", me["emailVerified"])
	}

	// A code is bound to its address.
	u.signup(t, "fay@example.com", "secret-pw-6", nil)
	fayCode := u.code(t, "fay@example.com", "Verify your account")
	u.post("/verify-email", map[string]any{"email": "eve@example.com", "otp": fayCode}).wantError(t, 400, uaMsgBadOTP)

	// The user is gone after the code was sent.
	if _, err := u.users(t).DeleteOne(t.Context(), map[string]any{"email": "fay@example.com"}); err != nil {
		t.Fatal(err)
	}
	u.post("/verify-email", map[string]any{"email": "fay@example.com", "otp": fayCode}).wantError(t, 404, "User not found")
	u.noMail(t)
}

// TestUserAuthResendVerification checks §5.3.8 and the code cooldown.
func TestUserAuthResendVerification(t *testing.T) {
	u := uaNew(t)
	sent := map[string]any{"message": "Verification code sent successfully."}

	u.post("/resend-verification-otp", map[string]any{"email": "ada"}).wantError(t, 400, "Invalid email format")
	u.post("/resend-verification-otp", map[string]any{}).wantError(t, 400, "Invalid email format")
	u.post("/resend-verification-otp", map[string]any{"email": "nobody@example.com"}).wantError(t, 400, "User not found with this email.")

	u.signup(t, "ada@example.com", "secret-pw-1", nil)
	first := u.code(t, "ada@example.com", "Verify your account")
	u.post("/resend-verification-otp", map[string]any{"email": "ada@example.com"}).wantError(t, 429, "Please wait 60 seconds before requesting another code.")
	u.clock.Advance(20 * time.Second)
	u.post("/resend-verification-otp", map[string]any{"email": "ADA@example.com"}).wantError(t, 429, "Please wait 40 seconds before requesting another code.")
	u.clock.Advance(39*time.Second + 500*time.Millisecond)
	u.post("/resend-verification-otp", map[string]any{"email": "ada@example.com"}).wantError(t, 429, "Please wait 1 seconds before requesting another code.")
	u.noMail(t)
	u.clock.Advance(500 * time.Millisecond)
	uaWantBody(t, u.post("/resend-verification-otp", map[string]any{"email": "ADA@example.com"}), 200, sent)
	second := u.code(t, "ada@example.com", "Verify your account")

	// Only the newest code counts.
	if first != second {
		u.post("/verify-email", map[string]any{"email": "ada@example.com", "otp": first}).wantError(t, 400, uaMsgBadOTP)
	}
	uaWantBody(t, u.post("/verify-email", map[string]any{"email": "ada@example.com", "otp": second}), 200, map[string]any{"message": "Email verified successfully"})

	u.clock.Advance(time.Minute)
	u.post("/resend-verification-otp", map[string]any{"email": "ada@example.com"}).wantError(t, 400, "Email is already verified.")
	u.noMail(t)
}

// TestUserAuthPasswordReset checks §5.3.9 and §5.3.10.
func TestUserAuthPasswordReset(t *testing.T) {
	u := uaNew(t)
	resetSent := map[string]any{"message": uaMsgResetSent}
	updated := map[string]any{"message": "Password updated successfully"}
	a := u.signup(t, "ada@example.com", "secret-pw-1", nil)
	verifyCode := u.code(t, "ada@example.com", "Verify your account")
	b := u.login(t, "ada@example.com", "secret-pw-1")

	// request-password-reset: the same answer for unknown and known
	// addresses; a mail only for a user.
	u.post("/request-password-reset", map[string]any{"email": "ada"}).wantError(t, 400, "Invalid email format")
	uaWantBody(t, u.post("/request-password-reset", map[string]any{"email": "nobody@example.com"}), 200, resetSent)
	u.noMail(t)
	uaWantBody(t, u.post("/request-password-reset", map[string]any{"email": "Ada@Example.com"}), 200, resetSent)
	code := u.code(t, "ada@example.com", "Reset your password")
	u.post("/request-password-reset", map[string]any{"email": "ada@example.com"}).wantError(t, 429, "Please wait 60 seconds before requesting another code.")
	u.noMail(t)

	// Validation, in the order email, otp, password.
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"email invalid", map[string]any{"email": "ada", "otp": "1", "newPassword": "1"}, "Invalid email format"},
		{"otp invalid", map[string]any{"email": "ada@example.com", "otp": "1", "newPassword": "1"}, "OTP must be 6 digits"},
		{"password missing", map[string]any{"email": "ada@example.com", "otp": code}, "Invalid input: expected string, received undefined"},
		{"password short", map[string]any{"email": "ada@example.com", "otp": code, "newPassword": "12345"}, "Password must be at least 6 characters"},
		{"password long", map[string]any{"email": "ada@example.com", "otp": code, "newPassword": uaRepeat("p", 101)}, "Password is too long."},
		{"verification code is no reset code", map[string]any{"email": "ada@example.com", "otp": verifyCode, "newPassword": "new-pw-123"}, uaMsgBadOTP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u.post("/reset-password", tc.body).wantError(t, 400, tc.want)
		})
	}

	// Success: new password, every session revoked, code used up.
	u.addLogSecret("new-pw-123")
	uaWantBody(t, u.post("/reset-password", map[string]any{"email": "ADA@example.com", "otp": code, "newPassword": "new-pw-123"}), 200, updated)
	u.loginReq("ada@example.com", "secret-pw-1", false).wantError(t, 400, uaMsgBadLogin)
	c := u.login(t, "ada@example.com", "new-pw-123")
	u.refresh(a.Refresh).wantError(t, 403, uaMsgUsedRefresh)
	u.refresh(b.Refresh).wantError(t, 403, uaMsgUsedRefresh)
	u.refreshOK(t, c.Refresh)
	u.post("/reset-password", map[string]any{"email": "ada@example.com", "otp": code, "newPassword": "other-pw-1"}).wantError(t, 400, uaMsgBadOTP)

	// Expiry after 5 minutes.
	u.clock.Advance(time.Minute)
	uaWantBody(t, u.post("/request-password-reset", map[string]any{"email": "ada@example.com"}), 200, resetSent)
	code = u.code(t, "ada@example.com", "Reset your password")
	u.clock.Advance(5 * time.Minute)
	u.post("/reset-password", map[string]any{"email": "ada@example.com", "otp": code, "newPassword": "other-pw-1"}).wantError(t, 400, uaMsgBadOTP)

	// Five wrong codes end a code.
	uaWantBody(t, u.post("/request-password-reset", map[string]any{"email": "ada@example.com"}), 200, resetSent)
	code = u.code(t, "ada@example.com", "Reset your password")
	for i := 0; i < 5; i++ {
		u.post("/reset-password", map[string]any{"email": "ada@example.com", "otp": uaWrong(code, i), "newPassword": "other-pw-1"}).wantError(t, 400, uaMsgBadOTP)
	}
	u.post("/reset-password", map[string]any{"email": "ada@example.com", "otp": code, "newPassword": "other-pw-1"}).wantError(t, 400, uaMsgBadOTP)
	u.login(t, "ada@example.com", "new-pw-123")

	// A reset lifts a login block.
	u.clock.Advance(15 * time.Minute)
	for i := 0; i < 5; i++ {
		u.loginReq("ada@example.com", "wrong-pw-1", false).wantError(t, 400, uaMsgBadLogin)
	}
	u.loginReq("ada@example.com", "new-pw-123", false).wantError(t, 429, uaMsgTooManyLogins)
	uaWantBody(t, u.post("/request-password-reset", map[string]any{"email": "ada@example.com"}), 200, resetSent)
	code = u.code(t, "ada@example.com", "Reset your password")
	u.addLogSecret("third-pw-1")
	uaWantBody(t, u.post("/reset-password", map[string]any{"email": "ada@example.com", "otp": code, "newPassword": "third-pw-1"}), 200, updated)
	u.login(t, "ada@example.com", "third-pw-1")
	u.noMail(t)
}

// TestUserAuthRequireEmailVerification checks the project setting: off by
// default (covered by the other tests), on → sign-up still works, but login
// and refresh wait for verify-email.
func TestUserAuthRequireEmailVerification(t *testing.T) {
	u := uaNew(t)
	u.settings(t, u.p, map[string]any{"requireEmailVerification": true})

	a := u.signup(t, "ada@example.com", "secret-pw-1", nil)
	code := u.code(t, "ada@example.com", "Verify your account")

	r := u.loginReq("ada@example.com", "secret-pw-1", true)
	r.wantError(t, 403, uaMsgVerifyFirst)
	uaWantNoCookie(t, r)
	// A wrong password says nothing about verification.
	u.loginReq("ada@example.com", "wrong-pw-1", false).wantError(t, 400, uaMsgBadLogin)
	u.refresh(a.Refresh).wantError(t, 403, uaMsgVerifyFirst)

	uaWantBody(t, u.post("/verify-email", map[string]any{"email": "ada@example.com", "otp": code}), 200, map[string]any{"message": "Email verified successfully"})
	u.login(t, "ada@example.com", "secret-pw-1")
	// The sign-up's refresh token was not used up by the refused refresh.
	u.refreshOK(t, a.Refresh)

	// Turning the setting off lets unverified users in again.
	u.signup(t, "bob@example.com", "secret-pw-2", nil)
	u.code(t, "bob@example.com", "Verify your account")
	u.loginReq("bob@example.com", "secret-pw-2", false).wantError(t, 403, uaMsgVerifyFirst)
	u.settings(t, u.p, map[string]any{"requireEmailVerification": false})
	u.login(t, "bob@example.com", "secret-pw-2")
}

// TestUserAuthSettings checks the auth-enabled precondition on every route
// and the public sign-up switch.
func TestUserAuthSettings(t *testing.T) {
	u := uaNew(t)
	ada := u.signup(t, "ada@example.com", "secret-pw-1", map[string]any{"username": "ada"})
	u.code(t, "ada@example.com", "Verify your account")

	// Sign-ups closed: existing users still log in and refresh.
	u.settings(t, u.p, map[string]any{"allowPublicSignups": false})
	r := u.call("POST", "/signup", restReq{Body: map[string]any{"email": "bob@example.com", "password": "secret-pw-2"}, Headers: map[string]string{"x-refresh-token-mode": "header"}})
	r.wantError(t, 403, uaMsgSignupsClosed)
	uaWantNoCookie(t, r)
	u.post("/signup", map[string]any{"email": "ada@example.com", "password": "secret-pw-1"}).wantError(t, 403, uaMsgSignupsClosed)
	u.noMail(t)
	l := u.login(t, "ada@example.com", "secret-pw-1")
	l = u.refreshOK(t, l.Refresh)
	u.meOK(t, l.Access)
	u.settings(t, u.p, map[string]any{"allowPublicSignups": true})
	u.signup(t, "bob@example.com", "secret-pw-2", nil)
	u.code(t, "bob@example.com", "Verify your account")

	// Auth disabled: every route answers 403 before looking at the body.
	u.settings(t, u.p, map[string]any{"enabled": false})
	for _, tc := range []struct {
		method, route string
		rq            restReq
	}{
		{"POST", "/signup", restReq{Body: map[string]any{"email": "cy@example.com", "password": "secret-pw-3"}}},
		{"POST", "/signup", restReq{}},
		{"POST", "/login", restReq{Body: map[string]any{"email": "ada@example.com", "password": "secret-pw-1"}}},
		{"GET", "/me", restReq{Token: ada.Access}},
		{"GET", "/me", restReq{}},
		{"GET", "/public/ada", restReq{}},
		{"PUT", "/update-profile", restReq{Token: ada.Access, Body: map[string]any{"name": "x"}}},
		{"PUT", "/change-password", restReq{Token: ada.Access, Body: map[string]any{"currentPassword": "secret-pw-1", "newPassword": "new-pw-123"}}},
		{"POST", "/verify-email", restReq{Body: map[string]any{"email": "ada@example.com", "otp": "123456"}}},
		{"POST", "/resend-verification-otp", restReq{Body: map[string]any{"email": "bob@example.com"}}},
		{"POST", "/request-password-reset", restReq{Body: map[string]any{"email": "ada@example.com"}}},
		{"POST", "/reset-password", restReq{Body: map[string]any{"email": "ada@example.com", "otp": "123456", "newPassword": "new-pw-123"}}},
		{"POST", "/refresh-token", restReq{Headers: map[string]string{"x-refresh-token": l.Refresh}}},
		{"POST", "/refresh-token", restReq{}},
		{"POST", "/logout", restReq{Headers: map[string]string{"x-refresh-token": l.Refresh}}},
	} {
		t.Run(tc.method+tc.route, func(t *testing.T) {
			u.call(tc.method, tc.route, tc.rq).wantError(t, 403, uaMsgAuthDisabled)
		})
	}
	// With the secret key too.
	u.call("POST", "/login", restReq{Key: u.p.SecretKey, Body: map[string]any{"email": "ada@example.com", "password": "secret-pw-1"}}).wantError(t, 403, uaMsgAuthDisabled)
	u.noMail(t)

	// Enabled again: the refused refresh and logout left the session alone.
	u.settings(t, u.p, map[string]any{"enabled": true})
	u.refreshOK(t, l.Refresh)
	u.login(t, "ada@example.com", "secret-pw-1")
}

// TestUserAuthResetCooldown checks that request-password-reset answers
// the same for known and unknown addresses, cooldown included.
func TestUserAuthResetCooldown(t *testing.T) {
	u := uaNew(t)
	u.signup(t, "ada@example.com", "secret-pw-1", nil)
	u.code(t, "ada@example.com", "Verify your account")
	resetSent := map[string]any{"message": uaMsgResetSent}

	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		uaWantBody(t, u.post("/request-password-reset", map[string]any{"email": email}), 200, resetSent)
	}
	u.code(t, "ada@example.com", "Reset your password")
	u.clock.Advance(20 * time.Second)
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		u.post("/request-password-reset", map[string]any{"email": email}).wantError(t, 429, "Please wait 40 seconds before requesting another code.")
	}
	u.noMail(t)
	u.clock.Advance(40 * time.Second)
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		uaWantBody(t, u.post("/request-password-reset", map[string]any{"email": email}), 200, resetSent)
	}
	u.code(t, "ada@example.com", "Reset your password")
	u.noMail(t)
}

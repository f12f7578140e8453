package rest

import "testing"

func TestCanonicalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/API/DATA/Posts":                   "/api/data/Posts",
		"/Api/Data/posts/BULK":              "/api/data/posts/bulk",
		"/api/data/posts/6b13AB":            "/api/data/posts/6b13AB",
		"/API/USERAUTH/LOGIN":               "/api/userAuth/login",
		"/api/userauth/public/AnnB":         "/api/userAuth/public/AnnB",
		"/api/USERAUTH/Social/GitHub/Start": "/api/userAuth/social/github/start",
		"/api/Schemas/Users":                "/api/schemas/Users",
		"/API/Health":                       "/api/health",
		"/api/unknown/Thing":                "/api/unknown/Thing",
		"/api/mail/SEND":                    "/api/mail/send",
		"/api/data/posts/aggregate":         "/api/data/posts/aggregate",
		"/api/userAuth/update-PROFILE":      "/api/userAuth/update-profile",
	} {
		if got := canonicalPath(in); got != want {
			t.Errorf("canonicalPath(%q) = %q, want %q", in, got, want)
		}
	}
}

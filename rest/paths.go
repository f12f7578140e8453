package rest

import (
	"net/http"
	"strings"
)

// canonical spellings of the fixed path segments, by lower-cased form.
var (
	apiSegments = map[string]string{
		"api": "api", "data": "data", "schemas": "schemas", "userauth": "userAuth",
		"mail": "mail", "health": "health", "storage": "storage",
	}
	subSegments = map[string]map[string]string{
		"data":     {"bulk": "bulk", "aggregate": "aggregate"},
		"mail":     {"send": "send"},
		"storage":  canon("upload", "upload-request", "upload-confirm", "file", "all"),
		"userAuth": canon("signup", "login", "me", "public", "update-profile", "change-password", "verify-email", "resend-verification-otp", "request-password-reset", "reset-password", "refresh-token", "logout", "social"),
	}
	socialSegments = canon("github", "google", "start", "callback", "exchange")
)

func canon(words ...string) map[string]string {
	m := make(map[string]string, len(words))
	for _, w := range words {
		m[strings.ToLower(w)] = w
	}
	return m
}

// CaseInsensitivePaths matches /api routes regardless of the case of their
// fixed segments, as Express does (contract/REST.md §1.1); collection
// names, ids and usernames keep their case.
func CaseInsensitivePaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if len(p) >= 5 && strings.EqualFold(p[:5], "/api/") && strings.ContainsAny(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			r.URL.Path = canonicalPath(p)
			r.URL.RawPath = ""
		}
		next.ServeHTTP(w, r)
	})
}

func canonicalPath(p string) string {
	segs := strings.Split(p, "/")
	// segs[0] is "" (leading slash).
	if len(segs) < 2 {
		return p
	}
	segs[1] = "api"
	if len(segs) < 3 {
		return strings.Join(segs, "/")
	}
	top, ok := apiSegments[strings.ToLower(segs[2])]
	if !ok {
		return strings.Join(segs, "/")
	}
	segs[2] = top
	switch top {
	case "data":
		// /api/data/:collection/(bulk|aggregate|:id)
		if len(segs) >= 5 {
			if v, ok := subSegments["data"][strings.ToLower(segs[4])]; ok {
				segs[4] = v
			}
		}
	case "userAuth", "mail", "storage":
		if len(segs) >= 4 {
			if v, ok := subSegments[top][strings.ToLower(segs[3])]; ok {
				segs[3] = v
				if v == "social" {
					for i := 4; i < len(segs) && i < 6; i++ {
						if w, ok := socialSegments[strings.ToLower(segs[i])]; ok {
							segs[i] = w
						}
					}
				}
			}
		}
	}
	return strings.Join(segs, "/")
}

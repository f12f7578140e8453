package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// rlsKeysFixture is a server with an unrestricted project and a project
// restricted to some origins, each with a collection "things" (RLS
// disabled) holding one document.
type rlsKeysFixture struct {
	e                  *env
	admin              string
	open, restricted   project
	openDoc, restrDoc  string
	restrictedOrigins  []string
	restrictedOriginOK string
}

func newRLSKeysFixture(t *testing.T) *rlsKeysFixture {
	t.Helper()
	e := newEnv(t)
	f := &rlsKeysFixture{e: e, admin: e.login(), restrictedOriginOK: "https://app.example.com"}
	f.restrictedOrigins = []string{"https://app.example.com", "*.example.org", "partner.test", "http://localhost:5173/"}
	f.open = e.createProject(f.admin, map[string]any{"name": "open"})
	f.restricted = e.createProject(f.admin, map[string]any{"name": "restricted", "allowedOrigins": f.restrictedOrigins})
	for _, p := range []project{f.open, f.restricted} {
		define(e, f.admin, p.ID, map[string]any{"name": "things", "fields": []any{field("title", "String")}}).ok(t)
	}
	seed := func(p project) string {
		r := e.rest(http.MethodPost, "/api/data/things", restReq{Key: p.SecretKey, Body: map[string]any{"title": "t"}})
		if r.Status != http.StatusCreated {
			t.Fatalf("seed: got %d %s, want 201", r.Status, r.Body)
		}
		return str(r.json(t), "_id")
	}
	f.openDoc, f.restrDoc = seed(f.open), seed(f.restricted)
	return f
}

// rlsWantHeader checks one response header's exact value.
func rlsWantHeader(t *testing.T, r restResult, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("header %s: got %q, want %q", name, got, want)
	}
}

// rlsWantVary checks that Vary lists token.
func rlsWantVary(t *testing.T, r restResult, token string) {
	t.Helper()
	var all []string
	for _, v := range r.Header.Values("Vary") {
		for _, p := range strings.Split(v, ",") {
			all = append(all, strings.ToLower(strings.TrimSpace(p)))
		}
	}
	if !slices.Contains(all, strings.ToLower(token)) {
		t.Errorf("Vary: got %v, want it to contain %s", r.Header.Values("Vary"), token)
	}
}

// TestRESTRLSKeyErrors covers how keys are found and refused (§2.1, §1.2).
func TestRESTRLSKeyErrors(t *testing.T) {
	f := newRLSKeysFixture(t)
	e := f.e
	list := "/api/data/things"
	for _, tc := range []struct {
		name   string
		path   string
		rq     restReq
		status int
		msg    string
	}{
		{"no key", list, restReq{}, 401, "API key not found"},
		{"empty key header", list, restReq{Headers: map[string]string{"x-api-key": ""}}, 401, "API key not found"},
		{"bad publishable key", list, restReq{Key: "pk_live_" + strings.Repeat("A", 43)}, 401, "API key is expired or invalid."},
		{"bad secret key", list, restReq{Key: "sk_live_" + strings.Repeat("A", 43)}, 401, "API key is expired or invalid."},
		{"garbage key", list, restReq{Key: "hello"}, 401, "API key is expired or invalid."},
		{"secret key as publishable", list, restReq{Key: "pk_live_" + strings.TrimPrefix(f.open.SecretKey, "sk_live_")}, 401, "API key is expired or invalid."},
		{"publishable key as secret", list, restReq{Key: "sk_live_" + strings.TrimPrefix(f.open.PublishableKey, "pk_live_")}, 401, "API key is expired or invalid."},
		{"secret key in query ignored", list + "?key=" + f.open.SecretKey, restReq{}, 401, "API key not found"},
		{"bad publishable key in query", list + "?key=pk_live_nope", restReq{}, 401, "API key is expired or invalid."},
		{"no key on a schema", "/api/schemas/things", restReq{}, 401, "API key not found"},
		{"no key before users block", "/api/data/users", restReq{}, 401, "API key not found"},
		{"no key before missing collection", "/api/data/nope", restReq{}, 401, "API key not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.rest(http.MethodGet, tc.path, tc.rq).wantError(t, tc.status, tc.msg)
		})
	}

	t.Run("publishable key in query accepted", func(t *testing.T) {
		// ?key= is a credential, not a filter on a field named key.
		rlsWantList(t, e.rest(http.MethodGet, list+"?key="+f.open.PublishableKey, restReq{}), f.openDoc)
		rlsWantCount(t, e.rest(http.MethodGet, list+"?count=true&key="+f.open.PublishableKey, restReq{}), 1)
	})
	t.Run("header wins over query", func(t *testing.T) {
		e.rest(http.MethodGet, list+"?key="+f.open.PublishableKey, restReq{Key: "pk_live_nope"}).wantError(t, 401, "API key is expired or invalid.")
	})
	t.Run("valid keys", func(t *testing.T) {
		rlsWantList(t, e.rest(http.MethodGet, list, restReq{Key: f.open.PublishableKey}), f.openDoc)
		rlsWantList(t, e.rest(http.MethodGet, list, restReq{Key: f.open.SecretKey}), f.openDoc)
	})
}

// TestRESTRLSOrigins covers the publishable key's domain allow-list (§2.1).
func TestRESTRLSOrigins(t *testing.T) {
	f := newRLSKeysFixture(t)
	e := f.e
	list := "/api/data/things"
	pk, sk := f.restricted.PublishableKey, f.restricted.SecretKey
	notAllowed := func(o string) string {
		return "Forbidden: Origin " + o + " is not allowed by this project's CORS policy."
	}
	const missing = "Forbidden: Origin header missing and this key is restricted to specific domains."

	for _, tc := range []struct {
		name    string
		key     string
		headers map[string]string
		status  int
		msg     string // for refusals
	}{
		{"pk no origin", pk, nil, 403, missing},
		{"pk empty origin", pk, map[string]string{"Origin": ""}, 403, missing},
		{"pk listed origin", pk, map[string]string{"Origin": "https://app.example.com"}, 200, ""},
		{"pk listed origin, other case", pk, map[string]string{"Origin": "https://APP.example.com"}, 200, ""},
		{"pk listed origin, other scheme", pk, map[string]string{"Origin": "http://app.example.com"}, 403, notAllowed("http://app.example.com")},
		{"pk listed origin, other port", pk, map[string]string{"Origin": "https://app.example.com:8443"}, 403, notAllowed("https://app.example.com:8443")},
		{"pk sub-domain of listed origin", pk, map[string]string{"Origin": "https://x.app.example.com"}, 403, notAllowed("https://x.app.example.com")},
		{"pk disallowed origin", pk, map[string]string{"Origin": "https://evil.test"}, 403, notAllowed("https://evil.test")},
		{"pk disallowed origin with path", pk, map[string]string{"Origin": "https://evil.test:8080/x?y=1"}, 403, notAllowed("https://evil.test:8080")},
		{"pk wildcard apex", pk, map[string]string{"Origin": "https://example.org"}, 200, ""},
		{"pk wildcard sub-domain", pk, map[string]string{"Origin": "https://app.example.org"}, 200, ""},
		{"pk wildcard deep sub-domain", pk, map[string]string{"Origin": "http://a.b.example.org:3000"}, 200, ""},
		{"pk wildcard look-alike", pk, map[string]string{"Origin": "https://badexample.org"}, 403, notAllowed("https://badexample.org")},
		{"pk wildcard suffix trick", pk, map[string]string{"Origin": "https://example.org.evil.test"}, 403, notAllowed("https://example.org.evil.test")},
		{"pk bare host entry, any scheme and port", pk, map[string]string{"Origin": "http://partner.test:8080"}, 200, ""},
		{"pk entry with trailing slash", pk, map[string]string{"Origin": "http://localhost:5173"}, 200, ""},
		{"pk referer used without origin", pk, map[string]string{"Referer": "https://app.example.com/page?q=1"}, 200, ""},
		{"pk referer disallowed", pk, map[string]string{"Referer": "https://evil.test/page?q=1"}, 403, notAllowed("https://evil.test")},
		{"pk origin wins over referer", pk, map[string]string{"Origin": "https://evil.test", "Referer": "https://app.example.com/"}, 403, notAllowed("https://evil.test")},
		{"pk invalid origin", pk, map[string]string{"Origin": "not a url"}, 400, "Invalid Origin header format."},
		{"pk origin null", pk, map[string]string{"Origin": "null"}, 400, "Invalid Origin header format."},
		{"pk invalid referer", pk, map[string]string{"Referer": "/relative/page"}, 400, "Invalid Origin header format."},
		{"sk no origin", sk, nil, 200, ""},
		{"sk disallowed origin", sk, map[string]string{"Origin": "https://evil.test"}, 200, ""},
		{"sk invalid origin", sk, map[string]string{"Origin": "not a url"}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.rest(http.MethodGet, list, restReq{Key: tc.key, Headers: tc.headers})
			if tc.status != 200 {
				r.wantError(t, tc.status, tc.msg)
				return
			}
			rlsWantList(t, r, f.restrDoc)
		})
	}

	t.Run("pk query key with origin", func(t *testing.T) {
		rlsWantList(t, e.rest(http.MethodGet, list+"?key="+pk, restReq{Headers: map[string]string{"Origin": "https://app.example.com"}}), f.restrDoc)
		e.rest(http.MethodGet, list+"?key="+pk, restReq{}).wantError(t, 403, missing)
	})
	t.Run("pk unrestricted project needs no origin", func(t *testing.T) {
		rlsWantList(t, e.rest(http.MethodGet, list, restReq{Key: f.open.PublishableKey}), f.openDoc)
		rlsWantList(t, e.rest(http.MethodGet, list, restReq{Key: f.open.PublishableKey, Headers: map[string]string{"Origin": "https://evil.test"}}), f.openDoc)
		rlsWantList(t, e.rest(http.MethodGet, list, restReq{Key: f.open.PublishableKey, Headers: map[string]string{"Origin": "not a url"}}), f.openDoc)
	})
	t.Run("origin checked on every keyed route", func(t *testing.T) {
		h := map[string]string{"Origin": "https://evil.test"}
		e.rest(http.MethodGet, "/api/schemas/things", restReq{Key: pk, Headers: h}).wantError(t, 403, notAllowed("https://evil.test"))
		e.rest(http.MethodPost, "/api/data/things", restReq{Key: pk, Headers: h, Body: map[string]any{"title": "x"}}).wantError(t, 403, notAllowed("https://evil.test"))
		e.rest(http.MethodGet, "/api/data/users", restReq{Key: pk, Headers: h}).wantError(t, 403, notAllowed("https://evil.test"))
	})
	t.Run("allow-list change applies at once", func(t *testing.T) {
		h := map[string]string{"Origin": "https://new.example.net"}
		e.rest(http.MethodGet, list, restReq{Key: pk, Headers: h}).wantError(t, 403, notAllowed("https://new.example.net"))
		e.gql(f.admin, `mutation($id:ID!,$in:UpdateProjectInput!){updateProject(id:$id,input:$in){id}}`,
			map[string]any{"id": f.restricted.ID, "in": map[string]any{"allowedOrigins": []string{"https://new.example.net"}}}).ok(t)
		rlsWantList(t, e.rest(http.MethodGet, list, restReq{Key: pk, Headers: h}), f.restrDoc)
		e.rest(http.MethodGet, list, restReq{Key: pk, Headers: map[string]string{"Origin": "https://app.example.com"}}).
			wantError(t, 403, notAllowed("https://app.example.com"))
	})
}

// TestRESTRLSKeyRotation checks that a rotated key is refused on the very
// next call: the key cache must be invalidated.
func TestRESTRLSKeyRotation(t *testing.T) {
	f := newRLSKeysFixture(t)
	e := f.e
	list := "/api/data/things"
	rotate := func(t *testing.T, kind string) string {
		t.Helper()
		d := e.gql(f.admin, `mutation($p:ID!,$k:KeyKind!){rotateKey(projectId:$p,kind:$k)}`, map[string]any{"p": f.open.ID, "k": kind}).ok(t)
		return str(d, "rotateKey")
	}
	for _, tc := range []struct {
		kind, prefix string
		old          *string
	}{
		{"PUBLISHABLE", "pk_live_", &f.open.PublishableKey},
		{"SECRET", "sk_live_", &f.open.SecretKey},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			old := *tc.old
			// Warm the cache with the old key.
			rlsWantList(t, e.rest(http.MethodGet, list, restReq{Key: old}), f.openDoc)
			rlsWantList(t, e.rest(http.MethodGet, list, restReq{Key: old}), f.openDoc)
			key := rotate(t, tc.kind)
			if !strings.HasPrefix(key, tc.prefix) || len(key) != 51 || key == old {
				t.Fatalf("rotated key: got %q, want a new %s key of 51 characters", key, tc.prefix)
			}
			e.rest(http.MethodGet, list, restReq{Key: old}).wantError(t, 401, "API key is expired or invalid.")
			rlsWantList(t, e.rest(http.MethodGet, list, restReq{Key: key}), f.openDoc)
			e.rest(http.MethodGet, list, restReq{Key: old}).wantError(t, 401, "API key is expired or invalid.")
			*tc.old = key
		})
	}
	t.Run("other key still works", func(t *testing.T) {
		rlsWantList(t, e.rest(http.MethodGet, list, restReq{Key: f.open.PublishableKey}), f.openDoc)
		rlsWantList(t, e.rest(http.MethodGet, list, restReq{Key: f.open.SecretKey}), f.openDoc)
	})
}

// TestRESTRLSCORS covers the CORS answers (§1.3).
func TestRESTRLSCORS(t *testing.T) {
	f := newRLSKeysFixture(t)
	e := f.e
	list := "/api/data/things"
	const origin = "https://app.example.com"

	for _, path := range []string{list, "/api/data/things/" + f.restrDoc, "/api/schemas", "/api/health", "/api/data/users"} {
		t.Run("preflight "+path, func(t *testing.T) {
			reqHeaders := "x-api-key,content-type,authorization,x-refresh-token,x-refresh-token-mode,user-agent"
			r := e.rest(http.MethodOptions, path, restReq{Headers: map[string]string{
				"Origin":                         "https://evil.test",
				"Access-Control-Request-Method":  "PATCH",
				"Access-Control-Request-Headers": reqHeaders,
			}})
			if r.Status != http.StatusNoContent || r.Body != "" {
				t.Fatalf("got %d %q, want 204 with no body", r.Status, r.Body)
			}
			rlsWantHeader(t, r, "Access-Control-Allow-Origin", "https://evil.test")
			rlsWantHeader(t, r, "Access-Control-Allow-Credentials", "true")
			rlsWantHeader(t, r, "Access-Control-Allow-Headers", reqHeaders)
			methods := strings.Split(r.Header.Get("Access-Control-Allow-Methods"), ",")
			for i := range methods {
				methods[i] = strings.TrimSpace(methods[i])
			}
			for _, m := range []string{"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS"} {
				if !slices.Contains(methods, m) {
					t.Errorf("Access-Control-Allow-Methods: got %v, want it to contain %s", methods, m)
				}
			}
			rlsWantVary(t, r, "Origin")
			rlsWantVary(t, r, "Access-Control-Request-Headers")
		})
	}
	t.Run("preflight reflects other headers", func(t *testing.T) {
		r := e.rest(http.MethodOptions, list, restReq{Headers: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-custom-thing",
		}})
		if r.Status != http.StatusNoContent {
			t.Fatalf("got %d, want 204", r.Status)
		}
		rlsWantHeader(t, r, "Access-Control-Allow-Headers", "x-custom-thing")
		rlsWantHeader(t, r, "Access-Control-Allow-Origin", origin)
	})
	t.Run("request with origin", func(t *testing.T) {
		r := e.rest(http.MethodGet, list, restReq{Key: f.restricted.PublishableKey, Headers: map[string]string{"Origin": origin}})
		rlsWantList(t, r, f.restrDoc)
		rlsWantHeader(t, r, "Access-Control-Allow-Origin", origin)
		rlsWantHeader(t, r, "Access-Control-Allow-Credentials", "true")
		rlsWantVary(t, r, "Origin")
		expose := strings.ToLower(r.Header.Get("Access-Control-Expose-Headers"))
		for _, h := range []string{"retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} {
			if !strings.Contains(expose, h) {
				t.Errorf("Access-Control-Expose-Headers: got %q, want it to contain %s", expose, h)
			}
		}
		if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "application/json") {
			t.Errorf("Content-Type: got %q, want application/json", ct)
		}
	})
	t.Run("origin refusal carries CORS headers", func(t *testing.T) {
		r := e.rest(http.MethodGet, list, restReq{Key: f.restricted.PublishableKey, Headers: map[string]string{"Origin": "https://evil.test"}})
		r.wantError(t, 403, "Forbidden: Origin https://evil.test is not allowed by this project's CORS policy.")
		rlsWantHeader(t, r, "Access-Control-Allow-Origin", "https://evil.test")
		rlsWantHeader(t, r, "Access-Control-Allow-Credentials", "true")
		rlsWantVary(t, r, "Origin")
	})
	t.Run("key refusal carries CORS headers", func(t *testing.T) {
		r := e.rest(http.MethodGet, list, restReq{Headers: map[string]string{"Origin": origin}})
		r.wantError(t, 401, "API key not found")
		rlsWantHeader(t, r, "Access-Control-Allow-Origin", origin)
		rlsWantHeader(t, r, "Access-Control-Allow-Credentials", "true")
	})
	t.Run("RLS refusal carries CORS headers", func(t *testing.T) {
		r := e.rest(http.MethodPost, list, restReq{Key: f.open.PublishableKey, Headers: map[string]string{"Origin": origin}, Body: map[string]any{"title": "x"}})
		r.wantError(t, 403, "Enable RLS for this collection to allow publishable-key writes.")
		rlsWantHeader(t, r, "Access-Control-Allow-Origin", origin)
		rlsWantHeader(t, r, "Access-Control-Allow-Credentials", "true")
	})
	t.Run("request without origin", func(t *testing.T) {
		r := e.rest(http.MethodGet, list, restReq{Key: f.open.PublishableKey})
		rlsWantList(t, r, f.openDoc)
		if got := r.Header.Get("Access-Control-Allow-Credentials"); got != "" {
			t.Errorf("Access-Control-Allow-Credentials without Origin: got %q, want none", got)
		}
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" && got != "" {
			t.Errorf("Access-Control-Allow-Origin without Origin: got %q, want * or none", got)
		}
	})
}

// TestRESTRLSUsersBlock covers the users collection block (§2.5) for both
// keys and every data route.
func TestRESTRLSUsersBlock(t *testing.T) {
	f := newRLSKeysFixture(t)
	e := f.e
	const msg = "Use /api/userAuth endpoints for users collection operations."
	id := f.openDoc
	for _, name := range []string{"users", "Users", "USERS", "%20users", "users%20", "%09Users%20"} {
		for _, k := range []struct{ kind, key string }{{"pk", f.open.PublishableKey}, {"sk", f.open.SecretKey}} {
			for _, w := range []struct {
				op, method, path string
				body             any
			}{
				{"list", http.MethodGet, "/api/data/" + name, nil},
				{"count", http.MethodGet, "/api/data/" + name + "?count=true", nil},
				{"get one", http.MethodGet, "/api/data/" + name + "/" + id, nil},
				{"get one bad id", http.MethodGet, "/api/data/" + name + "/bad", nil},
				{"insert", http.MethodPost, "/api/data/" + name, map[string]any{"email": "a@b.co"}},
				{"bulk", http.MethodPost, "/api/data/" + name + "/bulk", []any{map[string]any{"email": "a@b.co"}}},
				{"aggregate", http.MethodPost, "/api/data/" + name + "/aggregate", rlsPipeline},
				{"PUT", http.MethodPut, "/api/data/" + name + "/" + id, map[string]any{"email": "a@b.co"}},
				{"PATCH", http.MethodPatch, "/api/data/" + name + "/" + id, map[string]any{"email": "a@b.co"}},
				{"DELETE", http.MethodDelete, "/api/data/" + name + "/" + id, nil},
				{"DELETE bad id", http.MethodDelete, "/api/data/" + name + "/bad", nil},
			} {
				t.Run(k.kind+" "+name+" "+w.op, func(t *testing.T) {
					e.rest(w.method, w.path, restReq{Key: k.key, Token: e.userToken(f.open.ID, id), Body: w.body}).wantError(t, 403, msg)
				})
			}
		}
	}
	t.Run("not a users collection", func(t *testing.T) {
		e.rest(http.MethodGet, "/api/data/users2", restReq{Key: f.open.PublishableKey}).wantError(t, 404, "Collection not found")
		e.rest(http.MethodGet, "/api/data/my_users", restReq{Key: f.open.SecretKey}).wantError(t, 404, "Collection not found")
	})
}

// TestRESTRLSSecretOnly covers the secret-key-only schema creation (§2.2).
func TestRESTRLSSecretOnly(t *testing.T) {
	f := newRLSKeysFixture(t)
	e := f.e
	const msg = "Forbidden. This action requires a Secret Key (sk_live_...)."
	body := map[string]any{"name": "fromapi", "fields": []any{map[string]any{"name": "title", "type": "String"}}}
	t.Run("pk refused", func(t *testing.T) {
		e.rest(http.MethodPost, "/api/schemas", restReq{Key: f.open.PublishableKey, Body: body}).wantError(t, 403, msg)
	})
	t.Run("pk with user token refused", func(t *testing.T) {
		e.rest(http.MethodPost, "/api/schemas", restReq{Key: f.open.PublishableKey, Token: e.userToken(f.open.ID, f.openDoc), Body: body}).wantError(t, 403, msg)
	})
	t.Run("pk refused before body validation", func(t *testing.T) {
		e.rest(http.MethodPost, "/api/schemas", restReq{Key: f.open.PublishableKey, Body: map[string]any{}}).wantError(t, 403, msg)
		e.rest(http.MethodPost, "/api/schemas", restReq{Key: f.open.PublishableKey}).wantError(t, 403, msg)
	})
	t.Run("pk in query refused", func(t *testing.T) {
		e.rest(http.MethodPost, "/api/schemas?key="+f.open.PublishableKey, restReq{Body: body}).wantError(t, 403, msg)
	})
	t.Run("pk refused, nothing created", func(t *testing.T) {
		e.rest(http.MethodGet, "/api/data/fromapi", restReq{Key: f.open.SecretKey}).wantError(t, 404, "Collection not found")
	})
	t.Run("sk allowed", func(t *testing.T) {
		r := e.rest(http.MethodPost, "/api/schemas", restReq{Key: f.open.SecretKey, Body: body})
		if r.Status != http.StatusCreated || str(r.json(t), "message") != "Schema created successfully" {
			t.Fatalf("got %d %s, want 201 Schema created successfully", r.Status, r.Body)
		}
		rlsWantList(t, e.rest(http.MethodGet, "/api/data/fromapi", restReq{Key: f.open.SecretKey}))
	})
}

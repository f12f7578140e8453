package rest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/analytics"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/query"
)

// MaxJSONBody is the largest JSON body accepted (contract/REST.md §1.4).
const MaxJSONBody = 100 << 10

// cors answers preflights and lets browsers read every response of a
// credentialed request (contract/REST.md §1.3). It is not access control:
// the key check enforces a project's allowed origins with a JSON 403.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		origin := r.Header.Get("Origin")
		if origin != "" {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", "Retry-After, RateLimit-Policy, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-Request-Id")
		} else {
			h.Set("Access-Control-Allow-Origin", "*")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
				h.Add("Vary", "Access-Control-Request-Headers")
			}
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientIP is the peer address, or the last X-Forwarded-For entry when the
// server runs behind one proxy (TrustProxy).
func (a *API) clientIP(r *http.Request) string {
	if a.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ipLimit is the per-client-address safety net (§1.7.1).
func (a *API) ipLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.LimitClient(w.Header(), a.clientIP(r)); err != nil {
			a.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// projectLimit is the per-project safety net (§1.7.2), after the key check.
func (a *API) projectLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := principal.CallerFrom(r.Context()); ok {
			if err := a.LimitProject(w.Header(), c.Snapshot.Project.ID); err != nil {
				a.fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// LimitClient counts one request from the client address ip against the
// per-address limit (IPLimiter), the one limit every door shares: REST and
// the per-project GraphQL API (whose websockets count each operation).
// It sets the RateLimit-* headers on h (nil: none) and, over the limit,
// Retry-After, and returns a RateLimited error.
func (a *API) LimitClient(h http.Header, ip string) error {
	if !a.IPLimiter.Enabled() {
		return nil
	}
	d := a.IPLimiter.Allow(ip)
	secs := strconv.Itoa(int(d.Reset.Seconds() + 0.999))
	if h != nil {
		h.Set("RateLimit-Policy", strconv.Itoa(d.Limit)+";w="+strconv.Itoa(int(a.IPLimiter.Window().Seconds())))
		h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
		h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
		h.Set("RateLimit-Reset", secs)
	}
	if !d.Allowed {
		if h != nil {
			h.Set("Retry-After", secs)
		}
		return errs.New(errs.RateLimited, "Too many requests, please try again later.")
	}
	return nil
}

// LimitProject counts one request of a project against the per-project
// limit (ProjectLimiter), shared like LimitClient. It sets the
// X-RateLimit-* headers on h (nil: none) and, over the limit,
// Retry-After, and returns a RateLimited error.
func (a *API) LimitProject(h http.Header, projectID bson.ObjectID) error {
	if !a.ProjectLimiter.Enabled() {
		return nil
	}
	d := a.ProjectLimiter.Allow(projectID.Hex())
	if h != nil {
		h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(a.now().Add(d.Reset).Unix(), 10))
	}
	if !d.Allowed {
		if h != nil {
			h.Set("Retry-After", strconv.Itoa(int(d.Reset.Seconds()+0.999)))
		}
		return errs.New(errs.RateLimited, "Project Rate limit exceeded. Please try again later.")
	}
	return nil
}

func (a *API) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

// requireKey resolves the caller from x-api-key (or ?key=pk_live_…),
// the Origin or Referer, and an optional bearer token (§2.1, §2.4).
func (a *API) requireKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("x-api-key")
		if key == "" {
			q := r.URL.Query()
			for _, name := range []string{"key", "x-api-key"} {
				if v := q.Get(name); strings.HasPrefix(v, "pk_live_") {
					key = v
					break
				}
			}
		}
		origin := r.Header.Get("Origin")
		if origin == "" {
			origin = r.Header.Get("Referer")
		}
		c, err := principal.Resolve(r.Context(), a.Catalog, principal.Credentials{
			APIKey: key, Origin: origin, Authorization: r.Header.Get("Authorization"),
		}, a.Now())
		if err != nil {
			a.fail(w, r, err)
			return
		}
		analytics.SetProject(r.Context(), c.Snapshot.Project.ID)
		next.ServeHTTP(w, r.WithContext(principal.WithCaller(r.Context(), c)))
	})
}

type bodyKey struct{}

// parseJSON reads a JSON body once, before the key check (§1.9): at most
// MaxJSONBody bytes, an object or array at the top level. A request without
// a JSON content type or without a body is treated as {}.
func parseJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body any = bson.D{}
		if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
			ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJSONBody))
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					writeError(w, r, nil, errs.New(errs.TooLarge, "Request body too large."))
					return
				}
				writeError(w, r, nil, errs.New(errs.Invalid, "Could not read the request body."))
				return
			}
			if ct == "application/x-www-form-urlencoded" && len(bytes.TrimSpace(raw)) > 0 {
				// Form bodies are accepted as the original accepts them:
				// every value a string, a repeated key an array.
				form, err := url.ParseQuery(string(raw))
				if err != nil {
					writeError(w, r, nil, errs.New(errs.Invalid, "Invalid form body"))
					return
				}
				d := bson.D{}
				for k, vs := range form {
					if len(vs) == 1 {
						d = append(d, bson.E{Key: k, Value: vs[0]})
						continue
					}
					a := make([]any, len(vs))
					for i, v := range vs {
						a[i] = v
					}
					d = append(d, bson.E{Key: k, Value: a})
				}
				slices.SortFunc(d, func(a, b bson.E) int { return strings.Compare(a.Key, b.Key) })
				body = d
			}
			if ct == "application/json" && len(bytes.TrimSpace(raw)) > 0 {
				v, err := query.DecodeJSON(raw)
				if err != nil {
					writeError(w, r, nil, errs.New(errs.Invalid, "Invalid JSON format"))
					return
				}
				switch v.(type) {
				case bson.D, []any:
					body = v
				default:
					writeError(w, r, nil, errs.New(errs.Invalid, "Invalid JSON format"))
					return
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, body)))
	})
}

// bodyFrom returns the body parseJSON decoded.
func bodyFrom(r *http.Request) any {
	if v := r.Context().Value(bodyKey{}); v != nil {
		return v
	}
	return bson.D{}
}

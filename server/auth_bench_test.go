package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// authBenchUser is the end user the auth benchmarks sign in as.
const (
	authBenchEmail    = "bench.user@example.com"
	authBenchPassword = "bench-password-123"
)

// authBenchSetup makes a project (auth on by default), signs one user up
// and returns the environment, the publishable key, an access token of the
// user and an HTTP client that keeps enough idle connections for
// RunParallel. The user's password is hashed with the default user bcrypt
// cost (10), as in production: newEnv lowers only the admins' cost.
func authBenchSetup(b *testing.B) (*env, string, string, *http.Client) {
	b.Helper()
	e := newEnv(b)
	p := e.createProject(e.login(), map[string]any{"name": "auth bench"})
	r := e.rest(http.MethodPost, "/api/userAuth/signup", restReq{Key: p.PublishableKey,
		Body: map[string]any{"email": authBenchEmail, "password": authBenchPassword, "username": "benchuser"}})
	if r.Status != http.StatusCreated {
		b.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	var tok struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal([]byte(r.Body), &tok); err != nil || tok.AccessToken == "" {
		b.Fatalf("signup body %s: %v", r.Body, err)
	}
	if r := e.rest(http.MethodGet, "/api/userAuth/me", restReq{Key: p.PublishableKey, Token: tok.AccessToken}); r.Status != http.StatusOK || !strings.Contains(r.Body, authBenchEmail) {
		b.Fatalf("me: %d %s", r.Status, r.Body)
	}
	tr := e.ts.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	client := &http.Client{Transport: tr}
	b.Cleanup(tr.CloseIdleConnections)
	return e, p.PublishableKey, tok.AccessToken, client
}

// authCall sends one request and reports an unexpected status. It does
// not use e.rest, which keeps every response body: the loops here run
// hundreds of thousands of requests, from several goroutines.
func authCall(client *http.Client, method, url, key, token, body string, want int) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("x-api-key", key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, url, res.StatusCode, want, b)
	}
	return nil
}

func reportReqPerSec(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkUserAuthLogin is POST /api/userAuth/login (contract/REST.md
// §5.3.2) through the whole HTTP stack: key check, user lookup, a bcrypt
// comparison at cost 10, a new refresh session and a signed access token.
// The bcrypt comparison dominates by design; "serial" is one client,
// "parallel" shows the throughput on all cores.
func BenchmarkUserAuthLogin(b *testing.B) {
	e, key, _, client := authBenchSetup(b)
	url := e.ts.URL + "/api/userAuth/login"
	body := `{"email":"` + authBenchEmail + `","password":"` + authBenchPassword + `"}`
	b.Run("serial", func(b *testing.B) {
		for range b.N {
			if err := authCall(client, http.MethodPost, url, key, "", body, http.StatusOK); err != nil {
				b.Fatal(err)
			}
		}
		reportReqPerSec(b)
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := authCall(client, http.MethodPost, url, key, "", body, http.StatusOK); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportReqPerSec(b)
	})
}

// BenchmarkUserAuthMe is an authenticated GET /api/userAuth/me (§5.3.3)
// through the whole HTTP stack: key check (cached), access-token
// verification (HS256) and one read of the user, from GOMAXPROCS
// goroutines at once.
func BenchmarkUserAuthMe(b *testing.B) {
	e, key, token, client := authBenchSetup(b)
	url := e.ts.URL + "/api/userAuth/me"
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := authCall(client, http.MethodGet, url, key, token, "", http.StatusOK); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportReqPerSec(b)
}

package social

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// defaultKeysTTL is how long Google's keys are kept when the certs
	// response has no Cache-Control max-age.
	defaultKeysTTL = time.Hour
	// minRefetch is the least time between two fetches of the certs URL
	// prompted by an unknown key id.
	minRefetch = time.Minute
)

// jwksCache holds Google's id_token signing keys. Fetches are single-flight:
// lock is a one-slot semaphore, so waiting for it honours the context.
type jwksCache struct {
	c       *Client
	lock    chan struct{}
	keys    map[string]*rsa.PublicKey // by kid
	fetched time.Time
	expires time.Time
}

func newJWKSCache(c *Client) *jwksCache {
	return &jwksCache{c: c, lock: make(chan struct{}, 1)}
}

// key returns the key with the id. The set is fetched when it is missing
// or past its max-age, and again when kid is unknown (at most once per
// minRefetch).
func (j *jwksCache) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	select {
	case j.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-j.lock }()

	now := j.c.now()
	if j.keys != nil && now.Before(j.expires) {
		if k, ok := j.keys[kid]; ok {
			return k, nil
		}
		if now.Sub(j.fetched) < minRefetch {
			return nil, fmt.Errorf("unknown signing key id %q", kid)
		}
	}
	keys, ttl, err := j.fetch(ctx)
	if err != nil {
		return nil, err
	}
	j.keys, j.fetched, j.expires = keys, now, now.Add(ttl)
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown signing key id %q", kid)
}

// jwk is one RSA key of a JSON Web Key Set.
type jwk struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// fetch GETs the certs URL and returns its usable RS256 keys and how long
// to keep them.
func (j *jwksCache) fetch(ctx context.Context) (map[string]*rsa.PublicKey, time.Duration, error) {
	url := j.c.ep.GoogleCertsURL
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch google certs: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch google certs: %w", err)
	}
	defer resp.Body.Close()
	if !ok(resp.StatusCode) {
		return nil, 0, fmt.Errorf("fetch google certs: status %d", resp.StatusCode)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, maxBody)).Decode(&set); err != nil {
		return nil, 0, fmt.Errorf("decode google certs: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey)
	for _, k := range set.Keys {
		if k.Kid == "" || k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		pub, err := k.rsa()
		if err != nil {
			continue // one bad key must not hide the others
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, 0, errors.New("google certs: no usable RS256 keys")
	}
	ttl := defaultKeysTTL
	if age, ok := maxAge(resp.Header.Values("Cache-Control")); ok {
		ttl = age
	}
	return keys, ttl, nil
}

// rsa decodes the key's modulus and exponent.
func (k jwk) rsa() (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "="))
	if err != nil {
		return nil, fmt.Errorf("jwk %s: modulus: %w", k.Kid, err)
	}
	e, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.E, "="))
	if err != nil {
		return nil, fmt.Errorf("jwk %s: exponent: %w", k.Kid, err)
	}
	if len(n) == 0 || len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("jwk %s: bad modulus or exponent size", k.Kid)
	}
	exp := int(new(big.Int).SetBytes(e).Int64())
	if exp < 3 {
		return nil, fmt.Errorf("jwk %s: bad exponent", k.Kid)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
}

// maxAge reads the max-age directive of Cache-Control header values.
func maxAge(values []string) (time.Duration, bool) {
	for _, v := range values {
		for d := range strings.SplitSeq(v, ",") {
			name, val, found := strings.Cut(strings.TrimSpace(d), "=")
			if !found || !strings.EqualFold(name, "max-age") {
				continue
			}
			secs, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
			if err != nil || secs < 0 {
				continue
			}
			const maxSecs = int64(1<<63-1) / int64(time.Second)
			return time.Duration(min(secs, maxSecs)) * time.Second, true
		}
	}
	return 0, false
}

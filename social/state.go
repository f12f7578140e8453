package social

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urbackend/urbackend/errs"
)

// StateTTL is how long a signed OAuth state is accepted.
const StateTTL = 10 * time.Minute

// maxStateLen bounds the state tokens VerifyState looks at.
const maxStateLen = 4096

// State is what the start of a sign-in hands to its callback through the
// provider's `state` parameter.
type State struct {
	ProjectID string
	Provider  string
	// Nonce identifies this sign-in; the caller stores it to make the
	// state single-use.
	Nonce string
	// CodeVerifier is the PKCE verifier (Google). It travels encrypted.
	CodeVerifier string
	// Exp is when the state stops being accepted; SignState sets it.
	Exp time.Time
}

// statePayload is the signed JSON inside a state token.
type statePayload struct {
	ProjectID string `json:"p"`
	Provider  string `json:"v"`
	Nonce     string `json:"n"`
	Verifier  string `json:"c,omitempty"` // AES-GCM sealed, base64url
	Exp       int64  `json:"x"`           // Unix seconds
}

// SignState returns s as a URL-safe token for the `state` parameter,
// expiring StateTTL after now (s.Exp is ignored).
//
// The token is base64url(JSON) "." base64url(HMAC-SHA256), so the callback
// can trust it without trusting the client; the client can still read the
// project id, provider and nonce. The code verifier is not readable: it is
// sealed with AES-256-GCM. Both the MAC key and the encryption key are
// derived from key (HMAC-SHA256 with distinct labels), which should be a
// secret of at least 32 bytes, e.g. secret.Box.Derive("social-state").
func SignState(key []byte, s State, now time.Time) string {
	macKey, encKey := stateKeys(key)
	p := statePayload{
		ProjectID: s.ProjectID,
		Provider:  s.Provider,
		Nonce:     s.Nonce,
		Exp:       now.Add(StateTTL).Unix(),
	}
	if s.CodeVerifier != "" {
		p.Verifier = seal(encKey, s.CodeVerifier)
	}
	body, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("social: marshal state: %v", err)) // strings and an int always marshal
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac(macKey, payload))
}

// VerifyState checks a token made by SignState with the same key and
// returns its state.
//
// Errors: Invalid (MsgInvalidState) when the token is malformed, was
// signed with another key, was altered, or has expired.
func VerifyState(key []byte, token string, now time.Time) (State, error) {
	s, err := verifyState(key, token, now)
	if err != nil {
		return State{}, errs.Wrap(errs.Invalid, err, MsgInvalidState)
	}
	return s, nil
}

func verifyState(key []byte, token string, now time.Time) (State, error) {
	if len(token) > maxStateLen {
		return State{}, errors.New("state too long")
	}
	payload, sig, found := strings.Cut(token, ".")
	if !found {
		return State{}, errors.New("state has no signature")
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		return State{}, fmt.Errorf("decode state signature: %w", err)
	}
	macKey, encKey := stateKeys(key)
	if !hmac.Equal(got, mac(macKey, payload)) {
		return State{}, errors.New("bad state signature")
	}
	body, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return State{}, fmt.Errorf("decode state: %w", err)
	}
	var p statePayload
	if err := json.Unmarshal(body, &p); err != nil {
		return State{}, fmt.Errorf("decode state: %w", err)
	}
	exp := time.Unix(p.Exp, 0)
	if !now.Before(exp) {
		return State{}, fmt.Errorf("state expired at %s", exp.UTC().Format(time.RFC3339))
	}
	s := State{ProjectID: p.ProjectID, Provider: p.Provider, Nonce: p.Nonce, Exp: exp.UTC()}
	if p.Verifier != "" {
		if s.CodeVerifier, err = open(encKey, p.Verifier); err != nil {
			return State{}, err
		}
	}
	return s, nil
}

// stateKeys derives the MAC and encryption keys from key.
func stateKeys(key []byte) (macKey, encKey []byte) {
	return mac(key, "urbackend:social-state:mac"), mac(key, "urbackend:social-state:enc")
}

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// stateAD is the AES-GCM additional data for sealed verifiers.
var stateAD = []byte("urbackend:social-state:verifier")

func gcm(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key) // key is 32 bytes: a SHA-256 sum
	if err != nil {
		panic(fmt.Sprintf("social: aes: %v", err))
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(fmt.Sprintf("social: gcm: %v", err))
	}
	return aead
}

func seal(key []byte, plaintext string) string {
	aead := gcm(key)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(plaintext), stateAD))
}

func open(key []byte, sealed string) (string, error) {
	data, err := base64.RawURLEncoding.Strict().DecodeString(sealed)
	if err != nil {
		return "", fmt.Errorf("decode state verifier: %w", err)
	}
	aead := gcm(key)
	if len(data) < aead.NonceSize() {
		return "", errors.New("state verifier too short")
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, data[:n], data[n:], stateAD)
	if err != nil {
		return "", fmt.Errorf("open state verifier: %w", err)
	}
	return string(plain), nil
}

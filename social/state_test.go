package social

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/urbackend/urbackend/errs"
)

var stateKey = []byte("0123456789abcdef0123456789abcdef")

func TestStateRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, verifier := range []string{"", NewCodeVerifier()} {
		in := State{ProjectID: "65f0c0ffee0000000000abcd", Provider: "google", Nonce: "n-123", CodeVerifier: verifier, Exp: now.Add(24 * time.Hour)}
		tok := SignState(stateKey, in, now)
		if u := strings.Trim(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."); u != "" {
			t.Errorf("token %q has characters outside base64url and '.'", tok)
		}
		got, err := VerifyState(stateKey, tok, now.Add(StateTTL-time.Second))
		if err != nil {
			t.Fatal(err)
		}
		want := in
		want.Exp = now.Add(StateTTL) // SignState sets it
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("state (-want +got):\n%s", diff)
		}
	}
}

func TestStateHidesVerifier(t *testing.T) {
	now := time.Now()
	verifier := NewCodeVerifier()
	tok := SignState(stateKey, State{ProjectID: "p", Provider: "google", Nonce: "n", CodeVerifier: verifier}, now)
	payload, _, _ := strings.Cut(tok, ".")
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tok, verifier) || strings.Contains(string(body), verifier) {
		t.Errorf("state %s exposes the code verifier", body)
	}
	// Sealing is randomized: the same state signs differently.
	if tok2 := SignState(stateKey, State{ProjectID: "p", Provider: "google", Nonce: "n", CodeVerifier: verifier}, now); tok2 == tok {
		t.Error("two signatures of a state with a verifier are equal")
	}
}

func TestStateRejected(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	in := State{ProjectID: "proj-a", Provider: "github", Nonce: "nonce", CodeVerifier: "verifier"}
	tok := SignState(stateKey, in, now)
	payload, sig, _ := strings.Cut(tok, ".")

	reencode := func(f func(p *statePayload)) string {
		body, _ := base64.RawURLEncoding.DecodeString(payload)
		var p statePayload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		f(&p)
		b, _ := json.Marshal(p)
		return base64.RawURLEncoding.EncodeToString(b) + "." + sig
	}
	// A valid signature over a payload whose sealed verifier is corrupt.
	badVerifier := func() string {
		body, _ := base64.RawURLEncoding.DecodeString(payload)
		var p statePayload
		json.Unmarshal(body, &p)
		p.Verifier = base64.RawURLEncoding.EncodeToString([]byte("short"))
		b, _ := json.Marshal(p)
		pl := base64.RawURLEncoding.EncodeToString(b)
		macKey, _ := stateKeys(stateKey)
		return pl + "." + base64.RawURLEncoding.EncodeToString(mac(macKey, pl))
	}

	tests := []struct {
		name  string
		key   []byte
		token string
		now   time.Time
	}{
		{"expired exactly", stateKey, tok, now.Add(StateTTL)},
		{"expired later", stateKey, tok, now.Add(time.Hour)},
		{"other key", []byte("another key of thirty-two bytes!"), tok, now},
		{"other project", stateKey, reencode(func(p *statePayload) { p.ProjectID = "proj-b" }), now},
		{"other provider", stateKey, reencode(func(p *statePayload) { p.Provider = "google" }), now},
		{"extended expiry", stateKey, reencode(func(p *statePayload) { p.Exp += 3600 }), now.Add(time.Hour)},
		{"tampered signature", stateKey, payload + "." + strings.Repeat("A", len(sig)), now},
		{"truncated signature", stateKey, tok[:len(tok)-2], now},
		{"bad signature encoding", stateKey, payload + ".***", now},
		{"no signature", stateKey, payload, now},
		{"empty", stateKey, "", now},
		{"hex state of the original", stateKey, "0123456789abcdef0123456789abcdef0123456789abcdef", now},
		{"too long", stateKey, strings.Repeat("a", 5000) + "." + sig, now},
		{"corrupt verifier", stateKey, badVerifier(), now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := VerifyState(tt.key, tt.token, tt.now)
			wantErr(t, err, errs.Invalid, MsgInvalidState)
			if diff := cmp.Diff(State{}, s); diff != "" {
				t.Errorf("got a state on error:\n%s", diff)
			}
		})
	}
}

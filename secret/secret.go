// Package secret holds the server's cryptography: the master key that seals
// stored secrets (AES-256-GCM), random tokens and key hashing.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of the master key in bytes.
const KeySize = 32

// ParseKey decodes a master key given as 64 hex characters or as standard or
// URL-safe base64 of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, errors.New("must be 32 bytes written as 64 hex characters or base64 (generate one with: openssl rand -hex 32)")
}

// NewKey returns a fresh random master key.
func NewKey() []byte {
	b := make([]byte, KeySize)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return b
}

// Token returns n random bytes encoded as unpadded URL-safe base64.
func Token(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the lower-case hex SHA-256 of s. It suits high-entropy
// secrets such as API keys and refresh tokens, not passwords.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Equal compares two strings in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Box seals and opens secrets with the master key.
type Box struct {
	key  []byte
	aead cipher.AEAD
}

// NewBox returns a Box for a 32-byte master key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("master key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{key: append([]byte(nil), key...), aead: aead}, nil
}

const sealPrefix = "v1:"

// Seal encrypts plaintext. The label binds the ciphertext to its purpose
// (for example "project:<id>:jwt"), so it cannot be moved to another field.
func (b *Box) Seal(plaintext, label string) string {
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(label))
	return sealPrefix + base64.RawStdEncoding.EncodeToString(out)
}

// ErrOpen means a sealed value could not be decrypted: wrong master key,
// wrong label, or corrupted data.
var ErrOpen = errors.New("cannot decrypt stored secret (is UB_MASTER_KEY the key this database was set up with?)")

// Open decrypts a value made by Seal with the same label.
func (b *Box) Open(sealed, label string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return "", ErrOpen
	}
	data, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(data) < b.aead.NonceSize() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, data[:n], data[n:], []byte(label))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// Derive returns a 32-byte key for one purpose, derived from the master key,
// so every instance sharing the master key derives the same one.
func (b *Box) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte("urbackend:" + purpose))
	return m.Sum(nil)
}

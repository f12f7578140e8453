package files

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/secret"
)

// An upload token is "<id>.<expiry>.<signature>": a random id naming the
// pending upload in the platform database (which binds it to the project,
// path, size and content type), its expiry in base-36 Unix seconds, and an
// HMAC-SHA256 of both. The signature lets forged and expired tokens be
// refused without a database read; the stored record makes it single-use
// across instances.

func (s *Service) signToken(id string, exp time.Time) string {
	payload := id + "." + strconv.FormatInt(exp.Unix(), 36)
	return payload + "." + s.mac(payload)
}

func (s *Service) mac(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("upload-token\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// parseToken checks a token's signature and expiry and returns its id.
// Errors: Forbidden "Invalid upload URL." or "Upload URL has expired.".
func (s *Service) parseToken(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] == "" || !secret.Equal(s.mac(parts[0]+"."+parts[1]), parts[2]) {
		return "", errs.New(errs.Forbidden, MsgUploadURLInvalid)
	}
	exp, err := strconv.ParseInt(parts[1], 36, 64)
	if err != nil {
		return "", errs.New(errs.Forbidden, MsgUploadURLInvalid)
	}
	if !s.now().Before(time.Unix(exp, 0)) {
		return "", errs.New(errs.Forbidden, MsgUploadURLExpired)
	}
	return parts[0], nil
}

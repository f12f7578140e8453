package files

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/urbackend/urbackend/errs"
)

// maxNameBytes caps the name part of a path.
const maxNameBytes = 200

// SanitizeName makes an uploaded file name one safe path segment: runs of
// whitespace become "_" (as the original server does), and so do path
// separators, "%" (so a path never needs decoding to be found) and control
// characters. An empty name becomes "file".
func SanitizeName(name string) string {
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			if !space {
				b.WriteByte('_')
			}
			space = true
			continue
		case r == '/' || r == '\\' || r == '%' || unicode.IsControl(r) || r == utf8.RuneError:
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
		space = false
	}
	s := b.String()
	if len(s) > maxNameBytes {
		cut := maxNameBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if s == "" {
		s = "file"
	}
	return s
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newPath mints "<projectId>/<uuid>_<name>" (contract/REST.md §6.1).
func newPath(projectID, name string) string {
	return projectID + "/" + newUUID() + "_" + SanitizeName(name)
}

// nameOf returns the name part of a minted path.
func nameOf(path string) string {
	seg := path[strings.LastIndexByte(path, '/')+1:]
	if len(seg) > 37 && seg[36] == '_' {
		return seg[37:]
	}
	return seg
}

// Confine normalizes a path given by a client and checks that it names
// something inside the project (contract/REST.md §6.1): the path is
// URL-decoded, backslashes count as slashes, empty segments are dropped,
// and it must have at least two segments, start with the project's id and
// contain no "." or ".." segment. Errors: Forbidden "Access denied.".
func Confine(projectID, p string) (string, error) {
	if strings.Contains(p, "%") {
		if d, err := url.PathUnescape(p); err == nil {
			p = d
		}
	}
	p = strings.ReplaceAll(p, "\\", "/")
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "":
			continue
		case ".", "..":
			return "", errs.New(errs.Forbidden, MsgAccessDenied)
		}
		segs = append(segs, s)
	}
	if len(segs) < 2 || segs[0] != projectID {
		return "", errs.New(errs.Forbidden, MsgAccessDenied)
	}
	return strings.Join(segs, "/"), nil
}

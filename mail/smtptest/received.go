package smtptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Received is one message the server accepted.
type Received struct {
	// MailFrom and RcptTo are the envelope: the MAIL FROM address and the
	// RCPT TO addresses in order.
	MailFrom string
	RcptTo   []string
	// AuthUser is the user name the client authenticated as, "" without
	// AUTH; TLS reports whether the session was encrypted.
	AuthUser string
	TLS      bool
	// Data is the message as received: CRLF line endings, dots unstuffed,
	// without the terminating ".".
	Data []byte

	// Header is the parsed header; nil when Data could not be parsed.
	Header mail.Header
	// Subject, To and Cc are the decoded header values (RFC 2047 words
	// decoded).
	Subject string
	To      string
	Cc      string
	// Text and HTML are the decoded text/plain and text/html bodies (the
	// first of each, from any multipart nesting) with LF line endings. The
	// line break that ends every SMTP message is not part of a single-part
	// body.
	Text string
	HTML string
	// ParseError is why Data could not be fully parsed, or nil.
	ParseError error
}

func (r *Received) parse() {
	msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		r.ParseError = fmt.Errorf("read message: %w", err)
		return
	}
	r.Header = msg.Header
	dec := new(mime.WordDecoder)
	var errs []error
	for _, h := range []struct {
		name string
		dst  *string
	}{{"Subject", &r.Subject}, {"To", &r.To}, {"Cc", &r.Cc}} {
		v, err := dec.DecodeHeader(msg.Header.Get(h.name))
		if err != nil {
			errs = append(errs, fmt.Errorf("decode %s: %w", h.name, err))
		}
		*h.dst = v
	}
	single, err := r.readEntity(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		errs = append(errs, err)
	}
	if single {
		r.Text = strings.TrimSuffix(r.Text, "\n")
		r.HTML = strings.TrimSuffix(r.HTML, "\n")
	}
	r.ParseError = errors.Join(errs...)
}

// readEntity decodes one MIME entity into r.Text or r.HTML, descending
// into multipart entities. single reports a non-multipart entity.
func (r *Received) readEntity(ctype, cte string, body io.Reader) (single bool, err error) {
	if ctype == "" {
		ctype = "text/plain"
	}
	media, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return false, fmt.Errorf("content type %q: %w", ctype, err)
	}
	if strings.HasPrefix(media, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return false, nil
			}
			if err != nil {
				return false, fmt.Errorf("multipart: %w", err)
			}
			if _, err := r.readEntity(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return false, err
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return true, fmt.Errorf("decode %s body: %w", media, err)
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case media == "text/plain" && r.Text == "":
		r.Text = s
	case media == "text/html" && r.HTML == "":
		r.HTML = s
	}
	return true, nil
}

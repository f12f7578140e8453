package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/urbackend/urbackend/errs"
)

// maxLine is the length at which header lines are folded (RFC 5322 §2.1.1
// recommends 78 characters).
const maxLine = 78

// envelope is the SMTP envelope of a composed message: the bare sender and
// recipient addresses, recipients deduplicated, Bcc included.
type envelope struct {
	from string
	to   []string
}

// compose checks m and renders it as an RFC 5322 message with CRLF line
// endings. m.From must already hold the effective author. It returns
// errs.Invalid for an unacceptable message.
func compose(m Message, now time.Time) (envelope, []byte, error) {
	if err := m.checkHeaderValues(); err != nil {
		return envelope{}, nil, err
	}
	from, err := parseAddress("from", m.From)
	if err != nil {
		return envelope{}, nil, err
	}
	to, err := parseAddressList("to", m.To)
	if err != nil {
		return envelope{}, nil, err
	}
	var cc, bcc []*netmail.Address
	for _, s := range m.Cc {
		list, err := parseAddressList("cc", s)
		if err != nil {
			return envelope{}, nil, err
		}
		cc = append(cc, list...)
	}
	for _, s := range m.Bcc {
		list, err := parseAddressList("bcc", s)
		if err != nil {
			return envelope{}, nil, err
		}
		bcc = append(bcc, list...)
	}
	var replyTo *netmail.Address
	if strings.TrimSpace(m.ReplyTo) != "" {
		if replyTo, err = parseAddress("reply-to", m.ReplyTo); err != nil {
			return envelope{}, nil, err
		}
	}

	env := envelope{from: from.Address}
	seen := make(map[string]bool)
	for _, list := range [][]*netmail.Address{to, cc, bcc} {
		for _, a := range list {
			key := strings.ToLower(a.Address)
			if !seen[key] {
				seen[key] = true
				env.to = append(env.to, a.Address)
			}
		}
	}
	if len(env.to) == 0 {
		return envelope{}, nil, errs.New(errs.Invalid, "mail needs at least one recipient")
	}

	id, err := messageID(m.MessageID, from.Address)
	if err != nil {
		return envelope{}, nil, err
	}

	var b bytes.Buffer
	writeHeader(&b, "From", from.String())
	if len(to) > 0 {
		writeHeader(&b, "To", joinAddresses(to))
	}
	if len(cc) > 0 {
		writeHeader(&b, "Cc", joinAddresses(cc))
	}
	if replyTo != nil {
		writeHeader(&b, "Reply-To", replyTo.String())
	}
	writeHeader(&b, "Subject", mime.QEncoding.Encode("UTF-8", m.Subject))
	writeHeader(&b, "Date", now.Format(time.RFC1123Z))
	writeHeader(&b, "Message-ID", id)
	writeHeader(&b, "MIME-Version", "1.0")
	if err := writeBody(&b, m.Text, m.HTML); err != nil {
		return envelope{}, nil, fmt.Errorf("compose mail body: %w", err)
	}
	return env, b.Bytes(), nil
}

// writeBody writes the content headers, a blank line and the body:
// multipart/alternative with both parts, otherwise a single part.
func writeBody(b *bytes.Buffer, text, html string) error {
	const (
		plainType = "text/plain; charset=UTF-8"
		htmlType  = "text/html; charset=UTF-8"
	)
	if text == "" || html == "" {
		ctype, body := plainType, text
		if html != "" {
			ctype, body = htmlType, html
		}
		writeHeader(b, "Content-Type", ctype)
		writeHeader(b, "Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQuotedPrintable(b, body); err != nil {
			return err
		}
		// SMTP data ends with a line break; end the body with one.
		if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
			b.WriteString("\r\n")
		}
		return nil
	}

	mw := multipart.NewWriter(b)
	writeHeader(b, "Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, part := range []struct{ ctype, body string }{{plainType, text}, {htmlType, html}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return err
		}
		var qp bytes.Buffer
		if err := writeQuotedPrintable(&qp, part.body); err != nil {
			return err
		}
		if _, err := w.Write(qp.Bytes()); err != nil {
			return err
		}
	}
	return mw.Close()
}

// writeQuotedPrintable writes s quoted-printable encoded, every line break
// (LF, CR or CRLF) as CRLF.
func writeQuotedPrintable(b *bytes.Buffer, s string) error {
	w := quotedprintable.NewWriter(b)
	if _, err := w.Write([]byte(s)); err != nil {
		return err
	}
	return w.Close()
}

// writeHeader writes "Name: value", folded at spaces so that lines stay
// within maxLine where a space allows it.
func writeHeader(b *bytes.Buffer, name, value string) {
	line := name + ":"
	content := false // whether line holds a word yet
	for _, word := range strings.Split(value, " ") {
		if content && word != "" && len(line)+1+len(word) > maxLine {
			b.WriteString(line)
			b.WriteString("\r\n")
			line, content = "", false
		}
		line += " " + word
		if word != "" {
			content = true
		}
	}
	b.WriteString(line)
	b.WriteString("\r\n")
}

func joinAddresses(list []*netmail.Address) string {
	s := make([]string, len(list))
	for i, a := range list {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// parseAddress parses one address; errs.Invalid when it is empty or bad.
func parseAddress(field, s string) (*netmail.Address, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errs.New(errs.Invalid, "mail %s address is missing", field)
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, &errs.Error{Kind: errs.Invalid, Message: fmt.Sprintf("invalid mail %s address %q", field, s), Err: err}
	}
	return a, nil
}

// parseAddressList parses a comma-separated list; an empty s is an empty
// list. It returns errs.Invalid for a bad entry.
func parseAddressList(field, s string) ([]*netmail.Address, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	list, err := netmail.ParseAddressList(s)
	if err != nil {
		return nil, &errs.Error{Kind: errs.Invalid, Message: fmt.Sprintf("invalid mail %s address %q", field, s), Err: err}
	}
	return list, nil
}

// messageID returns id in angle brackets, or a new random ID in the domain
// of the from address when id is empty. It returns errs.Invalid for an id
// that is not a single dot-atom@domain-like token.
func messageID(id, from string) (string, error) {
	id = strings.TrimSpace(id)
	if id != "" {
		bare := strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
		if !strings.Contains(bare, "@") || strings.ContainsAny(bare, "<> \t\"") {
			return "", errs.New(errs.Invalid, "invalid mail message ID %q", id)
		}
		return "<" + bare + ">", nil
	}
	domain := "localhost"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = from[at+1:]
	}
	var r [16]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never returns an error
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">", nil
}

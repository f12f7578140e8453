// Package mail sends e-mail: the auth e-mails (verification and password
// reset codes) and the messages of POST /api/mail/send.
//
// A Sender delivers one Message. SMTP talks to a server configured with
// UB_SMTP_URL (see ParseSMTPURL); Log only logs, for development without a
// mail server. RenderText and RenderHTML fill {{var}} placeholders in
// templates.
package mail

import (
	"context"
	"strings"

	"github.com/urbackend/urbackend/errs"
)

// Message is one e-mail. Addresses are RFC 5322 addresses, with or without
// a display name ("Ada <ada@example.com>" or "ada@example.com"). To may hold
// a comma-separated list; each Cc and Bcc entry may too.
type Message struct {
	// From is the author. Empty means the sender's default (Config.From).
	From string
	// To holds the primary recipients.
	To string
	// Cc recipients are listed in the Cc header.
	Cc []string
	// Bcc recipients get the message but appear in no header.
	Bcc []string
	// ReplyTo, when set, becomes the Reply-To header.
	ReplyTo string
	// Subject may hold any UTF-8 text; it is encoded as needed.
	Subject string
	// Text and HTML are the bodies. With both, the message is
	// multipart/alternative; with neither, it has an empty text body.
	Text string
	HTML string
	// MessageID, when set, is used as the Message-ID header (angle brackets
	// optional); otherwise one is generated.
	MessageID string
}

// Sender delivers messages. Consumers declare their own narrower interface
// when they need one; this one documents what SMTP and Log implement.
type Sender interface {
	// Send delivers m. Errors of kind errs.Invalid mean the message itself
	// is unacceptable (no recipient, bad address, CR or LF in a header
	// value); any other error is a delivery failure.
	Send(ctx context.Context, m Message) error
}

var (
	_ Sender = (*SMTP)(nil)
	_ Sender = (*Log)(nil)
)

// checkHeaderValues rejects CR and LF in every value that ends up in a
// header, which would otherwise let a caller inject headers. It returns
// errs.Invalid.
func (m Message) checkHeaderValues() error {
	fields := []struct{ name, value string }{
		{"from", m.From},
		{"to", m.To},
		{"reply-to", m.ReplyTo},
		{"subject", m.Subject},
		{"message ID", m.MessageID},
	}
	for _, v := range m.Cc {
		fields = append(fields, struct{ name, value string }{"cc", v})
	}
	for _, v := range m.Bcc {
		fields = append(fields, struct{ name, value string }{"bcc", v})
	}
	for _, f := range fields {
		if strings.ContainsAny(f.value, "\r\n") {
			return errs.New(errs.Invalid, "mail %s must not contain line breaks", f.name)
		}
	}
	return nil
}

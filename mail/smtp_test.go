package mail

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/mail/smtptest"
)

// testCtx bounds a test that waits on the network.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sender returns an SMTP sender for srv's URL.
func sender(t *testing.T, srv *smtptest.Server) *SMTP {
	t.Helper()
	cfg, err := ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatalf("ParseSMTPURL(%q): %v", srv.URL(), err)
	}
	cfg.TLSConfig = srv.ClientTLSConfig()
	return NewSMTP(cfg, 5*time.Second)
}

// sendOne sends m through srv and returns what srv received.
func sendOne(t *testing.T, srv *smtptest.Server, m Message) smtptest.Received {
	t.Helper()
	ctx := testCtx(t)
	if err := sender(t, srv).Send(ctx, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs, err := srv.Wait(ctx, 1)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	if msgs[0].ParseError != nil {
		t.Fatalf("received message does not parse: %v\n%s", msgs[0].ParseError, msgs[0].Data)
	}
	return msgs[0]
}

// checkWellFormed checks the line structure of a message: CRLF only and
// no line over 998 characters (RFC 5322 §2.1.1).
func checkWellFormed(t *testing.T, data []byte) {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Errorf("message does not end with CRLF")
	}
	for i, line := range bytes.Split(data, []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 998 {
			t.Errorf("line %d is %d characters long", i+1, len(line))
		}
		for _, c := range line {
			if c >= 0x80 {
				t.Errorf("line %d has a non-ASCII byte: %q", i+1, line)
				break
			}
		}
	}
}

func TestSendTextAndHTML(t *testing.T) {
	srv := smtptest.Start(t)
	long := strings.Repeat("0123456789 ", 20) // forces soft line breaks
	m := Message{
		From:    "urBackend Café <noreply@example.com>",
		To:      "Ada Lovelace <ada@example.com>, bob@example.com",
		Cc:      []string{"Carol <carol@example.com>"},
		Bcc:     []string{"dave@example.com", "Eve <eve@example.com>"},
		ReplyTo: "support@example.com",
		Subject: "Verify your account — código ✓ 🎉",
		Text:    "Your code is 123456.\nTrailing space \n.starts with a dot\n" + long + "\nünïcödé = 100%",
		HTML:    "<p>Your code is <b>123456</b>.</p>\n<p>" + long + "</p>",
	}
	got := sendOne(t, srv, m)

	if got.MailFrom != "noreply@example.com" {
		t.Errorf("got MAIL FROM %q, want noreply@example.com", got.MailFrom)
	}
	wantRcpt := []string{"ada@example.com", "bob@example.com", "carol@example.com", "dave@example.com", "eve@example.com"}
	if diff := cmp.Diff(wantRcpt, got.RcptTo); diff != "" {
		t.Errorf("RCPT TO (-want +got):\n%s", diff)
	}
	if got.Subject != m.Subject {
		t.Errorf("got subject %q, want %q", got.Subject, m.Subject)
	}
	if got.To != `"Ada Lovelace" <ada@example.com>, <bob@example.com>` {
		t.Errorf("got To %q", got.To)
	}
	if got.Cc != `"Carol" <carol@example.com>` {
		t.Errorf("got Cc %q", got.Cc)
	}
	if got.Text != m.Text {
		t.Errorf("text body:\n%s", cmp.Diff(m.Text, got.Text))
	}
	if got.HTML != m.HTML {
		t.Errorf("HTML body:\n%s", cmp.Diff(m.HTML, got.HTML))
	}
	if got.AuthUser != "" || got.TLS {
		t.Errorf("got AuthUser %q TLS %v, want neither", got.AuthUser, got.TLS)
	}

	h := got.Header
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "urBackend Café" || from[0].Address != "noreply@example.com" {
		t.Errorf("got From %v (%v)", from, err)
	}
	if rt := h.Get("Reply-To"); rt != "<support@example.com>" {
		t.Errorf("got Reply-To %q", rt)
	}
	if v := h.Get("MIME-Version"); v != "1.0" {
		t.Errorf("got MIME-Version %q, want 1.0", v)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative;") {
		t.Errorf("got Content-Type %q, want multipart/alternative", ct)
	}
	if d, err := h.Date(); err != nil || time.Since(d) > time.Minute || time.Until(d) > time.Minute {
		t.Errorf("got Date %q (%v), want about now", h.Get("Date"), err)
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("got Message-ID %q, want <…@example.com>", id)
	}
	if _, ok := h["Bcc"]; ok {
		t.Errorf("Bcc header present")
	}
	for _, hidden := range []string{"dave@", "eve@", "Eve"} {
		if bytes.Contains(got.Data, []byte(hidden)) {
			t.Errorf("message data contains Bcc recipient %q", hidden)
		}
	}
	checkWellFormed(t, got.Data)
}

func TestSendSinglePart(t *testing.T) {
	for _, tc := range []struct {
		name, text, html, wantType string
	}{
		{"text", "Your code is 654321", "", "text/plain; charset=UTF-8"},
		{"html", "", "<p>Your code is <b>654321</b></p>", "text/html; charset=UTF-8"},
		{"empty", "", "", "text/plain; charset=UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t)
			got := sendOne(t, srv, Message{To: "ada@example.com", Subject: "Reset your password", Text: tc.text, HTML: tc.html})
			if ct := got.Header.Get("Content-Type"); ct != tc.wantType {
				t.Errorf("got Content-Type %q, want %q", ct, tc.wantType)
			}
			if cte := got.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
				t.Errorf("got Content-Transfer-Encoding %q, want quoted-printable", cte)
			}
			if got.Text != tc.text || got.HTML != tc.html {
				t.Errorf("got text %q html %q, want %q %q", got.Text, got.HTML, tc.text, tc.html)
			}
			if got.Subject != "Reset your password" {
				t.Errorf("got subject %q", got.Subject)
			}
			checkWellFormed(t, got.Data)
		})
	}
}

func TestSendDefaultFrom(t *testing.T) {
	srv := smtptest.Start(t)
	got := sendOne(t, srv, Message{To: "ada@example.com", Subject: "Hi", Text: "hello"})
	if got.MailFrom != smtptest.From {
		t.Errorf("got MAIL FROM %q, want %q", got.MailFrom, smtptest.From)
	}
	if f := got.Header.Get("From"); f != "<"+smtptest.From+">" {
		t.Errorf("got From header %q", f)
	}
}

func TestSendMessageID(t *testing.T) {
	srv := smtptest.Start(t)
	got := sendOne(t, srv, Message{To: "ada@example.com", Subject: "Hi", Text: "hello", MessageID: "abc.123@urbackend.test"})
	if id := got.Header.Get("Message-ID"); id != "<abc.123@urbackend.test>" {
		t.Errorf("got Message-ID %q, want <abc.123@urbackend.test>", id)
	}
}

func TestSendNoFromAddress(t *testing.T) {
	srv := smtptest.Start(t)
	s := NewSMTP(Config{Host: "127.0.0.1", Port: srv.Port()}, time.Second)
	err := s.Send(testCtx(t), Message{To: "ada@example.com", Subject: "Hi", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "no from address") {
		t.Fatalf("got error %v, want no from address", err)
	}
	if k := errs.KindOf(err); k != errs.Internal {
		t.Errorf("got kind %v, want Internal (a configuration problem)", k)
	}
}

func TestSendRejectsBadMessages(t *testing.T) {
	ok := Message{From: "a@example.com", To: "b@example.com", Subject: "Hi", Text: "x"}
	for _, tc := range []struct {
		name   string
		modify func(*Message)
	}{
		{"CRLF in subject", func(m *Message) { m.Subject = "Hi\r\nBcc: victim@example.com" }},
		{"LF in subject", func(m *Message) { m.Subject = "Hi\nX-Evil: 1" }},
		{"CR in subject", func(m *Message) { m.Subject = "Hi\rX-Evil: 1" }},
		{"CRLF in to", func(m *Message) { m.To = "b@example.com\r\nBcc: victim@example.com" }},
		{"CRLF in from", func(m *Message) { m.From = "a@example.com\r\nX-Evil: 1" }},
		{"CRLF in reply-to", func(m *Message) { m.ReplyTo = "r@example.com\r\nX-Evil: 1" }},
		{"CRLF in cc", func(m *Message) { m.Cc = []string{"c@example.com\nX-Evil: 1"} }},
		{"CRLF in bcc", func(m *Message) { m.Bcc = []string{"d@example.com\r\nRCPT TO:<x@example.com>"} }},
		{"CRLF in message ID", func(m *Message) { m.MessageID = "x@example.com>\r\nX-Evil: <1" }},
		{"bad to", func(m *Message) { m.To = "not an address" }},
		{"bad cc", func(m *Message) { m.Cc = []string{"c@"} }},
		{"bad from", func(m *Message) { m.From = "nobody" }},
		{"bad reply-to", func(m *Message) { m.ReplyTo = "<<>>" }},
		{"no recipients", func(m *Message) { m.To = "" }},
		{"bad message ID", func(m *Message) { m.MessageID = "no-at-sign" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t)
			m := ok
			tc.modify(&m)
			err := sender(t, srv).Send(testCtx(t), m)
			if err == nil {
				t.Fatal("got no error")
			}
			if k := errs.KindOf(err); k != errs.Invalid {
				t.Errorf("got kind %v (%v), want Invalid", k, err)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server received %d messages, want 0", n)
			}
		})
	}
}

func TestSendAuth(t *testing.T) {
	const user, pass = "mailer", "s3cr:t@p%ss wörd"
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			srv := smtptest.StartWith(t, smtptest.Options{Username: user, Password: pass, AuthMechanisms: []string{mech}})
			got := sendOne(t, srv, Message{To: "ada@example.com", Subject: "Hi", Text: "hello"})
			if got.AuthUser != user {
				t.Errorf("got AuthUser %q, want %q", got.AuthUser, user)
			}
		})
	}
}

func TestSendAuthFailures(t *testing.T) {
	const user, pass = "mailer", "hunter2"
	for _, tc := range []struct {
		name     string
		opts     smtptest.Options
		cfg      func(*Config)
		wantText string
	}{
		{"wrong password", smtptest.Options{Username: user, Password: pass}, func(c *Config) { c.Password = "wrong-hunter3" }, "535"},
		{"wrong user", smtptest.Options{Username: user, Password: pass}, func(c *Config) { c.Username = "other" }, "535"},
		{"server requires auth", smtptest.Options{Username: user, Password: pass}, func(c *Config) { c.Username, c.Password = "", "" }, "530"},
		{"server offers no auth", smtptest.Options{}, func(c *Config) { c.Username, c.Password = user, pass }, "offers no AUTH"},
		{"no common mechanism", smtptest.Options{Username: user, Password: pass, AuthMechanisms: []string{"CRAM-MD5"}}, func(*Config) {}, "no supported AUTH mechanism"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.StartWith(t, tc.opts)
			cfg, err := ParseSMTPURL(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			tc.cfg(&cfg)
			err = NewSMTP(cfg, 5*time.Second).Send(testCtx(t), Message{To: "ada@example.com", Subject: "Hi", Text: "x"})
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("got error %v, want one containing %q", err, tc.wantText)
			}
			for _, secret := range []string{pass, "wrong-hunter3"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains the password", err)
				}
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server received %d messages, want 0", n)
			}
		})
	}
}

func TestSendStartTLS(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{StartTLS: true, Username: "mailer", Password: "pw"})
	got := sendOne(t, srv, Message{To: "ada@example.com", Subject: "Hi", Text: "hello"})
	if !got.TLS || got.AuthUser != "mailer" {
		t.Errorf("got TLS %v AuthUser %q, want true mailer", got.TLS, got.AuthUser)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{ImplicitTLS: true, Username: "mailer", Password: "pw"})
	if !strings.HasPrefix(srv.URL(), "smtps://") {
		t.Fatalf("got URL %q, want smtps://", srv.URL())
	}
	got := sendOne(t, srv, Message{To: "ada@example.com", Subject: "Hi", Text: "hello"})
	if !got.TLS || got.AuthUser != "mailer" {
		t.Errorf("got TLS %v AuthUser %q, want true mailer", got.TLS, got.AuthUser)
	}
}

// An offered STARTTLS with a certificate the client does not trust fails
// the delivery rather than falling back to plain text.
func TestSendUntrustedCertificate(t *testing.T) {
	for _, opts := range []smtptest.Options{{StartTLS: true}, {ImplicitTLS: true}} {
		srv := smtptest.StartWith(t, opts)
		cfg, err := ParseSMTPURL(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		err = NewSMTP(cfg, 5*time.Second).Send(testCtx(t), Message{To: "ada@example.com", Subject: "Hi", Text: "x"})
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%+v: got error %v, want a certificate error", opts, err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("server received %d messages, want 0", n)
		}
	}
}

func TestSendRecipientRefused(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{RejectRecipients: []string{"gone@example.com"}})
	err := sender(t, srv).Send(testCtx(t), Message{To: "ada@example.com", Cc: []string{"gone@example.com"}, Subject: "Hi", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "gone@example.com") || !strings.Contains(err.Error(), "550") {
		t.Fatalf("got error %v, want a 550 for gone@example.com", err)
	}
	if k := errs.KindOf(err); k != errs.Internal {
		t.Errorf("got kind %v, want Internal", k)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages, want 0", n)
	}
}

func TestSendSeveralOverOneServer(t *testing.T) {
	srv := smtptest.Start(t)
	s := sender(t, srv)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errc := make(chan error, 5)
	for i := range 5 {
		wg.Go(func() {
			errc <- s.Send(ctx, Message{To: "ada@example.com", Subject: "n" + string(rune('0'+i)), Text: "x"})
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	msgs, err := srv.Wait(ctx, 5)
	if err != nil || len(msgs) != 5 {
		t.Fatalf("got %d messages (%v), want 5", len(msgs), err)
	}
}

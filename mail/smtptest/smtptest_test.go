package smtptest

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial opens a raw SMTP conversation and reads the greeting.
func dial(t *testing.T, srv *Server) *textproto.Conn {
	t.Helper()
	c, err := textproto.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	expect(t, c, "", 220)
	return c
}

// expect sends cmd (unless empty) and checks the reply code.
func expect(t *testing.T, c *textproto.Conn, cmd string, code int) string {
	t.Helper()
	if cmd != "" {
		if err := c.PrintfLine("%s", cmd); err != nil {
			t.Fatal(err)
		}
	}
	got, msg, err := c.ReadResponse(0)
	if err != nil && got == 0 {
		t.Fatalf("%s: %v", cmd, err)
	}
	if got != code {
		t.Fatalf("%s: got %d %s, want %d", cmd, got, msg, code)
	}
	return msg
}

func TestConversation(t *testing.T) {
	srv := Start(t)
	c := dial(t, srv)
	expect(t, c, "MAIL FROM:<a@example.com>", 503) // before EHLO
	expect(t, c, "NOOP", 250)
	msg := expect(t, c, "EHLO client.example", 250)
	if !strings.Contains(msg, "8BITMIME") || strings.Contains(msg, "AUTH") || strings.Contains(msg, "STARTTLS") {
		t.Errorf("got EHLO reply %q", msg)
	}
	expect(t, c, "AUTH PLAIN AGEAYg==", 502)
	expect(t, c, "RCPT TO:<b@example.com>", 503)
	expect(t, c, "DATA", 503)
	expect(t, c, "MAIL FROM:<a@example.com> BODY=8BITMIME", 250)
	expect(t, c, "MAIL FROM:<a@example.com>", 503)
	expect(t, c, "RCPT TO:<>", 501)
	expect(t, c, "RCPT TO:<dropped@example.com>", 250)
	expect(t, c, "RSET", 250)
	expect(t, c, "DATA", 503)
	expect(t, c, "mail from:<a@example.com>", 250)
	expect(t, c, "rcpt to:<b@example.com>", 250)
	expect(t, c, "RCPT TO:<c@example.com>", 250)
	expect(t, c, "DATA", 354)
	body := "Subject: =?UTF-8?b?w5xiZXI=?=\r\nTo: b@example.com\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte("line one\nline two")) + "\r\n..leading dot line\r\n.\r\n"
	if err := c.PrintfLine("%s", strings.TrimSuffix(body, "\r\n")); err != nil {
		t.Fatal(err)
	}
	expect(t, c, "", 250)
	expect(t, c, "VRFY b@example.com", 252)
	expect(t, c, "FOO", 500)
	expect(t, c, "QUIT", 221)

	msgs, err := srv.Wait(testCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	got := msgs[0]
	if got.MailFrom != "a@example.com" || !cmp.Equal(got.RcptTo, []string{"b@example.com", "c@example.com"}) {
		t.Errorf("got envelope %q %q", got.MailFrom, got.RcptTo)
	}
	if got.Subject != "Über" || got.To != "b@example.com" {
		t.Errorf("got Subject %q To %q", got.Subject, got.To)
	}
	if !strings.HasSuffix(string(got.Data), "\r\n.leading dot line\r\n") {
		t.Errorf("dot not unstuffed in %q", got.Data)
	}
}

func TestParseQuotedPrintableMultipart(t *testing.T) {
	srv := Start(t)
	msg := "From: a@example.com\r\nTo: b@example.com\r\nSubject: plain\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=OUT\r\n\r\n" +
		"--OUT\r\nContent-Type: multipart/alternative; boundary=IN\r\n\r\n" +
		"--IN\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =\r\nsoft\r\n--IN\r\n" +
		"Content-Type: text/html; charset=UTF-8\r\n\r\n<p>hi</p>\r\n--IN--\r\n" +
		"--OUT--\r\n"
	if err := smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	msgs, err := srv.Wait(testCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := msgs[0]; got.ParseError != nil || got.Text != "café soft" || got.HTML != "<p>hi</p>" {
		t.Errorf("got Text %q HTML %q err %v", got.Text, got.HTML, got.ParseError)
	}
}

func TestAuthExchanges(t *testing.T) {
	srv := StartWith(t, Options{Username: "u", Password: "p w"})
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

	c := dial(t, srv)
	msg := expect(t, c, "EHLO x", 250)
	if !strings.Contains(msg, "AUTH PLAIN LOGIN") {
		t.Errorf("got EHLO reply %q", msg)
	}
	expect(t, c, "MAIL FROM:<a@example.com>", 530)
	expect(t, c, "AUTH CRAM-MD5", 504)
	expect(t, c, "AUTH PLAIN "+b64("\x00u\x00wrong"), 535)
	expect(t, c, "AUTH PLAIN", 334)
	expect(t, c, "*", 501)
	expect(t, c, "AUTH PLAIN", 334)
	expect(t, c, "!!notbase64", 501)
	expect(t, c, "AUTH LOGIN", 334)
	expect(t, c, b64("u"), 334)
	expect(t, c, b64("p w"), 235)
	expect(t, c, "AUTH PLAIN "+b64("\x00u\x00p w"), 503)
	expect(t, c, "MAIL FROM:<a@example.com>", 250)

	c2 := dial(t, srv)
	expect(t, c2, "EHLO x", 250)
	expect(t, c2, "AUTH LOGIN "+b64("u"), 334) // initial response is the user name
	expect(t, c2, b64("p w"), 235)
	expect(t, c2, "AUTH PLAIN "+b64("authz\x00u\x00p w"), 503)
}

func TestStartTLSResetsSession(t *testing.T) {
	srv := StartWith(t, Options{StartTLS: true})
	c := dial(t, srv)
	if msg := expect(t, c, "EHLO x", 250); !strings.Contains(msg, "STARTTLS") {
		t.Fatalf("STARTTLS not offered: %q", msg)
	}
	cl, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cfg := srv.ClientTLSConfig()
	cfg.ServerName = "127.0.0.1"
	if err := cl.StartTLS(cfg); err != nil {
		t.Fatal(err)
	}
	if ok, _ := cl.Extension("STARTTLS"); ok {
		t.Errorf("STARTTLS offered again after the handshake")
	}
	if err := cl.Mail("a@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Rcpt("b@example.com"); err != nil {
		t.Fatal(err)
	}
	w, err := cl.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("Subject: s\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	msgs, err := srv.Wait(testCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !msgs[0].TLS || msgs[0].Text != "body" {
		t.Errorf("got TLS %v Text %q", msgs[0].TLS, msgs[0].Text)
	}
}

func TestWait(t *testing.T) {
	srv := Start(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	msgs, err := srv.Wait(ctx, 1)
	if !errors.Is(err, context.Canceled) || len(msgs) != 0 {
		t.Fatalf("got %d messages, %v; want none, context.Canceled", len(msgs), err)
	}
	if msgs, err := srv.Wait(ctx, 0); err != nil || len(msgs) != 0 {
		t.Fatalf("Wait(0) = %d, %v", len(msgs), err)
	}

	done := make(chan []Received)
	wctx := testCtx(t)
	go func() {
		msgs, err := srv.Wait(wctx, 3)
		if err != nil {
			t.Error(err)
		}
		done <- msgs
	}()
	for i := range 3 {
		if err := smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte("Subject: "+string(rune('a'+i))+"\r\n\r\nx\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	got := <-done
	if len(got) != 3 || got[0].Subject != "a" || got[2].Subject != "c" {
		t.Errorf("got %d messages %v", len(got), got)
	}
	if n := len(srv.Messages()); n != 3 {
		t.Errorf("Messages: got %d, want 3", n)
	}
}

func TestURL(t *testing.T) {
	srv := StartWith(t, Options{Username: "u@x", Password: "p:w@"})
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	if u.Scheme != "smtp" || u.Host != srv.Addr() || u.User.Username() != "u@x" || pw != "p:w@" || u.Query().Get("from") != From {
		t.Errorf("got URL %q", srv.URL())
	}
	if srv.ClientTLSConfig() != nil {
		t.Errorf("ClientTLSConfig without TLS: want nil")
	}
	tlsSrv := StartWith(t, Options{ImplicitTLS: true})
	if !strings.HasPrefix(tlsSrv.URL(), "smtps://127.0.0.1:") {
		t.Errorf("got URL %q, want smtps://127.0.0.1:…", tlsSrv.URL())
	}
	conn, err := tls.Dial("tcp", tlsSrv.Addr(), tlsSrv.ClientTLSConfig())
	if err != nil {
		t.Fatalf("TLS dial with ClientTLSConfig: %v", err)
	}
	_ = conn.Close()
}

package mail

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/urbackend/urbackend/errs"
)

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	err := l.Send(t.Context(), Message{
		To:      "ada@example.com",
		Bcc:     []string{"secret-bcc@example.com"},
		Subject: "Verify your account",
		Text:    "Your verification code is 482913. It expires in 5 minutes.",
		HTML:    "<p>HTML-ONLY-MARKER</p>",
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	out := buf.String()
	if n := strings.Count(out, "\n"); n != 1 {
		t.Errorf("got %d log lines, want 1:\n%s", n, out)
	}
	for _, want := range []string{"mail not sent (no SMTP configured)", "to=ada@example.com", `subject="Verify your account"`, "482913"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
	for _, unwanted := range []string{"HTML-ONLY-MARKER", "secret-bcc"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("log %q contains %q", out, unwanted)
		}
	}
}

func TestLogSenderHTMLOnly(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	if err := l.Send(t.Context(), Message{To: "ada@example.com", Subject: "Reset your password", HTML: "<p>Code 777111</p>"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "777111") {
		t.Errorf("log %q lacks the code of an HTML-only message", buf.String())
	}
}

func TestLogSenderRejectsLikeSMTP(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	for _, m := range []Message{
		{To: "ada@example.com", Subject: "Hi\r\nBcc: x@example.com", Text: "x"},
		{To: "not an address", Subject: "Hi", Text: "x"},
		{Subject: "Hi", Text: "x"},
	} {
		if err := l.Send(t.Context(), m); errs.KindOf(err) != errs.Invalid {
			t.Errorf("Send(%+v) = %v, want an Invalid error", m, err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("logged %q for rejected messages", buf.String())
	}
}

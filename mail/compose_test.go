package mail

import (
	"bytes"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"
	"time"
)

func TestWriteHeaderFolds(t *testing.T) {
	for _, tc := range []struct {
		name, value string
	}{
		{"short", "Hello"},
		{"empty", ""},
		{"long words", strings.Repeat("word ", 40)},
		{"one huge word", strings.Repeat("x", 200)},
		{"double spaces", "a  b" + strings.Repeat("  padding", 20)},
		{"encoded", mime.QEncoding.Encode("UTF-8", strings.Repeat("ünïcödé ", 30))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			writeHeader(&b, "Subject", tc.value)
			out := b.String()
			if !strings.HasSuffix(out, "\r\n") {
				t.Fatalf("header %q does not end with CRLF", out)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
			for i, l := range lines {
				if i > 0 && (!strings.HasPrefix(l, " ") || strings.TrimSpace(l) == "") {
					t.Errorf("continuation line %q must start with a space and hold text", l)
				}
				if len(l) > maxLine && strings.Contains(strings.TrimSpace(l[len("Subject:"):]), " ") {
					t.Errorf("line %q is longer than %d though it has a break point", l, maxLine)
				}
			}
			// Unfolding (RFC 5322 §2.2.3) gives back the value.
			unfolded := strings.ReplaceAll(strings.TrimSuffix(out, "\r\n"), "\r\n", "")
			if want := "Subject: " + tc.value; unfolded != want {
				t.Errorf("unfolded header %q, want %q", unfolded, want)
			}
		})
	}
}

func TestComposeManyRecipients(t *testing.T) {
	var to []string
	for i := range 30 {
		to = append(to, "Recipient Number "+strings.Repeat("x", i)+" <r"+strings.Repeat("y", i)+"@example.com>")
	}
	env, data, err := compose(Message{From: "a@example.com", To: strings.Join(to, ", "), Cc: []string{"A@example.com"}, Bcc: []string{"a@EXAMPLE.com", "z@example.com"}, Subject: "Hi"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(env.to) != 32 {
		t.Errorf("got %d envelope recipients, want 32 (duplicates removed)", len(env.to))
	}
	checkWellFormed(t, data)
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	list, err := msg.Header.AddressList("To")
	if err != nil || len(list) != 30 {
		t.Fatalf("got %d To addresses (%v), want 30", len(list), err)
	}
	if list[29].Address != "r"+strings.Repeat("y", 29)+"@example.com" {
		t.Errorf("got last address %q", list[29].Address)
	}
	if strings.Contains(string(data), "z@example.com") {
		t.Errorf("Bcc address in message data")
	}
}

func TestComposeDate(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("", 2*3600))
	_, data, err := compose(Message{From: "a@example.com", To: "b@example.com", Subject: "Hi", Text: "x"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("\r\nDate: Wed, 04 Mar 2026 05:06:07 +0200\r\n")) {
		t.Errorf("no RFC 5322 date in\n%s", data)
	}
}

func TestMessageID(t *testing.T) {
	for _, tc := range []struct {
		id, from, want string
	}{
		{"abc@example.com", "a@x.org", "<abc@example.com>"},
		{"<abc@example.com>", "a@x.org", "<abc@example.com>"},
	} {
		got, err := messageID(tc.id, tc.from)
		if err != nil || got != tc.want {
			t.Errorf("messageID(%q) = %q, %v; want %q", tc.id, got, err, tc.want)
		}
	}
	a, _ := messageID("", "a@x.org")
	b, _ := messageID("", "a@x.org")
	if a == b || !strings.HasSuffix(a, "@x.org>") {
		t.Errorf("generated IDs %q and %q: want distinct, in x.org", a, b)
	}
	for _, bad := range []string{"no-at", "a b@c", "a<b@c", `"q"@c`} {
		if _, err := messageID(bad, "a@x.org"); err == nil {
			t.Errorf("messageID(%q): got no error", bad)
		}
	}
}

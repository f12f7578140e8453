package mail

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseSMTPURL(t *testing.T) {
	for _, tc := range []struct {
		raw      string
		want     Config
		wantAddr string
	}{
		{"smtp://mail.example.com", Config{Host: "mail.example.com"}, "mail.example.com:587"},
		{"  smtp://mail.example.com/  ", Config{Host: "mail.example.com"}, "mail.example.com:587"},
		{"SMTP://Mail.Example.com:25", Config{Host: "Mail.Example.com", Port: 25}, "Mail.Example.com:25"},
		{"smtps://mail.example.com", Config{Host: "mail.example.com", ImplicitTLS: true}, "mail.example.com:465"},
		{"smtps://mail.example.com:2465", Config{Host: "mail.example.com", Port: 2465, ImplicitTLS: true}, "mail.example.com:2465"},
		{"smtp://127.0.0.1:2525", Config{Host: "127.0.0.1", Port: 2525}, "127.0.0.1:2525"},
		{"smtp://[::1]:2525", Config{Host: "::1", Port: 2525}, "[::1]:2525"},
		{"smtp://apikey@mail.example.com", Config{Host: "mail.example.com", Username: "apikey"}, "mail.example.com:587"},
		{
			"smtp://user%40example.com:p%40ss%3Aw%2Frd@mail.example.com:587",
			Config{Host: "mail.example.com", Port: 587, Username: "user@example.com", Password: "p@ss:w/rd"},
			"mail.example.com:587",
		},
		{
			"smtps://u:pw@mail.example.com?from=urBackend+%3Cnoreply%40example.com%3E",
			Config{Host: "mail.example.com", ImplicitTLS: true, Username: "u", Password: "pw", From: "urBackend <noreply@example.com>"},
			"mail.example.com:465",
		},
		{"smtp://mail.example.com?from=noreply@example.com", Config{Host: "mail.example.com", From: "noreply@example.com"}, "mail.example.com:587"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := ParseSMTPURL(tc.raw)
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Config{}, "TLSConfig")); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if a := got.addr(); a != tc.wantAddr {
				t.Errorf("got address %q, want %q", a, tc.wantAddr)
			}
		})
	}
}

func TestParseSMTPURLErrors(t *testing.T) {
	const password = "hunter2"
	for _, tc := range []struct {
		raw, want string
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"mail.example.com", "missing scheme"},
		{"http://mail.example.com", `unsupported scheme "http"`},
		{"smtp:mail.example.com", "want smtp://host"},
		{"smtp://", "missing host"},
		{"smtp://:2525", "missing host"},
		{"smtp://mail.example.com:0", "bad port"},
		{"smtp://mail.example.com:65536", "bad port"},
		{"smtp://mail.example.com:abc", "invalid port"},
		{"smtp://mail.example.com/inbox", "unexpected path"},
		{"smtp://mail.example.com#x", "unexpected fragment"},
		{"smtp://mail.example.com?tls=yes", `unknown parameter "tls"`},
		{"smtp://mail.example.com?from=a@example.com&from=b@example.com", "more than once"},
		{"smtp://mail.example.com?from=nobody", "bad from address"},
		{"smtp://mail.example.com?from=a@example.com%0D%0ABcc:x@example.com", "line breaks"},
		{"smtp://mail.example.com?from=%zz", "bad query"},
		{"smtp://:hunter2@mail.example.com", "password without a user name"},
		// Malformed URLs with credentials: nothing of them may be echoed.
		{"smtp://user:hunter2@mail.example.com:abc", "malformed"},
		{"smtp://user:hun%zzter2@mail.example.com", "malformed"},
		{"smtp://user:hunter2 @mail.example.com", "malformed"},
		{"smtp://user:hunter2@mail.example.com/inbox", "unexpected path"},
		{"ftp://user:hunter2@mail.example.com", "unsupported scheme"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			_, err := ParseSMTPURL(tc.raw)
			if err == nil {
				t.Fatalf("got no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %q, want it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "invalid SMTP URL: ") {
				t.Errorf("got error %q, want prefix %q", err, "invalid SMTP URL: ")
			}
			for _, secret := range []string{password, "hun%zzter2", "%zz"} {
				if strings.Contains(tc.raw, "@") && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q echoes the password", err)
				}
			}
		})
	}
}

func TestConfigStringRedactsPassword(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Host: "mail.example.com", Username: "u", Password: "hunter2", From: "a@example.com"}, "smtp://u:xxxxx@mail.example.com:587?from=a%40example.com"},
		{Config{Host: "mail.example.com", Port: 2465, ImplicitTLS: true}, "smtps://mail.example.com:2465"},
		{Config{Host: "::1", Username: "u"}, "smtp://u@[::1]:587"},
	} {
		got := tc.cfg.String()
		if got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
		if _, err := ParseSMTPURL(got); err != nil {
			t.Errorf("ParseSMTPURL(%q): %v", got, err)
		}
	}
}

func TestTLSConfigDefaults(t *testing.T) {
	got := Config{Host: "mail.example.com"}.tlsConfig()
	if got.ServerName != "mail.example.com" || got.MinVersion == 0 {
		t.Errorf("got ServerName %q MinVersion %#x", got.ServerName, got.MinVersion)
	}
}

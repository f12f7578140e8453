package server_test

import (
	"net/mail"
	"slices"
	"testing"
)

// TestMailSend checks POST /api/mail/send (§7.1): secret key only, the
// validation messages, and a rendered mail arriving at the SMTP server.
func TestMailSend(t *testing.T) {
	u := uaNew(t)
	send := func(key string, body any) restResult {
		t.Helper()
		return u.rest("POST", "/api/mail/send", restReq{Key: key, Body: body})
	}
	sk := u.p.SecretKey

	send(u.p.PublishableKey, map[string]any{"to": "ada@example.com", "subject": "s", "text": "t"}).
		wantError(t, 403, "Forbidden. This action requires a Secret Key (sk_live_...).")
	u.rest("POST", "/api/mail/send", restReq{Body: map[string]any{"to": "ada@example.com", "subject": "s", "text": "t"}}).
		wantError(t, 401, "API key not found")

	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"no body", nil, "Invalid input: expected string, received undefined"},
		{"to missing", map[string]any{"subject": "s", "text": "t"}, "Invalid input: expected string, received undefined"},
		{"to an array", map[string]any{"to": []string{"ada@example.com"}, "subject": "s", "text": "t"}, "Invalid input: expected string, received array"},
		{"to invalid", map[string]any{"to": "ada", "subject": "s", "text": "t"}, "Invalid recipient email format"},
		{"to two addresses", map[string]any{"to": "ada@example.com,bob@example.com", "subject": "s", "text": "t"}, "Invalid recipient email format"},
		{"subject too long", map[string]any{"to": "ada@example.com", "subject": uaRepeat("s", 201), "text": "t"}, "Subject is too long"},
		{"subject not a string", map[string]any{"to": "ada@example.com", "subject": 1, "text": "t"}, "Invalid input: expected string, received number"},
		{"html not a string", map[string]any{"to": "ada@example.com", "subject": "s", "html": true}, "Invalid input: expected string, received boolean"},
		{"bad template id", map[string]any{"to": "ada@example.com", "templateId": "xyz"}, "Invalid template id"},
		{"variables not an object", map[string]any{"to": "ada@example.com", "subject": "s", "text": "t", "variables": []string{"a"}}, "Invalid input: expected object, received array"},
		{"subject only", map[string]any{"to": "ada@example.com", "subject": "s"}, "Provide either (subject + html/text) or a templateId/templateName."},
		{"text only", map[string]any{"to": "ada@example.com", "text": "t"}, "Provide either (subject + html/text) or a templateId/templateName."},
		{"blank subject", map[string]any{"to": "ada@example.com", "subject": "   ", "html": "<p>x</p>"}, "Provide either (subject + html/text) or a templateId/templateName."},
		{"both template keys", map[string]any{"to": "ada@example.com", "templateId": "000000000000000000000001", "templateName": "welcome"}, "Provide only one of templateId or templateName."},
		{"unknown template name", map[string]any{"to": "ada@example.com", "templateName": "nope"}, "Template not found."},
		{"unknown template id", map[string]any{"to": "ada@example.com", "templateId": "0123456789abcdef01234567"}, "Template not found."},
		{"renders to an empty subject", map[string]any{"to": "ada@example.com", "subject": "{{missing}}", "text": "t"}, "Subject is required."},
		{"renders to no content", map[string]any{"to": "ada@example.com", "subject": "s", "text": "{{missing}}"}, "Provide at least one of html or text content."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			send(sk, tc.body).wantError(t, 400, tc.want)
		})
	}
	u.noMail(t)

	// Direct mode, rendered: {{x}} escaped in HTML, plain in subject and
	// text; {{{x}}} raw; dotted paths; missing → ""; URL variables
	// normalised. Unknown keys (from, cc, bcc) are dropped.
	r := send(sk, map[string]any{
		"to":      " Ada@Example.com ",
		"subject": "Hi {{name}}",
		"text":    "Hello {{name}} from {{user.city}}{{missing}}! {{link_url}} [{{bad_url}}]",
		"html":    "<p>{{name}} {{{raw}}} {{user.city}}</p>",
		"variables": map[string]any{
			"name": "<Ada>", "raw": "<i>x</i>", "user": map[string]any{"city": "Paris"},
			"link_url": "https://example.com/a?b=1", "bad_url": "javascript:alert(1)",
		},
		"from": "evil@example.com", "cc": "cc@example.com", "bcc": "bcc@example.com",
	})
	uaWantBody(t, r, 200, map[string]any{"success": true, "message": "Mail sent successfully.",
		"data": map[string]any{"id": nil, "provider": "default", "monthlyUsage": 1, "monthlyLimit": -1}})
	m := u.nextMail(t)
	if to, err := mail.ParseAddress(m.To); err != nil || to.Address != "Ada@Example.com" || !slices.Equal(m.RcptTo, []string{"Ada@Example.com"}) {
		t.Errorf("recipients: got envelope %v, To %q, want only Ada@Example.com", m.RcptTo, m.To)
	}
	if m.MailFrom != "no-reply@urbackend.local" || m.Cc != "" {
		t.Errorf("sender: got MAIL FROM %q, Cc %q, want the platform sender and no Cc", m.MailFrom, m.Cc)
	}
	if m.Subject != "Hi <Ada>" {
		t.Errorf("subject: got %q, want %q", m.Subject, "Hi <Ada>")
	}
	if want := "Hello <Ada> from Paris! https://example.com/a?b=1 []"; m.Text != want {
		t.Errorf("text: got %q, want %q", m.Text, want)
	}
	if want := "<p>&lt;Ada&gt; <i>x</i> Paris</p>"; m.HTML != want {
		t.Errorf("html: got %q, want %q", m.HTML, want)
	}

	// Template mode, by name in any case; the request's subject wins.
	r = send(sk, map[string]any{"to": "bob@example.com", "templateName": "WELCOME", "variables": map[string]any{"name": "Bob", "appName": "Shop"}})
	uaWantBody(t, r, 200, map[string]any{"success": true, "message": "Mail sent successfully.",
		"data": map[string]any{"id": nil, "provider": "default", "monthlyUsage": 2, "monthlyLimit": -1,
			"templateUsed": map[string]any{"id": "000000000000000000000001", "scope": "global", "key": "welcome", "name": "Welcome"}}})
	m = u.nextMail(t)
	if m.Subject != "Welcome to Shop" || m.Text != "Hi Bob,\n\nwelcome to Shop!\n" || m.HTML != "<p>Hi Bob,</p><p>welcome to Shop!</p>" {
		t.Errorf("welcome mail: got subject %q, text %q, html %q", m.Subject, m.Text, m.HTML)
	}
	r = send(sk, map[string]any{"to": "bob@example.com", "templateId": "000000000000000000000002", "subject": "Custom {{title}}", "variables": map[string]any{"title": "T", "message": "M"}})
	if r.Status != 200 || get(r.json(t), "data", "templateUsed", "key") != "notification" {
		t.Fatalf("notification: got %d %s", r.Status, r.Body)
	}
	m = u.nextMail(t)
	if m.Subject != "Custom T" || m.Text != "M\n" || m.HTML != "<p>M</p>" {
		t.Errorf("notification mail: got subject %q, text %q, html %q", m.Subject, m.Text, m.HTML)
	}
	u.noMail(t)
}

package mail

import (
	"encoding/json"
	"math"
	"testing"
)

func TestRender(t *testing.T) {
	vars := map[string]any{
		"name":    "Ada",
		"otp":     "123456",
		"html":    `<b>"Tom" & 'Jerry'</b>`,
		"count":   float64(3),
		"price":   1.5,
		"big":     1e21,
		"zero":    math.Copysign(0, -1),
		"ok":      true,
		"nothing": nil,
		"list":    []any{"a", float64(2), nil, true},
		"user":    map[string]any{"name": "Grace", "profile": map[string]any{"city": "NYC"}},
		"items":   []any{map[string]any{"title": "first"}},
		"tags":    []string{"x", "y"},
		"int":     42,
		"nested":  "{{otp}}",

		"resetUrl":    "https://Example.COM?token=a\"b<c>",
		"avatarURI":   "http://cdn.example.com/a.png",
		"badUrl":      "javascript:alert(1)",
		"relativeUrl": "/reset",
		"urls":        "not a url key", // ends in "urls", not "url"
		"links":       map[string]any{"homeUrl": "ftp://example.com", "docsUrl": " https://docs.example.com/x "},
		"backupUrl":   []any{"https://a.example.com", "data:text/html,hi"},
		"countUrl":    float64(5),
	}
	for _, tc := range []struct {
		name, tmpl, text, html string
	}{
		{"plain", "Hello {{name}}", "Hello Ada", "Hello Ada"},
		{"whitespace", "{{ name }}-{{\tname\t}}-{{  otp}}", "Ada-Ada-123456", "Ada-Ada-123456"},
		{"unknown", "[{{missing}}][{{ user.missing }}][{{name.length}}]", "[][][]", "[][][]"},
		{"null", "[{{nothing}}]", "[]", "[]"},
		{"escaped in HTML", "{{html}}", `<b>"Tom" & 'Jerry'</b>`, "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"},
		{"raw", "{{{html}}}", `<b>"Tom" & 'Jerry'</b>`, `<b>"Tom" & 'Jerry'</b>`},
		{"raw with spaces", "{{{ html }}}", `<b>"Tom" & 'Jerry'</b>`, `<b>"Tom" & 'Jerry'</b>`},
		{"dotted", "{{user.name}} in {{ user.profile.city }}", "Grace in NYC", "Grace in NYC"},
		{"array index", "{{items.0.title}} {{list.0}} {{items.5.title}}", "first a ", "first a "},
		{"numbers", "{{count}} {{price}} {{big}} {{zero}} {{int}}", "3 1.5 1e+21 0 42", "3 1.5 1e+21 0 42"},
		{"bool", "{{ok}}", "true", "true"},
		{"array", "{{list}}|{{tags}}", "a,2,,true|x,y", "a,2,,true|x,y"},
		{"object", "{{user}}", "[object Object]", "[object Object]"},
		{"no recursive expansion", "{{nested}}", "{{otp}}", "{{otp}}"},
		{"not placeholders", "{{}} {{ }} {name} {{na me}} {{name", "{{}} {{ }} {name} {{na me}} {{name", "{{}} {{ }} {name} {{na me}} {{name"},
		{"four braces", "{{{{name}}}}", "{Ada}", "{Ada}"},
		{"unbalanced triple", "{{{name}}", "{Ada", "{Ada"},
		{"url normalised", "{{{resetUrl}}}", "https://example.com/?token=a%22b%3Cc%3E", "https://example.com/?token=a%22b%3Cc%3E"},
		{"url escaped", "{{resetUrl}}", "https://example.com/?token=a%22b%3Cc%3E", "https://example.com/?token=a%22b%3Cc%3E"},
		{"uri", "{{avatarURI}}", "http://cdn.example.com/a.png", "http://cdn.example.com/a.png"},
		{"bad url schemes", "[{{badUrl}}][{{relativeUrl}}][{{links.homeUrl}}]", "[][][]", "[][][]"},
		{"nested url trimmed", "{{links.docsUrl}}", "https://docs.example.com/x", "https://docs.example.com/x"},
		{"urls key untouched", "{{urls}}", "not a url key", "not a url key"},
		{"array under url key", "{{backupUrl}}", "https://a.example.com/,", "https://a.example.com/,"},
		{"non-string url value", "{{countUrl}}", "5", "5"},
		{"no placeholders", "Your code: 123456", "Your code: 123456", "Your code: 123456"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RenderText(tc.tmpl, vars); got != tc.text {
				t.Errorf("RenderText(%q) = %q, want %q", tc.tmpl, got, tc.text)
			}
			if got := Render(tc.tmpl, vars); got != tc.text {
				t.Errorf("Render(%q) = %q, want %q", tc.tmpl, got, tc.text)
			}
			if got := RenderHTML(tc.tmpl, vars); got != tc.html {
				t.Errorf("RenderHTML(%q) = %q, want %q", tc.tmpl, got, tc.html)
			}
		})
	}
}

func TestRenderNilVars(t *testing.T) {
	if got := RenderHTML("Hi {{name}}!", nil); got != "Hi !" {
		t.Errorf("got %q, want %q", got, "Hi !")
	}
}

// Variables decoded from a JSON request body render as the original
// service renders them.
func TestRenderJSONVariables(t *testing.T) {
	var vars map[string]any
	if err := json.Unmarshal([]byte(`{"user":{"name":"Lin","age":30},"code":"<123>","magicLinkUrl":"https://app.example.com/magic?t=abc"}`), &vars); err != nil {
		t.Fatal(err)
	}
	got := RenderHTML(`<p>{{ user.name }} ({{user.age}}) {{code}} <a href="{{magicLinkUrl}}">go</a></p>`, vars)
	want := `<p>Lin (30) &lt;123&gt; <a href="https://app.example.com/magic?t=abc">go</a></p>`
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// Rendering does not modify vars.
	if vars["magicLinkUrl"] != "https://app.example.com/magic?t=abc" {
		t.Errorf("vars changed: %v", vars)
	}
}

func TestSafeURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://example.com", "https://example.com/"},
		{"HTTPS://EXAMPLE.com/Path?q=1#frag", "https://example.com/Path?q=1#frag"},
		{"http://user@example.com:8080/a b", "http://user@example.com:8080/a%20b"},
		{"https://example.com/x?a=<script>", "https://example.com/x?a=%3Cscript%3E"},
		{"https://example.com/\"><x", "https://example.com/%22%3E%3Cx"},
		{"javascript:alert(1)", ""},
		{"mailto:a@example.com", ""},
		{"//example.com", ""},
		{"https://", ""},
		{"http://exa mple.com", ""},
		{"", ""},
	} {
		if got := safeURL(tc.in); got != tc.want {
			t.Errorf("safeURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

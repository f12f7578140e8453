package files

import (
	"regexp"
	"testing"
)

func TestPrefixPattern(t *testing.T) {
	const pid = "65a1b2c3d4e5f60718293a4b"
	path := pid + "/0b0e2c4a-1f2d-4c3b-9a8e-7d6c5b4a3f2e_report (1).pdf"
	for _, tc := range []struct {
		prefix string
		match  bool
	}{
		{"", true},
		{"report (1", true},
		{"rep", true},
		{"eport", false},
		{".*", false},
		{pid + "/0b0e", true},
		{pid + "/0b0f", false},
		{pid + "/0b0e2c4a-1f2d-4c3b-9a8e-7d6c5b4a3f2e_report (1).pdf", true},
	} {
		re := prefixPattern(pid, tc.prefix)
		if re == "" {
			if !tc.match || tc.prefix != "" {
				t.Errorf("prefix %q: no pattern", tc.prefix)
			}
			continue
		}
		if got := regexp.MustCompile(re).MatchString(path); got != tc.match {
			t.Errorf("prefix %q (%s): match %v, want %v", tc.prefix, re, got, tc.match)
		}
	}
}

func TestURLAndPathOf(t *testing.T) {
	const base = "https://api.example.test"
	p := "65a1b2c3d4e5f60718293a4b/0b0e2c4a-1f2d-4c3b-9a8e-7d6c5b4a3f2e_a b#?.txt"
	u := URL(base, p)
	if want := base + "/files/65a1b2c3d4e5f60718293a4b/0b0e2c4a-1f2d-4c3b-9a8e-7d6c5b4a3f2e_a%20b%23%3F.txt"; u != want {
		t.Fatalf("URL: got %q, want %q", u, want)
	}
	for in, want := range map[string]string{
		base + "/files/x/y":            "x/y",
		"x/y":                          "x/y",
		"https://other.test/files/x/y": "https://other.test/files/x/y",
	} {
		if got := PathOf(base, in); got != want {
			t.Errorf("PathOf(%q): got %q, want %q", in, got, want)
		}
	}
	if got := PathOf("", "/files/x/y"); got != "/files/x/y" {
		t.Errorf("PathOf without a public URL: %q", got)
	}
}

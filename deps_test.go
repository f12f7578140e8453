package main

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestOperationPackagesImportNoTransport enforces the layering of
// STYLE.md: operation packages never import a transport (net/http, chi,
// gqlgen, gorilla/websocket) themselves, and do not reach chi, gqlgen or
// gorilla even indirectly. (net/http arrives indirectly through the
// MongoDB driver, which is fine.)
func TestOperationPackagesImportNoTransport(t *testing.T) {
	ops := []string{"admins", "auth", "catalog", "collections", "data", "dbpool", "errs", "files", "mail", "mailer", "policy", "principal", "projects", "query", "ratelimit", "secret", "usertoken", "validate"}
	transports := []string{"github.com/go-chi/chi/v5", "github.com/99designs/gqlgen", "github.com/gorilla/websocket", "github.com/vektah/gqlparser/v2"}
	for _, pkg := range ops {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-json", "./"+pkg).Output()
			if err != nil {
				t.Fatalf("go list %s: %v", pkg, err)
			}
			var info struct {
				Imports []string
				Deps    []string
			}
			if err := json.Unmarshal(out, &info); err != nil {
				t.Fatal(err)
			}
			if slices.Contains(info.Imports, "net/http") {
				t.Errorf("%s imports net/http", pkg)
			}
			for _, d := range info.Deps {
				for _, tr := range transports {
					if d == tr || strings.HasPrefix(d, tr+"/") {
						t.Errorf("%s depends on transport package %s", pkg, d)
					}
				}
			}
		})
	}
}

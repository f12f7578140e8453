package policy

import (
	"testing"

	"github.com/urbackend/urbackend/errs"
)

func TestCheckCollectionName(t *testing.T) {
	tests := []struct {
		name    string
		blocked bool
	}{
		{"users", true},
		{"Users", true},
		{"USERS", true},
		{" users\t", true},
		{"\ufeffusers\u00a0", true},
		{"uſers", false}, // only simple lower-casing, as JavaScript does
		{"users2", false},
		{"posts", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCollectionName(tt.name)
			if !tt.blocked {
				wantErr(t, err, 0, "")
				return
			}
			wantErr(t, err, errs.Forbidden, "Use /api/userAuth endpoints for users collection operations.")
		})
	}
}

func TestRequireSecret(t *testing.T) {
	wantErr(t, RequireSecret(sk), 0, "")
	wantErr(t, RequireSecret(pkUser), errs.Forbidden, "Forbidden. This action requires a Secret Key (sk_live_...).")
	wantErr(t, RequireSecret(Principal{}), errs.Forbidden, "Forbidden. This action requires a Secret Key (sk_live_...).")
}

func TestPrincipal(t *testing.T) {
	if !skUser.IsSecret() || skUser.HasUser() {
		t.Errorf("secret principal: got IsSecret %v HasUser %v, want true false", skUser.IsSecret(), skUser.HasUser())
	}
	if pkAnon.HasUser() || !pkUser.HasUser() {
		t.Errorf("HasUser: got anon %v user %v, want false true", pkAnon.HasUser(), pkUser.HasUser())
	}
	if got := Secret.String() + "," + Publishable.String(); got != "secret,publishable" {
		t.Errorf("got %q, want secret,publishable", got)
	}
}

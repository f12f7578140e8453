package policy

import (
	"testing"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

const (
	uid   = "65a1b2c3d4e5f60718293a4b"
	other = "65a1b2c3d4e5f60718293a4c"
)

var (
	pkAnon = Principal{Key: Publishable}
	pkUser = Principal{Key: Publishable, UserID: uid}
	sk     = Principal{Key: Secret}
	skUser = Principal{Key: Secret, UserID: uid}
)

// coll returns a defined collection with the given RLS.
func coll(enabled bool, mode, owner string, requireAuth bool, fields ...collections.Field) *collections.Collection {
	return &collections.Collection{
		Name:   "posts",
		Fields: fields,
		RLS:    collections.RLS{Enabled: enabled, Mode: mode, OwnerField: owner, RequireAuthForWrite: requireAuth},
	}
}

// wantErr checks that err has the kind and exact client message, or is nil
// when msg is "".
func wantErr(t *testing.T, err error, kind errs.Kind, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want %d %q", kind.Status(), msg)
	}
	if got := errs.KindOf(err); got != kind {
		t.Errorf("got status %d, want %d", got.Status(), kind.Status())
	}
	if got := errs.ClientMessage(err); got != msg {
		t.Errorf("got message %q, want %q", got, msg)
	}
}

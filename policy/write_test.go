package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

const (
	msgWriteAuth = "Provide a valid user Bearer token for write operations."
	msgNotYours  = "You can only modify your own document."
)

func TestCheckWrite(t *testing.T) {
	tests := []struct {
		name       string
		p          Principal
		c          *collections.Collection
		restricted bool
		owner      string
		kind       errs.Kind
		msg        string
	}{
		{name: "write/1 sk missing collection", p: sk, c: nil},
		{name: "write/1 sk rls disabled", p: sk, c: coll(false, collections.PublicRead, "userId", true)},
		{name: "write/1 sk bad mode", p: skUser, c: coll(true, "weird", "userId", true)},
		{name: "write/2 pk collection not defined", p: pkUser, c: nil, kind: errs.NotFound, msg: "Collection not found"},
		{name: "write/2 pk collection not defined anonymous", p: pkAnon, c: nil, kind: errs.NotFound, msg: "Collection not found"},
		{name: "write/3 pk rls disabled", p: pkUser, c: coll(false, collections.Private, "userId", true), kind: errs.Forbidden, msg: "Enable RLS for this collection to allow publishable-key writes."},
		{name: "write/3 pk rls disabled anonymous", p: pkAnon, c: coll(false, collections.PublicRead, "userId", true), kind: errs.Forbidden, msg: "Enable RLS for this collection to allow publishable-key writes."},
		{name: "write/4 pk requireAuthForWrite no user", p: pkAnon, c: coll(true, collections.PublicRead, "userId", true), kind: errs.Unauthenticated, msg: msgWriteAuth},
		{name: "write/4 pk requireAuthForWrite no user before bad mode", p: pkAnon, c: coll(true, "weird", "userId", true), kind: errs.Unauthenticated, msg: msgWriteAuth},
		{name: "write/5 pk bad mode with user", p: pkUser, c: coll(true, "weird", "userId", true), kind: errs.Forbidden, msg: "Unsupported RLS mode"},
		{name: "write/5 pk bad mode no user without requireAuthForWrite", p: pkAnon, c: coll(true, "weird", "userId", false), kind: errs.Forbidden, msg: "Unsupported RLS mode"},
		{name: "write/6 pk no user without requireAuthForWrite", p: pkAnon, c: coll(true, collections.PublicRead, "userId", false), kind: errs.Unauthenticated, msg: msgWriteAuth},
		{name: "write/6 pk valid user public-read", p: pkUser, c: coll(true, collections.PublicRead, "userId", true), restricted: true, owner: "userId"},
		{name: "write/6 pk valid user private", p: pkUser, c: coll(true, collections.Private, "ownerId", false), restricted: true, owner: "ownerId"},
		{name: "write/6 pk valid user owner-write-only", p: pkUser, c: coll(true, collections.OwnerWriteOnly, "userId", true), restricted: true, owner: "userId"},
		{name: "write/6 pk valid user default mode and owner", p: pkUser, c: coll(true, "", "", true), restricted: true, owner: "userId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := CheckWrite(tt.p, tt.c)
			wantErr(t, err, tt.kind, tt.msg)
			if g.Restricted() != tt.restricted || g.OwnerField() != tt.owner {
				t.Errorf("got guard restricted %v owner %q, want %v %q", g.Restricted(), g.OwnerField(), tt.restricted, tt.owner)
			}
			if tt.restricted && g.UserID() != uid {
				t.Errorf("got user %q, want %q", g.UserID(), uid)
			}
		})
	}
}

// guard returns the guard of a pk user on a collection with RLS enabled.
func guard(t *testing.T, owner string, fields ...collections.Field) WriteGuard {
	t.Helper()
	g, err := CheckWrite(pkUser, coll(true, collections.Private, owner, true, fields...))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestInsert(t *testing.T) {
	oid, _ := bson.ObjectIDFromHex(uid)
	refOwner := collections.Field{Key: "userId", Type: collections.Ref, Ref: "users"}
	strOwner := collections.Field{Key: "userId", Type: collections.String}
	tests := []struct {
		name string
		g    WriteGuard
		body any
		want any
		kind errs.Kind
		msg  string
	}{
		{name: "write/1 sk body unchanged", g: WriteGuard{}, body: map[string]any{"userId": other}, want: map[string]any{"userId": other}},
		{name: "write/1 sk empty array unchanged", g: WriteGuard{}, body: []any{}, want: []any{}},
		{name: "write/7 ownerField _id", g: guard(t, "_id"), body: map[string]any{"a": 1}, kind: errs.Forbidden, msg: "RLS ownerField '_id' is not valid for insert ownership checks."},
		{name: "write/7 ownerField _id before empty array", g: guard(t, "_id"), body: []any{}, kind: errs.Forbidden, msg: "RLS ownerField '_id' is not valid for insert ownership checks."},
		{name: "write/8 empty array", g: guard(t, "userId"), body: []any{}, kind: errs.Invalid, msg: "Request body cannot be an empty array."},
		{name: "write/8 empty bson.A", g: guard(t, "userId"), body: bson.A{}, kind: errs.Invalid, msg: "Request body cannot be an empty array."},
		{name: "write/9 body is a string", g: guard(t, "userId"), body: "hello", kind: errs.Invalid, msg: "Item at index 0 must be a valid object"},
		{name: "write/9 body is null", g: guard(t, "userId"), body: nil, kind: errs.Invalid, msg: "Item at index 0 must be a valid object"},
		{name: "write/9 second item is a number", g: guard(t, "userId"), body: []any{map[string]any{}, 5.0}, kind: errs.Invalid, msg: "Item at index 1 must be a valid object"},
		{name: "write/9 nil map", g: guard(t, "userId"), body: map[string]any(nil), kind: errs.Invalid, msg: "Item at index 0 must be a valid object"},
		{name: "write/9 item is an array", g: guard(t, "userId"), body: []any{[]any{}}, kind: errs.Invalid, msg: "Item at index 0 must be a valid object"},
		{name: "write/10 owner absent is injected", g: guard(t, "userId"), body: map[string]any{"title": "a"}, want: map[string]any{"title": "a", "userId": uid}},
		{name: "write/10 owner null is injected", g: guard(t, "userId"), body: map[string]any{"userId": nil}, want: map[string]any{"userId": uid}},
		{name: "write/10 owner empty is injected", g: guard(t, "userId"), body: bson.M{"userId": ""}, want: bson.M{"userId": uid}},
		{name: "write/10 declared String owner stored as string", g: guard(t, "userId", strOwner), body: map[string]any{}, want: map[string]any{"userId": uid}},
		{name: "write/10 declared Ref owner stored as ObjectID", g: guard(t, "userId", refOwner), body: map[string]any{}, want: map[string]any{"userId": oid}},
		{name: "write/10 custom owner field", g: guard(t, "ownerId"), body: map[string]any{"userId": other}, want: map[string]any{"userId": other, "ownerId": uid}},
		{name: "write/10 bulk items each injected", g: guard(t, "userId"), body: []any{map[string]any{"n": 1.0}, map[string]any{"n": 2.0, "userId": uid}},
			want: []any{map[string]any{"n": 1.0, "userId": uid}, map[string]any{"n": 2.0, "userId": uid}}},
		{name: "write/10 bson.D item injected in place of the key", g: guard(t, "userId"), body: bson.D{{Key: "userId", Value: nil}, {Key: "a", Value: 1}},
			want: bson.D{{Key: "userId", Value: uid}, {Key: "a", Value: 1}}},
		{name: "write/10 bson.D item appended", g: guard(t, "userId"), body: bson.A{bson.D{{Key: "a", Value: 1}}},
			want: bson.A{bson.D{{Key: "a", Value: 1}, {Key: "userId", Value: uid}}}},
		{name: "write/11 single item other owner", g: guard(t, "userId"), body: map[string]any{"userId": other}, kind: errs.Forbidden, msg: "Item at index 0 must have userId equal to your user id"},
		{name: "write/11 bulk third item other owner", g: guard(t, "ownerId"), body: []any{map[string]any{}, map[string]any{"ownerId": uid}, map[string]any{"ownerId": other}},
			kind: errs.Forbidden, msg: "Item at index 2 must have ownerId equal to your user id"},
		{name: "write/11 numeric owner", g: guard(t, "userId"), body: map[string]any{"userId": 7.0}, kind: errs.Forbidden, msg: "Item at index 0 must have userId equal to your user id"},
		{name: "write/11 object owner", g: guard(t, "userId"), body: map[string]any{"userId": map[string]any{"$ne": ""}}, kind: errs.Forbidden, msg: "Item at index 0 must have userId equal to your user id"},
		{name: "write/11 array owner", g: guard(t, "userId"), body: map[string]any{"userId": []any{uid}}, kind: errs.Forbidden, msg: "Item at index 0 must have userId equal to your user id"},
		{name: "write/11 BOM-prefixed owner key", g: guard(t, "userId"), body: map[string]any{"\ufeffuserId": other}, kind: errs.Forbidden, msg: "Item at index 0 must have userId equal to your user id"},
		{name: "write/11 bson.D other owner", g: guard(t, "userId"), body: bson.D{{Key: "userId", Value: other}}, kind: errs.Forbidden, msg: "Item at index 0 must have userId equal to your user id"},
		{name: "write/12 own id as string kept", g: guard(t, "userId"), body: map[string]any{"userId": uid, "t": "x"}, want: map[string]any{"userId": uid, "t": "x"}},
		{name: "write/12 own id normalized to ObjectID for Ref owner", g: guard(t, "userId", refOwner), body: map[string]any{"userId": uid}, want: map[string]any{"userId": oid}},
		{name: "write/12 own ObjectID accepted", g: guard(t, "userId"), body: map[string]any{"userId": oid}, want: map[string]any{"userId": uid}},
		{name: "write/12 trimmed alias key folded into owner", g: guard(t, "userId"), body: map[string]any{" userId ": uid}, want: map[string]any{"userId": uid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.g.Insert(tt.body)
			wantErr(t, err, tt.kind, tt.msg)
			if tt.msg != "" {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseID(t *testing.T) {
	for _, id := range []string{"", "abc", "aaaaaaaaaaaa", uid + "0", "zza1b2c3d4e5f60718293a4b"} {
		t.Run("write/13 "+id, func(t *testing.T) {
			_, err := ParseID(id)
			wantErr(t, err, errs.Invalid, "Invalid ID format.")
		})
	}
	got, err := ParseID(uid)
	if err != nil || got.Hex() != uid {
		t.Errorf("got %v %v, want %s", got, err, uid)
	}
}

func TestModify(t *testing.T) {
	oid, _ := bson.ObjectIDFromHex(uid)
	otherOID, _ := bson.ObjectIDFromHex(other)
	mine := map[string]any{"_id": otherOID, "userId": uid, "title": "a"}
	raw, err := bson.Marshal(bson.D{{Key: "_id", Value: otherOID}, {Key: "userId", Value: oid}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		g      WriteGuard
		stored any
		patch  any
		kind   errs.Kind
		msg    string
	}{
		{name: "write/1 sk other owner allowed", g: WriteGuard{}, stored: map[string]any{"userId": other}, patch: map[string]any{"userId": uid}},
		{name: "write/14 sk document not found", g: WriteGuard{}, stored: nil, kind: errs.NotFound, msg: "Document not found."},
		{name: "write/14 pk document not found", g: guard(t, "userId"), stored: nil, patch: map[string]any{"a": 1}, kind: errs.NotFound, msg: "Document not found."},
		{name: "write/14 pk nil bson.D", g: guard(t, "userId"), stored: bson.D(nil), kind: errs.NotFound, msg: "Document not found."},
		{name: "write/15 _id owner not the user", g: guard(t, "_id"), stored: map[string]any{"_id": otherOID}, kind: errs.Forbidden, msg: msgNotYours},
		{name: "write/15 _id owner is the user", g: guard(t, "_id"), stored: map[string]any{"_id": oid}, patch: map[string]any{"name": "x"}},
		{name: "write/16 _id owner changing _id", g: guard(t, "_id"), stored: map[string]any{"_id": oid}, patch: map[string]any{"_id": other}, kind: errs.Forbidden, msg: "_id cannot be changed under RLS."},
		{name: "write/16 owner changed", g: guard(t, "userId"), stored: mine, patch: map[string]any{"userId": other}, kind: errs.Forbidden, msg: "userId cannot be changed under RLS."},
		{name: "write/16 owner set to null", g: guard(t, "userId"), stored: mine, patch: map[string]any{"userId": nil}, kind: errs.Forbidden, msg: "userId cannot be changed under RLS."},
		{name: "write/16 custom owner changed", g: guard(t, "ownerId"), stored: map[string]any{"ownerId": uid}, patch: bson.D{{Key: "ownerId", Value: other}}, kind: errs.Forbidden, msg: "ownerId cannot be changed under RLS."},
		{name: "write/16 before 17 on someone else's document", g: guard(t, "userId"), stored: map[string]any{"userId": other}, patch: map[string]any{"userId": uid}, kind: errs.Forbidden, msg: "userId cannot be changed under RLS."},
		{name: "write/16 before 17 claiming an ownerless document", g: guard(t, "userId"), stored: map[string]any{"title": "a"}, patch: map[string]any{"userId": uid}, kind: errs.Forbidden, msg: "userId cannot be changed under RLS."},
		{name: "write/16 dotted path into owner", g: guard(t, "userId"), stored: mine, patch: map[string]any{"userId.x": 1}, kind: errs.Forbidden, msg: "userId cannot be changed under RLS."},
		{name: "write/16 BOM-prefixed owner key", g: guard(t, "userId"), stored: mine, patch: map[string]any{"\ufeffuserId": other}, kind: errs.Forbidden, msg: "userId cannot be changed under RLS."},
		{name: "write/17 stored owner is someone else", g: guard(t, "userId"), stored: map[string]any{"userId": other}, patch: map[string]any{"title": "b"}, kind: errs.Forbidden, msg: msgNotYours},
		{name: "write/17 stored owner missing", g: guard(t, "userId"), stored: map[string]any{"title": "a"}, patch: map[string]any{"title": "b"}, kind: errs.Forbidden, msg: msgNotYours},
		{name: "write/17 stored owner null", g: guard(t, "userId"), stored: bson.M{"userId": nil}, patch: map[string]any{"title": "b"}, kind: errs.Forbidden, msg: msgNotYours},
		{name: "write/17 stored owner null and patch null", g: guard(t, "userId"), stored: bson.M{"userId": nil}, patch: map[string]any{"userId": nil}, kind: errs.Forbidden, msg: msgNotYours},
		{name: "write/17 delete someone else's document", g: guard(t, "userId"), stored: bson.D{{Key: "userId", Value: otherOID}}, patch: nil, kind: errs.Forbidden, msg: msgNotYours},
		{name: "write/18 update own document", g: guard(t, "userId"), stored: mine, patch: map[string]any{"title": "b"}},
		{name: "write/18 same owner value in patch", g: guard(t, "userId"), stored: mine, patch: map[string]any{"userId": uid, "title": "b"}},
		{name: "write/18 ObjectID owner, string in patch", g: guard(t, "userId"), stored: bson.Raw(raw), patch: map[string]any{"userId": uid}},
		{name: "write/18 delete own document", g: guard(t, "userId"), stored: bson.D{{Key: "userId", Value: oid}}, patch: nil},
		{name: "write/18 other keys merely containing the owner name", g: guard(t, "userId"), stored: mine, patch: map[string]any{"userIdx": 1, "meta.userId": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.g.Modify(tt.stored, tt.patch), tt.kind, tt.msg)
		})
	}
}

func TestOwnerValue(t *testing.T) {
	oid, _ := bson.ObjectIDFromHex(uid)
	tests := []struct {
		name   string
		fields []collections.Field
		owner  string
		user   string
		want   any
	}{
		{"undeclared", nil, "userId", uid, uid},
		{"String", []collections.Field{{Key: "userId", Type: collections.String}}, "userId", uid, uid},
		{"Ref", []collections.Field{{Key: "userId", Type: collections.Ref, Ref: "users"}}, "userId", uid, oid},
		{"Ref with a non-ObjectID user id", []collections.Field{{Key: "userId", Type: collections.Ref}}, "userId", "abc", "abc"},
		{"other field is Ref", []collections.Field{{Key: "author", Type: collections.Ref}}, "userId", uid, uid},
		{"_id", nil, "_id", uid, oid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, OwnerValue(tt.fields, tt.owner, tt.user)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// doc is a named document type with its own lookup, like data.Doc.
type doc bson.D

func (d doc) Get(key string) (any, bool) {
	for _, e := range d {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

func TestModifyNamedDocument(t *testing.T) {
	g := guard(t, "userId")
	wantErr(t, g.Modify(doc(nil), nil), errs.NotFound, "Document not found.")
	wantErr(t, g.Modify(doc{{Key: "userId", Value: other}}, nil), errs.Forbidden, msgNotYours)
	wantErr(t, g.Modify(doc{{Key: "userId", Value: uid}}, bson.D{{Key: "title", Value: "x"}}), 0, "")
	if !(OwnerFilter{Field: "userId", UserID: uid}).Matches(doc{{Key: "userId", Value: uid}}) {
		t.Error("got no match for a named document type, want a match")
	}
}

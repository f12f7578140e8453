package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name string
		p    Principal
		c    *collections.Collection
		want OwnerFilter
		kind errs.Kind
		msg  string
	}{
		{name: "read/1 sk missing collection", p: sk, c: nil},
		{name: "read/1 sk private without token", p: sk, c: coll(true, collections.Private, "userId", true)},
		{name: "read/1 sk private token ignored", p: skUser, c: coll(true, collections.Private, "userId", true)},
		{name: "read/1 sk unsupported mode", p: sk, c: coll(true, "weird", "userId", true)},
		{name: "read/2 pk collection not defined", p: pkUser, c: nil, kind: errs.NotFound, msg: "Collection not found"},
		{name: "read/3 pk rls disabled public-read", p: pkAnon, c: coll(false, collections.PublicRead, "userId", true)},
		{name: "read/3 pk rls disabled private", p: pkAnon, c: coll(false, collections.Private, "userId", true)},
		{name: "read/3 pk rls disabled bad mode", p: pkUser, c: coll(false, "weird", "userId", true)},
		{name: "read/4 pk public-read anonymous", p: pkAnon, c: coll(true, collections.PublicRead, "userId", true)},
		{name: "read/4 pk public-read with token", p: pkUser, c: coll(true, collections.PublicRead, "userId", true)},
		{name: "read/4 pk owner-write-only anonymous", p: pkAnon, c: coll(true, collections.OwnerWriteOnly, "userId", true)},
		{name: "read/4 pk owner-write-only with token", p: pkUser, c: coll(true, collections.OwnerWriteOnly, "userId", true)},
		{name: "read/4 pk missing mode defaults to public-read", p: pkAnon, c: coll(true, "", "userId", true)},
		{name: "read/5 pk private missing token", p: pkAnon, c: coll(true, collections.Private, "userId", true), kind: errs.Unauthenticated, msg: "Provide a valid user Bearer token for private reads."},
		{name: "read/6 pk private valid token", p: pkUser, c: coll(true, collections.Private, "userId", true), want: OwnerFilter{Field: "userId", UserID: uid}},
		{name: "read/6 pk private custom owner field", p: pkUser, c: coll(true, collections.Private, "ownerId", false), want: OwnerFilter{Field: "ownerId", UserID: uid}},
		{name: "read/6 pk private missing owner field defaults to userId", p: pkUser, c: coll(true, collections.Private, "", true), want: OwnerFilter{Field: "userId", UserID: uid}},
		{name: "read/7 pk unsupported mode", p: pkUser, c: coll(true, "weird", "userId", true), kind: errs.Forbidden, msg: "Unsupported RLS mode"},
		{name: "read/7 pk unsupported mode anonymous", p: pkAnon, c: coll(true, "Private", "userId", true), kind: errs.Forbidden, msg: "Unsupported RLS mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.p, tt.c)
			wantErr(t, err, tt.kind, tt.msg)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOwnerFilter(t *testing.T) {
	oid, _ := bson.ObjectIDFromHex(uid)
	f := OwnerFilter{Field: "userId", UserID: uid}
	if diff := cmp.Diff([]any{uid, oid}, f.Values()); diff != "" {
		t.Errorf("Values (-want +got):\n%s", diff)
	}
	wantD := bson.D{{Key: "userId", Value: bson.D{{Key: "$in", Value: bson.A{uid, oid}}}}}
	if diff := cmp.Diff(wantD, f.BSON()); diff != "" {
		t.Errorf("BSON (-want +got):\n%s", diff)
	}
	plain := OwnerFilter{Field: "owner", UserID: "github|42"}
	if diff := cmp.Diff([]any{"github|42"}, plain.Values()); diff != "" {
		t.Errorf("Values of a non-ObjectID id (-want +got):\n%s", diff)
	}
	var zero OwnerFilter
	if !zero.IsZero() || zero.Values() != nil || len(zero.BSON()) != 0 {
		t.Errorf("zero filter: got IsZero %v Values %v BSON %v, want true nil empty", zero.IsZero(), zero.Values(), zero.BSON())
	}

	raw, err := bson.Marshal(bson.D{{Key: "userId", Value: oid}})
	if err != nil {
		t.Fatal(err)
	}
	matches := []struct {
		name string
		f    OwnerFilter
		doc  any
		want bool
	}{
		{"string owner", f, map[string]any{"userId": uid}, true},
		{"ObjectID owner", f, bson.M{"userId": oid}, true},
		{"bson.D owner", f, bson.D{{Key: "x", Value: 1}, {Key: "userId", Value: uid}}, true},
		{"raw owner", f, bson.Raw(raw), true},
		{"other owner", f, map[string]any{"userId": other}, false},
		{"missing owner", f, map[string]any{"title": "x"}, false},
		{"null owner", f, map[string]any{"userId": nil}, false},
		{"object owner", f, map[string]any{"userId": map[string]any{"id": uid}}, false},
		{"zero filter", zero, map[string]any{}, true},
	}
	for _, tt := range matches {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Matches(tt.doc); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

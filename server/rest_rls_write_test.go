package server_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/testdb"
)

// rlsWrite is one of the five writes of §2.7 on one document.
type rlsWrite struct {
	name   string
	method string
	path   string
	body   any
}

// writes lists insert, bulk, PUT, PATCH and DELETE against coll, the
// updates and the delete on document id.
func rlsWrites(coll, id string) []rlsWrite {
	return []rlsWrite{
		{"insert", http.MethodPost, "/api/data/" + coll, map[string]any{"title": "new"}},
		{"bulk", http.MethodPost, "/api/data/" + coll + "/bulk", []any{map[string]any{"title": "new"}}},
		{"PUT", http.MethodPut, "/api/data/" + coll + "/" + id, map[string]any{"title": "changed"}},
		{"PATCH", http.MethodPatch, "/api/data/" + coll + "/" + id, map[string]any{"title": "changed"}},
		{"DELETE", http.MethodDelete, "/api/data/" + coll + "/" + id, nil},
	}
}

// modifications are the three writes on an existing document.
func rlsModifications(coll, id string, body map[string]any) []rlsWrite {
	return []rlsWrite{
		{"PUT", http.MethodPut, "/api/data/" + coll + "/" + id, body},
		{"PATCH", http.MethodPatch, "/api/data/" + coll + "/" + id, body},
		{"DELETE", http.MethodDelete, "/api/data/" + coll + "/" + id, nil},
	}
}

// writesRefused checks that every write is refused with the exact error
// and that nothing changed in the collection.
func (f *rlsFixture) writesRefused(t *testing.T, ws []rlsWrite, coll, key, authorization string, status int, msg string) {
	t.Helper()
	before := f.storedWhere(t, coll, bson.D{})
	for _, w := range ws {
		t.Run(w.name, func(t *testing.T) {
			f.e.rest(w.method, w.path, rlsReq(key, authorization, w.body)).wantError(t, status, msg)
		})
	}
	if after := f.storedWhere(t, coll, bson.D{}); !reflect.DeepEqual(after, before) {
		t.Errorf("refused writes changed %s:\ngot  %v\nwant %v", coll, after, before)
	}
}

// wantInserted checks a 201 insert response: the document with exactly
// the fields of want (plus _id, timestamps and __v); it returns its id.
func rlsWantInserted(t *testing.T, r restResult, want map[string]any) string {
	t.Helper()
	if r.Status != http.StatusCreated {
		t.Fatalf("insert: got %d %s, want 201", r.Status, r.Body)
	}
	doc := r.json(t)
	id := str(doc, "_id")
	if _, err := bson.ObjectIDFromHex(id); err != nil {
		t.Fatalf("insert: got _id %q, want 24 hex digits", id)
	}
	w := map[string]any{"_id": id}
	for k, v := range want {
		w[k] = v
	}
	rlsWantDoc(t, doc, w, true)
	return id
}

// rlsWantBulk checks the exact bulk success body.
func rlsWantBulk(t *testing.T, r restResult, n int) {
	t.Helper()
	want := map[string]any{"success": true, "data": map[string]any{"insertedCount": float64(n)}, "message": "Bulk insert successful"}
	if got := rlsDecode(t, r); r.Status != http.StatusCreated || !reflect.DeepEqual(got, want) {
		t.Fatalf("bulk: got %d %s, want 201 %v", r.Status, r.Body, want)
	}
}

// rlsWantUpdated checks a 200 update response carrying want (plus _id,
// timestamps and __v).
func rlsWantUpdated(t *testing.T, r restResult, id string, want map[string]any) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("update: got %d %s, want 200", r.Status, r.Body)
	}
	b := r.json(t)
	if b["message"] != "Updated" {
		t.Fatalf("update: got message %v, want Updated (%s)", b["message"], r.Body)
	}
	if b["success"] != nil && b["success"] != true {
		t.Fatalf("update: got success %v, want true or absent", b["success"])
	}
	w := map[string]any{"_id": id}
	for k, v := range want {
		w[k] = v
	}
	rlsWantDoc(t, b["data"], w, true)
}

// rlsWantDeleted checks the exact delete body.
func rlsWantDeleted(t *testing.T, r restResult, id string) {
	t.Helper()
	want := map[string]any{"success": true, "message": "Document deleted", "id": id}
	if got := rlsDecode(t, r); r.Status != http.StatusOK || !reflect.DeepEqual(got, want) {
		t.Fatalf("delete: got %d %s, want 200 %v", r.Status, r.Body, want)
	}
}

// TestRESTRLSWrite covers every row of the RLS write table
// (contract/REST.md §2.7) with insert, bulk insert, PUT, PATCH and DELETE.
func TestRESTRLSWrite(t *testing.T) {
	f := newRLSFixture(t)
	e := f.e
	pk, sk := f.p.PublishableKey, f.p.SecretKey
	alice, bob := rlsBearer(f.aliceTok), rlsBearer(f.bobTok)
	title := field("title", "String")
	f.define(t, "open", nil, title)
	f.define(t, "pub", map[string]any{"enabled": true, "mode": "PUBLIC_READ", "ownerField": "userId"}, title)
	f.define(t, "owo", map[string]any{"enabled": true, "mode": "OWNER_WRITE_ONLY", "ownerField": "userId"}, title)
	f.define(t, "priv", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "userId"}, title)
	f.define(t, "privref", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "owner"}, title, field("owner", "Ref", "ref", "users"))
	f.define(t, "noauth", map[string]any{"enabled": true, "mode": "PUBLIC_READ", "ownerField": "userId", "requireAuthForWrite": false}, title)
	f.define(t, "weird", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "userId"}, title)
	f.setRLS(t, "weird", bson.D{{Key: "rls.mode", Value: "team-only"}})
	f.define(t, "weird2", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "userId", "requireAuthForWrite": false}, title)
	f.setRLS(t, "weird2", bson.D{{Key: "rls.mode", Value: "team-only"}})
	f.define(t, "byid", map[string]any{"enabled": true, "mode": "PUBLIC_READ", "ownerField": "userId"}, title)
	f.setRLS(t, "byid", bson.D{{Key: "rls.ownerField", Value: "_id"}})

	seedOwned := func(t *testing.T, coll, title, owner string) string {
		t.Helper()
		return f.seed(t, coll, map[string]any{"title": title, "userId": owner})
	}
	missing := bson.NewObjectID().Hex()
	const writeAuth = "Provide a valid user Bearer token for write operations."

	t.Run("write/1 sk nothing injected", func(t *testing.T) {
		id := rlsWantInserted(t, e.rest(http.MethodPost, "/api/data/priv", rlsReq(sk, alice, map[string]any{"title": "sk"})), map[string]any{"title": "sk"})
		if _, ok := f.stored(t, "priv", id)["userId"]; ok {
			t.Errorf("stored %v: got an owner, want none injected for the secret key", f.stored(t, "priv", id))
		}
		rlsWantBulk(t, e.rest(http.MethodPost, "/api/data/priv/bulk", rlsReq(sk, alice, []any{map[string]any{"title": "skb"}})), 1)
		if got := f.storedWhere(t, "priv", bson.D{{Key: "title", Value: "skb"}}); len(got) != 1 || got[0]["userId"] != nil {
			t.Errorf("bulk stored %v, want one document without owner", got)
		}
	})
	t.Run("write/1 sk any owner, rls disabled", func(t *testing.T) {
		rlsWantInserted(t, e.rest(http.MethodPost, "/api/data/open", rlsReq(sk, "", map[string]any{"title": "x", "userId": f.bob})), map[string]any{"title": "x", "userId": f.bob})
		rlsWantInserted(t, e.rest(http.MethodPost, "/api/data/weird", rlsReq(sk, "", map[string]any{"title": "x"})), map[string]any{"title": "x"})
	})
	t.Run("write/1 sk no ownership checks", func(t *testing.T) {
		id := seedOwned(t, "pub", "bob's", f.bob)
		rlsWantUpdated(t, e.rest(http.MethodPut, "/api/data/pub/"+id, rlsReq(sk, alice, map[string]any{"userId": f.alice})), id, map[string]any{"title": "bob's", "userId": f.alice})
		rlsWantUpdated(t, e.rest(http.MethodPatch, "/api/data/pub/"+id, rlsReq(sk, "", map[string]any{"title": "t"})), id, map[string]any{"title": "t", "userId": f.alice})
		rlsWantDeleted(t, e.rest(http.MethodDelete, "/api/data/pub/"+id, rlsReq(sk, "", nil)), id)
		if d := f.stored(t, "pub", id); d != nil {
			t.Errorf("deleted document still stored: %v", d)
		}
	})
	t.Run("write/1 sk missing collection", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("nope", missing), "nope", sk, "", http.StatusNotFound, "Collection not found")
	})
	t.Run("write/1 sk id checked before collection", func(t *testing.T) {
		for _, w := range rlsWrites("nope", "not-an-id")[2:] {
			t.Run(w.name, func(t *testing.T) {
				e.rest(w.method, w.path, rlsReq(sk, "", w.body)).wantError(t, http.StatusBadRequest, "Invalid ID format.")
			})
		}
	})

	t.Run("write/2 pk collection not defined", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("nope", missing), "nope", pk, alice, http.StatusNotFound, "Collection not found")
	})
	t.Run("write/2 pk collection checked before id", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("nope", "not-an-id")[2:], "nope", pk, alice, http.StatusNotFound, "Collection not found")
	})

	openID := seedOwned(t, "open", "alice's", f.alice)
	t.Run("write/3 rls disabled", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("open", openID), "open", pk, alice, http.StatusForbidden, "Enable RLS for this collection to allow publishable-key writes.")
	})
	t.Run("write/3 rls disabled without token", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("open", openID), "open", pk, "", http.StatusForbidden, "Enable RLS for this collection to allow publishable-key writes.")
	})

	pubAlice := seedOwned(t, "pub", "alice's", f.alice)
	t.Run("write/4 no token", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("pub", pubAlice), "pub", pk, "", http.StatusUnauthorized, writeAuth)
	})
	t.Run("write/4 checked before id", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("pub", "not-an-id")[2:], "pub", pk, "", http.StatusUnauthorized, writeAuth)
	})
	for _, bt := range f.badTokens(t) {
		t.Run("write/4 "+bt.name, func(t *testing.T) {
			f.writesRefused(t, rlsWrites("pub", pubAlice), "pub", pk, rlsBearer(bt.tok), http.StatusUnauthorized, writeAuth)
		})
	}
	t.Run("write/4 unsupported mode without token", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("weird", missing), "weird", pk, "", http.StatusUnauthorized, writeAuth)
	})

	t.Run("write/5 unsupported mode", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("weird", missing), "weird", pk, alice, http.StatusForbidden, "Unsupported RLS mode")
	})
	t.Run("write/5 unsupported mode, auth not required, no token", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("weird2", missing), "weird2", pk, "", http.StatusForbidden, "Unsupported RLS mode")
	})

	noauthID := seedOwned(t, "noauth", "alice's", f.alice)
	t.Run("write/6 auth not required, no token", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("noauth", noauthID), "noauth", pk, "", http.StatusUnauthorized, writeAuth)
	})
	t.Run("write/6 auth not required, expired token", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("noauth", noauthID), "noauth", pk, rlsBearer(f.badTokens(t)[0].tok), http.StatusUnauthorized, writeAuth)
	})
	t.Run("write/6 auth not required, valid token", func(t *testing.T) {
		rlsWantInserted(t, e.rest(http.MethodPost, "/api/data/noauth", rlsReq(pk, alice, map[string]any{"title": "n"})), map[string]any{"title": "n", "userId": f.alice})
		rlsWantUpdated(t, e.rest(http.MethodPatch, "/api/data/noauth/"+noauthID, rlsReq(pk, alice, map[string]any{"title": "m"})), noauthID, map[string]any{"title": "m", "userId": f.alice})
	})

	t.Run("write/7 owner field _id", func(t *testing.T) {
		f.writesRefused(t, rlsWrites("byid", missing)[:2], "byid", pk, alice, http.StatusForbidden, "RLS ownerField '_id' is not valid for insert ownership checks.")
	})

	t.Run("write/8 empty array bulk", func(t *testing.T) {
		f.writesRefused(t, []rlsWrite{{"bulk", http.MethodPost, "/api/data/pub/bulk", []any{}}}, "pub", pk, alice, http.StatusBadRequest, "Request body cannot be an empty array.")
	})
	t.Run("write/8 empty array insert", func(t *testing.T) {
		f.writesRefused(t, []rlsWrite{{"insert", http.MethodPost, "/api/data/pub", []any{}}}, "pub", pk, alice, http.StatusBadRequest, "Request body cannot be an empty array.")
	})

	t.Run("write/9 item not an object", func(t *testing.T) {
		for _, tc := range []struct {
			w    rlsWrite
			want string
		}{
			{rlsWrite{"bulk number", http.MethodPost, "/api/data/pub/bulk", []any{map[string]any{"title": "ok"}, 7}}, "Item at index 1 must be a valid object"},
			{rlsWrite{"bulk null", http.MethodPost, "/api/data/pub/bulk", []any{map[string]any{"title": "ok"}, map[string]any{"title": "ok"}, nil}}, "Item at index 2 must be a valid object"},
			{rlsWrite{"bulk array", http.MethodPost, "/api/data/pub/bulk", []any{[]any{map[string]any{"title": "ok"}}}}, "Item at index 0 must be a valid object"},
			{rlsWrite{"bulk string", http.MethodPost, "/api/data/pub/bulk", []any{map[string]any{"title": "ok"}, "x"}}, "Item at index 1 must be a valid object"},
			{rlsWrite{"insert array of number", http.MethodPost, "/api/data/pub", []any{5}}, "Item at index 0 must be a valid object"},
		} {
			f.writesRefused(t, []rlsWrite{tc.w}, "pub", pk, alice, http.StatusBadRequest, tc.want)
		}
	})

	t.Run("write/10 owner injected on insert", func(t *testing.T) {
		for name, body := range map[string]map[string]any{
			"absent": {"title": "i-absent"},
			"null":   {"title": "i-null", "userId": nil},
			"empty":  {"title": "i-empty", "userId": ""},
		} {
			t.Run(name, func(t *testing.T) {
				id := rlsWantInserted(t, e.rest(http.MethodPost, "/api/data/pub", rlsReq(pk, alice, body)), map[string]any{"title": body["title"], "userId": f.alice})
				if got := f.stored(t, "pub", id)["userId"]; got != f.alice {
					t.Errorf("stored owner: got %T %v, want string %s", got, got, f.alice)
				}
			})
		}
	})
	t.Run("write/10 owner injected on bulk", func(t *testing.T) {
		rlsWantBulk(t, e.rest(http.MethodPost, "/api/data/pub/bulk", rlsReq(pk, bob, []any{
			map[string]any{"title": "b-absent"},
			map[string]any{"title": "b-null", "userId": nil},
			map[string]any{"title": "b-empty", "userId": ""},
			map[string]any{"title": "b-own", "userId": f.bob},
		})), 4)
		got := f.storedWhere(t, "pub", bson.D{{Key: "title", Value: bson.D{{Key: "$in", Value: bson.A{"b-absent", "b-null", "b-empty", "b-own"}}}}})
		if len(got) != 4 {
			t.Fatalf("got %d stored documents, want 4: %v", len(got), got)
		}
		for _, d := range got {
			if d["userId"] != f.bob {
				t.Errorf("%v: got owner %T %v, want string %s", d["title"], d["userId"], d["userId"], f.bob)
			}
		}
	})
	t.Run("write/10 owner injected as ObjectId into a Ref owner field", func(t *testing.T) {
		id := rlsWantInserted(t, e.rest(http.MethodPost, "/api/data/privref", rlsReq(pk, alice, map[string]any{"title": "r"})), map[string]any{"title": "r", "owner": f.alice})
		if got, ok := f.stored(t, "privref", id)["owner"].(bson.ObjectID); !ok || got.Hex() != f.alice {
			t.Errorf("stored owner: got %T %v, want ObjectId %s", f.stored(t, "privref", id)["owner"], f.stored(t, "privref", id)["owner"], f.alice)
		}
		rlsWantBulk(t, e.rest(http.MethodPost, "/api/data/privref/bulk", rlsReq(pk, alice, []any{map[string]any{"title": "rb"}})), 1)
		if got := f.storedWhere(t, "privref", bson.D{{Key: "title", Value: "rb"}}); len(got) != 1 || !reflect.DeepEqual(got[0]["owner"], rlsOID(t, f.alice)) {
			t.Errorf("bulk stored %v, want owner ObjectId %s", got, f.alice)
		}
		// The private filter finds what was injected.
		r := e.rest(http.MethodGet, "/api/data/privref/"+id, rlsReq(pk, alice, nil))
		if r.Status != http.StatusOK {
			t.Fatalf("get own document: got %d %s, want 200", r.Status, r.Body)
		}
		e.rest(http.MethodGet, "/api/data/privref/"+id, rlsReq(pk, bob, nil)).wantError(t, http.StatusNotFound, "Document not found.")
	})

	t.Run("write/11 owner mismatch on insert", func(t *testing.T) {
		f.writesRefused(t, []rlsWrite{
			{"other user", http.MethodPost, "/api/data/pub", map[string]any{"title": "m", "userId": f.bob}},
			{"number", http.MethodPost, "/api/data/pub", map[string]any{"title": "m", "userId": 42}},
			{"object", http.MethodPost, "/api/data/pub", map[string]any{"title": "m", "userId": map[string]any{"$ne": ""}}},
			{"bulk first", http.MethodPost, "/api/data/pub/bulk", []any{map[string]any{"title": "m", "userId": f.bob}}},
		}, "pub", pk, alice, http.StatusForbidden, "Item at index 0 must have userId equal to your user id")
	})
	t.Run("write/11 owner mismatch in bulk", func(t *testing.T) {
		f.writesRefused(t, []rlsWrite{{"bulk second", http.MethodPost, "/api/data/pub/bulk", []any{
			map[string]any{"title": "m", "userId": f.alice},
			map[string]any{"title": "m", "userId": f.bob},
		}}}, "pub", pk, alice, http.StatusForbidden, "Item at index 1 must have userId equal to your user id")
	})
	t.Run("write/11 owner mismatch on a Ref owner field", func(t *testing.T) {
		f.writesRefused(t, []rlsWrite{{"insert", http.MethodPost, "/api/data/privref", map[string]any{"title": "m", "owner": f.bob}}},
			"privref", pk, alice, http.StatusForbidden, "Item at index 0 must have owner equal to your user id")
	})

	t.Run("write/12 own id accepted", func(t *testing.T) {
		id := rlsWantInserted(t, e.rest(http.MethodPost, "/api/data/pub", rlsReq(pk, alice, map[string]any{"title": "own", "userId": f.alice})), map[string]any{"title": "own", "userId": f.alice})
		if got := f.stored(t, "pub", id)["userId"]; got != f.alice {
			t.Errorf("stored owner: got %T %v, want %s", got, got, f.alice)
		}
		rid := rlsWantInserted(t, e.rest(http.MethodPost, "/api/data/privref", rlsReq(pk, alice, map[string]any{"title": "own", "owner": f.alice})), map[string]any{"title": "own", "owner": f.alice})
		if got := f.stored(t, "privref", rid)["owner"]; !reflect.DeepEqual(got, rlsOID(t, f.alice)) {
			t.Errorf("stored Ref owner: got %T %v, want ObjectId %s", got, got, f.alice)
		}
	})
	t.Run("write/12 mode does not matter", func(t *testing.T) {
		for _, c := range []string{"pub", "owo", "priv"} {
			t.Run(c, func(t *testing.T) {
				rlsWantInserted(t, e.rest(http.MethodPost, "/api/data/"+c, rlsReq(pk, alice, map[string]any{"title": "mode"})), map[string]any{"title": "mode", "userId": f.alice})
			})
		}
	})
	t.Run("write/12 private filter shows only own inserts", func(t *testing.T) {
		f.define(t, "diary", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "userId"}, title)
		a1 := rlsWantInserted(t, e.rest(http.MethodPost, "/api/data/diary", rlsReq(pk, alice, map[string]any{"title": "a1"})), map[string]any{"title": "a1", "userId": f.alice})
		b1 := rlsWantInserted(t, e.rest(http.MethodPost, "/api/data/diary", rlsReq(pk, bob, map[string]any{"title": "b1"})), map[string]any{"title": "b1", "userId": f.bob})
		rlsWantBulk(t, e.rest(http.MethodPost, "/api/data/diary/bulk", rlsReq(pk, alice, []any{map[string]any{"title": "a2"}})), 1)
		a2 := f.storedWhere(t, "diary", bson.D{{Key: "title", Value: "a2"}})[0]["_id"].(bson.ObjectID).Hex()
		rlsWantList(t, e.rest(http.MethodGet, "/api/data/diary", rlsReq(pk, alice, nil)), a1, a2)
		rlsWantList(t, e.rest(http.MethodGet, "/api/data/diary", rlsReq(pk, bob, nil)), b1)
		rlsWantList(t, e.rest(http.MethodGet, "/api/data/diary", rlsReq(sk, "", nil)), a1, a2, b1)
	})

	t.Run("write/13 invalid id", func(t *testing.T) {
		f.writesRefused(t, rlsModifications("pub", "not-an-id", map[string]any{"title": "x"}), "pub", pk, alice, http.StatusBadRequest, "Invalid ID format.")
	})
	t.Run("write/14 document not found", func(t *testing.T) {
		f.writesRefused(t, rlsModifications("pub", missing, map[string]any{"title": "x"}), "pub", pk, alice, http.StatusNotFound, "Document not found.")
	})

	// Documents whose _id is the owner: one is alice's own (_id = her id).
	now := bson.NewDateTimeFromTime(time.Now())
	f.insertRaw(t, "byid", bson.D{{Key: "_id", Value: rlsOID(t, f.alice)}, {Key: "title", Value: "me"},
		{Key: "createdAt", Value: now}, {Key: "updatedAt", Value: now}, {Key: "__v", Value: int32(0)}})
	byidOther := f.seed(t, "byid", map[string]any{"title": "someone", "userId": f.alice})
	t.Run("write/15 owner field _id, not the user", func(t *testing.T) {
		f.writesRefused(t, rlsModifications("byid", byidOther, map[string]any{"title": "x"}), "byid", pk, alice, http.StatusForbidden, "You can only modify your own document.")
	})
	t.Run("write/15 owner field _id, the user", func(t *testing.T) {
		rlsWantUpdated(t, e.rest(http.MethodPatch, "/api/data/byid/"+f.alice, rlsReq(pk, alice, map[string]any{"title": "me2"})), f.alice, map[string]any{"title": "me2"})
		rlsWantDeleted(t, e.rest(http.MethodDelete, "/api/data/byid/"+f.alice, rlsReq(pk, alice, nil)), f.alice)
		if d := f.stored(t, "byid", f.alice); d != nil {
			t.Errorf("deleted document still stored: %v", d)
		}
	})

	pubBob := seedOwned(t, "pub", "bob's", f.bob)
	const immutable = "userId cannot be changed under RLS."
	t.Run("write/16 owner field immutable", func(t *testing.T) {
		f.writesRefused(t, rlsModifications("pub", pubAlice, map[string]any{"title": "x", "userId": f.bob})[:2], "pub", pk, alice, http.StatusForbidden, immutable)
	})
	t.Run("write/16 owner field immutable to null or empty", func(t *testing.T) {
		f.writesRefused(t, []rlsWrite{
			{"null", http.MethodPatch, "/api/data/pub/" + pubAlice, map[string]any{"userId": nil}},
			{"empty", http.MethodPut, "/api/data/pub/" + pubAlice, map[string]any{"userId": ""}},
		}, "pub", pk, alice, http.StatusForbidden, immutable)
	})
	t.Run("write/16 checked before ownership", func(t *testing.T) {
		// Taking over bob's document is an owner change first.
		f.writesRefused(t, rlsModifications("pub", pubBob, map[string]any{"userId": f.alice})[:2], "pub", pk, alice, http.StatusForbidden, immutable)
	})
	t.Run("write/16 Ref owner field immutable", func(t *testing.T) {
		rid := f.seed(t, "privref", map[string]any{"title": "r16", "owner": f.alice})
		f.writesRefused(t, rlsModifications("privref", rid, map[string]any{"owner": f.bob})[:2], "privref", pk, alice, http.StatusForbidden, "owner cannot be changed under RLS.")
		// The same owner, sent as the hex string of the stored ObjectId, is fine.
		rlsWantUpdated(t, e.rest(http.MethodPut, "/api/data/privref/"+rid, rlsReq(pk, alice, map[string]any{"title": "r16b", "owner": f.alice})), rid, map[string]any{"title": "r16b", "owner": f.alice})
	})

	pubNoOwner := f.seed(t, "pub", map[string]any{"title": "nobody's"})
	pubNullOwner := f.seed(t, "pub", map[string]any{"title": "null's", "userId": nil})
	if d := f.stored(t, "pub", pubNullOwner); d == nil || d["userId"] != nil {
		t.Fatalf("seeded %v, want userId null", d)
	} else if _, ok := d["userId"]; !ok {
		t.Fatalf("seeded %v, want userId present and null", d)
	}
	t.Run("write/17 another user's document", func(t *testing.T) {
		f.writesRefused(t, rlsModifications("pub", pubBob, map[string]any{"title": "x"}), "pub", pk, alice, http.StatusForbidden, "You can only modify your own document.")
	})
	t.Run("write/17 same owner value, not the user", func(t *testing.T) {
		f.writesRefused(t, rlsModifications("pub", pubBob, map[string]any{"title": "x", "userId": f.bob})[:2], "pub", pk, alice, http.StatusForbidden, "You can only modify your own document.")
	})
	t.Run("write/17 stored owner missing", func(t *testing.T) {
		f.writesRefused(t, rlsModifications("pub", pubNoOwner, map[string]any{"title": "x"}), "pub", pk, alice, http.StatusForbidden, "You can only modify your own document.")
	})
	t.Run("write/17 stored owner null", func(t *testing.T) {
		f.writesRefused(t, rlsModifications("pub", pubNullOwner, map[string]any{"title": "x"}), "pub", pk, alice, http.StatusForbidden, "You can only modify your own document.")
	})
	t.Run("write/17 private mode alike", func(t *testing.T) {
		id := seedOwned(t, "priv", "bob's", f.bob)
		f.writesRefused(t, rlsModifications("priv", id, map[string]any{"title": "x"}), "priv", pk, alice, http.StatusForbidden, "You can only modify your own document.")
	})

	t.Run("write/18 own document", func(t *testing.T) {
		rlsWantUpdated(t, e.rest(http.MethodPut, "/api/data/pub/"+pubAlice, rlsReq(pk, alice, map[string]any{"title": "put"})), pubAlice, map[string]any{"title": "put", "userId": f.alice})
		rlsWantUpdated(t, e.rest(http.MethodPatch, "/api/data/pub/"+pubAlice, rlsReq(pk, alice, map[string]any{"title": "patch", "userId": f.alice})), pubAlice, map[string]any{"title": "patch", "userId": f.alice})
		if got := f.stored(t, "pub", pubAlice); got["title"] != "patch" || got["userId"] != f.alice {
			t.Errorf("stored after update: got %v, want title patch, userId %s", got, f.alice)
		}
		rlsWantDeleted(t, e.rest(http.MethodDelete, "/api/data/pub/"+pubAlice, rlsReq(pk, alice, nil)), pubAlice)
		if d := f.stored(t, "pub", pubAlice); d != nil {
			t.Errorf("deleted document still stored: %v", d)
		}
		e.rest(http.MethodGet, "/api/data/pub/"+pubAlice, restReq{Key: sk}).wantError(t, http.StatusNotFound, "Document not found.")
	})
	t.Run("write/18 bob's own document", func(t *testing.T) {
		rlsWantUpdated(t, e.rest(http.MethodPatch, "/api/data/pub/"+pubBob, rlsReq(pk, bob, map[string]any{"title": "bob2"})), pubBob, map[string]any{"title": "bob2", "userId": f.bob})
	})
	t.Run("write/18 owner-write-only and private modes", func(t *testing.T) {
		for _, c := range []string{"owo", "priv"} {
			t.Run(c, func(t *testing.T) {
				id := seedOwned(t, c, "mine", f.alice)
				rlsWantUpdated(t, e.rest(http.MethodPut, "/api/data/"+c+"/"+id, rlsReq(pk, alice, map[string]any{"title": "ok"})), id, map[string]any{"title": "ok", "userId": f.alice})
				rlsWantDeleted(t, e.rest(http.MethodDelete, "/api/data/"+c+"/"+id, rlsReq(pk, alice, nil)), id)
			})
		}
	})
}

func rlsOID(t *testing.T, hex string) bson.ObjectID {
	t.Helper()
	id, err := bson.ObjectIDFromHex(hex)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// insertRaw stores a document straight into the project's database.
func (f *rlsFixture) insertRaw(t *testing.T, coll string, doc bson.D) {
	t.Helper()
	if _, err := testdb.Client(t).Database(projectDB(t, f.p.ID)).Collection(coll).InsertOne(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
}

package validate

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

type field = collections.Field

const (
	tString  = collections.String
	tNumber  = collections.Number
	tBoolean = collections.Boolean
	tDate    = collections.Date
	tObject  = collections.Object
	tArray   = collections.Array
	tRef     = collections.Ref
)

const hexID = "65a1b2c3d4e5f60718293a4b"

var oid, _ = bson.ObjectIDFromHex(hexID)

// d builds a bson.D from key, value pairs.
func d(kv ...any) bson.D {
	out := bson.D{}
	for i := 0; i < len(kv); i += 2 {
		out = append(out, bson.E{Key: kv[i].(string), Value: kv[i+1]})
	}
	return out
}

// m is shorthand for a decoded JSON object.
type m = map[string]any

// a is shorthand for a decoded JSON array.
type a = []any

func date(s string) bson.DateTime {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return bson.NewDateTimeFromTime(t)
}

// wantErr checks that err is Invalid with the exact message, or nil when
// msg is "".
func wantErr(t *testing.T, err error, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want %q", msg)
	}
	if errs.KindOf(err) != errs.Invalid {
		t.Errorf("got status %d, want 400", errs.KindOf(err).Status())
	}
	if got := errs.ClientMessage(err); got != msg {
		t.Errorf("got message %q, want %q", got, msg)
	}
}

package dynschema

import (
	"context"

	"github.com/urbackend/urbackend/auth"
)

// Request is what the executor needs to know about the HTTP request or
// websocket an operation came on, beyond its caller: the Authorization
// value (me reads the token itself, as REST's /me does) and the client,
// for auth sessions and throttling.
type Request struct {
	Authorization string
	IP            string
	UserAgent     string
}

func (r Request) client() auth.Client { return auth.Client{IP: r.IP, UserAgent: r.UserAgent} }

type requestKey struct{}

// WithRequest returns a context carrying the request's details.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// requestFrom returns the request details on ctx (zero when none).
func requestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// Package gqlhttp serves a GraphQL schema over HTTP and websockets the way
// every GraphQL endpoint of the server does: the same transports, limits,
// and error rendering from the errs kinds.
package gqlhttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/urbackend/urbackend/errs"
)

// Options configure a GraphQL handler.
type Options struct {
	Logger *slog.Logger
	// InitFunc authenticates a websocket from its connection_init payload.
	InitFunc transport.WebsocketInitFunc
	// ComplexityLimit caps the cost of one operation (0: 1000).
	ComplexityLimit int
	// DisableIntrospection turns __schema and __type off.
	DisableIntrospection bool
	// Uploads turns on multipart requests with files (the GraphQL
	// multipart request spec) when Uploads.MaxFileBytes is set.
	Uploads Uploads
}

// New returns a gqlgen server for schema with POST, GET and websocket
// (graphql-transport-ws and graphql-ws, on gorilla/websocket) transports,
// and multipart requests with files when o.Uploads allows them.
func New(schema graphql.ExecutableSchema, o Options) *handler.Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ComplexityLimit == 0 {
		o.ComplexityLimit = 1000
	}
	srv := handler.New(schema)
	srv.AddTransport(transport.Websocket{
		Implementation: gorillaWebsocket{upgrader: websocket.Upgrader{
			// No buffer sizes: the connection reuses the HTTP server's
			// read and write buffers (held until the socket ends anyway)
			// instead of allocating two more; they do not limit message
			// sizes.
			// Credentials arrive in connection_init, never in cookies, so
			// a cross-site page cannot act with the user's authority.
			CheckOrigin: func(*http.Request) bool { return true },
		}},
		InitFunc:              o.InitFunc,
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 15 * time.Second,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	if o.Uploads.MaxFileBytes > 0 {
		srv.AddTransport(multipartTransport{u: o.Uploads.withDefaults(), schema: schema.Schema(), present: ErrorPresenter(o.Logger)})
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if !o.DisableIntrospection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(extension.FixedComplexityLimit(o.ComplexityLimit))
	srv.SetErrorPresenter(ErrorPresenter(o.Logger))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		o.Logger.ErrorContext(ctx, "panic in GraphQL resolver", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		return errs.New(errs.Internal, "internal error")
	})
	return srv
}

// ErrorPresenter renders errors: an *errs.Error gets its client message and
// extensions.code and extensions.status from its kind; gqlgen's own parse
// and validation errors pass through; anything else is logged and shown
// as "internal error".
func ErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var e *errs.Error
		switch {
		case errors.As(err, &e):
			if e.Kind == errs.Internal {
				logger.ErrorContext(ctx, "graphql internal error", "err", err)
			}
			gerr.Message = errs.ClientMessage(e)
			setExtensions(gerr, e.Kind)
		case gerr.Err == nil || errors.As(gerr.Err, new(*gqlerror.Error)):
			// gqlgen's own error (parse, validation, complexity): keep it.
		default:
			logger.ErrorContext(ctx, "graphql internal error", "err", err)
			gerr.Message = "internal error"
			setExtensions(gerr, errs.Internal)
		}
		return gerr
	}
}

func setExtensions(gerr *gqlerror.Error, k errs.Kind) {
	if gerr.Extensions == nil {
		gerr.Extensions = map[string]any{}
	}
	gerr.Extensions["code"] = k.Code()
	gerr.Extensions["status"] = k.Status()
}

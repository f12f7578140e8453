package dynschema

import (
	"net/http"

	"github.com/urbackend/urbackend/gqlhttp"
)

// servePlayground answers a browser's GET /graphql with the built-in
// playground: the project's API key and an optional user token.
func servePlayground(w http.ResponseWriter) {
	gqlhttp.ServePlayground(w, gqlhttp.Playground{
		Title: "urBackend GraphQL",
		Inputs: []gqlhttp.PlaygroundInput{
			{ID: "key", Placeholder: "x-api-key (pk_live_... or sk_live_...)", Header: "x-api-key"},
			{ID: "token", Placeholder: "user access token (optional)", Header: "Authorization", Prefix: "Bearer "},
		},
		Example: "  me { _id username }",
		Storage: "ub-graphql-",
	})
}

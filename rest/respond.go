// Package rest is the urBackend-compatible REST API. Handlers decode the
// request, call one operation and encode its result; errors are rendered
// in one place, writeError.
package rest

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/urbackend/urbackend/errs"
)

// writeJSON writes v with the status and the JSON content type the SDKs
// look for.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// errorBody is the error shape of contract/REST.md §1.5.
type errorBody struct {
	Success bool   `json:"success"`
	Error   string `json:"error"`
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// writeError renders err as the standard error body with the status of its
// kind. Internal causes are logged, never shown.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	kind := errs.KindOf(err)
	if kind == errs.Internal {
		logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", LogPath(r.URL.Path), "err", err)
	}
	msg := errs.ClientMessage(err)
	writeJSON(w, kind.Status(), errorBody{Success: false, Error: msg, Message: msg, Code: kind.Status()})
}

// NotFound answers unknown routes with the standard error body.
func NotFound(logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, logger, errs.New(errs.NotFound, "Not Found"))
	}
}

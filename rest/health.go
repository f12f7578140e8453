package rest

import (
	"context"
	"net/http"
	"time"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

type healthBody struct {
	Status       string            `json:"status"`
	Timestamp    string            `json:"timestamp"`
	Dependencies map[string]string `json:"dependencies"`
}

// Health answers GET /api/health (contract/REST.md §7.2): 200 with status
// "ok" when MongoDB answers within two seconds, else 503 with "error". The
// body is never rewritten into the error shape, so monitors can parse both.
func Health(db Pinger, now func() time.Time) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		body := healthBody{Status: "ok", Timestamp: now().UTC().Format("2006-01-02T15:04:05.000Z"), Dependencies: map[string]string{"mongodb": "connected"}}
		status := http.StatusOK
		if err := db.Ping(ctx); err != nil {
			body.Status = "error"
			body.Dependencies["mongodb"] = "disconnected"
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, body)
	}
}

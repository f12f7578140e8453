package server

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/urbackend/urbackend/analytics"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/secret"
)

// poolGauge counts checked-out MongoDB connections from the driver's pool
// events.
type poolGauge struct {
	inUse, open atomic.Int64
}

func (g *poolGauge) monitor() *event.PoolMonitor {
	return &event.PoolMonitor{Event: func(e *event.PoolEvent) {
		switch e.Type {
		case event.ConnectionCheckedOut:
			g.inUse.Add(1)
		case event.ConnectionCheckedIn:
			g.inUse.Add(-1)
		case event.ConnectionCreated:
			g.open.Add(1)
		case event.ConnectionClosed:
			g.open.Add(-1)
		}
	}}
}

// metricsHandler serves Prometheus text metrics, behind a bearer token when
// one is configured.
func (a *App) metricsHandler(token string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			got, _ := principal.Bearer(r.Header.Get("Authorization"))
			if !secret.Equal(got, token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		a.writeMetrics(r.Context(), w)
	}
}

func (a *App) writeMetrics(ctx context.Context, w io.Writer) {
	all, projects := a.Analytics.Totals()
	fmt.Fprintln(w, "# HELP urbackend_requests_total Requests that resolved a project, by door and status class.")
	fmt.Fprintln(w, "# TYPE urbackend_requests_total counter")
	// Doors and classes are counted separately; expose both labels on
	// separate series to keep them exact.
	for _, k := range sortedKeys(all.Doors) {
		fmt.Fprintf(w, "urbackend_requests_total{door=%q} %d\n", k, all.Doors[k])
	}
	fmt.Fprintln(w, "# HELP urbackend_responses_total Responses by status class.")
	fmt.Fprintln(w, "# TYPE urbackend_responses_total counter")
	for _, k := range sortedKeys(all.Status) {
		fmt.Fprintf(w, "urbackend_responses_total{class=%q} %d\n", k, all.Status[k])
	}
	fmt.Fprintln(w, "# HELP urbackend_request_duration_seconds Request latency.")
	fmt.Fprintln(w, "# TYPE urbackend_request_duration_seconds histogram")
	var cum uint64
	bounds := analytics.Bounds()
	for i, c := range all.Latency {
		cum += uint64(c)
		// Emit every fourth bucket (and the last) to keep the output short.
		if i%4 != 3 && i != len(bounds)-1 {
			continue
		}
		le := "+Inf"
		if !math.IsInf(bounds[i], 1) {
			le = fmt.Sprintf("%g", bounds[i]/1000)
		}
		fmt.Fprintf(w, "urbackend_request_duration_seconds_bucket{le=%q} %d\n", le, cum)
	}
	fmt.Fprintf(w, "urbackend_request_duration_seconds_count %d\n", all.Requests)
	fmt.Fprintln(w, "# HELP urbackend_bytes_total Request and response body bytes.")
	fmt.Fprintln(w, "# TYPE urbackend_bytes_total counter")
	fmt.Fprintf(w, "urbackend_bytes_total{direction=\"in\"} %d\nurbackend_bytes_total{direction=\"out\"} %d\n", all.BytesIn, all.BytesOut)
	fmt.Fprintln(w, "# HELP urbackend_active_projects Projects with traffic since start.")
	fmt.Fprintln(w, "# TYPE urbackend_active_projects gauge")
	fmt.Fprintf(w, "urbackend_active_projects %d\n", projects)
	fmt.Fprintln(w, "# HELP urbackend_mongo_connections MongoDB connections of the pool.")
	fmt.Fprintln(w, "# TYPE urbackend_mongo_connections gauge")
	fmt.Fprintf(w, "urbackend_mongo_connections{state=\"open\"} %d\nurbackend_mongo_connections{state=\"in_use\"} %d\n", a.poolStats.open.Load(), a.poolStats.inUse.Load())
	fmt.Fprintln(w, "# HELP urbackend_subscriptions Live GraphQL subscriptions in this instance.")
	fmt.Fprintln(w, "# TYPE urbackend_subscriptions gauge")
	fmt.Fprintf(w, "urbackend_subscriptions %d\n", a.Events.Subscribers())
	if a.graphql != nil {
		a.graphql.WriteMetrics(w)
	}
	if n, err := a.Webhooks.QueueLength(ctx); err == nil {
		fmt.Fprintln(w, "# HELP urbackend_webhook_queue Webhook deliveries waiting or in flight, all instances.")
		fmt.Fprintln(w, "# TYPE urbackend_webhook_queue gauge")
		fmt.Fprintf(w, "urbackend_webhook_queue %d\n", n)
	}
	for _, m := range a.extraMetrics {
		m(w)
	}
}

func sortedKeys(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package webhooks

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	maxResponseBody = 1024
	maxErrorLen     = 500
	// drainLimit bounds how much of a response is read to reuse the
	// connection.
	drainLimit = 64 << 10
)

// outcome is the result of one POST.
type outcome struct {
	code int    // the status; 0 when there was no response
	body string // the start of the response body
	err  string // why there was no response
	at   time.Time
	took time.Duration
}

func (o outcome) success() bool { return o.code >= 200 && o.code < 300 }

// final reports an answer that is never retried: a 4xx.
func (o outcome) final() bool { return o.code >= 400 && o.code < 500 }

func (o outcome) attempt(n int) Attempt {
	a := Attempt{Number: n, Status: "failed", StatusCode: o.code, ResponseBody: o.body, Error: o.err, AttemptedAt: o.at, DurationMs: o.took.Milliseconds()}
	if o.success() {
		a.Status = "success"
	}
	return a
}

// summary is the delivery's responseCode and error after this attempt.
func (o outcome) summary() (*int, *string) {
	var code *int
	var msg *string
	if o.code != 0 {
		c := o.code
		code = &c
	}
	if o.err != "" {
		e := o.err
		msg = &e
	}
	return code, msg
}

// post sends a delivery's body to url, signed with secret.
func (s *Service) post(ctx context.Context, url, secret string, d *Delivery, timeout time.Duration) outcome {
	o := outcome{at: s.timestamp()}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(d.Payload))
	if err != nil {
		o.err = truncate(err.Error(), maxErrorLen)
		o.took = time.Since(start)
		return o
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "urBackend-Webhook/1.0")
	req.Header.Set("X-urBackend-Signature", signature(secret, []byte(d.Payload)))
	req.Header.Set("X-urBackend-Event", d.Event)
	req.Header.Set("X-urBackend-Delivery-Id", d.ID)
	res, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			o.err = "Request timeout (" + timeout.String() + ")"
		} else {
			o.err = truncate(err.Error(), maxErrorLen)
		}
		o.took = time.Since(start)
		return o
	}
	defer res.Body.Close()
	o.code = res.StatusCode
	b, _ := io.ReadAll(io.LimitReader(res.Body, maxResponseBody*4))
	o.body = truncate(string(b), maxResponseBody)
	io.Copy(io.Discard, io.LimitReader(res.Body, drainLimit))
	o.took = time.Since(start)
	return o
}

// truncate shortens s to at most n characters, on a rune boundary.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	r := []rune(s)
	return strings.ToValidUTF8(string(r[:n]), "\uFFFD") + "..."
}

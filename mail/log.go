package mail

import (
	"context"
	"log/slog"
	"time"
)

// Log is the development sender used when no SMTP server is configured: it
// sends nothing and logs the recipient, subject and text body, so that a
// developer can read verification and reset codes from the log.
type Log struct {
	logger *slog.Logger
}

// NewLog returns a sender that logs to logger.
func NewLog(logger *slog.Logger) *Log {
	return &Log{logger: logger}
}

// Send logs one line for m. Like SMTP it returns errs.Invalid for an
// unacceptable message (bad address, no recipient, CR or LF in a header
// value); a missing From is accepted, since there is no default to use.
func (l *Log) Send(ctx context.Context, m Message) error {
	if m.From == "" {
		m.From = "nobody@localhost"
	}
	if _, _, err := compose(m, time.Now()); err != nil {
		return err
	}
	attrs := []any{"to", m.To, "subject", m.Subject}
	if m.Text != "" || m.HTML == "" {
		attrs = append(attrs, "text", m.Text)
	} else {
		attrs = append(attrs, "html", m.HTML)
	}
	l.logger.InfoContext(ctx, "mail not sent (no SMTP configured)", attrs...)
	return nil
}

package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one delivery when NewSMTP is given zero.
const DefaultTimeout = 30 * time.Second

// SMTP sends messages through an SMTP server, one connection per message.
type SMTP struct {
	cfg     Config
	timeout time.Duration
}

// NewSMTP returns a sender for cfg. timeout bounds each delivery (dial,
// TLS and the whole conversation) on top of the caller's context; zero
// means DefaultTimeout.
func NewSMTP(cfg Config, timeout time.Duration) *SMTP {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &SMTP{cfg: cfg, timeout: timeout}
}

// Send delivers m. An empty m.From means Config.From. It returns
// errs.Invalid for an unacceptable message (see Sender); other errors —
// connection, TLS, authentication, a recipient refused by the server, the
// context ending — are delivery failures, and wrap ctx.Err() when the
// context ended.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if m.From == "" {
		m.From = s.cfg.From
	}
	if strings.TrimSpace(m.From) == "" {
		return errors.New("send mail: no from address (set ?from= in the SMTP URL)")
	}
	env, data, err := compose(m, time.Now())
	if err != nil {
		return err
	}
	if s.cfg.Host == "" {
		return errors.New("send mail: no SMTP host configured")
	}
	if err := s.deliver(ctx, env, data); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("send mail via %s: %w: %w", s.cfg.addr(), ctxErr, err)
		}
		return fmt.Errorf("send mail via %s: %w", s.cfg.addr(), err)
	}
	return nil
}

// deliver runs one SMTP session: connect, (START)TLS, AUTH, envelope, data.
func (s *SMTP) deliver(ctx context.Context, env envelope, data []byte) error {
	// The sender's own timeout is a connection deadline; the context's end
	// (deadline or cancellation) wakes any blocked read or write through
	// AfterFunc, which runs only once ctx.Err() is set, so Send can report
	// it.
	deadline := time.Now().Add(s.timeout)
	dialer := net.Dialer{Deadline: deadline}
	conn, err := dialer.DialContext(ctx, "tcp", s.cfg.addr())
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	loopback := isLoopback(conn.RemoteAddr())

	var c net.Conn = conn
	secure := false
	if s.cfg.ImplicitTLS {
		tc := tls.Client(conn, s.cfg.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		c, secure = tc, true
	}
	client, err := smtp.NewClient(c, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	defer client.Close()
	hello := s.cfg.HelloName
	if hello == "" {
		hello = "localhost"
	}
	if err := client.Hello(hello); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if !secure {
		if ok, _ := client.Extension("STARTTLS"); ok {
			if err := client.StartTLS(s.cfg.tlsConfig()); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
			secure = true
		}
	}
	if s.cfg.Username != "" {
		if !secure && !loopback {
			return errors.New("refusing to send credentials without TLS: the server offers no STARTTLS (use smtps:// or enable STARTTLS)")
		}
		auth, err := chooseAuth(client, s.cfg.Username, s.cfg.Password)
		if err != nil {
			return err
		}
		if err := client.Auth(auth); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := client.Mail(env.from); err != nil {
		return fmt.Errorf("MAIL FROM <%s>: %w", env.from, err)
	}
	for _, rcpt := range env.to {
		if err := client.Rcpt(rcpt); err != nil {
			return fmt.Errorf("RCPT TO <%s>: %w", rcpt, err)
		}
	}
	w, err := client.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of data: %w", err)
	}
	// The server has accepted the message; a failed QUIT changes nothing.
	_ = client.Quit()
	return nil
}

// chooseAuth picks PLAIN, else LOGIN, from what the server offers.
func chooseAuth(c *smtp.Client, user, pass string) (smtp.Auth, error) {
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return nil, errors.New("credentials configured but the server offers no AUTH")
	}
	offered := strings.Fields(strings.ToUpper(mechs))
	for _, m := range offered {
		if m == "PLAIN" {
			return plainAuth{user: user, pass: pass}, nil
		}
	}
	for _, m := range offered {
		if m == "LOGIN" {
			return &loginAuth{user: user, pass: pass}, nil
		}
	}
	return nil, fmt.Errorf("server offers no supported AUTH mechanism (offers %q; want PLAIN or LOGIN)", mechs)
}

// plainAuth is AUTH PLAIN (RFC 4616) with an initial response. Unlike
// smtp.PlainAuth it leaves the TLS policy to deliver, which also accepts
// any loopback address.
type plainAuth struct{ user, pass string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected AUTH PLAIN challenge")
	}
	return nil, nil
}

// loginAuth is the obsolete but common AUTH LOGIN: user name, then
// password, each in answer to a challenge.
type loginAuth struct {
	user, pass string
	step       int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.pass), nil
	default:
		return nil, errors.New("unexpected AUTH LOGIN challenge")
	}
}

func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

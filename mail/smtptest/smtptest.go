// Package smtptest runs an in-process SMTP server for tests: it accepts
// every message (unless told to refuse a recipient), records it and lets a
// test wait for it.
//
//	srv := smtptest.Start(t)
//	cfg, _ := mail.ParseSMTPURL(srv.URL())
//	... code under test sends through mail.NewSMTP(cfg, 0) ...
//	msgs, err := srv.Wait(ctx, 1)
package smtptest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
)

// From is the default from-address in URL.
const From = "noreply@example.com"

// Options configure a server. The zero value is a plain server without
// AUTH.
type Options struct {
	// Username and Password, when Username is set, make AUTH mandatory
	// before MAIL and the only accepted credentials.
	Username string
	Password string
	// AuthMechanisms are advertised and accepted; default PLAIN and LOGIN.
	AuthMechanisms []string
	// StartTLS offers STARTTLS with a self-signed certificate for
	// 127.0.0.1; ImplicitTLS speaks TLS from the first byte instead.
	// Clients must trust ClientTLSConfig.
	StartTLS    bool
	ImplicitTLS bool
	// RejectRecipients are answered 550 at RCPT TO (case-insensitive).
	RejectRecipients []string
}

// Server is a running test SMTP server. It stops when the test ends.
type Server struct {
	opts      Options
	ln        net.Listener
	tlsConfig *tls.Config // server side; nil without TLS
	clientTLS *tls.Config

	wg sync.WaitGroup

	mu     sync.Mutex
	msgs   []Received
	notify chan struct{} // closed and replaced on every new message
	conns  map[net.Conn]bool
	closed bool
}

// Start starts a plain server without AUTH on 127.0.0.1.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith starts a server with opts on 127.0.0.1.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	if len(opts.AuthMechanisms) == 0 {
		opts.AuthMechanisms = []string{"PLAIN", "LOGIN"}
	}
	s := &Server{opts: opts, notify: make(chan struct{}), conns: make(map[net.Conn]bool)}
	if opts.StartTLS || opts.ImplicitTLS {
		cert, err := selfSigned()
		if err != nil {
			t.Fatalf("smtptest: certificate: %v", err)
		}
		s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		pool := x509.NewCertPool()
		pool.AddCert(cert.Leaf)
		s.clientTLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, s.tlsConfig)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.close)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is an smtp:// (or, with ImplicitTLS, smtps://) URL for the server
// that mail.ParseSMTPURL accepts, with the configured credentials and
// from=From.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr(), RawQuery: url.Values{"from": {From}}.Encode()}
	if s.opts.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.opts.Username != "" {
		u.User = url.UserPassword(s.opts.Username, s.opts.Password)
	}
	return u.String()
}

// Port is the server's TCP port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// ClientTLSConfig trusts the server's certificate; nil without TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Messages returns the messages received so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Wait blocks until at least n messages have arrived and returns them all,
// or returns ctx's error with the messages received so far.
func (s *Server) Wait(ctx context.Context, n int) ([]Received, error) {
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			msgs := append([]Received(nil), s.msgs...)
			s.mu.Unlock()
			return msgs, nil
		}
		ch := s.notify
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return s.Messages(), context.Cause(ctx)
		}
	}
}

func (s *Server) record(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, r)
	close(s.notify)
	s.notify = make(chan struct{})
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return // listener closed
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[conn] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, conn)
				s.mu.Unlock()
				_ = conn.Close()
			}()
			newSession(s, conn).run()
		}()
	}
}

// close stops the listener, drops open connections and waits for every
// goroutine.
func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	s.wg.Wait()
}

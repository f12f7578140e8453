package mail

import (
	"context"
	"errors"
	"net"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urbackend/urbackend/mail/smtptest"
)

// silentServer accepts connections and never says a word. accepted gets
// a value for each connection.
func silentServer(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			ch <- struct{}{}
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String(), ch
}

func silentConfig(t *testing.T, addr string) Config {
	t.Helper()
	cfg, err := ParseSMTPURL("smtp://" + addr + "?from=a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSendTimeout(t *testing.T) {
	m := Message{To: "ada@example.com", Subject: "Hi", Text: "x"}

	t.Run("context deadline", func(t *testing.T) {
		addr, _ := silentServer(t)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		err := NewSMTP(silentConfig(t, addr), time.Minute).Send(ctx, m)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("sender timeout", func(t *testing.T) {
		addr, _ := silentServer(t)
		err := NewSMTP(silentConfig(t, addr), 100*time.Millisecond).Send(t.Context(), m)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("got %v, want os.ErrDeadlineExceeded", err)
		}
	})

	t.Run("context cancelled while waiting", func(t *testing.T) {
		addr, accepted := silentServer(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() {
			select {
			case <-accepted:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := NewSMTP(silentConfig(t, addr), time.Minute).Send(ctx, m)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})

	t.Run("context already cancelled", func(t *testing.T) {
		srv := smtptest.Start(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := sender(t, srv).Send(ctx, m)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("server received %d messages, want 0", n)
		}
	})
}

func TestSendConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	err = NewSMTP(silentConfig(t, addr), time.Second).Send(testCtx(t), Message{To: "ada@example.com", Subject: "Hi", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "dial") {
		t.Fatalf("got %v, want a dial error", err)
	}
}

// TestCredentialsNeedTLS talks to a server on a non-loopback address that
// offers AUTH but no STARTTLS: the client must give up before AUTH.
func TestCredentialsNeedTLS(t *testing.T) {
	ip := nonLoopbackIP(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	commands := make(chan []string, 1)
	go func() {
		var seen []string
		defer func() { commands <- seen }()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		text := textproto.NewConn(c)
		if text.PrintfLine("220 fake ESMTP") != nil {
			return
		}
		for {
			line, err := text.ReadLine()
			if err != nil {
				return
			}
			seen = append(seen, line)
			var werr error
			switch verb, _, _ := strings.Cut(line, " "); strings.ToUpper(verb) {
			case "EHLO":
				werr = text.PrintfLine("250-fake\r\n250 AUTH PLAIN LOGIN")
			case "QUIT":
				_ = text.PrintfLine("221 bye")
				return
			default:
				werr = text.PrintfLine("250 OK")
			}
			if werr != nil {
				return
			}
		}
	}()
	cfg := Config{Host: ip.String(), Port: ln.Addr().(*net.TCPAddr).Port, Username: "mailer", Password: "hunter2", From: "a@example.com"}
	err = NewSMTP(cfg, 5*time.Second).Send(testCtx(t), Message{To: "ada@example.com", Subject: "Hi", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "without TLS") {
		t.Fatalf("got %v, want a refusal to send credentials without TLS", err)
	}
	seen := <-commands
	for _, c := range seen {
		if strings.HasPrefix(strings.ToUpper(c), "AUTH") || strings.Contains(c, "hunter2") {
			t.Errorf("client sent %q", c)
		}
	}
}

func nonLoopbackIP(t *testing.T) net.IP {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("no interface addresses: %v", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP
		}
	}
	t.Skip("no non-loopback IPv4 address to listen on")
	return nil
}

func TestIsLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, true},
		{&net.TCPAddr{IP: net.IPv4(127, 1, 2, 3)}, true},
		{&net.TCPAddr{IP: net.IPv6loopback}, true},
		{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 1)}, false},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1")}, false},
		{&net.UnixAddr{Name: "/tmp/x"}, false},
	} {
		if got := isLoopback(tc.addr); got != tc.want {
			t.Errorf("isLoopback(%v) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

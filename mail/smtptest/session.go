package smtptest

import (
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// session is one client connection.
type session struct {
	s    *Server
	conn net.Conn
	text *textproto.Conn
	tls  bool

	helo     bool
	authUser string
	authed   bool

	from    string
	hasFrom bool
	rcpts   []string
}

func newSession(s *Server, conn net.Conn) *session {
	_, isTLS := conn.(*tls.Conn)
	return &session{s: s, conn: conn, text: textproto.NewConn(conn), tls: isTLS}
}

func (c *session) reply(format string, args ...any) bool {
	return c.text.PrintfLine(format, args...) == nil
}

func (c *session) resetTx() {
	c.from, c.hasFrom, c.rcpts = "", false, nil
}

// run speaks SMTP until QUIT or a connection error.
func (c *session) run() {
	if !c.reply("220 smtptest ESMTP ready") {
		return
	}
	for {
		line, err := c.text.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		arg = strings.TrimSpace(arg)
		ok := true
		switch strings.ToUpper(verb) {
		case "EHLO":
			ok = c.ehlo(arg)
		case "HELO":
			c.helo = true
			c.resetTx()
			ok = c.reply("250 smtptest")
		case "STARTTLS":
			ok = c.startTLS()
		case "AUTH":
			ok = c.auth(arg)
		case "MAIL":
			ok = c.mail(arg)
		case "RCPT":
			ok = c.rcpt(arg)
		case "DATA":
			ok = c.data()
		case "RSET":
			c.resetTx()
			ok = c.reply("250 2.0.0 OK")
		case "NOOP":
			ok = c.reply("250 2.0.0 OK")
		case "VRFY":
			ok = c.reply("252 2.1.5 Cannot VRFY user")
		case "QUIT":
			c.reply("221 2.0.0 Bye")
			return
		default:
			ok = c.reply("500 5.5.2 Unrecognized command")
		}
		if !ok {
			return
		}
	}
}

func (c *session) ehlo(arg string) bool {
	if arg == "" {
		return c.reply("501 5.5.4 EHLO needs a domain")
	}
	c.helo = true
	c.resetTx()
	lines := []string{"smtptest greets " + arg, "8BITMIME", "PIPELINING"}
	if c.s.opts.StartTLS && !c.tls {
		lines = append(lines, "STARTTLS")
	}
	if c.s.opts.Username != "" {
		lines = append(lines, "AUTH "+strings.Join(c.s.opts.AuthMechanisms, " "))
	}
	lines = append(lines, "HELP")
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		if !c.reply("250%s%s", sep, l) {
			return false
		}
	}
	return true
}

func (c *session) startTLS() bool {
	if !c.s.opts.StartTLS || c.tls {
		return c.reply("502 5.5.1 STARTTLS not offered")
	}
	if !c.reply("220 2.0.0 Ready to start TLS") {
		return false
	}
	tc := tls.Server(c.conn, c.s.tlsConfig)
	if err := tc.Handshake(); err != nil {
		return false
	}
	// RFC 3207: forget everything learned before the handshake.
	c.conn, c.text, c.tls = tc, textproto.NewConn(tc), true
	c.helo, c.authed, c.authUser = false, false, ""
	c.resetTx()
	return true
}

func (c *session) auth(arg string) bool {
	if c.s.opts.Username == "" {
		return c.reply("502 5.5.1 AUTH not offered")
	}
	if !c.helo {
		return c.reply("503 5.5.1 Send EHLO first")
	}
	if c.authed {
		return c.reply("503 5.5.1 Already authenticated")
	}
	mech, initial, _ := strings.Cut(arg, " ")
	mech = strings.ToUpper(mech)
	if !slices.Contains(c.s.opts.AuthMechanisms, mech) {
		return c.reply("504 5.5.4 Unrecognized authentication type")
	}
	var user, pass string
	switch mech {
	case "PLAIN":
		resp, ok, alive := c.challenge(initial, "")
		if !ok {
			return alive
		}
		parts := strings.Split(string(resp), "\x00")
		if len(parts) != 3 {
			return c.reply("501 5.5.2 Malformed AUTH PLAIN response")
		}
		user, pass = parts[1], parts[2]
	case "LOGIN":
		u, ok, alive := c.challenge(initial, "Username:")
		if !ok {
			return alive
		}
		p, ok, alive := c.challenge("", "Password:")
		if !ok {
			return alive
		}
		user, pass = string(u), string(p)
	default:
		return c.reply("504 5.5.4 Unrecognized authentication type")
	}
	if user != c.s.opts.Username || pass != c.s.opts.Password {
		return c.reply("535 5.7.8 Authentication credentials invalid")
	}
	c.authed, c.authUser = true, user
	return c.reply("235 2.7.0 Authentication successful")
}

// challenge returns the client's decoded answer: initial when given,
// otherwise the line read after a 334 with prompt. ok is false when the
// exchange ended (cancelled, malformed, connection lost); alive then
// reports whether the connection is still usable.
func (c *session) challenge(initial, prompt string) (resp []byte, ok, alive bool) {
	line := initial
	if line == "" {
		if !c.reply("334 %s", base64.StdEncoding.EncodeToString([]byte(prompt))) {
			return nil, false, false
		}
		var err error
		if line, err = c.text.ReadLine(); err != nil {
			return nil, false, false
		}
	}
	if line == "*" {
		return nil, false, c.reply("501 5.0.0 Authentication cancelled")
	}
	if line == "=" {
		return nil, true, true
	}
	b, err := base64.StdEncoding.DecodeString(line)
	if err != nil {
		return nil, false, c.reply("501 5.5.2 Invalid base64")
	}
	return b, true, true
}

func (c *session) mail(arg string) bool {
	if !c.helo {
		return c.reply("503 5.5.1 Send EHLO first")
	}
	if c.s.opts.Username != "" && !c.authed {
		return c.reply("530 5.7.0 Authentication required")
	}
	if c.hasFrom {
		return c.reply("503 5.5.1 Nested MAIL command")
	}
	addr, ok := pathArg(arg, "FROM:")
	if !ok {
		return c.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
	}
	c.from, c.hasFrom = addr, true
	return c.reply("250 2.1.0 OK")
}

func (c *session) rcpt(arg string) bool {
	if !c.hasFrom {
		return c.reply("503 5.5.1 Need MAIL first")
	}
	addr, ok := pathArg(arg, "TO:")
	if !ok || addr == "" {
		return c.reply("501 5.5.4 Syntax: RCPT TO:<address>")
	}
	for _, r := range c.s.opts.RejectRecipients {
		if strings.EqualFold(r, addr) {
			return c.reply("550 5.1.1 Mailbox unavailable")
		}
	}
	c.rcpts = append(c.rcpts, addr)
	return c.reply("250 2.1.5 OK")
}

// pathArg parses "FROM:<addr> [params]" (prefix case-insensitive).
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

func (c *session) data() bool {
	if len(c.rcpts) == 0 {
		return c.reply("503 5.5.1 Need RCPT first")
	}
	if !c.reply("354 End data with <CR><LF>.<CR><LF>") {
		return false
	}
	var raw []byte
	for {
		line, err := c.text.R.ReadString('\n')
		if err != nil {
			return false
		}
		if line == ".\r\n" || line == ".\n" {
			break
		}
		raw = append(raw, strings.TrimPrefix(line, ".")...)
	}
	r := Received{
		MailFrom: c.from,
		RcptTo:   c.rcpts,
		AuthUser: c.authUser,
		TLS:      c.tls,
		Data:     raw,
	}
	r.parse()
	c.s.record(r)
	c.resetTx()
	return c.reply("250 2.0.0 OK queued as %s", strconv.Itoa(len(c.s.Messages())))
}

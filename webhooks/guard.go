package webhooks

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// blocked returns why webhooks may not call ip ("loopback", "private",
// "link-local", "metadata", …), or "" when they may.
func blocked(ip net.IP) string {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return "invalid"
	}
	return blockedAddr(a)
}

func blockedAddr(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	switch {
	case isMetadata(a):
		return "metadata"
	case a.IsLoopback():
		return "loopback"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsPrivate():
		return "private"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "multicast"
	}
	for _, r := range []struct{ prefix, why string }{
		{"0.0.0.0/8", "unspecified"},
		{"100.64.0.0/10", "private"}, // carrier-grade NAT
		{"192.0.0.0/24", "reserved"},
		{"198.18.0.0/15", "reserved"},
		{"240.0.0.0/4", "reserved"}, // and the broadcast address
		{"fec0::/10", "private"},    // deprecated site-local
	} {
		if netip.MustParsePrefix(r.prefix).Contains(a) {
			return r.why
		}
	}
	// NAT64 and 6to4 addresses carry an IPv4 address.
	if netip.MustParsePrefix("64:ff9b::/96").Contains(a) {
		b := a.As16()
		return blockedAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	if netip.MustParsePrefix("2002::/16").Contains(a) {
		b := a.As16()
		return blockedAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	return ""
}

// isMetadata reports the cloud instance-metadata addresses (AWS, GCP,
// Azure, ECS, Alibaba, Oracle).
func isMetadata(a netip.Addr) bool {
	for _, s := range []string{"169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"} {
		if a == netip.MustParseAddr(s) {
			return true
		}
	}
	return false
}

// RefusedError is the error of a connection to an address webhooks may
// not call.
type RefusedError struct {
	Addr, Why string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: not a public address (%s); set UB_WEBHOOK_ALLOW_PRIVATE=true to allow private addresses", e.Addr, e.Why)
}

// guardControl runs after DNS, before each connection, with the resolved
// address: this is where a name that resolves (or re-resolves) to a
// private address is stopped.
func guardControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &RefusedError{Addr: address, Why: "invalid"}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return &RefusedError{Addr: host, Why: "invalid"}
	}
	if why := blockedAddr(a); why != "" {
		return &RefusedError{Addr: host, Why: why}
	}
	return nil
}

// newClient returns the HTTP client of deliveries: no proxy from the
// environment (the guard must see the real peer), no redirects (a 3xx is
// an unsuccessful answer), and the guard unless allowPrivate.
func newClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = guardControl
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   DefaultPerWebhook,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

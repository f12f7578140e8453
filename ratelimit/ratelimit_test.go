package ratelimit

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	l := New(2, time.Minute, func() time.Time { return now })
	for i, want := range []bool{true, true, false} {
		if d := l.Allow("a"); d.Allowed != want {
			t.Errorf("request %d: got allowed=%v, want %v", i+1, d.Allowed, want)
		}
	}
	if d := l.Allow("b"); !d.Allowed || d.Remaining != 1 || d.Reset != 50*time.Second {
		t.Errorf("another key: got %+v, want allowed, 1 remaining, reset in 50s", d)
	}
	now = now.Add(50 * time.Second)
	if d := l.Allow("a"); !d.Allowed {
		t.Errorf("next window: got %+v, want allowed", d)
	}
	if d := New(0, time.Minute, nil).Allow("x"); !d.Allowed {
		t.Error("a zero limit refused a request")
	}
}

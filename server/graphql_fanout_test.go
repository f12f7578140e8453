package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/urbackend/urbackend/server"
)

// The GraphQL subscription fan-out load test: N idle websocket
// subscribers of one collection (graphql-transport-ws through the real
// /graphql endpoint, gorilla/websocket clients), one write through the
// REST API, and the time until each subscriber holds the event; plus the
// server memory one subscriber costs. It does not run in the normal test
// suite:
//
//	UB_FANOUT_N=1000,5000,20000 go test -count=1 -run '^TestFanout$' -v -timeout 30m ./server/
//
// Options (environment): UB_FANOUT_ROUNDS, the number of writes measured
// one after the other (default 3; each is delivered to every subscriber
// before the next one starts); UB_FANOUT_STRICT=1, which fails the test
// when a measurement misses the target (fanoutTargetP99,
// fanoutTargetPerSubB; otherwise it is only reported); and
// UB_FANOUT_CPUPROFILE and UB_FANOUT_MEMPROFILE, files (suffixed .N) for
// the server's CPU profile during the writes and its heap profile once
// everyone subscribed. Missing or wrong deliveries always fail it.
//
// The clients run in child processes (this test binary again, running
// TestFanoutClient), at most fanoutPerClient subscribers each, so that the
// server process holds only its own sockets and its memory figures are
// its own. Each child binds its sockets to its own loopback address
// (127.0.0.2, 127.0.0.3, ...), so ephemeral ports never run short. A
// child reports on its standard output: "FANOUT READY" once all its
// subscribers are acknowledged and subscribed, "FANOUT ROUND r got bad"
// once all of them hold write r (or after a minute), and at the end it
// writes each subscriber's arrival time of each write (Unix ns, 0 when
// missing) to a file. The latency of a subscriber is its arrival time
// minus the time just before the write was sent: it covers the REST
// write (the database round trips of the write and of the event log), the
// bus fan-out, the subscription's filtering, execution and encoding, the
// socket, and the client's read. Clients and server share the machine's
// cores.
//
// Memory per subscriber is the growth of the server process's
// runtime.MemStats between just before the first client dials and once
// all N are subscribed (both after two GCs), divided by N: HeapInuse (the
// figure the target is stated in), and the goroutine stacks (StackInuse)
// on top, which HeapInuse does not include.
//
// A process may hold at most RLIMIT_NOFILE descriptors, and the server
// needs one per subscriber plus its own (listener, database, ...): when N
// does not fit under the limit (which the test raises as far as the
// hard limit allows), the test measures as many subscribers as fit and
// says so.

const (
	fanoutEnv       = "UB_FANOUT_N"
	fanoutClientEnv = "UB_FANOUT_CLIENT"
	// fanoutPerClient bounds the subscribers of one client process.
	fanoutPerClient = 10000
	// fanoutFDReserve is what the server process keeps free for its own
	// descriptors (database connections, the writer's connection, ...).
	fanoutFDReserve = 256
	// fanoutQuery is every subscriber's subscription.
	fanoutQuery = `subscription { postsChanged { op id doc { _id title views } } }`
)

// The target: 20,000 subscribers with a p99 under 1 s and at most 20 KB
// each.
const (
	fanoutTargetP99     = time.Second
	fanoutTargetPerSubB = 20 * 1024
)

func TestFanout(t *testing.T) {
	spec := os.Getenv(fanoutEnv)
	if spec == "" {
		t.Skipf("the fan-out load test runs with %s=N[,N...] (e.g. 1000,5000,20000)", fanoutEnv)
	}
	rounds := 3
	if v := os.Getenv("UB_FANOUT_ROUNDS"); v != "" {
		var err error
		if rounds, err = strconv.Atoi(v); err != nil || rounds < 1 {
			t.Fatalf("UB_FANOUT_ROUNDS=%q", v)
		}
	}
	var results []fanoutResult
	for f := range strings.SplitSeq(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want positive numbers separated by commas", fanoutEnv, spec)
		}
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			results = append(results, fanoutRun(t, n, rounds))
		})
	}
	t.Log("summary (latency from just before the REST write to each subscriber's read; memory per subscriber):")
	t.Logf("%8s %8s %6s %10s %10s %10s %12s %12s %10s", "asked", "measured", "round", "p50", "p99", "max", "heapInuse/N", "+stacks/N", "write")
	for _, r := range results {
		for i, l := range r.rounds {
			t.Logf("%8d %8d %6d %10s %10s %10s %10.1fKB %10.1fKB %10s", r.asked, r.n, i+1,
				l.p50.Round(time.Millisecond), l.p99.Round(time.Millisecond), l.max.Round(time.Millisecond),
				r.heapPerSub/1024, (r.heapPerSub+r.stackPerSub)/1024, l.write.Round(time.Millisecond))
		}
	}
}

type fanoutRound struct {
	p50, p99, max, write time.Duration
	missing              int
}

type fanoutResult struct {
	asked, n                 int
	heapPerSub, stackPerSub  float64
	allocPerSub, goroutinesN float64
	rounds                   []fanoutRound
}

// fanoutRun measures n subscribers on a fresh server.
func fanoutRun(t *testing.T, n, rounds int) fanoutResult {
	limit := raiseNoFile(t, uint64(n+fanoutFDReserve+64))
	g := gqNew(t, func(c *server.Config) {
		c.Logger = slog.New(slog.DiscardHandler) // no log lines kept in memory
		c.WSMaxConnectionsPerProject = n + 1000
		c.RateLimitPerMinute = 0
	})
	g.define(t, "posts", nil, gqField("title", "String"), gqField("views", "Number"))
	res := fanoutResult{asked: n, n: n}

	// Warm up: the project's schema and server, and the parsed
	// subscription, are built once for everyone; keep them out of the
	// per-subscriber figures.
	g.sk(t, `{ postsCount }`, nil)
	ws, err := g.gqDial(t, map[string]any{"x-api-key": g.p.PublishableKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.subscribe("1", fanoutQuery, nil)
	fanoutWaitSubscribers(t, g.env, 1, 10*time.Second)
	ws.c.Close()
	fanoutWaitSubscribers(t, g.env, 0, 10*time.Second)

	if free := int(limit) - openFDs(t) - fanoutFDReserve; n > free {
		t.Logf("NOTE: %d subscribers need %d more descriptors than this process may open (RLIMIT_NOFILE %d, %d open, %d kept in reserve): measuring %d subscribers",
			n, n-free, limit, openFDs(t), fanoutFDReserve, free)
		res.n = free
	}
	n = res.n

	t.Logf("server descriptors before: %s", fdSummary())
	fdsBefore := openFDs(t)
	before := fanoutMemStats()
	goroutinesBefore := runtime.NumGoroutine()

	// Start the clients.
	url := strings.Replace(g.ts.URL, "http://", "ws://", 1) + "/graphql"
	dir := t.TempDir()
	var clients []*fanoutClient
	for k, left := 0, n; left > 0; k++ {
		count := min(left, fanoutPerClient)
		left -= count
		clients = append(clients, startFanoutClient(t, k, url, g.p.PublishableKey, count, rounds, filepath.Join(dir, fmt.Sprintf("arrivals-%d", k))))
	}
	start := time.Now()
	for _, c := range clients {
		c.expect(t, "FANOUT READY", 10*time.Minute)
	}
	fanoutWaitSubscribers(t, g.env, n, time.Minute)
	t.Logf("%d subscribers connected and subscribed in %s (%d client processes); server descriptors: %s", n, time.Since(start).Round(time.Millisecond), len(clients), fdSummary())

	time.Sleep(time.Second) // let the connections' set-up settle
	after := fanoutMemStats()
	res.heapPerSub = (float64(after.HeapInuse) - float64(before.HeapInuse)) / float64(n)
	res.allocPerSub = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
	res.stackPerSub = (float64(after.StackInuse) - float64(before.StackInuse)) / float64(n)
	res.goroutinesN = float64(runtime.NumGoroutine()-goroutinesBefore) / float64(n)
	t.Logf("server memory per subscriber: HeapInuse %.1f KB, HeapAlloc %.1f KB, stacks %.1f KB (%.2f goroutines each)",
		res.heapPerSub/1024, res.allocPerSub/1024, res.stackPerSub/1024, res.goroutinesN)
	if path := os.Getenv("UB_FANOUT_MEMPROFILE"); path != "" {
		writeProfile(t, fmt.Sprintf("%s.%d", path, n), func(w io.Writer) error { return pprof.Lookup("heap").WriteTo(w, 0) })
	}
	if path := os.Getenv("UB_FANOUT_CPUPROFILE"); path != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", path, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	// The writes, one at a time.
	t0 := make([]int64, rounds)
	writes := make([]time.Duration, rounds)
	for r := range rounds {
		body := fmt.Sprintf(`{"title":"fanout %d","views":%d}`, r, r)
		start := time.Now()
		t0[r] = start.UnixNano()
		res := g.rest(http.MethodPost, "/api/data/posts", restReq{Key: g.p.SecretKey, Body: body})
		writes[r] = time.Since(start)
		if res.Status != http.StatusCreated {
			t.Fatalf("write %d: %d %s", r, res.Status, res.Body)
		}
		for _, c := range clients {
			c.expect(t, fmt.Sprintf("FANOUT ROUND %d ", r), 2*time.Minute)
		}
	}
	arrivals := make([][]int64, rounds)
	for _, c := range clients {
		for r, a := range c.finish(t) {
			arrivals[r] = append(arrivals[r], a...)
		}
	}
	miss := t.Logf
	if os.Getenv("UB_FANOUT_STRICT") != "" {
		miss = t.Errorf
	}
	for r := range rounds {
		lat := make([]time.Duration, 0, n)
		missing := 0
		for _, at := range arrivals[r] {
			if at == 0 {
				missing++
				continue
			}
			lat = append(lat, time.Duration(at-t0[r]))
		}
		missing += n - len(arrivals[r])
		slices.Sort(lat)
		l := fanoutRound{write: writes[r], missing: missing}
		if len(lat) > 0 {
			l.p50, l.p99, l.max = lat[len(lat)/2], lat[(len(lat)*99+99)/100-1], lat[len(lat)-1]
		}
		res.rounds = append(res.rounds, l)
		t.Logf("write %d: REST write took %s; delivery to %d subscribers: p50 %s, p99 %s, all %s",
			r+1, l.write.Round(time.Millisecond), len(lat), l.p50.Round(time.Millisecond), l.p99.Round(time.Millisecond), l.max.Round(time.Millisecond))
		if missing > 0 {
			t.Errorf("write %d: %d of %d subscribers did not get the event", r+1, missing, n)
		}
		if l.p99 > fanoutTargetP99 {
			miss("write %d: p99 %s misses the target (%s)", r+1, l.p99, fanoutTargetP99)
		}
	}
	if res.heapPerSub > fanoutTargetPerSubB {
		miss("HeapInuse per subscriber %.1f KB misses the target (%d KB)", res.heapPerSub/1024, fanoutTargetPerSubB/1024)
	}
	fanoutWaitSubscribers(t, g.env, 0, time.Minute)
	// The next run needs the descriptors back.
	for deadline := time.Now().Add(time.Minute); openFDs(t) > fdsBefore+2*fanoutFDReserve; {
		if time.Now().After(deadline) {
			t.Fatalf("%d descriptors open, %d before the clients came: %s", openFDs(t), fdsBefore, fdSummary())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return res
}

// fanoutClient is one client process.
type fanoutClient struct {
	cmd   *exec.Cmd
	lines chan string
	out   string // the arrivals file
	count int
	tail  *syncBuffer // its standard error, for failures
}

func startFanoutClient(t *testing.T, k int, url, key string, count, rounds int, out string) *fanoutClient {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFanoutClient$", "-test.count=1")
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, fanoutEnv+"=") }),
		fanoutClientEnv+"=1",
		"UB_FANOUT_URL="+url,
		"UB_FANOUT_KEY="+key,
		"UB_FANOUT_COUNT="+strconv.Itoa(count),
		"UB_FANOUT_ROUNDS="+strconv.Itoa(rounds),
		"UB_FANOUT_SRC="+fmt.Sprintf("127.0.0.%d", 2+k),
		"UB_FANOUT_OUT="+out,
	)
	c := &fanoutClient{cmd: cmd, lines: make(chan string, 16), out: out, count: count, tail: &syncBuffer{}}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = c.tail
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "FANOUT ") {
				c.lines <- line
			} else {
				_, _ = c.tail.Write([]byte(line + "\n"))
			}
		}
	}()
	return c
}

// expect waits for the client's next line, which must start with prefix.
func (c *fanoutClient) expect(t *testing.T, prefix string, timeout time.Duration) string {
	t.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			_ = c.cmd.Wait()
			t.Fatalf("client process ended (%v) before %q:\n%s", c.cmd.ProcessState, prefix, c.tail)
		}
		if !strings.HasPrefix(line, prefix) {
			t.Fatalf("client process said %q, want %q:\n%s", line, prefix, c.tail)
		}
		if f := strings.Fields(strings.TrimPrefix(line, prefix)); len(f) == 2 && f[1] != "0" {
			t.Errorf("client process: %s (subscribers with a wrong event)", line)
		}
		return line
	case <-time.After(timeout):
		t.Fatalf("no %q from a client process within %s:\n%s", prefix, timeout, c.tail)
	}
	return ""
}

// finish waits for the client to exit and returns its arrival times,
// one slice per round.
func (c *fanoutClient) finish(t *testing.T) [][]int64 {
	t.Helper()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("client process: %v:\n%s", err, c.tail)
	}
	raw, err := os.ReadFile(c.out)
	if err != nil {
		t.Fatal(err)
	}
	var arrivals [][]int64
	if err := json.Unmarshal(raw, &arrivals); err != nil {
		t.Fatal(err)
	}
	return arrivals
}

// TestFanoutClient is the client side of TestFanout, run in a child
// process: UB_FANOUT_COUNT subscribers of UB_FANOUT_URL with the key
// UB_FANOUT_KEY, from the address UB_FANOUT_SRC.
func TestFanoutClient(t *testing.T) {
	if os.Getenv(fanoutClientEnv) == "" {
		t.Skip("run by TestFanout")
	}
	url, key, out := os.Getenv("UB_FANOUT_URL"), os.Getenv("UB_FANOUT_KEY"), os.Getenv("UB_FANOUT_OUT")
	count, _ := strconv.Atoi(os.Getenv("UB_FANOUT_COUNT"))
	rounds, _ := strconv.Atoi(os.Getenv("UB_FANOUT_ROUNDS"))
	raiseNoFile(t, uint64(count+64))
	local := &net.TCPAddr{IP: net.ParseIP(os.Getenv("UB_FANOUT_SRC"))}
	d := websocket.Dialer{
		Subprotocols:     []string{"graphql-transport-ws"},
		HandshakeTimeout: time.Minute,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		WriteBufferPool:  &sync.Pool{},
		NetDialContext:   (&net.Dialer{LocalAddr: local}).DialContext,
	}
	init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]any{"x-api-key": key}})
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": fanoutQuery}})

	arrivals := make([][]int64, rounds)
	for r := range arrivals {
		arrivals[r] = make([]int64, count)
	}
	got := make([]atomic.Int64, rounds)
	bad := make([]atomic.Int64, rounds)
	done := make([]chan struct{}, rounds)
	for r := range done {
		done[r] = make(chan struct{})
	}
	want := make([][]byte, rounds)
	for r := range want {
		want[r] = fmt.Appendf(nil, `"title":"fanout %d"`, r)
	}
	// read is one subscriber's reader: it stamps each event on arrival.
	read := func(i int, c *websocket.Conn) {
		r := 0
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			now := time.Now().UnixNano()
			switch {
			case bytes.Contains(msg, []byte(`"type":"ping"`)):
				_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`))
				continue
			case r >= rounds:
				continue
			case !bytes.Contains(msg, []byte(`"type":"next"`)) || !bytes.Contains(msg, want[r]) || !bytes.Contains(msg, []byte(`"op":"INSERT"`)):
				bad[r].Add(1)
			}
			arrivals[r][i] = now
			if got[r].Add(1) == int64(count) {
				close(done[r])
			}
			r++
		}
	}

	conns := make([]*websocket.Conn, count)
	var wg sync.WaitGroup
	var failed atomic.Value
	sem := make(chan struct{}, 32)
	for i := range conns {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, res, err := d.DialContext(context.Background(), url, nil)
			if err != nil {
				failed.Store(fmt.Errorf("dial %d: %w", i, err))
				return
			}
			res.Body.Close()
			conns[i] = c
			if err := c.WriteMessage(websocket.TextMessage, init); err != nil {
				failed.Store(err)
				return
			}
			for {
				_, msg, err := c.ReadMessage()
				if err != nil {
					failed.Store(fmt.Errorf("connection_init %d: %w", i, err))
					return
				}
				if bytes.Contains(msg, []byte(`"type":"connection_ack"`)) {
					break
				}
			}
			if err := c.WriteMessage(websocket.TextMessage, sub); err != nil {
				failed.Store(err)
				return
			}
			go read(i, c)
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	fmt.Println("FANOUT READY")
	for r := range rounds {
		select {
		case <-done[r]:
		case <-time.After(time.Minute):
		}
		fmt.Printf("FANOUT ROUND %d %d %d\n", r, got[r].Load(), bad[r].Load())
	}
	raw, _ := json.Marshal(arrivals)
	if err := os.WriteFile(out, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		c.Close()
	}
}

// raiseNoFile raises the soft descriptor limit to want (or as far as the
// hard limit allows; the hard limit too when the process may) and returns
// the limit in force.
func raiseNoFile(t testing.TB, want uint64) uint64 {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= want {
		return lim.Cur
	}
	if lim.Max < want {
		up := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up) == nil {
			return want
		}
	}
	lim.Cur = min(want, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	return lim.Cur
}

// openFDs counts this process's open descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

func fanoutMemStats() runtime.MemStats {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m
}

func fanoutWaitSubscribers(t *testing.T, e *env, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for e.app.Events.Subscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("the bus has %d subscribers, want %d", e.app.Events.Subscribers(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeProfile(t *testing.T, path string, write func(io.Writer) error) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := write(f); err != nil {
		t.Fatal(err)
	}
}

// fdSummary counts this process's descriptors by kind.
func fdSummary() string {
	fds, _ := os.ReadDir("/proc/self/fd")
	kinds := map[string]int{}
	for _, fd := range fds {
		target, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err != nil {
			continue
		}
		kind, _, _ := strings.Cut(target, ":")
		if strings.HasPrefix(target, "/") {
			kind = "file"
		}
		kinds[kind]++
	}
	return fmt.Sprint(len(fds), " ", kinds)
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// served is one `urbackend serve` running in process.
type served struct {
	url     string
	console *bytes.Buffer
	cancel  context.CancelFunc
	done    chan error
}

func serve(t *testing.T, env map[string]string) *served {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	pr, pw := io.Pipe()
	console := &bytes.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{console: console, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := run(ctx, []string{"serve"}, getenv, console, pw)
		pw.Close()
		s.done <- err
	}()
	urls := make(chan string, 1)
	var once sync.Once
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "url=http://"); i >= 0 && strings.Contains(line, "listening") {
				u := strings.Fields(line[i+4:])[0]
				once.Do(func() { urls <- u })
			}
		}
		once.Do(func() { close(urls) })
	}()
	select {
	case u, ok := <-urls:
		if !ok {
			t.Fatalf("server stopped before listening: %v", <-s.done)
		}
		s.url = u
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start within 60s")
	}
	return s
}

func (s *served) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	if err := <-s.done; err != nil {
		t.Fatalf("serve returned %v, want nil after a clean shutdown", err)
	}
}

func gql(t *testing.T, url, token, query string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, url+"/admin/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 {
		t.Fatalf("GraphQL errors: %v", out.Errors)
	}
	return out.Data
}

func TestServeEmbeddedFirstStartAndRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"UB_ADDR": "127.0.0.1:0", "UB_EMBEDDED_DB_ADDR": "127.0.0.1:0", "UB_DATA_DIR": dir, "UB_LOG_LEVEL": "info"}

	s := serve(t, env)
	out := s.console.String()
	_, after, ok := strings.Cut(out, "password: ")
	if !ok || !strings.Contains(out, "admin@urbackend.local") {
		t.Fatalf("first start printed %q, want the generated admin login", out)
	}
	password := strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
	st, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("master.key: %v, mode %v, want 0600", err, st.Mode())
	}
	key1, _ := os.ReadFile(filepath.Join(dir, "master.key"))

	res, err := http.Get(s.url + "/api/health")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("health: %v %v", res, err)
	}
	res.Body.Close()
	login := `mutation{adminLogin(email:"admin@urbackend.local",password:"` + password + `"){token}}`
	tok := gql(t, s.url, "", login)["adminLogin"].(map[string]any)["token"].(string)
	p := gql(t, s.url, tok, `mutation{createProject(input:{name:"kept"}){project{id}}}`)["createProject"].(map[string]any)["project"].(map[string]any)
	id := p["id"].(string)
	gql(t, s.url, tok, `mutation{defineCollection(projectId:"`+id+`",input:{name:"notes",fields:[{key:"t",type:String}]}){name}}`)
	s.stop(t)

	s = serve(t, env)
	if strings.Contains(s.console.String(), "password") {
		t.Errorf("second start printed credentials again: %q", s.console.String())
	}
	tok = gql(t, s.url, "", login)["adminLogin"].(map[string]any)["token"].(string)
	d := gql(t, s.url, tok, `{project(id:"`+id+`"){name collections{name}}}`)
	got, _ := json.Marshal(d)
	if string(got) != `{"project":{"collections":[{"name":"notes"}],"name":"kept"}}` {
		t.Errorf("after restart: %s", got)
	}
	key2, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	if !bytes.Equal(key1, key2) {
		t.Error("the master key changed across restarts")
	}
	s.stop(t)
}

func TestServeBadSettings(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"port in use", map[string]string{"UB_ADDR": busy.Addr().String()}, "UB_ADDR " + busy.Addr().String() + ": cannot listen: bind: address already in use"},
		{"bad address", map[string]string{"UB_ADDR": "nonsense"}, "UB_ADDR nonsense: cannot listen"},
		{"malformed URI", map[string]string{"UB_MONGODB_URI": "mongo://x", "UB_MASTER_KEY": key}, "UB_MONGODB_URI: invalid MongoDB connection string"},
		{"unreachable database", map[string]string{"UB_MONGODB_URI": "mongodb://127.0.0.1:1/", "UB_MASTER_KEY": key, "UB_DB_TIMEOUT": "1s"}, "UB_MONGODB_URI: cannot reach MongoDB at 127.0.0.1:1 within 1s"},
		{"URI without master key", map[string]string{"UB_MONGODB_URI": "mongodb://127.0.0.1:1/"}, "UB_MASTER_KEY is required with UB_MONGODB_URI"},
		{"bad master key", map[string]string{"UB_MONGODB_URI": "mongodb://127.0.0.1:1/", "UB_MASTER_KEY": "nope"}, "UB_MASTER_KEY must be 32 bytes"},
		{"unwritable data dir", map[string]string{"UB_DATA_DIR": filepath.Join(file, "sub")}, "UB_DATA_DIR " + filepath.Join(file, "sub") + " cannot be created: not a directory"},
		{"embedded db not loopback", map[string]string{"UB_EMBEDDED_DB_ADDR": "0.0.0.0:27018"}, "UB_EMBEDDED_DB_ADDR \"0.0.0.0:27018\" must be a loopback address"},
		{"bad timeout", map[string]string{"UB_DB_TIMEOUT": "soon"}, `UB_DB_TIMEOUT "soon" must be a positive duration`},
		{"bad public URL", map[string]string{"UB_PUBLIC_URL": "example.com"}, `UB_PUBLIC_URL "example.com" must be an absolute http(s) URL`},
		{"bad log level", map[string]string{"UB_LOG_LEVEL": "loud"}, `UB_LOG_LEVEL "loud"`},
		{"bad subscription limit", map[string]string{"UB_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION": "0"}, `UB_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION "0" must be a positive whole number`},
		{"bad connection limit", map[string]string{"UB_WS_MAX_CONNECTIONS_PER_PROJECT": "many"}, `UB_WS_MAX_CONNECTIONS_PER_PROJECT "many" must be a positive whole number`},
		{"bad keep-alive", map[string]string{"UB_WS_KEEPALIVE_INTERVAL": "0s"}, `UB_WS_KEEPALIVE_INTERVAL "0s" must be a positive duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env["UB_ADDR"] == "" {
				tc.env["UB_ADDR"] = "127.0.0.1:0"
			}
			if tc.env["UB_DATA_DIR"] == "" {
				tc.env["UB_DATA_DIR"] = t.TempDir()
			}
			var stderr bytes.Buffer
			err := run(context.Background(), []string{"serve"}, func(k string) string { return tc.env[k] }, io.Discard, &stderr)
			if err == nil {
				t.Fatal("serve started, want an error")
			}
			if !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %q, want one line starting with %q", err, tc.want)
			}
		})
	}
}

func TestKeygen(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"keygen"}, os.Getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if k := strings.TrimSpace(out.String()); len(k) != 64 {
		t.Errorf("keygen printed %q, want 64 hex characters", k)
	}
	if err := run(context.Background(), []string{"bogus"}, os.Getenv, io.Discard, io.Discard); err == nil {
		t.Error("an unknown command succeeded")
	}
}

package plugins

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/message"
	"github.com/shanghai-amr/portal/host/org"
	"github.com/shanghai-amr/portal/host/pii"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent/plugin"
	"github.com/shanghai-amr/portal/host/store/ent/pluginbundle"
	"github.com/shanghai-amr/portal/host/store/ent/role"
	"github.com/shanghai-amr/portal/host/store/storetest"
	"github.com/shanghai-amr/portal/sdk/bundle"
)

// Bundles built once for all tests in this package.
var fixtures struct {
	dir             string
	key             bundle.KeyPair
	v1, v2, crasher string // testplugin 1.0.0, 2.0.0; crasher 3.0.0 (exits at start)
	notice          string // the SDK example
	untrusted       string // testplugin 1.0.0 signed by a key the host does not trust
}

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "plugins-test")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		fixtures.dir = dir
		if fixtures.key, err = bundle.GenerateKey("test"); err != nil {
			panic(err)
		}
		other, _ := bundle.GenerateKey("other")
		ctx := context.Background()
		for _, b := range []struct {
			out     *string
			src     string
			version string
			key     ed25519.PrivateKey
		}{
			{&fixtures.v1, "testdata/testplugin", "1.0.0", fixtures.key.Private},
			{&fixtures.v2, "testdata/testplugin", "2.0.0", fixtures.key.Private},
			{&fixtures.crasher, "testdata/crasher", "3.0.0", fixtures.key.Private},
			{&fixtures.notice, "../../sdk/examples/notice", "0.1.0", fixtures.key.Private},
			{&fixtures.untrusted, "testdata/testplugin", "1.0.0", other.Private},
		} {
			*b.out = filepath.Join(dir, fmt.Sprintf("%s-%s-%d.tar.gz", filepath.Base(b.src), b.version, len(b.key)+int(b.key[0])))
			if err := buildBundle(ctx, b.src, b.version, b.key, *b.out); err != nil {
				fmt.Fprintln(os.Stderr, "build fixture bundle:", err)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// testHost is a host with the plugin manager, served on a loopback port.
type testHost struct {
	m        *Manager
	url      string
	token    string // the operator token (system administrator)
	staff    string // a session token of "tester", a staff user with testplugin.read
	dir      string
	sessions *identity.Sessions
}

func newTestHostB(b *testing.B) *testHost {
	h := newTestHost(b, "sqlite", nil)
	h.mustInstall(b, fixtures.v1)
	return h
}

func newTestHost(t testing.TB, dialect string, tune func(*Options)) *testHost {
	t.Helper()
	st := storetest.Open(t, dialect)
	dir := t.TempDir()
	trust := filepath.Join(dir, "trust")
	if _, _, err := bundle.WriteKeyPair(trust, fixtures.key); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(trust, "test.key")) // the host needs only the public key
	cat, _ := i18n.New()
	var logOut io.Writer = io.Discard
	if os.Getenv("PLUGINS_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, nil))
	srv := server.New(server.Options{Catalog: cat, Logger: log})
	tok, _, err := identity.LoadAdminToken(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(identity.TokenFile(dir))
	pol, err := policy.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{DataDir: dir, Store: st, Audit: audit.New(st.Client, nil), Policy: pol, Log: log, HostVersion: "0.1.0",
		StartTimeout: 20 * time.Second, DrainTimeout: 10 * time.Second}
	if tune != nil {
		tune(&opts)
	}
	m := New(opts)
	ctx := context.Background()
	if err := identity.EnsureBuiltinRoles(ctx, st.Client); err != nil {
		t.Fatal(err)
	}
	if err := st.Client.Role.Create().SetKey("tester").SetName("测试员").SetPermissions([]string{"testplugin.read"}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := identity.CreateUser(ctx, st.Client, identity.NewUser{Username: "tester", DisplayName: "测试员",
		Password: identity.DemoPassword, Roles: []string{"tester"}}); err != nil {
		t.Fatal(err)
	}
	sessions := identity.NewSessions(st.Client, opts.Audit, identity.Options{})
	sess, err := sessions.Login(ctx, "tester", identity.DemoPassword, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	auth := identity.Middleware(identity.Guard{Policy: pol, Audit: opts.Audit}, sessions, tok)
	m.Router().Mount(srv, auth)
	m.MountAPI(srv, auth)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done; m.Close() })
	return &testHost{m: m, url: "http://" + ln.Addr().String(), token: strings.TrimSpace(string(raw)), staff: sess.Token, dir: dir, sessions: sessions}
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}

// call makes a request as the operator (auth) or anonymously.
func (h *testHost) call(t testing.TB, method, path string, body io.Reader, auth bool) (int, []byte, http.Header) {
	t.Helper()
	token := ""
	if auth {
		token = h.token
	}
	return h.callAs(t, token, method, path, body)
}

// callAs makes a request with a bearer token ("" for none).
func (h *testHost) callAs(t testing.TB, token, method, path string, body io.Reader) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (h *testHost) install(t testing.TB, bundlePath string) (int, []byte) {
	f, err := os.Open(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code, b, _ := h.call(t, "POST", "/api/v1/admin/plugins", f, true)
	return code, b
}

func (h *testHost) upgrade(t testing.TB, id, bundlePath string) (int, []byte) {
	f, err := os.Open(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code, b, _ := h.call(t, "POST", "/api/v1/admin/plugins/"+id+"/upgrade", f, true)
	return code, b
}

func (h *testHost) mustInstall(t testing.TB, bundlePath string) {
	t.Helper()
	if code, b := h.install(t, bundlePath); code != http.StatusOK {
		t.Fatalf("install = %d %s", code, b)
	}
}

func (h *testHost) pid(id string) int {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	if r := h.m.running[id]; r != nil && r.gen != nil {
		if rc := r.gen.client.ReattachConfig(); rc != nil {
			return rc.Pid
		}
	}
	return 0
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	// A zombie still answers signal 0; read its state to tell.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

func TestInstalledBundleServesRouteAndMenuWithoutRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		h := newTestHost(t, dialect, nil)
		if code, _, _ := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false); code != http.StatusNotFound {
			t.Fatalf("before install: %d, want 404", code)
		}
		h.mustInstall(t, fixtures.v1)
		if code, b, hd := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false); code != 200 || string(b) != "1.0.0" || hd.Get("X-Plugin-Version") != "1.0.0" {
			t.Fatalf("route = %d %q", code, b)
		}
		// The plugin's own database, provisioned by the host.
		if code, b, _ := h.call(t, "GET", "/api/plugins/testplugin/db", nil, false); code != 200 || string(b) != "world" {
			t.Fatalf("plugin database = %d %q", code, b)
		}
		code, b, _ := h.callAs(t, h.staff, "GET", "/api/v1/menus", nil)
		if code != 200 || !strings.Contains(string(b), `"key":"testplugin"`) {
			t.Fatalf("menus = %d %s", code, b)
		}
		if _, b, _ := h.call(t, "GET", "/api/v1/menus", nil, true); strings.Contains(string(b), "testplugin") {
			t.Fatalf("the system administrator sees a business menu: %s", b)
		}
		if _, b, _ := h.call(t, "GET", "/api/v1/menus", nil, false); strings.Contains(string(b), "testplugin") {
			t.Fatalf("anonymous caller sees a staff menu: %s", b)
		}
		// The verified identity reaches the plugin; the caller's credentials do not.
		code, b, _ = h.callAs(t, h.staff, "GET", "/api/plugins/testplugin/whoami", nil)
		var who map[string]string
		_ = json.Unmarshal(b, &who)
		if code != 200 || who["username"] != "tester" || who["audience"] != "staff" || who["authorization"] != "" {
			t.Fatalf("whoami = %d %s", code, b)
		}
		if code, _, _ := h.call(t, "GET", "/api/plugins/testplugin/whoami", nil, true); code != http.StatusForbidden {
			t.Fatalf("whoami as the system administrator = %d, want 403", code)
		}
		if code, _, _ := h.call(t, "GET", "/api/plugins/testplugin/whoami", nil, false); code != http.StatusUnauthorized {
			t.Fatalf("staff route without identity = %d, want 401", code)
		}
		if code, _, _ := h.call(t, "GET", "/api/plugins/testplugin/undeclared", nil, false); code != http.StatusNotFound {
			t.Fatalf("undeclared route = %d, want 404", code)
		}
		// A declared capability works on the user's behalf; an undeclared one is refused by the host.
		if code, b, _ := h.callAs(t, h.staff, "GET", "/api/plugins/testplugin/settings", nil); code != 200 {
			t.Fatalf("settings = %d %s", code, b)
		}
		if code, b, _ := h.callAs(t, h.staff, "GET", "/api/plugins/testplugin/forbidden-call", nil); code != http.StatusForbidden || !strings.Contains(string(b), "did not declare capability") {
			t.Fatalf("undeclared capability = %d %s", code, b)
		}
		n, _ := h.m.opts.Store.Client.AuditEntry.Query().Count(context.Background())
		if n == 0 {
			t.Fatal("install was not audited")
		}
	})
}

// load calls the plugin route from n clients until stop is closed and counts
// the answers by status (-1: no answer) and, for 200s, by body.
type load struct {
	mu       sync.Mutex
	ok       int
	failed   []string
	seen     map[string]int
	statuses map[int]int
	// bare503 counts 503s without Retry-After.
	bare503 int
	slowest time.Duration
	wait    func()
}

func runLoad(t *testing.T, h *testHost, n int, path string, stop <-chan struct{}) *load {
	l := &load{seen: map[string]int{}, statuses: map[int]int{}}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				resp, err := client.Get(h.url + path)
				var body []byte
				if err == nil {
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				d := time.Since(start)
				l.mu.Lock()
				if d > l.slowest {
					l.slowest = d
				}
				switch {
				case err != nil:
					l.statuses[-1]++
					l.failed = append(l.failed, err.Error())
				case resp.StatusCode != 200:
					l.statuses[resp.StatusCode]++
					if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
						l.bare503++
					}
					l.failed = append(l.failed, fmt.Sprintf("%d %s", resp.StatusCode, body))
				default:
					l.statuses[200]++
					l.ok++
					l.seen[string(body)]++
				}
				l.mu.Unlock()
			}
		}()
	}
	l.wait = wg.Wait
	return l
}

func (l *load) finish() { l.wait() }

func TestUpgradeUnderLoadHasZeroFailedRequests(t *testing.T) {
	h := newTestHost(t, "sqlite", nil)
	h.mustInstall(t, fixtures.v1)
	v1pid := h.pid("testplugin")
	stop := make(chan struct{})
	l := runLoad(t, h, 50, "/api/plugins/testplugin/sleep?ms=5", stop)
	time.Sleep(8 * time.Second)
	code, b := h.upgrade(t, "testplugin", fixtures.v2)
	if code != 200 {
		t.Fatalf("upgrade = %d %s", code, b)
	}
	time.Sleep(12 * time.Second)
	close(stop)
	l.finish()
	if len(l.failed) > 0 {
		t.Fatalf("%d of %d requests failed during the upgrade; first: %s", len(l.failed), l.ok+len(l.failed), l.failed[0])
	}
	if l.seen["1.0.0"] == 0 || l.seen["2.0.0"] == 0 {
		t.Fatalf("responses by version = %v; want both", l.seen)
	}
	if processAlive(v1pid) {
		t.Fatalf("v1 process %d still running after the upgrade", v1pid)
	}
	t.Logf("upgrade under load: %d requests, versions %v, slowest %v", l.ok, l.seen, l.slowest)
}

func TestFailedUpgradeKeepsTheServingVersion(t *testing.T) {
	h := newTestHost(t, "sqlite", nil)
	h.mustInstall(t, fixtures.v1)
	stop := make(chan struct{})
	l := runLoad(t, h, 20, "/api/plugins/testplugin/version", stop)
	time.Sleep(time.Second)
	code, b := h.upgrade(t, "testplugin", fixtures.crasher)
	time.Sleep(time.Second)
	close(stop)
	l.finish()
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"code":"plugin.start_failed"`) ||
		!strings.Contains(string(b), `"serving_version":"1.0.0"`) || !strings.Contains(string(b), "reason") {
		t.Fatalf("upgrade to a crashing binary = %d %s", code, b)
	}
	if len(l.failed) > 0 || l.seen["1.0.0"] == 0 || len(l.seen) != 1 {
		t.Fatalf("during the failed upgrade: failed %v, seen %v", l.failed, l.seen)
	}
	p, _ := h.m.opts.Store.Client.Plugin.Query().Where(plugin.PluginID("testplugin")).Only(context.Background())
	if p.Version != "1.0.0" || p.PreviousVersion != "" {
		t.Fatalf("recorded %s (previous %q) after a failed upgrade", p.Version, p.PreviousVersion)
	}
}

func TestKilledPluginAnswers503ThenRestarts(t *testing.T) {
	h := newTestHost(t, "sqlite", nil)
	h.mustInstall(t, fixtures.v1)
	pid := h.pid("testplugin")
	stop := make(chan struct{})
	l := runLoad(t, h, 16, "/api/plugins/testplugin/version", stop)
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var back time.Duration
	for time.Since(killed) < 5*time.Second {
		if np := h.pid("testplugin"); np != 0 && np != pid {
			if code, _, _ := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false); code == 200 {
				back = time.Since(killed)
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	l.finish()
	if back == 0 || back > 2*time.Second {
		t.Fatalf("plugin serving again after %v, want ≤ 2s", back)
	}
	for code, n := range l.statuses {
		if code != 200 && code != 503 {
			t.Errorf("%d answers with status %d (want only 200 and 503)", n, code)
		}
	}
	if l.bare503 > 0 {
		t.Errorf("%d 503s without Retry-After", l.bare503)
	}
	if l.slowest > 2*time.Second {
		t.Errorf("slowest call took %v: calls during the outage must fail fast", l.slowest)
	}
	// The killed process could not remove its direct channel's folder; the
	// host did. The new process has its own.
	if dirs, _ := filepath.Glob(filepath.Join(h.m.sockets, "direct-*")); len(dirs) != 1 {
		t.Errorf("direct channel folders after kill -9 and restart: %v, want the new process's only", dirs)
	}
	t.Logf("kill -9: back after %v; statuses %v; slowest %v", back, l.statuses, l.slowest)
}

// Only a direct-* folder directly in the sockets folder the host gave the
// plugin is removed when the process has gone; the path comes from the
// plugin.
func TestDirectDirIsOnlyEverThePluginsOwn(t *testing.T) {
	for socket, want := range map[string]string{
		"/run/p/direct-123/http.sock":        "/run/p/direct-123",
		"/run/p/direct-123/../x/http.sock":   "",
		"/run/p/other/http.sock":             "",
		"/run/p/direct-1/deeper/http.sock":   "",
		"/etc/direct-1/http.sock":            "",
		"/run/p/http.sock":                   "",
		"":                                   "",
		"/run/p/direct-9/../direct-8/h.sock": "/run/p/direct-8",
	} {
		if got := directDir(socket, "/run/p"); got != want {
			t.Errorf("directDir(%q) = %q, want %q", socket, got, want)
		}
	}
	if got := directDir("/tmp/direct-1/http.sock", ""); got != "" {
		t.Errorf("without a sockets folder: %q", got)
	}
}

func TestRollbackDisableEnableUninstall(t *testing.T) {
	h := newTestHost(t, "sqlite", nil)
	h.mustInstall(t, fixtures.v1)
	if code, b := h.upgrade(t, "testplugin", fixtures.v2); code != 200 {
		t.Fatalf("upgrade = %d %s", code, b)
	}
	if code, b := h.upgrade(t, "testplugin", fixtures.v2); code != http.StatusConflict || !strings.Contains(string(b), "plugin.same_version") {
		t.Fatalf("same-version upgrade = %d %s", code, b)
	}
	if code, b, _ := h.call(t, "POST", "/api/v1/admin/plugins/testplugin/rollback", nil, true); code != 200 || !strings.Contains(string(b), `"version":"1.0.0"`) {
		t.Fatalf("rollback = %d %s", code, b)
	}
	if _, b, _ := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false); string(b) != "1.0.0" {
		t.Fatalf("after rollback serves %q", b)
	}
	if code, _, _ := h.call(t, "POST", "/api/v1/admin/plugins/testplugin/disable", nil, true); code != 200 {
		t.Fatalf("disable = %d", code)
	}
	if code, b, _ := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false); code != 503 || !strings.Contains(string(b), "plugin.disabled") {
		t.Fatalf("disabled plugin answers %d %s", code, b)
	}
	if code, _, _ := h.call(t, "POST", "/api/v1/admin/plugins/testplugin/enable", nil, true); code != 200 {
		t.Fatalf("enable = %d", code)
	}
	if code, b, _ := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false); code != 200 || string(b) != "1.0.0" {
		t.Fatalf("enabled plugin answers %d %s", code, b)
	}
	if code, b, _ := h.call(t, "GET", "/api/v1/admin/plugins/testplugin/logs?tail=50", nil, true); code != 200 || !strings.Contains(string(b), "testplugin started") {
		t.Fatalf("logs = %d %s", code, b)
	}
	if code, _, _ := h.call(t, "POST", "/api/v1/admin/plugins/testplugin/rollback", nil, false); code != http.StatusUnauthorized {
		t.Fatalf("anonymous rollback = %d, want 401", code)
	}
	if code, _, _ := h.call(t, "DELETE", "/api/v1/admin/plugins/testplugin", nil, true); code != http.StatusNoContent {
		t.Fatalf("uninstall = %d", code)
	}
	if code, _, _ := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false); code != 404 {
		t.Fatalf("uninstalled plugin answers %d", code)
	}
	if n, _ := h.m.opts.Store.Client.PluginBundle.Query().Count(context.Background()); n != 0 {
		t.Fatalf("%d bundle records left after uninstall", n)
	}
}

func TestRestartAfterHostRestartAndHangsAndPanics(t *testing.T) {
	h := newTestHost(t, "sqlite", func(o *Options) { o.RouteTimeout = 300 * time.Millisecond })
	h.mustInstall(t, fixtures.v1)
	start := time.Now()
	code, b, _ := h.call(t, "GET", "/api/plugins/testplugin/sleep?ms=5000", nil, false)
	if code != http.StatusGatewayTimeout || time.Since(start) > 2*time.Second {
		t.Fatalf("hanging route = %d %s after %v", code, b, time.Since(start))
	}
	if code, b, _ := h.call(t, "GET", "/api/plugins/testplugin/panic", nil, false); code != http.StatusBadGateway || !strings.Contains(string(b), "plugin.error") || strings.Contains(string(b), "test panic") {
		t.Fatalf("panicking handler = %d %s", code, b)
	}
	if code, _, _ := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false); code != 200 {
		t.Fatalf("after panic = %d", code)
	}
	big := bytes.Repeat([]byte("x"), 3<<20)
	if code, b, _ := h.call(t, "POST", "/api/plugins/testplugin/echo", bytes.NewReader(big), false); code != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "2 MiB") {
		t.Fatalf("3 MiB to a 2 MiB route = %d %s", code, b)
	}
	// A streamed answer cut off by the deadline after its head: the client
	// sees it cut short, not a complete shorter body.
	resp, err := client.Get(h.url + "/api/plugins/testplugin/ticks") // 5 ticks, 100 ms apart
	if err != nil {
		t.Fatal(err)
	}
	ticks, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || err == nil || strings.Contains(string(ticks), "tick 4") {
		t.Fatalf("a stream past its deadline = %d %q, read error %v; want the body cut short with an error", resp.StatusCode, ticks, err)
	}
	// The caller's body comes slowly, and the plugin sends its head on
	// before reading it: the host must go on reading the body (full duplex;
	// net/http would otherwise discard what is left of it, under 256 KiB,
	// as soon as the head is written). The echo route sets its own timeout
	// (10 s in its manifest): the 300 ms above would cut the slow 1 MiB short.
	for _, size := range []int{200<<10 + 5, 1<<20 + 5} {
		req, _ := http.NewRequest("POST", h.url+"/api/plugins/testplugin/echo", &slowReader{b: big[:size]})
		req.ContentLength = int64(size)
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		echo, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(echo, big[:size]) || err != nil {
			t.Fatalf("echo of %d bytes = %d, %d bytes, %v", size, resp.StatusCode, len(echo), err)
		}
	}
}

// slowReader gives its bytes 64 KiB at a time, 30 ms apart.
type slowReader struct {
	b    []byte
	read int
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.read >= len(r.b) {
		return 0, io.EOF
	}
	if r.read > 0 && r.read%(64<<10) == 0 {
		time.Sleep(30 * time.Millisecond)
	}
	end := min(len(r.b), r.read+len(p), (r.read/(64<<10)+1)*(64<<10))
	n := copy(p, r.b[r.read:end])
	r.read += n
	return n, nil
}

func TestLargeBodiesAndResponsesAreStreamed(t *testing.T) {
	h := newTestHost(t, "sqlite", nil)
	h.mustInstall(t, fixtures.v1)
	// 40 MiB: larger than any one gRPC message the host allows.
	big := bytes.Repeat([]byte("市场监管"), 40<<20/12)
	sum := sha256.Sum256(big)
	code, b, _ := h.call(t, "POST", "/api/plugins/testplugin/upload", bytes.NewReader(big), false)
	if want := fmt.Sprintf("%d %x", len(big), sum); code != 200 || string(b) != want {
		t.Fatalf("40 MiB upload = %d %q, want %q", code, b, want)
	}
	// Unknown length (chunked): streamed too, and cut at the route's limit.
	req, _ := http.NewRequest("POST", h.url+"/api/plugins/testplugin/upload", io.MultiReader(bytes.NewReader(big), bytes.NewReader(big)))
	req.ContentLength = -1
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "request.too_large") {
		t.Fatalf("80 MiB chunked upload to a 64 MiB route = %d %s", resp.StatusCode, b)
	}
	// A streamed response reaches the caller as the plugin flushes it.
	start := time.Now()
	resp, err = client.Get(h.url + "/api/plugins/testplugin/ticks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make([]byte, len("data: tick 0\n\n"))
	if _, err := io.ReadFull(resp.Body, line); err != nil || string(line) != "data: tick 0\n\n" {
		t.Fatalf("first event = %q, %v", line, err)
	}
	if first := time.Since(start); first > 300*time.Millisecond {
		t.Fatalf("first event after %v: the response was buffered", first)
	}
	rest, _ := io.ReadAll(resp.Body)
	if !strings.HasSuffix(string(rest), "data: tick 4\n\n") || time.Since(start) < 400*time.Millisecond {
		t.Fatalf("rest = %q after %v", rest, time.Since(start))
	}
	if code, _, _ := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false); code != 200 {
		t.Fatalf("after streaming: %d", code)
	}
}

// The access matrix through a real plugin and a real plugin→host call: the
// notice example lists through the host's compiled filter and checks reads by
// id with Policy.Decide.
func TestJurisdictionMatrixThroughAPlugin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		h := newTestHost(t, dialect, nil)
		ctx := context.Background()
		st := h.m.opts.Store
		if _, err := org.SeedDemo(ctx, st.Client); err != nil {
			t.Fatal(err)
		}
		if _, err := identity.SeedDemoUsers(ctx, st.Client, testSealer(t)); err != nil {
			t.Fatal(err)
		}
		h.mustInstall(t, fixtures.notice)
		// A role whose data scope is "own records".
		if err := st.Client.Role.Create().SetKey("self_handler").SetName("只看本人").SetPermissions([]string{"notice.read", "notice.write"}).
			SetDataScope(role.DataScopeOwn).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := identity.CreateUser(ctx, st.Client, identity.NewUser{Username: "pd_self", DisplayName: "孙悦",
			Password: identity.DemoPassword, OrgCode: "310115-D03", Roles: []string{"self_handler"}}); err != nil {
			t.Fatal(err)
		}
		tokens := map[string]string{}
		for _, u := range []string{"city_zhang", "pd_li", "zj_zhao", "hp_liu", "hp_reg", "pd_self"} {
			s, err := h.sessions.Login(ctx, u, identity.DemoPassword, "127.0.0.1", "test")
			if err != nil {
				t.Fatal(err)
			}
			tokens[u] = s.Token
		}
		ids := map[string]string{}
		authors := []string{"pd_li", "zj_zhao", "hp_liu", "pd_self"}
		for _, u := range authors {
			code, b, _ := h.callAs(t, tokens[u], "POST", "/api/plugins/notice/notices", strings.NewReader(`{"title":"`+u+` 的公告","body":"正文"}`))
			var out struct{ ID int }
			if json.Unmarshal(b, &out); code != 201 || out.ID == 0 {
				t.Fatalf("%s creates: %d %s", u, code, b)
			}
			ids[u] = fmt.Sprint(out.ID)
		}
		// Who sees whose notice, by listing and by id.
		sees := map[string][]string{
			"city_zhang": {"pd_li", "zj_zhao", "hp_liu", "pd_self"}, // city level: all
			"pd_li":      {"pd_li", "zj_zhao", "pd_self"},           // Pudong: its brigade and its station
			"zj_zhao":    {"zj_zhao"},                               // Zhangjiang station: its own
			"hp_liu":     {"hp_liu"},                                // Huangpu: nothing of Pudong
			"pd_self":    {"pd_self"},                               // data scope "own": only what they wrote
		}
		for reader, visible := range sees {
			code, b, _ := h.callAs(t, tokens[reader], "GET", "/api/plugins/notice/notices", nil)
			if code != 200 {
				t.Fatalf("%s lists: %d %s", reader, code, b)
			}
			for _, author := range authors {
				want := slices.Contains(visible, author)
				if got := strings.Contains(string(b), author+" 的公告"); got != want {
					t.Errorf("%s's list shows %s's notice: %v, want %v (%s)", reader, author, got, want, b)
				}
				wantCode := map[bool]int{true: 200, false: 404}[want]
				code, _, _ := h.callAs(t, tokens[reader], "GET", "/api/plugins/notice/notices/"+ids[author], nil)
				if code != wantCode {
					t.Errorf("%s reads %s's notice by id: %d, want %d", reader, author, code, wantCode)
				}
				_, found, _ := h.callAs(t, tokens[reader], "GET", "/api/plugins/notice/notices?q="+url.QueryEscape(author+" 的"), nil)
				if got := strings.Contains(string(found), author+" 的公告"); got != want {
					t.Errorf("%s searching for %s's notice finds it: %v, want %v", reader, author, got, want)
				}
				if reader == "city_zhang" {
					continue // the city handler may write anywhere; keep the titles for the other readers
				}
				code, _, _ = h.callAs(t, tokens[reader], "PUT", "/api/plugins/notice/notices/"+ids[author],
					strings.NewReader(`{"title":"`+author+` 的公告","body":"由 `+reader+` 修改"}`))
				if code != wantCode {
					t.Errorf("%s updates %s's notice: %d, want %d", reader, author, code, wantCode)
				}
			}
		}
		// SQL fragments in the search field are only text.
		for _, q := range []string{"' OR '1'='1", "%", "'; DROP TABLE notices; --"} {
			code, b, _ := h.callAs(t, tokens["hp_liu"], "GET", "/api/plugins/notice/notices?q="+url.QueryEscape(q), nil)
			if code != 200 || !strings.Contains(string(b), `"notices":[]`) {
				t.Errorf("search %q = %d %s", q, code, b)
			}
		}
		if code, b, _ := h.callAs(t, tokens["city_zhang"], "GET", "/api/plugins/notice/notices", nil); code != 200 || strings.Count(string(b), "的公告") != 4 {
			t.Errorf("notices damaged by the searches: %d %s", code, b)
		}
		// A registration reviewer has no notice.write: refused by the host before the plugin.
		if code, _, _ := h.callAs(t, tokens["hp_reg"], "POST", "/api/plugins/notice/notices", strings.NewReader(`{"title":"x","body":"y"}`)); code != http.StatusForbidden {
			t.Errorf("without notice.write: %d, want 403", code)
		}
	})
}

func TestRepeatedCrashesParkThePlugin(t *testing.T) {
	h := newTestHost(t, "sqlite", func(o *Options) {
		o.CrashBudget, o.RestartDelay = 2, 50*time.Millisecond
		o.Messages = message.New(message.Options{Client: o.Store.Client})
	})
	ctx := context.Background()
	admin, err := identity.CreateUser(ctx, h.m.opts.Store.Client, identity.NewUser{Username: "sys", DisplayName: "系统管理员",
		Password: identity.DemoPassword, Roles: []string{identity.RoleSystemAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	h.mustInstall(t, fixtures.v1)
	for i := range 2 {
		h.call(t, "GET", "/api/plugins/testplugin/crash", nil, false)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			code, _, _ := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false)
			if i == 0 && code == 200 || i == 1 && code == 503 && h.pid("testplugin") == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond)
	code, b, _ := h.call(t, "GET", "/api/v1/admin/plugins/testplugin", nil, true)
	if code != 200 || !strings.Contains(string(b), `"state":"failed"`) || !strings.Contains(string(b), "parked") {
		t.Fatalf("after 2 crashes: %d %s", code, b)
	}
	if code, _, hd := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false); code != 503 || hd.Get("Retry-After") == "" {
		t.Fatalf("parked plugin answers %d", code)
	}
	n, _ := h.m.opts.Store.Client.AuditEntry.Query().Count(context.Background())
	if n < 3 {
		t.Fatalf("crashes and parking not audited (%d entries)", n)
	}
	// The administrators (plugins.manage) get a message; nobody else does.
	msgs, err := h.m.opts.Store.Client.Message.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].RecipientID != admin.ID || msgs[0].Template != "message.plugin.parked" ||
		msgs[0].Link != "/admin/plugins" || !strings.Contains(msgs[0].Params, "testplugin 1.0.0") {
		t.Fatalf("messages after parking: %+v", msgs)
	}
}

func TestPluginsComeBackAfterHostRestart(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	_ = st
	h := newTestHost(t, "sqlite", nil)
	h.mustInstall(t, fixtures.v1)
	// A second manager on the same data dir and database is a restarted host.
	m2 := New(Options{DataDir: h.dir, Store: h.m.opts.Store, Audit: h.m.opts.Audit, Policy: h.m.opts.Policy, Log: h.m.log, HostVersion: "0.1.0", StartTimeout: 20 * time.Second})
	h.m.Close()
	if err := m2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if g := m2.router.current("testplugin"); g == nil || g.version != "1.0.0" {
		t.Fatalf("after restart: %+v", g)
	}
}

// Each refusal installs nothing: no record, no stored bundle, no route.
func TestRefusedBundlesInstallNothing(t *testing.T) {
	h := newTestHost(t, "sqlite", nil)
	cases := []struct {
		name, reason string
		bundle       func(t *testing.T) string
		status       int
	}{
		{"unsigned", "unsigned", func(t *testing.T) string { return rewrite(t, fixtures.v1, dropEntry("bundle.sig")) }, 400},
		{"unknown key", "unknown_key", func(*testing.T) string { return fixtures.untrusted }, 400},
		{"tampered binary", "tampered", func(t *testing.T) string { return rewrite(t, fixtures.v1, flipByte("bin/linux_amd64/plugin")) }, 400},
		{"tar slip", "unsafe_path", func(t *testing.T) string { return rewrite(t, fixtures.v1, addEntry("../../evil", tar.TypeReg)) }, 400},
		{"symlink", "link_entry", func(t *testing.T) string { return rewrite(t, fixtures.v1, addEntry("web/link", tar.TypeSymlink)) }, 400},
		{"not a bundle", "malformed", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x.tar.gz")
			os.WriteFile(p, []byte("hello"), 0o600)
			return p
		}, 400},
		{"fails the handshake", "", func(*testing.T) string { return fixtures.crasher }, 422},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, b := h.install(t, tc.bundle(t))
			if code != tc.status || tc.reason != "" && !strings.Contains(string(b), `"reason":"`+tc.reason+`"`) {
				t.Fatalf("install = %d %s; want %d with reason %q", code, b, tc.status, tc.reason)
			}
			ctx := context.Background()
			if n, _ := h.m.opts.Store.Client.Plugin.Query().Count(ctx); n != 0 {
				t.Fatal("a plugin record was written")
			}
			if n, _ := h.m.opts.Store.Client.PluginBundle.Query().Where(pluginbundle.PluginID("testplugin")).Count(ctx); n != 0 {
				t.Fatal("a bundle record was written")
			}
			if entries, _ := os.ReadDir(filepath.Join(h.dir, "plugins", "bundles")); len(entries) != 0 && tc.status == 400 {
				t.Fatalf("%d bundles stored", len(entries))
			}
			if code, _, _ := h.call(t, "GET", "/api/plugins/testplugin/version", nil, false); code != 404 {
				t.Fatalf("route answers %d", code)
			}
		})
	}
}

// rewrite copies a bundle, passing each entry through f (which may drop,
// change or add entries), without re-signing.
func rewrite(t *testing.T, src string, f func(tw *tar.Writer, hdr *tar.Header, data []byte) bool) string {
	t.Helper()
	in, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	first := true
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if first {
			first = false
			f(tw, nil, nil) // a chance to add entries first
		}
		if !f(tw, hdr, data) {
			continue
		}
		tw.WriteHeader(hdr)
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	p := filepath.Join(t.TempDir(), "bad.tar.gz")
	if err := os.WriteFile(p, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func dropEntry(name string) func(*tar.Writer, *tar.Header, []byte) bool {
	return func(_ *tar.Writer, hdr *tar.Header, _ []byte) bool { return hdr == nil || hdr.Name != name }
}

func flipByte(name string) func(*tar.Writer, *tar.Header, []byte) bool {
	return func(_ *tar.Writer, hdr *tar.Header, data []byte) bool {
		if hdr != nil && hdr.Name == name {
			data[len(data)/2] ^= 0xff
		}
		return true
	}
}

func addEntry(name string, typ byte) func(*tar.Writer, *tar.Header, []byte) bool {
	var done atomic.Bool
	return func(tw *tar.Writer, hdr *tar.Header, _ []byte) bool {
		if hdr == nil && !done.Swap(true) {
			h := &tar.Header{Name: name, Typeflag: typ, Mode: 0o644, Linkname: "/etc/passwd"}
			body := []byte("x")
			if typ == tar.TypeReg {
				h.Size = 1
			}
			tw.WriteHeader(h)
			if typ == tar.TypeReg {
				tw.Write(body)
			}
		}
		return true
	}
}

func buildBundle(ctx context.Context, dir, version string, key ed25519.PrivateKey, out string) error {
	_, err := bundle.Build(ctx, bundle.BuildOptions{PluginDir: dir, Version: version, Key: key, Out: out})
	return err
}

func testSealer(t testing.TB) *pii.Sealer {
	s, err := pii.ParseKeys(pii.NewKeySpec("test"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

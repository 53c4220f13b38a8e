package main_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/store/storetest"
)

var portalBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "portal-bin")
	if err != nil {
		panic(err)
	}
	portalBin = filepath.Join(dir, "portal")
	if out, err := exec.Command("go", "build", "-o", portalBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build portal: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPortal runs `portal serve` and waits until /healthz answers.
func startPortal(t *testing.T, args ...string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	addr := freeAddr(t)
	var out bytes.Buffer
	cmd := exec.Command(portalBin, append([]string{"serve", "--addr", addr, "--data-dir", t.TempDir()}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return cmd, "http://" + addr, &out
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("portal did not start:\n%s", out.String())
	return nil, "", nil
}

func expectStatus(t *testing.T, url string, want int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("GET %s = %d, want %d", url, resp.StatusCode, want)
	}
}

func TestServeAnswersProbesAndExitsZeroOnSIGTERM(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		cmd, base, out := startPortal(t, "--db-dsn", storetest.DSN(t, dialect))
		expectStatus(t, base+"/healthz", http.StatusOK)
		expectStatus(t, base+"/readyz", http.StatusOK)
		expectStatus(t, base+"/metrics", http.StatusOK)
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, out)
		}
		if !strings.Contains(out.String(), "shut down cleanly") {
			t.Fatalf("no clean-shutdown line:\n%s", out)
		}
	})
}

func TestBadDatabaseFailsFastWithOneLine(t *testing.T) {
	for _, tt := range []struct{ name, dsn, want string }{
		{"unreachable", "mysql://root:hunter2@tcp(127.0.0.1:1)/portal", "cannot reach"},
		{"malformed", "mysql://root:hunter2@tcp(127.0.0.1:3306", "bad database DSN"},
		{"unknown scheme", "postgres://root:hunter2@localhost/portal", "unknown scheme"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			cmd := exec.Command(portalBin, "serve", "--addr", freeAddr(t), "--data-dir", t.TempDir(), "--db-dsn", tt.dsn)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatal("portal started with a bad DSN")
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("took %v to fail", d)
			}
			text := strings.TrimSpace(string(out))
			if strings.Count(text, "\n") != 0 || !strings.Contains(text, tt.want) {
				t.Fatalf("want one line containing %q, got:\n%s", tt.want, text)
			}
			if strings.Contains(text, "hunter2") || strings.Contains(text, "goroutine") {
				t.Fatalf("output leaks the password or a stack:\n%s", text)
			}
		})
	}
}

func TestMigrateDryRunPrintsAndChangesNothing(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "p.db")
	out, err := exec.Command(portalBin, "migrate", "--dry-run", "--db-dsn", dsn).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CREATE TABLE") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, err = exec.Command(portalBin, "migrate", "--db-dsn", dsn).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "applied") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err = exec.Command(portalBin, "migrate", "--db-dsn", dsn).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "up to date") {
		t.Fatalf("second migrate: %v\n%s", err, out)
	}
}

// Fifty logins whose bodies are still arriving when SIGTERM comes: the server
// must let every one finish and answer, then exit 0.
func TestSIGTERMLetsFiftyInFlightRequestsFinish(t *testing.T) {
	cmd, base, out := startPortal(t)
	const n = 50
	results := make(chan int, n)
	bodies := make([]*io.PipeWriter, n)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: n, MaxIdleConnsPerHost: n}, Timeout: 30 * time.Second}
	for i := range n {
		pr, pw := io.Pipe()
		bodies[i] = pw
		go func() {
			resp, err := client.Post(base+"/api/v1/auth/login", "application/json", pr)
			if err != nil {
				results <- -1
				return
			}
			resp.Body.Close()
			results <- resp.StatusCode
		}()
		go func() { _, _ = pw.Write([]byte(`{"username":"admin",`)) }()
	}
	// Wait until the server counts all of them in flight (the gauge counts the
	// metrics request too).
	deadline := time.Now().Add(10 * time.Second)
	for inFlight(t, base) < n+1 {
		if time.Now().After(deadline) {
			t.Fatal("the logins never were all in flight")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // shutdown has begun; now the bodies arrive
	for _, pw := range bodies {
		go func() {
			_, _ = pw.Write([]byte(`"password":"Wrong#Pass2026"}`))
			pw.Close()
		}()
	}
	for range n {
		if code := <-results; code != http.StatusUnauthorized && code != http.StatusLocked {
			t.Errorf("a request in flight at SIGTERM ended with %d", code)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, out)
	}
}

func inFlight(t *testing.T, base string) int {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "portal_http_in_flight_requests "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

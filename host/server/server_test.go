package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/server"
)

func newServer(t *testing.T) *server.Server {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	s := server.New(server.Options{Catalog: cat, ShutdownTimeout: 10 * time.Second})
	s.API().POST("/v1/echo", func(c *gin.Context) {
		b, err := io.ReadAll(c.Request.Body)
		if err != nil {
			server.Fail(c, err)
			return
		}
		c.Data(http.StatusOK, "application/octet-stream", b)
	})
	s.API().GET("/v1/panic", func(c *gin.Context) { panic("boom") })
	s.API().GET("/v1/slow", func(c *gin.Context) {
		time.Sleep(500 * time.Millisecond)
		c.String(http.StatusOK, "done")
	})
	return s
}

type errorBody struct {
	Code, Message, RequestID string
}

func decodeError(t *testing.T, r io.Reader) errorBody {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"code", "message", "request_id"} {
		if s, _ := m[k].(string); s == "" {
			t.Fatalf("error body lacks %q: %v", k, m)
		}
	}
	return errorBody{Code: m["code"].(string), Message: m["message"].(string), RequestID: m["request_id"].(string)}
}

func TestOversizedBodyGets413InErrorShape(t *testing.T) {
	ts := httptest.NewServer(newServer(t).Handler())
	defer ts.Close()
	big := bytes.Repeat([]byte("x"), 10<<20)

	// Declared length over the limit: refused before the body is read.
	resp, err := http.Post(ts.URL+"/api/v1/echo", "application/octet-stream", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", resp.StatusCode)
	}
	if e := decodeError(t, resp.Body); e.Code != "request.too_large" || !strings.Contains(e.Message, "1 MiB") {
		t.Fatalf("error = %+v", e)
	}
	resp.Body.Close()

	// Chunked (no length): refused when reading passes the limit.
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/echo", io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Accept-Language", "en")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked status = %d, want 413", resp.StatusCode)
	}
	if e := decodeError(t, resp.Body); !strings.HasPrefix(e.Message, "The request body is too large") {
		t.Fatalf("English message = %q", e.Message)
	}
	resp.Body.Close()

	// And the server is still healthy.
	resp, err = http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz after 413: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestRequestIDIsKeptOrMade(t *testing.T) {
	h := newServer(t).Handler()
	for _, tt := range []struct{ in, want string }{
		{"abc-123", "abc-123"},
		{"bad id\nwith newline", ""},
		{"", ""},
	} {
		req := httptest.NewRequest(http.MethodGet, "/nowhere", nil)
		if tt.in != "" {
			req.Header.Set(server.HeaderRequestID, tt.in)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(server.HeaderRequestID)
		if tt.want != "" && got != tt.want || tt.want == "" && (got == "" || got == tt.in) {
			t.Fatalf("in %q: X-Request-ID = %q", tt.in, got)
		}
		if e := decodeError(t, rec.Body); e.RequestID != got || e.Code != "route.not_found" {
			t.Fatalf("body %+v, header %q", e, got)
		}
	}
}

func TestPanicBecomes500WithoutDetails(t *testing.T) {
	rec := httptest.NewRecorder()
	newServer(t).Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/panic", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "boom") || strings.Contains(body, "goroutine") {
		t.Fatalf("panic leaked to the caller: %s", body)
	}
	if e := decodeError(t, strings.NewReader(body)); e.Code != "internal" || !strings.Contains(e.Message, "服务器内部错误") {
		t.Fatalf("error = %+v", e)
	}
}

func TestReadinessReflectsChecks(t *testing.T) {
	s := newServer(t)
	var fail bool
	s.AddReadinessCheck("database", func(context.Context) error {
		if fail {
			return io.ErrUnexpectedEOF
		}
		return nil
	})
	for _, f := range []bool{false, true} {
		fail = f
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		want := http.StatusOK
		if f {
			want = http.StatusServiceUnavailable
		}
		if rec.Code != want {
			t.Fatalf("fail=%v: status %d, want %d", f, rec.Code, want)
		}
	}
}

// SIGTERM is delivered to cmd/portal as the end of Run's context; this checks
// what the process then does with 50 requests in flight.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	s := newServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()

	const n = 50
	var wg sync.WaitGroup
	results := make(chan string, n)
	started := make(chan struct{}, n)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: n, MaxIdleConnsPerHost: n}}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			resp, err := client.Get("http://" + ln.Addr().String() + "/api/v1/slow")
			if err != nil {
				results <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- string(b)
		}()
	}
	for range n {
		<-started
	}
	time.Sleep(150 * time.Millisecond) // let every request reach the handler
	stop()
	wg.Wait()
	close(results)
	for r := range results {
		if r != "done" {
			t.Errorf("in-flight request failed during shutdown: %s", r)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v, want nil after a clean shutdown", err)
	}
}

// A request whose client went away is recorded as 499, not logged as a
// server error, whatever the handler failed with.
func TestClientGoneIs499NotAnError(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s := server.New(server.Options{Catalog: cat, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s.API().GET("/v1/gone", func(c *gin.Context) { server.Fail(c, c.Request.Context().Err()) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/gone", nil).WithContext(ctx))
	if rec.Code != server.StatusClientClosed || rec.Body.Len() != 0 {
		t.Fatalf("status %d, body %q; want 499 and no body", rec.Code, rec.Body.String())
	}
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "status=499") {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

// A handler that aborts its response after the head (http.ErrAbortHandler)
// reaches net/http, which closes the connection: the client sees the body
// cut short, not a 500 appended to it nor a complete shorter body. The
// access log records it as aborted.
func TestAbortedResponseIsCutShortAndLogged(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	s := server.New(server.Options{Catalog: cat, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s.API().GET("/v1/cut", func(c *gin.Context) {
		c.Writer.WriteHeaderNow()
		c.Writer.WriteString("part")
		c.Writer.Flush()
		panic(http.ErrAbortHandler)
	})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/cut")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "part" || err == nil {
		t.Fatalf("an aborted response = %d %q, read error %v", resp.StatusCode, body, err)
	}
	if !strings.Contains(logs.String(), "aborted=true") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

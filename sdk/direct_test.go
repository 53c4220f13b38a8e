package sdk_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/wire"
)

// These tests run both sides of the direct channel in one process, over a
// real Unix socket (and gRPC for the rest), so the peer each side expects is
// this process.

const directManifest = "id: direct\nversion: 1.0.0\nname: {zh-CN: 直连}\nhost: '>=0.1.0'\nprotocol: 1\n"

// plugin is the plugin side of a plugin whose handler is h, started as the
// host would start it; unary counts the requests it served over gRPC.
type plugin struct {
	pluginv1.PluginServer
	socket string
	unary  atomic.Int32
}

func (p *plugin) HandleHTTP(ctx context.Context, req *pluginv1.HTTPRequest) (*pluginv1.HTTPResponse, error) {
	p.unary.Add(1)
	return p.PluginServer.HandleHTTP(ctx, req)
}

// startPlugin starts a plugin; hostPID 0 starts it as a host without the
// direct channel would.
func startPlugin(t *testing.T, h http.Handler, hostPID int) *plugin {
	t.Helper()
	srv, err := sdk.NewServerForTest(sdk.Plugin{Manifest: []byte(directManifest),
		Start: func(context.Context, *sdk.Env) (http.Handler, error) { return h, nil }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Start(context.Background(), &pluginv1.StartRequest{HostPid: int64(hostPID)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = srv.Stop(context.Background(), &pluginv1.StopRequest{}) })
	return &plugin{PluginServer: srv, socket: resp.DirectSocket}
}

// connect serves p on an in-memory gRPC connection and returns the host's
// client for it, using the direct channel at socket if it is not empty.
func connect(t *testing.T, p pluginv1.PluginServer, socket string) *wire.Client {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(wire.ServerOptions()...)
	pluginv1.RegisterPluginServer(gs, p)
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufnet", append(wire.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))...)
	if err != nil {
		t.Fatal(err)
	}
	life, end := context.WithCancel(context.Background())
	t.Cleanup(func() { end(); conn.Close(); gs.Stop() })
	c := wire.NewClient(life, pluginv1.NewPluginClient(conn), nil)
	c.UseDirect(&pluginv1.StartResponse{DirectSocket: socket, DirectShared: true}, os.Getpid(), slog.New(slog.NewTextHandler(t.Output(), nil)))
	return c
}

func get(path string, deadline time.Time) *pluginv1.HTTPRequest {
	return &pluginv1.HTTPRequest{Method: "GET", Path: path, Route: path, Caller: &pluginv1.Caller{Audience: "anonymous"},
		DeadlineUnixMs: deadline.UnixMilli()}
}

// Concurrent calls each get their own answer, all over the direct channel.
func TestDirectAnswersEachCallItsOwn(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 0
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		time.Sleep(time.Duration(50-n) * time.Millisecond) // later calls answer first
		if n%7 == 0 {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		fmt.Fprintf(w, "call %d", n)
	})
	p := startPlugin(t, h, os.Getpid())
	if p.socket == "" {
		t.Fatal("the plugin offers no direct channel")
	}
	c := connect(t, p, p.socket)
	var wg sync.WaitGroup
	for n := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := get("/echo", time.Now().Add(5*time.Second))
			req.RawQuery = fmt.Sprintf("n=%d", n)
			resp, err := c.HandleHTTP(context.Background(), req)
			if err != nil {
				t.Errorf("call %d: %v", n, err)
				return
			}
			if n%7 == 0 && resp.Status != http.StatusTeapot || n%7 != 0 && string(resp.Body) != fmt.Sprintf("call %d", n) {
				t.Errorf("call %d answered %d %q", n, resp.Status, resp.Body)
			}
		}()
	}
	wg.Wait()
	// Connections are reused: a second round opens none.
	for n := range 20 {
		if _, err := c.HandleHTTP(context.Background(), get("/echo?n=1", time.Now().Add(5*time.Second))); err != nil {
			t.Fatalf("sequential call %d: %v", n, err)
		}
	}
	if n := p.unary.Load(); n != 0 {
		t.Fatalf("%d calls went over gRPC, want none", n)
	}
}

// On one connection the plugin handles requests concurrently and answers
// each when it is done (StartResponse.direct_shared): a quick request sent
// after a slow one is answered first.
func TestDirectConnectionAnswersInAnyOrder(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		fmt.Fprint(w, r.URL.Path)
	})
	p := startPlugin(t, h, os.Getpid())
	fc := dialRaw(t, p.socket)
	w := wire.NewFrameWriter(fc, 0, nil)
	for id, path := range []string{"/slow", "/quick"} {
		flush, err := w.Add(&pluginv1.ExchangeFrame{Id: uint64(id + 1), Request: get(path, time.Now().Add(5*time.Second))})
		if err == nil && flush {
			err = w.Flush()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"/quick", "/slow"} {
		out := &pluginv1.ExchangeFrame{}
		if err := fc.ReadFrame(out); err != nil {
			t.Fatal(err)
		}
		if string(out.GetResponse().GetBody()) != want {
			t.Fatalf("answer %d %q, want %q first", out.Id, out.GetResponse().GetBody(), want)
		}
		if want == "/quick" {
			close(release)
		}
	}
}

// An answer over the frame limit comes back as ResourceExhausted, as over
// gRPC (a route with large answers is declared stream: true), on exclusive
// and shared connections alike, and the connection goes on serving.
func TestDirectAnswerOverTheLimit(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/huge" {
			w.Write(make([]byte, wire.MaxMessageBytes+1))
			return
		}
		fmt.Fprint(w, "small")
	})
	p := startPlugin(t, h, os.Getpid())
	c := connect(t, p, p.socket)
	var wg sync.WaitGroup
	for i := range 4 { // the first alone on its connection, then shared
		if i > 0 {
			wg.Add(1)
		}
		call := func() {
			_, err := c.HandleHTTP(context.Background(), get("/huge", time.Now().Add(30*time.Second)))
			if status.Code(err) != codes.ResourceExhausted {
				t.Errorf("an answer over the limit: %v", err)
			}
		}
		if i == 0 {
			call()
			continue
		}
		go func() { defer wg.Done(); call() }()
	}
	wg.Wait()
	for range 3 {
		if resp, err := c.HandleHTTP(context.Background(), get("/small", time.Now().Add(5*time.Second))); err != nil || string(resp.Body) != "small" {
			t.Fatalf("after an answer over the limit: %v %v", resp, err)
		}
	}
	if n := p.unary.Load(); n != 0 {
		t.Fatalf("%d calls went over gRPC", n)
	}
}

// A caller that gives up returns at once with its context's error, and the
// plugin's handler sees its request cancelled; a request past its deadline
// is cancelled in the plugin too.
func TestDirectCancelReachesTheHandler(t *testing.T) {
	cancelled := make(chan string, 2)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/after" {
			return
		}
		select {
		case <-r.Context().Done():
			cancelled <- r.URL.Path
		case <-time.After(10 * time.Second):
		}
	})
	p := startPlugin(t, h, os.Getpid())
	c := connect(t, p, p.socket)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if _, err := c.HandleHTTP(ctx, get("/gone", time.Now().Add(time.Minute))); status.Code(err) != codes.Canceled {
		t.Fatalf("cancelled call: %v", err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("the cancelled call returned after %v", waited)
	}
	if got := <-cancelled; got != "/gone" {
		t.Fatalf("cancelled in the plugin: %s", got)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	if _, err := c.HandleHTTP(ctx, get("/slow", dl)); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("call past its deadline: %v", err)
	}
	if got := <-cancelled; got != "/slow" {
		t.Fatalf("deadline in the plugin: %s", got)
	}
	// The connections of the calls that gave up were closed, not reused.
	resp, err := c.HandleHTTP(context.Background(), get("/after", time.Now().Add(50*time.Millisecond)))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("a call after two given up: %v %v", resp, err)
	}
}

// A cancellation that arrives before its request (the host gave up just
// after sending it) cancels the request as soon as it is read.
func TestDirectCancelBeforeTheRequest(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	p := startPlugin(t, h, os.Getpid())
	if _, err := p.CancelHTTP(context.Background(), &pluginv1.CancelHTTPRequest{Id: 7}); err != nil {
		t.Fatal(err)
	}
	fc := dialRaw(t, p.socket)
	start := time.Now()
	if err := fc.WriteFrame(&pluginv1.ExchangeFrame{Id: 7, Request: get("/late", time.Now().Add(time.Minute))}); err != nil {
		t.Fatal(err)
	}
	out := &pluginv1.ExchangeFrame{}
	if err := fc.ReadFrame(out); err != nil {
		t.Fatal(err)
	}
	if codes.Code(out.ErrorCode) != codes.Canceled || time.Since(start) > 2*time.Second {
		t.Fatalf("a request cancelled before it came: %v after %v", out, time.Since(start))
	}
}

// When the plugin's side ends (its process exits), a waiting call fails at
// once with Unavailable (the router answers 503).
func TestDirectPluginGoneFailsWaitingCalls(t *testing.T) {
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	})
	p := startPlugin(t, h, os.Getpid())
	c := connect(t, p, p.socket)
	done := make(chan error, 1)
	go func() {
		_, err := c.HandleHTTP(context.Background(), get("/wait", time.Now().Add(time.Minute)))
		done <- err
	}()
	<-entered
	_, _ = p.Stop(context.Background(), &pluginv1.StopRequest{})
	select {
	case err := <-done:
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("waiting call when the plugin ended: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting call hangs after the plugin ended")
	}
	if _, err := os.Stat(filepath.Dir(p.socket)); !os.IsNotExist(err) {
		t.Fatalf("the socket's folder is left behind: %v", err)
	}
}

// A plugin without the direct channel (an older SDK, or a host that did not
// ask for it) is served over gRPC.
func TestDirectAbsentUsesGRPC(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "grpc") })
	p := startPlugin(t, h, 0)
	if p.socket != "" {
		t.Fatalf("a plugin started without a host pid offers %s", p.socket)
	}
	callsGoOverGRPC(t, connect(t, p, p.socket), p, "grpc")
}

// callsGoOverGRPC makes three calls through c, each answered body, and
// checks all three reached p over gRPC.
func callsGoOverGRPC(t *testing.T, c *wire.Client, p *plugin, body string) {
	t.Helper()
	for range 3 {
		resp, err := c.HandleHTTP(context.Background(), get("/x", time.Now().Add(time.Second)))
		if err != nil || string(resp.Body) != body {
			t.Fatalf("a call: %v %v", resp, err)
		}
	}
	if n := p.unary.Load(); n != 3 {
		t.Fatalf("%d of 3 calls over gRPC", n)
	}
}

// dialRaw connects to a direct socket as any process would, with a 5 s
// deadline.
func dialRaw(t *testing.T, socket string) *wire.FrameConn {
	t.Helper()
	conn, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	return wire.NewFrameConn(conn)
}

// Each side checks the other is the process it expects. The host does not
// send requests to a socket served by another process (it uses gRPC), and
// the plugin does not answer a process other than the host.
func TestDirectPeersAreChecked(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "answered") })
	p := startPlugin(t, h, os.Getpid())
	c := connect(t, p, p.socket)
	var logged strings.Builder
	c.UseDirect(&pluginv1.StartResponse{DirectSocket: p.socket, DirectShared: true}, os.Getpid()+1, slog.New(slog.NewTextHandler(&logged, nil))) // "the plugin's process" is another
	callsGoOverGRPC(t, c, p, "answered")
	if n := strings.Count(logged.String(), "direct channel refused"); n != 1 {
		t.Fatalf("the refusal logged %d times: %s", n, logged.String())
	}

	other := startPlugin(t, h, os.Getpid()+1) // expects another host
	fc := dialRaw(t, other.socket)
	// The plugin closes the connection: the write or the read fails.
	err := fc.WriteFrame(&pluginv1.ExchangeFrame{Id: 1, Request: get("/x", time.Now().Add(time.Second))})
	if err == nil {
		err = fc.ReadFrame(&pluginv1.ExchangeFrame{})
	}
	if err == nil || os.IsTimeout(err) {
		t.Fatalf("a process other than the host was answered, or not refused (%v)", err)
	}
}

// A plugin that stops reading cannot hold the host's callers: each returns
// by its deadline, though its request is too large for the socket's buffer.
func TestDirectStalledPluginReleasesCallers(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, "http.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, conn) // never read
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	p := startPlugin(t, http.NotFoundHandler(), 0)
	c := connect(t, p, l.Addr().String())
	body := make([]byte, 1<<20)
	start := time.Now()
	var wg sync.WaitGroup
	for range 120 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			req := get("/upload", time.Now().Add(300*time.Millisecond))
			req.Method, req.Body = "POST", body
			if _, err := c.HandleHTTP(ctx, req); status.Code(err) != codes.DeadlineExceeded {
				t.Errorf("a call to a stalled plugin: %v", err)
			}
		}()
	}
	wg.Wait()
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("callers held %v by a stalled plugin (deadline 300 ms)", took)
	}
}

// Closing the client closes its idle connections at once; later calls
// answer Unavailable.
func TestDirectClose(t *testing.T) {
	var serving atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serving.Add(1) })
	p := startPlugin(t, h, os.Getpid())
	c := connect(t, p, p.socket)
	if _, err := c.HandleHTTP(context.Background(), get("/x", time.Now().Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := c.HandleHTTP(context.Background(), get("/x", time.Now().Add(time.Second))); status.Code(err) != codes.Unavailable {
		t.Fatalf("a call after Close: %v", err)
	}
	if n := serving.Load(); n != 1 {
		t.Fatalf("the plugin served %d requests, want 1", n)
	}
}

package sdk_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
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

const exchangeManifest = "id: mux\nversion: 1.0.0\nname: {zh-CN: 复用}\nhost: '>=0.1.0'\nprotocol: 1\n"

// serveOverGRPC serves srv on an in-memory gRPC connection and returns the
// host's client for it, and a function that stops the server.
func serveOverGRPC(t *testing.T, srv pluginv1.PluginServer) (*wire.Client, func()) {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(wire.ServerOptions()...)
	pluginv1.RegisterPluginServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufnet", append(wire.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))...)
	if err != nil {
		t.Fatal(err)
	}
	life, end := context.WithCancel(context.Background())
	t.Cleanup(func() { end(); conn.Close(); gs.Stop() })
	return wire.NewClient(life, pluginv1.NewPluginClient(conn), nil), gs.Stop
}

// startedServer is the plugin side of a plugin whose handler is h.
func startedServer(t *testing.T, h http.Handler) pluginv1.PluginServer {
	t.Helper()
	srv, err := sdk.NewServerForTest(sdk.Plugin{Manifest: []byte(exchangeManifest),
		Start: func(context.Context, *sdk.Env) (http.Handler, error) { return h, nil }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Start(context.Background(), &pluginv1.StartRequest{}); err != nil {
		t.Fatal(err)
	}
	return srv
}

func get(path string, deadline time.Time) *pluginv1.HTTPRequest {
	return &pluginv1.HTTPRequest{Method: "GET", Path: path, Route: path, Caller: &pluginv1.Caller{Audience: "anonymous"},
		DeadlineUnixMs: deadline.UnixMilli()}
}

// Many calls share the one stream and each gets its own answer, though the
// plugin answers them in another order than they were asked.
func TestExchangeAnswersEachCallItsOwn(t *testing.T) {
	var streams atomic.Int32
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
	c, _ := serveOverGRPC(t, countStreams{startedServer(t, h), &streams})
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
	if n := streams.Load(); n != 1 {
		t.Fatalf("%d Exchange streams for 50 calls, want 1", n)
	}
}

// A caller that gives up returns at once with its context's error, and the
// plugin's handler sees its request cancelled; a request past its deadline
// is cancelled in the plugin too.
func TestExchangeCancelReachesTheHandler(t *testing.T) {
	cancelled := make(chan string, 2)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			cancelled <- r.URL.Path
		case <-time.After(10 * time.Second):
		}
	})
	c, _ := serveOverGRPC(t, startedServer(t, h))

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
}

// When the stream breaks, the calls waiting on it fail with the reason
// (Unavailable: the router answers 503), and later calls have no stream to
// use while the plugin is gone.
func TestExchangeBrokenStreamFailsWaitingCalls(t *testing.T) {
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	})
	c, stop := serveOverGRPC(t, startedServer(t, h))
	done := make(chan error, 1)
	go func() {
		_, err := c.HandleHTTP(context.Background(), get("/wait", time.Now().Add(time.Minute)))
		done <- err
	}()
	<-entered
	stop()
	select {
	case err := <-done:
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("waiting call when the stream broke: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting call hangs after the stream broke")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := c.HandleHTTP(ctx, get("/later", time.Now().Add(time.Second))); status.Code(err) != codes.Unavailable {
		t.Fatalf("a call with the plugin gone: %v", err)
	}
}

// A plugin built before Exchange answers it Unimplemented: the call, and
// every later one, goes through the unary HandleHTTP.
func TestExchangeFallsBackToUnary(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "unary") })
	c, _ := serveOverGRPC(t, noExchange{startedServer(t, h)})
	for range 3 {
		resp, err := c.HandleHTTP(context.Background(), get("/x", time.Now().Add(time.Second)))
		if err != nil || string(resp.Body) != "unary" {
			t.Fatalf("through the old plugin: %v %v", resp, err)
		}
	}
}

// countStreams counts the Exchange streams opened.
type countStreams struct {
	pluginv1.PluginServer
	n *atomic.Int32
}

func (s countStreams) Exchange(st pluginv1.Plugin_ExchangeServer) error {
	s.n.Add(1)
	return s.PluginServer.Exchange(st)
}

// noExchange is a plugin side without Exchange.
type noExchange struct{ pluginv1.PluginServer }

func (noExchange) Exchange(pluginv1.Plugin_ExchangeServer) error {
	return status.Error(codes.Unimplemented, "method Exchange not implemented")
}

// A plugin that stops reading the stream cannot hold the host's callers:
// each returns by its deadline (the one whose send is stuck, a moment
// after), and the stalled stream is ended.
func TestExchangeStalledPluginReleasesCallers(t *testing.T) {
	c, _ := serveOverGRPC(t, stalled{})
	body := make([]byte, 64<<10)
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
			if _, err := c.HandleHTTP(ctx, req); err == nil {
				t.Error("a stalled plugin answered")
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("callers still held by a stalled plugin after 10 s (deadline 300 ms)")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("callers held %v by a stalled plugin (deadline 300 ms)", took)
	}
}

// stalled is a plugin side that never reads its Exchange stream.
type stalled struct {
	pluginv1.UnimplementedPluginServer
}

func (stalled) Exchange(st pluginv1.Plugin_ExchangeServer) error {
	<-st.Context().Done()
	return nil
}

// A caller waits for the stream to open no longer than its deadline.
func TestExchangeOpeningIsBoundedByTheCaller(t *testing.T) {
	life, end := context.WithCancel(context.Background())
	defer end()
	c := wire.NewClient(life, slowOpen{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.HandleHTTP(ctx, get("/x", time.Now().Add(100*time.Millisecond))); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("while the stream does not open: %v", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("the caller waited %v for a stream that does not open (deadline 100 ms)", waited)
	}
}

// slowOpen is a plugin connection on which opening a stream blocks until
// the process ends.
type slowOpen struct{ pluginv1.PluginClient }

func (slowOpen) Exchange(ctx context.Context, _ ...grpc.CallOption) (grpc.BidiStreamingClient[pluginv1.ExchangeFrame, pluginv1.ExchangeFrame], error) {
	<-ctx.Done()
	return nil, status.FromContextError(ctx.Err()).Err()
}

// Closing the stream of a stalled plugin does not wait on a stuck send: it
// ends the stream, and the callers waiting on it are answered.
func TestExchangeCloseWithAStuckSend(t *testing.T) {
	c, _ := serveOverGRPC(t, stalled{})
	body := make([]byte, 64<<10)
	errs := make(chan error, 120)
	for range 120 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			req := get("/upload", time.Now().Add(20*time.Second))
			req.Method, req.Body = "POST", body
			_, err := c.HandleHTTP(ctx, req)
			errs <- err
		}()
	}
	time.Sleep(300 * time.Millisecond) // the window fills; sends block
	start := time.Now()
	c.CloseExchange()
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("closing took %v behind a stuck send", took)
	}
	for range 120 {
		select {
		case err := <-errs:
			if err == nil {
				t.Fatal("a stalled plugin answered")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a caller still waits after the stream was closed")
		}
	}
}

package wire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// fakePlugin is the plugin side of a direct channel as the SDK serves it,
// reduced to what the host's side relies on: each request is answered in its
// own goroutine, after the milliseconds in its query, with its query as the
// body (concurrent is false for an older SDK: one request at a time).
type fakePlugin struct {
	socket     string
	concurrent bool
	accepted   atomic.Int32 // connections
	maxOnConn  atomic.Int32 // most requests in flight on one connection
	mu         sync.Mutex
	conns      []net.Conn
}

func startFake(t *testing.T, concurrent bool) *fakePlugin {
	t.Helper()
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "http.sock"))
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePlugin{socket: l.Addr().String(), concurrent: concurrent}
	t.Cleanup(func() { l.Close(); p.drop() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			p.mu.Lock()
			p.conns = append(p.conns, conn)
			p.mu.Unlock()
			go p.serve(conn)
		}
	}()
	return p
}

func (p *fakePlugin) serve(conn net.Conn) {
	r := NewFrameConn(conn)
	var running atomic.Int32
	w := NewFrameWriter(conn, 0, func() bool { return running.Load() > 0 })
	for {
		in := &pluginv1.ExchangeFrame{}
		if err := r.ReadFrame(in); err != nil {
			return
		}
		n := running.Add(1)
		for m := p.maxOnConn.Load(); n > m && !p.maxOnConn.CompareAndSwap(m, n); m = p.maxOnConn.Load() {
		}
		answer := func() {
			ms, _ := strconv.Atoi(in.Request.RawQuery)
			time.Sleep(time.Duration(ms) * time.Millisecond)
			running.Add(-1)
			out := &pluginv1.ExchangeFrame{Id: in.Id, Response: &pluginv1.HTTPResponse{Status: 200, Body: []byte(in.Request.RawQuery)}}
			if flush, err := w.Add(out); err == nil && flush {
				_ = w.Flush()
			}
		}
		if p.concurrent {
			go answer()
		} else {
			answer()
		}
	}
}

// drop ends every connection, as the plugin's process ending would.
func (p *fakePlugin) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// cancels records the CancelHTTP calls the host sends over gRPC.
type cancels struct {
	pluginv1.PluginClient
	ids chan uint64
}

func (c *cancels) CancelHTTP(_ context.Context, in *pluginv1.CancelHTTPRequest, _ ...grpc.CallOption) (*pluginv1.CancelHTTPResponse, error) {
	c.ids <- in.Id
	return &pluginv1.CancelHTTPResponse{}, nil
}

func hostSide(p *fakePlugin) (*direct, *cancels) {
	rpc := &cancels{ids: make(chan uint64, 100)}
	d := &direct{path: p.socket, pid: os.Getpid(), shareable: p.concurrent, rpc: rpc, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	d.quick.Store(quickOne)
	return d, rpc
}

func call(d *direct, ctx context.Context, ms int) (string, error) {
	resp, err := d.call(ctx, &pluginv1.HTTPRequest{Method: "GET", Path: "/x", RawQuery: strconv.Itoa(ms)})
	if err != nil {
		return "", err
	}
	return string(resp.Body), nil
}

// callAll makes n concurrent calls, call i waiting ms(i) in the plugin, and
// checks each got its own answer.
func callAll(t *testing.T, d *direct, n int, ms func(i int) int) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if got, err := call(d, ctx, ms(i)); err != nil || got != strconv.Itoa(ms(i)) {
				t.Errorf("call %d: %q %v", i, got, err)
			}
		}()
	}
	wg.Wait()
}

// Under load, calls share one connection, each still getting its own
// answer, and answers done together come back in one write. A lone call
// has a connection of its own.
func TestSharedUnderLoad(t *testing.T) {
	p := startFake(t, true)
	d, _ := hostSide(p)
	defer d.close()
	if got, err := call(d, context.Background(), 0); err != nil || got != "0" {
		t.Fatalf("a lone call: %q %v", got, err)
	}
	if d.sh != nil {
		t.Fatal("a lone call went over the shared connection")
	}
	callAll(t, d, 200, func(i int) int { return 20 + i%7 })
	if d.sh == nil {
		t.Fatal("200 concurrent calls did not share a connection")
	}
	if n := p.maxOnConn.Load(); n < int32(sharedAt()) {
		t.Fatalf("at most %d requests in flight on one connection", n)
	}
	// A few exclusive connections (below sharedAt, and while the shared one
	// is being opened) and the shared one, not one per call.
	if n := p.accepted.Load(); n > 20 {
		t.Fatalf("200 concurrent calls opened %d connections", n)
	}
}

// A slow request on the shared connection holds up no other.
func TestSharedSlowCallHoldsNoOther(t *testing.T) {
	p := startFake(t, true)
	d, _ := hostSide(p)
	defer d.close()
	slow := make(chan struct{})
	for range sharedAt() {
		go func() { _, _ = call(d, context.Background(), 3000); slow <- struct{}{} }()
	}
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	callAll(t, d, 20, func(int) int { return 1 })
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("quick calls took %v behind slow ones", took)
	}
	for range sharedAt() {
		<-slow
	}
}

// A caller that gives up returns at once and the plugin is told to cancel
// its request; the shared connection stays in use and the late answer goes
// nowhere.
func TestSharedCallerGivesUp(t *testing.T) {
	p := startFake(t, true)
	d, rpc := hostSide(p)
	defer d.close()
	hold := make(chan struct{})
	for range sharedAt() - 1 {
		go func() { _, _ = call(d, context.Background(), 500); hold <- struct{}{} }()
	}
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := call(d, ctx, 300); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("a call past its deadline: %v", err)
	}
	if took := time.Since(start); took > 250*time.Millisecond {
		t.Fatalf("the caller was held %v past its 100 ms deadline", took)
	}
	if d.sh == nil {
		t.Fatal("the call did not go over the shared connection")
	}
	select {
	case <-rpc.ids:
	case <-time.After(2 * time.Second):
		t.Fatal("the plugin was not told to cancel")
	}
	for range sharedAt() - 1 {
		<-hold
	}
	sh := d.sh
	callAll(t, d, 20, func(int) int { return 5 })
	if d.sh != sh || sh.failure() != nil {
		t.Fatal("the shared connection was not kept after a caller gave up")
	}
}

// When the plugin's side ends, every call waiting on the shared connection
// fails at once with Unavailable, and later calls are served on a new one.
func TestSharedPluginGone(t *testing.T) {
	p := startFake(t, true)
	d, _ := hostSide(p)
	defer d.close()
	errs := make(chan error, 10)
	for range 10 {
		go func() { _, err := call(d, context.Background(), 60000); errs <- err }()
	}
	time.Sleep(100 * time.Millisecond)
	p.drop()
	for range 10 {
		select {
		case err := <-errs:
			if status.Code(err) != codes.Unavailable {
				t.Fatalf("a waiting call when the plugin ended: %v", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("a waiting call hangs after the plugin ended")
		}
	}
	callAll(t, d, 20, func(int) int { return 5 })
}

// A plugin of an older SDK answers one request at a time per connection:
// it never gets two at once.
func TestSharedNotWithOlderPlugins(t *testing.T) {
	p := startFake(t, false)
	d, _ := hostSide(p)
	defer d.close()
	callAll(t, d, 50, func(int) int { return 5 })
	if n := p.maxOnConn.Load(); n != 1 {
		t.Fatalf("%d requests at once on one connection to an older plugin", n)
	}
	if d.sh != nil {
		t.Fatal("an older plugin got a shared connection")
	}
}

// Many goroutines' frames arrive whole and in one piece each, however the
// writes were combined.
func TestFrameWriterCombines(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := NewFrameWriter(a, 0, func() bool { return true })
	const n = 300
	go func() {
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				flush, err := w.Add(&pluginv1.ExchangeFrame{Id: uint64(i), ErrorMessage: fmt.Sprint("frame ", i)})
				if err == nil && flush {
					err = w.Flush()
				}
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}()
	r := NewFrameConn(b)
	seen := map[uint64]bool{}
	for range n {
		f := &pluginv1.ExchangeFrame{}
		if err := r.ReadFrame(f); err != nil {
			t.Fatal(err)
		}
		if f.ErrorMessage != fmt.Sprint("frame ", f.Id) || seen[f.Id] {
			t.Fatalf("frame %d: %q", f.Id, f.ErrorMessage)
		}
		seen[f.Id] = true
	}
}

// A writer takes frames up to its limit, then refuses them without
// queueing anything; a frame is always taken into an empty queue.
func TestFrameWriterLimit(t *testing.T) {
	var out bytes.Buffer
	w := NewFrameWriter(&out, 1000, nil)
	frame := &pluginv1.ExchangeFrame{Id: 1, ErrorMessage: string(make([]byte, 400))}
	for i := range 2 {
		if flush, err := w.Add(frame); err != nil || flush != (i == 0) {
			t.Fatalf("frame %d: %v %v", i+1, flush, err)
		}
	}
	if _, err := w.Add(frame); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("a frame over the limit: %v", err)
	}
	if err := w.Flush(); err != nil || out.Len() != 2*(4+proto.Size(frame)) {
		t.Fatalf("flushed %d bytes (%v), want two frames", out.Len(), err)
	}
	big := &pluginv1.ExchangeFrame{Id: 2, ErrorMessage: string(make([]byte, 2000))}
	if _, err := w.Add(big); err != nil {
		t.Fatalf("a large frame into an empty queue: %v", err)
	}
}

// A plugin that has stopped accepting connections (its accept loop stuck)
// holds no caller up: once the socket's backlog is full a dial fails at
// once, and every call, exclusive or shared, answers errNoConn (the caller
// then uses gRPC) well within its deadline.
func TestDirectPluginNotAccepting(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the direct channel is Linux-only")
	}
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "http.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Fill the backlog: connections nobody accepts.
	var queued []net.Conn
	defer func() {
		for _, c := range queued {
			c.Close()
		}
	}()
	for {
		c, err := net.DialTimeout("unix", l.Addr().String(), time.Second)
		if err != nil {
			break
		}
		queued = append(queued, c)
		if len(queued) > 16384 {
			t.Skip("the backlog did not fill")
		}
	}
	d, _ := hostSide(&fakePlugin{socket: l.Addr().String(), concurrent: true})
	defer d.close()
	var wg sync.WaitGroup
	for i := range 2 * sharedAt() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			_, err := call(d, ctx, 0)
			if !errors.Is(err, errNoConn) {
				t.Errorf("call %d: %v, want errNoConn", i, err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("call %d took %v", i, took)
			}
		}()
	}
	wg.Wait()
}

package sdk

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/wire"
)

// directChannel is the plugin's side of the direct channel (see
// StartResponse.direct_socket in plugin.proto): a Unix socket in a private
// folder, on which the host process, and only it, sends small requests. On
// each connection one goroutine reads the requests. On a shared connection
// each is handled on a worker (see workers) and answered when done, in any
// order, answers done together in one write (StartResponse.direct_shared); on
// an exclusive one, on the goroutine that read it.
type directChannel struct {
	l       net.Listener // in a folder of its own
	hostPID int
	life    context.Context
	end     context.CancelFunc

	mu      sync.Mutex
	cancels map[uint64]context.CancelFunc
	// early holds the ids cancelled before their request was read (the
	// host gave up just after sending it), with when, for a minute.
	early map[uint64]time.Time
	conns map[net.Conn]struct{}
	// workers run the requests of shared connections.
	workers *workers
}

// listenDirect opens the direct channel for the host process hostPID, in a
// new 0700 folder under the temporary folder (where go-plugin puts its own
// socket).
func (s *server) listenDirect(hostPID int) (*directChannel, error) {
	dir, err := os.MkdirTemp("", "direct-")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("unix", filepath.Join(dir, "http.sock"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	life, end := context.WithCancel(context.Background())
	d := &directChannel{l: l, hostPID: hostPID, life: life, end: end,
		cancels: map[uint64]context.CancelFunc{}, early: map[uint64]time.Time{}, conns: map[net.Conn]struct{}{}, workers: newWorkers()}
	go d.accept(s)
	return d, nil
}

func (d *directChannel) socket() string { return d.l.Addr().String() }

func (d *directChannel) accept(s *server) {
	for {
		conn, err := d.l.Accept()
		if err != nil {
			return
		}
		go d.serve(s, conn)
	}
}

// serve answers the requests on one connection until the host closes it.
func (d *directChannel) serve(s *server, conn net.Conn) {
	defer conn.Close()
	if pid, err := wire.PeerPID(conn); err != nil || pid != d.hostPID {
		s.log.Error("direct connection refused: not from the host process", "pid", pid, "err", err)
		return
	}
	d.mu.Lock()
	if d.conns == nil { // closed
		d.mu.Unlock()
		return
	}
	d.conns[conn] = struct{}{}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.conns, conn)
		d.mu.Unlock()
	}()
	fc := wire.NewFrameConn(conn)
	var running atomic.Int32 // requests being handled
	w := wire.NewFrameWriter(conn, 0, func() bool { return running.Load() > 0 })
	for {
		in := &pluginv1.ExchangeFrame{}
		if err := fc.ReadFrame(in); err != nil {
			return
		}
		running.Add(1)
		serve := func() {
			out := d.handle(s, in)
			running.Add(-1)
			writeAnswer(w, conn, in.Id, out)
		}
		if in.Exclusive {
			serve() // nothing else comes on this connection meanwhile
		} else {
			d.workers.run(serve)
		}
	}
}

// writeAnswer writes the answer to request id, with those of the
// connection's other requests that are done at the same time.
func writeAnswer(w *wire.FrameWriter, conn net.Conn, id uint64, out *pluginv1.ExchangeFrame) {
	flush, err := w.Add(out)
	if errors.Is(err, wire.ErrFrameTooLarge) {
		// As gRPC would refuse it; a route with large answers is declared
		// stream: true.
		flush, err = w.Add(&pluginv1.ExchangeFrame{Id: id, ErrorCode: int32(codes.ResourceExhausted), ErrorMessage: "response: " + err.Error()})
	}
	if err == nil && flush {
		err = w.Flush()
	}
	if err != nil {
		conn.Close() // the host sees the connection end and gives up on it
	}
}

// handle serves one request under its deadline, cancellable by CancelHTTP.
func (d *directChannel) handle(s *server, in *pluginv1.ExchangeFrame) *pluginv1.ExchangeFrame {
	out := &pluginv1.ExchangeFrame{Id: in.Id}
	if in.Request == nil {
		out.ErrorCode, out.ErrorMessage = int32(codes.InvalidArgument), "frame without a request"
		return out
	}
	ctx, cancel := requestContext(d.life, in.Request)
	d.mu.Lock()
	d.cancels[in.Id] = cancel
	if _, ok := d.early[in.Id]; ok {
		delete(d.early, in.Id)
		cancel()
	}
	d.mu.Unlock()
	resp, err := s.HandleHTTP(ctx, in.Request)
	if ctx.Err() != nil {
		// Past its deadline or given up: as a gRPC call would end.
		resp, err = nil, status.FromContextError(ctx.Err()).Err()
	}
	d.mu.Lock()
	delete(d.cancels, in.Id)
	d.mu.Unlock()
	cancel()
	out.Response = resp
	if err != nil {
		e := status.Convert(err)
		out.Response, out.ErrorCode, out.ErrorMessage = nil, int32(e.Code()), e.Message()
	}
	return out
}

// cancel cancels request id if it is running, or as soon as it is read.
func (d *directChannel) cancel(id uint64) {
	d.mu.Lock()
	cancel := d.cancels[id]
	if cancel == nil {
		now := time.Now()
		for id, at := range d.early {
			if now.Sub(at) > time.Minute {
				delete(d.early, id)
			}
		}
		if len(d.early) < 10000 {
			d.early[id] = now
		}
	}
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// close stops accepting, ends the connections and the requests on them, and
// removes the socket's folder.
func (d *directChannel) close() {
	d.l.Close()
	d.end()
	d.mu.Lock()
	for c := range d.conns {
		c.Close()
	}
	d.conns = nil
	d.mu.Unlock()
	os.RemoveAll(filepath.Dir(d.socket()))
}

// requestContext is a request's context: cancelled with parent, at the
// request's deadline, or by the host.
func requestContext(parent context.Context, req *pluginv1.HTTPRequest) (context.Context, context.CancelFunc) {
	if req.DeadlineUnixMs > 0 {
		return context.WithDeadline(parent, time.UnixMilli(req.DeadlineUnixMs))
	}
	return context.WithCancel(parent)
}

func (s *server) CancelHTTP(_ context.Context, req *pluginv1.CancelHTTPRequest) (*pluginv1.CancelHTTPResponse, error) {
	s.mu.RLock()
	d := s.direct
	s.mu.RUnlock()
	if d != nil {
		d.cancel(req.Id)
	}
	return &pluginv1.CancelHTTPResponse{}, nil
}

package wire

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// exchange multiplexes the host's HandleHTTP calls to one plugin process over
// one long-lived Exchange stream (see plugin.proto), which saves each call
// gRPC's stream set-up. The stream is opened on first use and again after it
// breaks; a plugin without Exchange is called through the unary HandleHTTP
// from then on.
type exchange struct {
	rpc  pluginv1.PluginClient
	life context.Context // ends when the process exits

	mu      sync.Mutex
	current *muxStream
	opening *opening // the stream being opened, if any
	closed  bool
	unary   atomic.Bool
}

// opening is one attempt to open the stream; done is closed when it ends.
type opening struct {
	done chan struct{}
	err  error
}

// muxStream is one open Exchange stream and the calls waiting on it.
type muxStream struct {
	st     pluginv1.Plugin_ExchangeClient
	cancel context.CancelFunc
	// sending admits one sender at a time (a gRPC stream allows no more);
	// inSend numbers the send in progress, 0 when none.
	sending chan struct{}
	sends   atomic.Uint64
	inSend  atomic.Uint64

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan result
	err     error // why the stream ended; no new calls then
}

type result struct {
	frame *pluginv1.ExchangeFrame
	err   error // the stream's error, not the call's
}

var errClosed = status.Error(codes.Unavailable, "plugin client closed")

// stallGrace is how long a send may stay blocked after its caller gave up
// before the stream is taken to be stalled (the plugin no longer reads it)
// and ended. A unary call's own deadline bounds its send; a shared stream's
// sends need this instead, so that no caller waits much past its deadline.
const stallGrace = time.Second

func (x *exchange) handleHTTP(ctx context.Context, req *pluginv1.HTTPRequest, opts ...grpc.CallOption) (*pluginv1.HTTPResponse, error) {
	if x.unary.Load() {
		return x.rpc.HandleHTTP(ctx, req, opts...)
	}
	s, err := x.stream(ctx)
	if err != nil {
		return nil, err
	}
	id, ch, err := s.register()
	if err != nil {
		return nil, err
	}
	// A send that fails because the stream has ended needs nothing more:
	// read tells every waiting call why, this one included.
	if err := s.send(ctx, &pluginv1.ExchangeFrame{Id: id, Request: req}); err != nil && ctx.Err() != nil {
		s.forget(id) // gave up before the request was sent
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	select {
	case r := <-ch:
		switch {
		case r.err != nil && status.Code(r.err) == codes.Unimplemented:
			// A plugin built without Exchange; nothing was handled.
			x.unary.Store(true)
			return x.rpc.HandleHTTP(ctx, req, opts...)
		case r.err != nil:
			return nil, r.err
		case r.frame.ErrorCode != 0:
			return nil, status.Error(codes.Code(r.frame.ErrorCode), r.frame.ErrorMessage)
		}
		return r.frame.Response, nil
	case <-ctx.Done():
		s.forget(id)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), stallGrace)
			defer cancel()
			_ = s.send(ctx, &pluginv1.ExchangeFrame{Id: id, Cancel: true})
		}()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

// stream returns the open stream, opening one if there is none. Callers
// wait for an opening no longer than their own deadline.
func (x *exchange) stream(ctx context.Context) (*muxStream, error) {
	for {
		x.mu.Lock()
		if x.closed || x.life.Err() != nil {
			x.mu.Unlock()
			return nil, errClosed
		}
		if s := x.current; s != nil && s.open() {
			x.mu.Unlock()
			return s, nil
		}
		op := x.opening
		if op == nil {
			op = &opening{done: make(chan struct{})}
			x.opening = op
			go x.open(op)
		}
		x.mu.Unlock()
		select {
		case <-op.done:
			if op.err != nil {
				return nil, op.err
			}
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
}

// open opens a stream for the calls waiting on op.
func (x *exchange) open(op *opening) {
	ctx, cancel := context.WithCancel(x.life)
	st, err := x.rpc.Exchange(ctx)
	x.mu.Lock()
	if err != nil {
		cancel()
		op.err = err
	} else {
		s := &muxStream{st: st, cancel: cancel, sending: make(chan struct{}, 1), pending: map[uint64]chan result{}}
		x.current = s
		go s.read()
		if x.closed { // closed while it opened
			_ = st.CloseSend()
		}
	}
	x.opening = nil
	x.mu.Unlock()
	close(op.done)
}

// close ends the stream once the calls on it are answered: the host closes
// it before it stops the process, after the in-flight calls have drained. A
// send still stuck then (a stalled plugin) gets stallGrace, then the stream
// is ended outright.
func (x *exchange) close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closed = true
	if s := x.current; s != nil {
		select {
		case s.sending <- struct{}{}:
			_ = s.st.CloseSend()
			<-s.sending
		case <-time.After(stallGrace):
			s.cancel()
		}
	}
}

func (s *muxStream) open() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err == nil
}

func (s *muxStream) register() (uint64, chan result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, nil, s.err
	}
	s.next++
	ch := make(chan result, 1)
	s.pending[s.next] = ch
	return s.next, ch, nil
}

func (s *muxStream) forget(id uint64) {
	s.mu.Lock()
	delete(s.pending, id)
	s.mu.Unlock()
}

// send sends one frame, waiting for its turn no longer than ctx allows. A
// send still blocked stallGrace after ctx ended ends the stream.
func (s *muxStream) send(ctx context.Context, f *pluginv1.ExchangeFrame) error {
	select {
	case s.sending <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.sending }()
	n := s.sends.Add(1)
	s.inSend.Store(n)
	defer s.inSend.Store(0)
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(stallGrace, func() {
			if s.inSend.Load() == n {
				s.cancel()
			}
		})
	})
	defer stop()
	return s.st.Send(f)
}

// read hands each answer to the call waiting for it. When the stream ends it
// fails every waiting call with the reason, and the next call opens a new
// stream.
func (s *muxStream) read() {
	defer s.cancel()
	for {
		f, err := s.st.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = status.Error(codes.Unavailable, "plugin ended the stream")
			}
			s.mu.Lock()
			pending := s.pending
			s.err, s.pending = err, nil
			s.mu.Unlock()
			for _, ch := range pending {
				ch <- result{err: err}
			}
			return
		}
		s.mu.Lock()
		ch := s.pending[f.Id]
		delete(s.pending, f.Id)
		s.mu.Unlock()
		if ch != nil {
			ch <- result{frame: f}
		}
	}
}

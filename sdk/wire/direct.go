package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// direct is the host's side of a plugin's direct channel (see
// StartResponse.direct_socket in plugin.proto), with two ways to use it.
//
// While few calls to the plugin are in flight, each has an exclusive
// connection from a pool, which it writes and reads itself: with no
// goroutine between the caller and the socket in either process, a call
// costs about one cross-process round trip (a gRPC call costs several
// hand-offs between goroutines on each side), and the caller may spin for
// its answer rather than sleep.
//
// While many are (sharedAt), and the plugin answers requests on one
// connection concurrently (StartResponse.direct_shared), calls share one
// connection (see shared): requests and answers that come together cross in
// one write, which saves system calls and wake-ups in the host, the plugin
// and the database alike when the machine is busy.
type direct struct {
	path      string
	pid       int  // the plugin process; a socket served by any other is refused
	shareable bool // the plugin answers concurrently on one connection
	rpc       pluginv1.PluginClient
	log       *slog.Logger

	ids   atomic.Uint64
	calls atomic.Int32 // in flight
	// quick is the share of recent round trips that took at most spinMax,
	// a moving average in units of 1/quickOne. A share rather than a mean:
	// one slow answer on a busy machine must not stop the spinning.
	quick atomic.Int64
	mu    sync.Mutex
	idle  []*FrameConn
	open  int
	sh    *shared // nil until first needed, and after it failed
	// dialing: a caller is opening the shared connection.
	dialing bool
	shut    bool // closed: no more calls
	// refused: the socket was not the plugin's; calls go over gRPC.
	refused bool
}

// maxDirectConns bounds the exclusive connections to one plugin process;
// calls beyond it go over gRPC. maxIdleConns bounds those kept open between
// calls.
const (
	maxDirectConns = 256
	maxIdleConns   = 64
)

// cancelTimeout bounds the cancellation sent after a caller gave up.
const cancelTimeout = time.Second

// errNoConn means the call was not sent: use gRPC instead.
var errNoConn = errors.New("no direct connection")

// call serves req over the direct channel. errNoConn means nothing was
// sent and the caller should use gRPC.
func (d *direct) call(ctx context.Context, req *pluginv1.HTTPRequest) (*pluginv1.HTTPResponse, error) {
	id := d.ids.Add(1)
	f := &pluginv1.ExchangeFrame{Id: id, Request: req}
	var answer *pluginv1.ExchangeFrame
	err := errNoConn
	n := int(d.calls.Add(1))
	defer d.calls.Add(-1)
	if d.shareable && n >= sharedAt() {
		if s := d.sharedConn(ctx); s != nil {
			answer, err = s.call(ctx, f)
		}
	}
	if err == errNoConn {
		answer, err = d.exclusive(ctx, f)
		if err == errNoConn {
			return nil, err
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			// The plugin may still be running it: cancel its context.
			go func() {
				cctx, cancel := context.WithTimeout(context.Background(), cancelTimeout)
				defer cancel()
				_, _ = d.rpc.CancelHTTP(cctx, &pluginv1.CancelHTTPRequest{Id: id})
			}()
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		return nil, status.Errorf(codes.Unavailable, "plugin connection: %v", err)
	}
	if answer.ErrorCode != 0 {
		return nil, status.Error(codes.Code(answer.ErrorCode), answer.ErrorMessage)
	}
	if answer.Response == nil {
		return nil, status.Errorf(codes.Internal, "plugin answered request %d without a response", id)
	}
	return answer.Response, nil
}

// exclusive sends f on a connection of its own and reads the answer.
func (d *direct) exclusive(ctx context.Context, f *pluginv1.ExchangeFrame) (*pluginv1.ExchangeFrame, error) {
	c, err := d.get(ctx)
	if err != nil {
		return nil, err
	}
	f.Exclusive = true
	answer, err := d.roundTrip(ctx, c, f)
	if err != nil {
		d.discard(c)
		return nil, err
	}
	if answer.Id != f.Id {
		d.discard(c) // out of step with the plugin
		return nil, status.Errorf(codes.Internal, "plugin answered request %d with frame %d", f.Id, answer.Id)
	}
	d.put(c)
	return answer, nil
}

// sharedConn returns the shared connection, opening it if need be; nil when it
// cannot be had, or while another caller is opening it.
func (d *direct) sharedConn(ctx context.Context) *shared {
	d.mu.Lock()
	if d.shut || d.refused || d.dialing {
		d.mu.Unlock()
		return nil
	}
	if d.sh != nil && d.sh.failure() == nil {
		s := d.sh
		d.mu.Unlock()
		return s
	}
	d.sh, d.dialing = nil, true
	d.mu.Unlock()
	// Not under d.mu: a dial and its peer check are system calls, and the
	// exclusive callers need not queue behind them. (A plugin that has
	// stopped accepting does not hold a dial up: once its backlog is full,
	// connect fails at once with EAGAIN, and the calls go over gRPC;
	// TestDirectPluginNotAccepting.)
	c, err := d.dial(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dialing = false
	switch {
	case err != nil:
		d.dialFailed(err)
		return nil
	case d.shut:
		c.Close()
		return nil
	}
	d.sh = newShared(c)
	return d.sh
}

// roundTrip writes f and reads the answer. Both are bounded by ctx: its end
// (its deadline too) interrupts them at once.
func (d *direct) roundTrip(ctx context.Context, c *FrameConn, f *pluginv1.ExchangeFrame) (*pluginv1.ExchangeFrame, error) {
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	inFlight.Add(1)
	start := time.Now()
	err := c.WriteFrame(f)
	out := &pluginv1.ExchangeFrame{}
	if err == nil {
		if d.shouldSpin() {
			c.spin(start.Add(spinMax))
		}
		err = c.ReadFrame(out)
	}
	inFlight.Add(-1)
	if !stop() && err == nil {
		// ctx ended as the answer came: the connection's deadline may be
		// set in the past at any moment, so it cannot be used again.
		err = context.Cause(ctx)
	}
	if err != nil {
		return nil, err
	}
	hit := int64(0)
	if time.Since(start) <= spinMax {
		hit = quickOne
	}
	q := d.quick.Load()
	d.quick.Store(q + (hit-q)/8)
	return out, nil
}

// Spinning. A caller waiting for its answer would park, and with nothing else
// to run its thread and core go to sleep; waking them when the answer comes
// costs more than the plugin takes to answer a simple request (on the 2-core
// VM of docs/benchmarks.md, about 50 µs of a 180 µs request). So a caller
// first polls the socket, busy, for at most spinMax — but only when most of
// the plugin's recent answers came within that time and few calls are waiting,
// so that spinning only ever uses cores that would otherwise be idle: at
// most half of them, leaving the rest to the plugins.
const spinMax = 200 * time.Microsecond

// inFlight counts the direct calls of this process waiting for an answer.
var inFlight atomic.Int32

const quickOne = 1 << 10

func (d *direct) shouldSpin() bool {
	return d.quick.Load() >= quickOne/2 && int(inFlight.Load()) <= max(1, runtime.GOMAXPROCS(0)/2)
}

// get takes an idle connection or opens one; errNoConn when the pool is full,
// the socket cannot be reached or was refused.
func (d *direct) get(ctx context.Context) (*FrameConn, error) {
	d.mu.Lock()
	if d.shut {
		d.mu.Unlock()
		return nil, errClosed
	}
	if d.refused {
		d.mu.Unlock()
		return nil, errNoConn
	}
	if n := len(d.idle); n > 0 {
		c := d.idle[n-1]
		d.idle = d.idle[:n-1]
		d.mu.Unlock()
		return c, nil
	}
	if d.open >= maxDirectConns {
		d.mu.Unlock()
		return nil, errNoConn
	}
	d.open++
	d.mu.Unlock()
	c, err := d.dial(ctx)
	if err != nil {
		d.mu.Lock()
		d.open--
		d.dialFailed(err)
		d.mu.Unlock()
		return nil, errNoConn
	}
	return c, nil
}

// dialFailed notes a failed dial; d.mu is held. A socket that is someone
// else's is never tried again, and that is said once.
func (d *direct) dialFailed(err error) {
	if errors.Is(err, errWrongPeer) && !d.refused {
		d.log.Error("direct channel refused; requests go over gRPC", "err", err)
		d.refused = true
	}
}

var errWrongPeer = errors.New("direct socket served by another process")

// dial connects to the socket and checks it is served by the plugin process.
func (d *direct) dial(ctx context.Context) (*FrameConn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "unix", d.path)
	if err != nil {
		return nil, err
	}
	if pid, err := PeerPID(conn); err != nil || pid != d.pid {
		conn.Close()
		return nil, fmt.Errorf("%w: %s is served by process %d, not the plugin's %d (%v)", errWrongPeer, d.path, pid, d.pid, err)
	}
	return NewFrameConn(conn), nil
}

// put returns a connection after a complete round trip.
func (d *direct) put(c *FrameConn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.shut || len(d.idle) >= maxIdleConns {
		d.open--
		c.Close()
		return
	}
	d.idle = append(d.idle, c)
}

// discard closes a connection whose state is unknown.
func (d *direct) discard(c *FrameConn) {
	c.Close()
	d.mu.Lock()
	d.open--
	d.mu.Unlock()
}

// close closes the shared connection and the idle ones; exclusive ones in
// use are closed as their calls end (each bounded by its caller's
// deadline). Later calls answer Unavailable.
func (d *direct) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.shut = true
	if d.sh != nil {
		d.sh.fail(errClosed)
		d.sh = nil
	}
	for _, c := range d.idle {
		c.Close()
		d.open--
	}
	d.idle = nil
}

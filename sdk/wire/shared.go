package wire

import (
	"context"
	"runtime"
	"sync"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// shared is the host's shared connection to a plugin's direct channel, used
// while many calls to the plugin are in flight (see direct.call). Callers
// queue their request frames and wait. The caller that queues the first
// frame of a batch starts a goroutine that writes everything queued by the
// time it runs (it lets the others run once first, see FrameWriter), so
// requests that come together cross in one system call; one goroutine
// reads the answers, several per read under load, and hands each to its
// caller. A caller whose context ends stops waiting at once and the
// connection stays in use: its late answer is dropped.
type shared struct {
	conn *FrameConn // read by the reader goroutine only
	w    *FrameWriter

	mu      sync.Mutex
	waiting map[uint64]chan *pluginv1.ExchangeFrame
	err     error // why the connection ended; nil while it serves
}

// sharedAt is how many calls to one plugin must be in flight, this one
// included, before a call goes over the shared connection: more than there
// are cores to run them. Below it, a call has an exclusive connection and
// may spin for its answer (see spinMax); above it, batching saves more.
func sharedAt() int { return max(2, runtime.GOMAXPROCS(0)) + 1 }

// maxQueued bounds the bytes queued on the shared connection; a call
// beyond it (the plugin is not reading) takes an exclusive connection.
const maxQueued = 4 << 20

func newShared(c *FrameConn) *shared {
	s := &shared{conn: c, waiting: map[uint64]chan *pluginv1.ExchangeFrame{}}
	s.w = NewFrameWriter(c.Conn, maxQueued, func() bool { return s.waiters() > 1 })
	go s.read()
	return s
}

// call sends f and waits for its answer or for ctx to end. errNoConn means
// nothing was sent.
func (s *shared) call(ctx context.Context, f *pluginv1.ExchangeFrame) (*pluginv1.ExchangeFrame, error) {
	ch := make(chan *pluginv1.ExchangeFrame, 1)
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return nil, errNoConn
	}
	s.waiting[f.Id] = ch
	s.mu.Unlock()
	flush, err := s.w.Add(f)
	if err != nil {
		// Nothing of it was sent (the queue is full, or the connection
		// failed a moment ago): an exclusive connection may still serve it.
		s.forget(f.Id)
		return nil, errNoConn
	}
	if flush {
		// Not in this goroutine: a plugin that stops reading must not hold
		// its caller past ctx.
		go func() {
			if err := s.w.Flush(); err != nil {
				s.fail(err)
			}
		}()
	}
	select {
	case a, ok := <-ch:
		if !ok {
			return nil, s.failure()
		}
		return a, nil
	case <-ctx.Done():
		s.forget(f.Id)
		return nil, context.Cause(ctx)
	}
}

func (s *shared) waiters() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiting)
}

func (s *shared) forget(id uint64) {
	s.mu.Lock()
	delete(s.waiting, id)
	s.mu.Unlock()
}

// read hands each answer to its caller until the connection ends.
func (s *shared) read() {
	for {
		f := &pluginv1.ExchangeFrame{}
		if err := s.conn.ReadFrame(f); err != nil {
			s.fail(err)
			return
		}
		s.mu.Lock()
		ch := s.waiting[f.Id]
		delete(s.waiting, f.Id)
		s.mu.Unlock()
		if ch != nil {
			ch <- f
		}
	}
}

// fail ends the connection: every waiting caller is answered with err.
func (s *shared) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	waiting := s.waiting
	s.waiting = nil
	s.mu.Unlock()
	s.conn.Close()
	for _, ch := range waiting {
		close(ch)
	}
}

// failure is why the connection ended; nil while it serves.
func (s *shared) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

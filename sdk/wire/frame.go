package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// FrameConn reads and writes the direct channel's frames: an ExchangeFrame
// preceded by its length, 4 bytes big-endian, at most MaxMessageBytes. One
// goroutine uses it at a time.
type FrameConn struct {
	net.Conn
	r   *bufio.Reader
	buf []byte // reused for encoding and decoding
}

// ErrFrameTooLarge is a frame over MaxMessageBytes; nothing of it was sent.
var ErrFrameTooLarge = errors.New("frame too large")

// keptBuffer is the largest buffer a connection keeps between frames.
const keptBuffer = 256 << 10

// NewFrameConn wraps c.
func NewFrameConn(c net.Conn) *FrameConn {
	return &FrameConn{Conn: c, r: bufio.NewReaderSize(c, 16<<10), buf: make([]byte, 0, 4<<10)}
}

// WriteFrame writes f in one write.
func (c *FrameConn) WriteFrame(f *pluginv1.ExchangeFrame) error {
	b, err := appendFrame(c.buf[:0], f)
	if err != nil {
		return err
	}
	c.keep(b)
	_, err = c.Write(b)
	return err
}

// appendFrame appends f to b, preceded by its length. A frame over
// MaxMessageBytes is refused with ErrFrameTooLarge before it is encoded,
// and b is returned unchanged.
func appendFrame(b []byte, f *pluginv1.ExchangeFrame) ([]byte, error) {
	size := proto.Size(f)
	if size > MaxMessageBytes {
		return b, fmt.Errorf("%w: %d bytes, the limit is %d", ErrFrameTooLarge, size, MaxMessageBytes)
	}
	n := len(b)
	out, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(append(b, 0, 0, 0, 0), f)
	if err != nil {
		return b[:n], err
	}
	binary.BigEndian.PutUint32(out[n:], uint32(len(out)-n-4))
	return out, nil
}

// ReadFrame reads the next frame into f.
func (c *FrameConn) ReadFrame(f *pluginv1.ExchangeFrame) error {
	var head [4]byte
	if _, err := io.ReadFull(c.r, head[:]); err != nil {
		return err
	}
	n := int(binary.BigEndian.Uint32(head[:]))
	if n > MaxMessageBytes {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrFrameTooLarge, n, MaxMessageBytes)
	}
	if cap(c.buf) < n {
		c.buf = make([]byte, n)
	}
	b := c.buf[:n]
	if _, err := io.ReadFull(c.r, b); err != nil {
		return err
	}
	c.keep(b)
	return proto.Unmarshal(b, f) // copies what it keeps: b is reused
}

func (c *FrameConn) keep(b []byte) {
	if cap(b) <= keptBuffer {
		c.buf = b[:0]
	} else {
		c.buf = make([]byte, 0, 4<<10)
	}
}

// FrameWriter writes the frames of many goroutines to one connection. A
// frame added while a write is under way goes out with the next one, so
// frames that come together share a system call and a wake-up of the
// reader: under load, one write carries many.
type FrameWriter struct {
	w     io.Writer
	limit int // bytes queued at most, beyond one frame; 0: no limit
	// more reports whether more frames are likely to be added soon: Flush
	// then lets other goroutines run before it writes, so that they join
	// the write.
	more     func() bool
	mu       sync.Mutex
	queued   []byte
	spare    []byte
	flushing bool
	err      error
}

// ErrQueueFull is a frame refused because limit bytes are queued already;
// nothing of it was queued.
var ErrQueueFull = errors.New("frame queue full")

// NewFrameWriter writes to w. With limit > 0 a frame is refused while the
// frames queued would exceed limit bytes with it (a frame is always taken
// into an empty queue). more, if not nil, reports whether more frames are
// likely to be added soon (other requests are in flight): Flush then lets
// other goroutines run before each write, so that they join it.
func NewFrameWriter(w io.Writer, limit int, more func() bool) *FrameWriter {
	return &FrameWriter{w: w, limit: limit, more: more}
}

// Add queues f. When no flush is under way it reports flush: the caller
// must then call Flush, at once or from another goroutine. A frame over
// MaxMessageBytes is refused with ErrFrameTooLarge, one over the limit with
// ErrQueueFull, and nothing of it queued.
func (w *FrameWriter) Add(f *pluginv1.ExchangeFrame) (flush bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return false, w.err
	}
	n := len(w.queued)
	b, err := appendFrame(w.queued, f)
	if err != nil {
		return false, err
	}
	if w.limit > 0 && n > 0 && len(b) > w.limit {
		w.queued = b[:n]
		return false, ErrQueueFull
	}
	w.queued = b
	if w.flushing {
		return false, nil
	}
	w.flushing = true
	return true, nil
}

// Flush writes the queued frames, and those queued meanwhile, until none
// are left. After a failed write every later Add and Flush fails.
func (w *FrameWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.queued) > 0 && w.err == nil {
		if w.more != nil && w.more() {
			w.mu.Unlock()
			runtime.Gosched()
			w.mu.Lock()
		}
		out := w.queued
		w.queued = w.spare[:0]
		w.mu.Unlock()
		_, err := w.w.Write(out)
		w.mu.Lock()
		w.spare = nil // never the array queued now points into
		if cap(out) <= keptBuffer {
			w.spare = out[:0]
		}
		if err != nil {
			w.err = err
		}
	}
	w.queued = w.queued[:0]
	w.flushing = false
	return w.err
}

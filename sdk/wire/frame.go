package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

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
	b, err := proto.MarshalOptions{}.MarshalAppend(append(c.buf[:0], 0, 0, 0, 0), f)
	if err != nil {
		return err
	}
	c.keep(b)
	if len(b)-4 > MaxMessageBytes {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrFrameTooLarge, len(b)-4, MaxMessageBytes)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	_, err = c.Write(b)
	return err
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

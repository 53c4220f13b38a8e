package wire

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// spin polls the connection, busy, until it has data to read or until end.
func (c *FrameConn) spin(end time.Time) {
	if c.r.Buffered() > 0 {
		return
	}
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Read(func(fd uintptr) bool {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for time.Now().Before(end) {
			if n, _ := unix.Poll(pfd, 0); n != 0 {
				return true
			}
		}
		return true
	})
}

//go:build !linux

package wire

import "time"

// spin does nothing where there is no direct channel.
func (c *FrameConn) spin(time.Time) {}

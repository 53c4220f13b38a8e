//go:build !linux

package wire

import (
	"errors"
	"net"
)

// DirectSupported: see peer_linux.go.
const DirectSupported = false

// PeerPID is not available here: without it neither side can check the
// other, so the direct channel is not used and requests travel over gRPC.
func PeerPID(net.Conn) (int, error) {
	return 0, errors.New("peer credentials are only checked on Linux")
}

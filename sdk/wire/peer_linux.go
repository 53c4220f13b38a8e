package wire

import (
	"errors"
	"net"

	"golang.org/x/sys/unix"
)

// DirectSupported says whether this platform can check a direct channel's
// peer; where it cannot, plugins do not offer one.
const DirectSupported = true

// PeerPID is the process id of the other end of a Unix-socket connection, as
// the kernel recorded it when that process connected or listened
// (SO_PEERCRED): it cannot be forged by the peer.
func PeerPID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return 0, errors.New("not a Unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if cerr != nil {
		return 0, cerr
	}
	return int(cred.Pid), nil
}

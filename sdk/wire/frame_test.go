package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"testing"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// Frames cross a connection whole, one after another, and a frame header
// announcing more than MaxMessageBytes is refused before anything of it is
// read or allocated.
func TestFrames(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w, r := NewFrameConn(a), NewFrameConn(b)
	big := bytes.Repeat([]byte("文"), 200<<10) // 600 KiB: a buffer the connection does not keep
	sent := []*pluginv1.ExchangeFrame{
		{Id: 1, Request: &pluginv1.HTTPRequest{Method: "GET", Path: "/x"}},
		{Id: 2, Response: &pluginv1.HTTPResponse{Status: 200, Body: big}},
		{Id: 3, ErrorCode: 5, ErrorMessage: "not found"},
	}
	go func() {
		for _, f := range sent {
			if err := w.WriteFrame(f); err != nil {
				t.Error(err)
			}
		}
	}()
	for _, want := range sent {
		got := &pluginv1.ExchangeFrame{}
		if err := r.ReadFrame(got); err != nil {
			t.Fatal(err)
		}
		if got.Id != want.Id || got.ErrorCode != want.ErrorCode || !bytes.Equal(got.GetResponse().GetBody(), want.GetResponse().GetBody()) {
			t.Fatalf("frame %d came as %d", want.Id, got.Id)
		}
	}
	if cap(r.buf) > keptBuffer || cap(w.buf) > keptBuffer {
		t.Fatalf("buffers kept after a large frame: %d and %d bytes", cap(r.buf), cap(w.buf))
	}

	go func() {
		var head [4]byte
		binary.BigEndian.PutUint32(head[:], MaxMessageBytes+1)
		_, _ = a.Write(head[:])
	}()
	if err := r.ReadFrame(&pluginv1.ExchangeFrame{}); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("a frame over the limit: %v", err)
	}
}

package sdk

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// Exchange serves the HandleHTTP calls the host multiplexes over one stream
// (see plugin.proto): each request runs in its own goroutine under its own
// deadline, a cancellation cancels its context, and every request is answered
// once. When the host closes the stream, the requests still running finish
// and are answered before it ends.
func (s *server) Exchange(st pluginv1.Plugin_ExchangeServer) error {
	var (
		sendMu  sync.Mutex // a gRPC stream allows one sender at a time
		mu      sync.Mutex
		cancels = map[uint64]context.CancelFunc{}
		running sync.WaitGroup
	)
	defer running.Wait()
	for {
		f, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if f.Cancel {
			mu.Lock()
			if cancel := cancels[f.Id]; cancel != nil {
				cancel()
			}
			mu.Unlock()
			continue
		}
		if f.Request == nil {
			continue
		}
		ctx, cancel := requestContext(st.Context(), f.Request)
		mu.Lock()
		cancels[f.Id] = cancel
		mu.Unlock()
		running.Add(1)
		go func(id uint64, req *pluginv1.HTTPRequest) {
			defer running.Done()
			resp, err := s.HandleHTTP(ctx, req)
			if ctx.Err() != nil {
				// Past its deadline or given up: as a unary call would end.
				resp, err = nil, status.FromContextError(ctx.Err()).Err()
			}
			mu.Lock()
			delete(cancels, id)
			mu.Unlock()
			cancel()
			out := &pluginv1.ExchangeFrame{Id: id, Response: resp}
			if err != nil {
				e := status.Convert(err)
				out.ErrorCode, out.ErrorMessage = int32(e.Code()), e.Message()
			}
			sendMu.Lock()
			_ = st.Send(out) // fails only when the stream has ended, and the host with it
			sendMu.Unlock()
		}(f.Id, f.Request)
	}
}

// requestContext is a request's context on the stream: cancelled with the
// stream, at the request's deadline, or by the host.
func requestContext(parent context.Context, req *pluginv1.HTTPRequest) (context.Context, context.CancelFunc) {
	if req.DeadlineUnixMs > 0 {
		return context.WithDeadline(parent, time.UnixMilli(req.DeadlineUnixMs))
	}
	return context.WithCancel(parent)
}

package sdk

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// chunkSize is the largest body piece sent in one frame.
const chunkSize = 32 << 10

// HandleHTTPStream serves a request whose body or response is streamed: the
// body arrives through a pipe as the host sends it, and the response leaves in
// chunks as the handler writes (at once on Flush).
func (s *server) HandleHTTPStream(st pluginv1.Plugin_HandleHTTPStreamServer) error {
	s.mu.RLock()
	h, host := s.handler, s.host
	s.mu.RUnlock()
	if h == nil {
		return status.Error(codes.Unavailable, "plugin not started")
	}
	first, err := st.Recv()
	if err != nil {
		return err
	}
	head := first.GetRequest()
	if head == nil {
		return status.Error(codes.InvalidArgument, "the first frame must be the request head")
	}
	ctx := st.Context()
	r, err := toHTTPRequest(ctx, head, host)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "request: %v", err)
	}
	pr, pw := io.Pipe()
	defer pr.Close() // unblocks the pump if the handler stops reading early
	go func() {
		for {
			f, err := st.Recv()
			if errors.Is(err, io.EOF) {
				pw.Close()
				return
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := pw.Write(f.GetChunk()); err != nil {
				return
			}
		}
	}()
	r.Body = pr
	r.ContentLength = -1
	if n, err := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
		r.ContentLength = n
	}
	w := &streamWriter{st: st, header: http.Header{}}
	if err := serveHTTP(h, w, r); err != nil {
		s.log.Error("handler panicked", "request_id", head.RequestId, "route", head.Route, "panic", err.Error())
		if !w.sentHead {
			return status.Error(codes.Internal, "handler panicked")
		}
	}
	return w.finish()
}

// streamWriter sends the response head on the first write and the body in
// chunks; Flush sends what is buffered at once.
type streamWriter struct {
	st       pluginv1.Plugin_HandleHTTPStreamServer
	header   http.Header
	status   int
	sentHead bool
	buf      []byte
	err      error
}

func (w *streamWriter) Header() http.Header { return w.header }

func (w *streamWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *streamWriter) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.WriteHeader(http.StatusOK)
	n := len(b)
	for len(b) > 0 {
		room := chunkSize - len(w.buf)
		take := min(room, len(b))
		w.buf = append(w.buf, b[:take]...)
		b = b[take:]
		if len(w.buf) == chunkSize {
			if err := w.send(); err != nil {
				return n - len(b), err
			}
		}
	}
	return n, nil
}

// Flush implements http.Flusher.
func (w *streamWriter) Flush() {
	w.WriteHeader(http.StatusOK)
	_ = w.send()
}

func (w *streamWriter) send() error {
	if w.err != nil {
		return w.err
	}
	if !w.sentHead {
		hs := make([]*pluginv1.Header, 0, len(w.header))
		for k, v := range w.header {
			hs = append(hs, &pluginv1.Header{Name: k, Values: v})
		}
		w.err = w.st.Send(&pluginv1.HTTPStreamFrame{Frame: &pluginv1.HTTPStreamFrame_Response{
			Response: &pluginv1.HTTPResponse{Status: int32(w.status), Headers: hs}}})
		w.sentHead = true
	}
	if len(w.buf) > 0 && w.err == nil {
		w.err = w.st.Send(&pluginv1.HTTPStreamFrame{Frame: &pluginv1.HTTPStreamFrame_Chunk{Chunk: w.buf}})
		w.buf = nil
	}
	return w.err
}

func (w *streamWriter) finish() error {
	w.WriteHeader(http.StatusOK)
	return w.send()
}

package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/sdk/manifest"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/wire"
)

// server is the plugin side of the Plugin service.
type server struct {
	pluginv1.UnimplementedPluginServer
	p      Plugin
	m      *manifest.Manifest
	raw    []byte
	log    *slog.Logger
	broker *goplugin.GRPCBroker

	mu      sync.RWMutex
	handler http.Handler
	host    *Host
	direct  *directChannel // nil when the host did not ask for it
	// testHost replaces the brokered host connection under sdk/plugintest.
	testHost *Host
}

func newServer(p Plugin, m *manifest.Manifest, raw []byte, log *slog.Logger) *server {
	return &server{p: p, m: m, raw: raw, log: log.With("plugin", m.ID, "version", m.Version)}
}

func (s *server) withBroker(b *goplugin.GRPCBroker) pluginv1.PluginServer {
	s.broker = b
	return s
}

func (s *server) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	return &pluginv1.DescribeResponse{Manifest: s.raw, SdkVersion: Version}, nil
}

func (s *server) Start(ctx context.Context, req *pluginv1.StartRequest) (*pluginv1.StartResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handler != nil {
		return nil, status.Error(codes.FailedPrecondition, "plugin already started")
	}
	host := s.testHost
	if s.broker != nil && req.HostBrokerId != 0 {
		conn, err := s.broker.DialWithOptions(req.HostBrokerId,
			grpc.WithUnaryInterceptor(callTokenInterceptor),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(wire.MaxMessageBytes), grpc.MaxCallSendMsgSize(wire.MaxMessageBytes)))
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "dial host services: %v", err)
		}
		host = newHost(conn)
	}
	env := &Env{
		Manifest:    s.m,
		Database:    Database{Dialect: req.GetDatabase().GetDialect(), DSN: req.GetDatabase().GetDsn()},
		Settings:    req.Settings,
		Host:        host,
		Log:         s.log,
		ScratchDir:  req.ScratchDir,
		HostVersion: req.HostVersion,
	}
	h, err := s.p.Start(ctx, env)
	if err != nil {
		s.log.Error("start failed", "err", err)
		return nil, status.Errorf(codes.FailedPrecondition, "start: %v", err)
	}
	if h == nil {
		h = http.NotFoundHandler()
	}
	s.handler, s.host = h, host
	resp := &pluginv1.StartResponse{}
	if req.HostPid != 0 && wire.DirectSupported {
		// Without the direct channel every request still works, over gRPC.
		if d, err := s.listenDirect(int(req.HostPid)); err != nil {
			s.log.Warn("no direct channel; requests come over gRPC", "err", err)
		} else {
			s.direct, resp.DirectSocket, resp.DirectShared = d, d.socket(), true
		}
	}
	s.log.Info("started", "generation", req.Generation)
	return resp, nil
}

func (s *server) CheckHealth(ctx context.Context, _ *pluginv1.CheckHealthRequest) (*pluginv1.CheckHealthResponse, error) {
	s.mu.RLock()
	started := s.handler != nil
	s.mu.RUnlock()
	if !started {
		return &pluginv1.CheckHealthResponse{Ready: false, Message: "not started"}, nil
	}
	if s.p.Ready != nil {
		if err := s.p.Ready(ctx); err != nil {
			return &pluginv1.CheckHealthResponse{Ready: false, Message: err.Error()}, nil
		}
	}
	return &pluginv1.CheckHealthResponse{Ready: true}, nil
}

func (s *server) HandleHTTP(ctx context.Context, req *pluginv1.HTTPRequest) (*pluginv1.HTTPResponse, error) {
	s.mu.RLock()
	h, host := s.handler, s.host
	s.mu.RUnlock()
	if h == nil {
		return nil, status.Error(codes.Unavailable, "plugin not started")
	}
	r, err := toHTTPRequest(ctx, req, host)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "request: %v", err)
	}
	w := &responseWriter{header: http.Header{}}
	if err := serveHTTP(h, w, r); err != nil {
		s.log.Error("handler panicked", "request_id", req.RequestId, "route", req.Route, "panic", err.Error())
		return nil, status.Error(codes.Internal, "handler panicked")
	}
	return w.response(), nil
}

// serveHTTP calls the handler and turns a panic into an error, so one bad
// request never ends the process.
func serveHTTP(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				err = errors.New("handler aborted")
				return
			}
			err = fmt.Errorf("%v", v)
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}

func (s *server) HandleTask(ctx context.Context, t *pluginv1.TaskCallback) (*pluginv1.TaskCallbackResult, error) {
	if s.p.OnTask == nil {
		return nil, status.Error(codes.Unimplemented, "plugin has no task handler")
	}
	ev := TaskEvent{TaskID: t.TaskId, TaskType: t.TaskType, Transition: t.Transition, BusinessKey: t.BusinessKey,
		Form: t.Form, Comment: t.Comment, InstanceID: t.InstanceId, Actor: callerFromProto(t.Actor)}
	if err := s.p.OnTask(withCaller(ctx, ev.Actor, s.hostClient()), ev); err != nil {
		return nil, status.Errorf(codes.Aborted, "task %s: %v", t.TaskId, err)
	}
	return &pluginv1.TaskCallbackResult{}, nil
}

func (s *server) DeliverEvent(ctx context.Context, e *pluginv1.Event) (*pluginv1.EventAck, error) {
	if e.Type == JobEventType {
		return s.runJob(ctx, e)
	}
	if s.p.OnEvent == nil {
		return nil, status.Error(codes.Unimplemented, "plugin has no event handler")
	}
	ev := Event{ID: e.Id, Type: e.Type, Source: e.Source, Time: time.UnixMilli(e.TimeUnixMs), Data: e.Data}
	if err := s.p.OnEvent(withCaller(ctx, Caller{}, s.hostClient()), ev); err != nil {
		return nil, status.Errorf(codes.Aborted, "event %s: %v", e.Id, err)
	}
	return &pluginv1.EventAck{}, nil
}

func (s *server) Drain(ctx context.Context, _ *pluginv1.DrainRequest) (*pluginv1.DrainResponse, error) {
	if s.p.Drain != nil {
		if err := s.p.Drain(ctx); err != nil {
			return nil, status.Errorf(codes.Aborted, "drain: %v", err)
		}
	}
	s.log.Info("drained")
	return &pluginv1.DrainResponse{}, nil
}

func (s *server) Stop(context.Context, *pluginv1.StopRequest) (*pluginv1.StopResponse, error) {
	s.log.Info("stopping")
	s.mu.RLock()
	d := s.direct
	s.mu.RUnlock()
	if d != nil {
		d.close()
	}
	return &pluginv1.StopResponse{}, nil
}

func (s *server) hostClient() *Host {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.host
}

// toHTTPRequest rebuilds the host's request for the plugin's handler.
func toHTTPRequest(ctx context.Context, req *pluginv1.HTTPRequest, host *Host) (*http.Request, error) {
	target := req.Path
	if req.RawQuery != "" {
		target += "?" + req.RawQuery
	}
	ctx = withCaller(ctx, callerFromProto(req.Caller), host)
	ctx = context.WithValue(ctx, requestIDKey{}, req.RequestId)
	r, err := http.NewRequestWithContext(ctx, req.Method, target, bytes.NewReader(req.Body))
	if err != nil {
		return nil, err
	}
	r.RequestURI = target
	r.ContentLength = int64(len(req.Body))
	for _, h := range req.Headers {
		for _, v := range h.Values {
			r.Header.Add(h.Name, v)
		}
	}
	r.Host = "plugin"
	r.RemoteAddr = "host"
	for k, v := range req.Params {
		r.SetPathValue(k, v)
	}
	return r, nil
}

// responseWriter collects a handler's response for the host.
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

func (w *responseWriter) response() *pluginv1.HTTPResponse {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	hs := make([]*pluginv1.Header, 0, len(w.header))
	for k, v := range w.header {
		hs = append(hs, &pluginv1.Header{Name: k, Values: v})
	}
	return &pluginv1.HTTPResponse{Status: int32(w.status), Headers: hs, Body: w.body.Bytes()}
}

// exitWithParent ends the plugin when the host process is gone, so a host
// killed with SIGKILL leaves no orphans.
func exitWithParent() {
	parent := os.Getppid()
	for range time.Tick(time.Second) {
		if os.Getppid() != parent {
			os.Exit(0)
		}
	}
}

// Package server is the host's HTTP front door: the gin engine, the middleware
// every request passes (request id, structured access log, panic recovery,
// metrics, deadlines, body limits on /api) and the language of its messages, the health, readiness and metrics
// endpoints, and a Run that shuts down gracefully.
//
// Other host packages mount their routes on API() (JSON APIs, small bodies) or
// on Group(limit) when they accept larger bodies, and report every failure with
// Fail so that all errors share one shape (see package apierror).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/i18n"
)

// Options configures a Server. Zero values take the documented defaults.
type Options struct {
	// Logger receives access and error logs. Default: slog.Default().
	Logger *slog.Logger
	// Catalog renders error messages. Required.
	Catalog *i18n.Catalog
	// BodyLimit caps request bodies on API() routes. Default 1 MiB.
	BodyLimit int64
	// RequestTimeout is the deadline put on every request's context; handlers and
	// plugin calls must honour it. Default 30 s.
	RequestTimeout time.Duration
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout configure the
	// http.Server. Defaults 10 s, 60 s, 90 s, 120 s. Streaming handlers extend
	// their own write deadline with http.ResponseController.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds how long Run waits for in-flight requests after its
	// context ends. Default 30 s.
	ShutdownTimeout time.Duration
	// Registry receives the server's metrics. Default: a new registry with the Go
	// and process collectors.
	Registry *prometheus.Registry
}

// ReadinessCheck reports whether one dependency is ready; nil means ready.
type ReadinessCheck func(ctx context.Context) error

// Server is the host's HTTP server.
type Server struct {
	opts     Options
	log      *slog.Logger
	engine   *gin.Engine
	api      *gin.RouterGroup
	registry *prometheus.Registry
	metrics  *metrics

	mu       sync.RWMutex
	checks   []namedCheck
	fallback gin.HandlerFunc
}

type namedCheck struct {
	name  string
	check ReadinessCheck
}

// New builds a server with its middleware and built-in endpoints.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = 1 << 20
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.RequestTimeout, 30*time.Second)
	def(&opts.ReadHeaderTimeout, 10*time.Second)
	def(&opts.ReadTimeout, 60*time.Second)
	def(&opts.WriteTimeout, 90*time.Second)
	def(&opts.IdleTimeout, 120*time.Second)
	def(&opts.ShutdownTimeout, 30*time.Second)
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
		opts.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	s := &Server{opts: opts, log: opts.Logger, engine: e, registry: opts.Registry, metrics: newMetrics(opts.Registry)}
	e.Use(s.requestID, s.accessLog, s.recover, s.deadline)
	e.NoRoute(func(c *gin.Context) {
		if f := s.fallback; f != nil && (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) &&
			!strings.HasPrefix(c.Request.URL.Path, "/api/") {
			f(c)
			return
		}
		Fail(c, apierror.NotFound)
	})
	e.NoMethod(func(c *gin.Context) { Fail(c, apierror.MethodNotAllowed) })

	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{Registry: opts.Registry})))
	s.api = e.Group("/api", BodyLimit(opts.BodyLimit))
	return s
}

// Engine is the gin engine, for packages that mount non-API routes.
func (s *Server) Engine() *gin.Engine { return s.engine }

// SetFallback serves GET and HEAD requests outside /api that match no route
// (the web shell's files and its client-side routes). Call before serving.
func (s *Server) SetFallback(h gin.HandlerFunc) { s.fallback = h }

// API is the /api route group with the default body limit.
func (s *Server) API() *gin.RouterGroup { return s.api }

// Group is an /api route group with its own body limit, for uploads.
func (s *Server) Group(limit int64) *gin.RouterGroup {
	return s.engine.Group("/api", BodyLimit(limit))
}

// Registry is the metrics registry, for packages that add their own metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Logger is the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Catalog is the message catalog.
func (s *Server) Catalog() *i18n.Catalog { return s.opts.Catalog }

// AddReadinessCheck adds a dependency to /readyz.
func (s *Server) AddReadinessCheck(name string, check ReadinessCheck) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks = append(s.checks, namedCheck{name, check})
}

// Handler is the server as an http.Handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) readyz(c *gin.Context) {
	s.mu.RLock()
	checks := append([]namedCheck(nil), s.checks...)
	s.mu.RUnlock()
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	status := gin.H{}
	var failed []string
	for _, ch := range checks {
		if err := ch.check(ctx); err != nil {
			status[ch.name] = err.Error()
			failed = append(failed, ch.name)
			continue
		}
		status[ch.name] = "ok"
	}
	if len(failed) > 0 {
		c.Header("Retry-After", "5")
		Fail(c, apierror.New(http.StatusServiceUnavailable, "service.not_ready",
			map[string]any{"Detail": fmt.Sprint(failed)}).WithDetails(status))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": status})
}

// Run serves on addr until ctx ends, then stops accepting connections and waits
// up to ShutdownTimeout for in-flight requests. It returns nil after a clean
// shutdown.
func (s *Server) Run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on an existing listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: no new connections, waiting for in-flight requests", "timeout", s.opts.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	s.log.Info("shut down cleanly")
	return nil
}

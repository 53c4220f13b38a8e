package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/i18n"
)

// HeaderRequestID carries the request id in and out.
const HeaderRequestID = "X-Request-ID"

const (
	keyRequestID = "portal.request_id"
	keyLocalizer = "portal.localizer"
	keyLogger    = "portal.logger"
	keyServer    = "portal.server"
	// KeyLocalePreference holds the signed-in user's preferred language (see
	// SetLocalePreference).
	KeyLocalePreference = "portal.locale_preference"
)

// A caller's request id is kept only if it is short and plain, so it cannot
// inject into logs.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader(HeaderRequestID)
	if !validRequestID.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(keyRequestID, id)
	c.Set(keyServer, s)
	c.Header(HeaderRequestID, id)
	c.Next()
}

// RequestID is the request's id.
func RequestID(c *gin.Context) string { return c.GetString(keyRequestID) }

// Log is the request's logger, tagged with its request id. It is made on
// first use: most requests log one access line and nothing else.
func Log(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(keyLogger); ok {
		return l.(*slog.Logger)
	}
	base := slog.Default()
	if s, ok := c.Get(keyServer); ok {
		base = s.(*Server).log
	}
	l := base.With("request_id", RequestID(c))
	c.Set(keyLogger, l)
	return l
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	s.metrics.inFlight.Inc()
	defer func() {
		s.metrics.inFlight.Dec()
		// recover (inside this middleware) turns every panic into a 500
		// but http.ErrAbortHandler: a response cut short on purpose after
		// its head was sent. It is logged as such and passed on to net/http,
		// which closes the connection.
		aborted := recover()
		s.logRequest(c, start, aborted != nil)
		if aborted != nil {
			panic(aborted)
		}
	}()
	c.Next()
}

// logRequest counts the request in the metrics and writes its access-log
// line; aborted marks a response cut short after its head.
func (s *Server) logRequest(c *gin.Context, start time.Time, aborted bool) {
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	d := time.Since(start)
	status := c.Writer.Status()
	s.metrics.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Inc()
	s.metrics.duration.WithLabelValues(c.Request.Method, route).Observe(d.Seconds())
	level := slog.LevelInfo
	if status >= 500 || aborted {
		level = slog.LevelError
	}
	// The path only: query strings may carry personal data.
	attrs := []slog.Attr{slog.String("request_id", RequestID(c)),
		slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path),
		slog.String("route", route), slog.Int("status", status),
		slog.Float64("ms", float64(d.Microseconds())/1000), slog.Int("bytes", c.Writer.Size()),
		slog.String("ip", c.ClientIP())}
	if aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	s.log.LogAttrs(c.Request.Context(), level, "http", attrs...)
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			Log(c).Error("panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				Fail(c, apierror.Internal)
			}
			c.Abort()
		}
	}()
	c.Next()
}

// SetLocalePreference records a signed-in user's preferred language; the
// identity layer calls it once the user is known.
func SetLocalePreference(c *gin.Context, pref string) {
	c.Set(KeyLocalePreference, pref)
	c.Set(keyLocalizer, nil)
}

// Localizer is the request's localizer: the user's preference, else
// Accept-Language, else zh-CN. It is chosen on first use, since most requests
// render no message.
func Localizer(c *gin.Context) *i18n.Localizer {
	if l, ok := c.Get(keyLocalizer); ok && l != nil {
		return l.(*i18n.Localizer)
	}
	s, ok := c.Get(keyServer)
	if !ok {
		return nil
	}
	l := s.(*Server).opts.Catalog.Localizer(i18n.Match(c.GetString(KeyLocalePreference), c.GetHeader("Accept-Language")))
	c.Set(keyLocalizer, l)
	return l
}

// deadline bounds the handlers' work. Once they are done (or panicking) the
// request has its own context back, so what runs after — recover, the access
// log — sees the client's cancellation only, not this one.
func (s *Server) deadline(c *gin.Context) {
	orig := c.Request
	ctx, cancel := context.WithTimeout(orig.Context(), s.opts.RequestTimeout)
	defer func() {
		cancel()
		c.Request = orig
	}()
	c.Request = orig.WithContext(ctx)
	c.Next()
}

// BodyLimit refuses bodies over limit bytes: at once with 413 when the declared
// Content-Length is over, and on read (http.MaxBytesError, mapped to 413 by
// Fail) when a chunked body grows past it.
func BodyLimit(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			// Do not read the body; ask the client to stop sending it.
			c.Header("Connection", "close")
			Fail(c, apierror.TooLarge(limit))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// errorBody is the one error shape of every API.
type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	Details   any    `json:"details,omitempty"`
}

// StatusClientClosed records a request whose client went away before the
// answer (nginx's 499).
const StatusClientClosed = 499

// Fail answers with err in the standard error shape and aborts the chain.
// Server errors are logged with their cause; the caller sees only the code,
// the localised message and the request id. When the client has gone away
// (its request's context is cancelled) nobody reads the answer and nothing
// failed here: the request is recorded as 499, not as an error.
func Fail(c *gin.Context, err error) {
	if errors.Is(c.Request.Context().Err(), context.Canceled) {
		c.AbortWithStatus(StatusClientClosed)
		return
	}
	e := apierror.From(err)
	if e.Status >= 500 {
		Log(c).Error("request failed", "code", e.Code, "err", err.Error())
	}
	msg := e.Code
	if l := Localizer(c); l != nil {
		msg = l.T(e.Code, e.Data)
	}
	c.AbortWithStatusJSON(e.Status, errorBody{Code: e.Code, Message: msg, RequestID: RequestID(c), Details: e.Details})
}

// Decode reads a JSON body into v, refusing unknown fields; on failure it has
// answered (400 request.invalid, or 413) and returns false.
func Decode(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			Fail(c, err)
		} else {
			Fail(c, apierror.Invalid("JSON body expected: "+err.Error()))
		}
		return false
	}
	return true
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newMetrics(r *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portal_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portal_http_in_flight_requests", Help: "HTTP requests being served.",
		}),
	}
	r.MustRegister(m.requests, m.duration, m.inFlight)
	return m
}

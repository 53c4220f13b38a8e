package plugins

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shanghai-amr/portal/host/pii"

	"github.com/gin-gonic/gin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/sdk/manifest"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// Prefix is where every plugin's routes live: /api/plugins/<id>/<route path>.
const Prefix = "/api/plugins"

// MaxBodyLimit caps any route's body limit.
const MaxBodyLimit = 1 << 30

// unaryBodyMax is the largest body sent in one message; larger bodies, and
// bodies of unknown length, are streamed in chunks.
const unaryBodyMax = 64 << 10

// Router dispatches plugin requests through one catch-all route and a table
// that is swapped atomically (gin cannot remove routes). Readers never lock.
type Router struct {
	table atomic.Pointer[map[string]*entry]
	mu    sync.Mutex // serialises writers

	audit       *audit.Log
	policy      *policy.Engine
	defaultBody int64
	timeout     time.Duration
	pseudonyms  *pii.Pseudonyms
}

// entry is what the table holds for one plugin id: the generation serving it,
// or why nothing is.
type entry struct {
	gen  *generation
	down string // "", "restarting", "failed", "disabled"
}

// Errors of the plugin routes.
var (
	errUnavailable = apierror.New(http.StatusServiceUnavailable, "plugin.unavailable", nil)
	errDisabled    = apierror.New(http.StatusServiceUnavailable, "plugin.disabled", nil)
	errBadGateway  = apierror.New(http.StatusBadGateway, "plugin.error", nil)
)

func newRouter(a *audit.Log, p *policy.Engine, ps *pii.Pseudonyms, defaultBody int64, timeout time.Duration) *Router {
	r := &Router{audit: a, policy: p, pseudonyms: ps, defaultBody: defaultBody, timeout: timeout}
	empty := map[string]*entry{}
	r.table.Store(&empty)
	return r
}

// Mount registers the catch-all route on the server.
func (r *Router) Mount(s *server.Server, auth gin.HandlerFunc) {
	s.Group(MaxBodyLimit).Any(strings.TrimPrefix(Prefix, "/api")+"/:plugin/*path", auth, r.handle)
}

// set publishes e for id; the previous entry is returned.
func (r *Router) set(id string, e *entry) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.table.Load()
	next := make(map[string]*entry, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	prev := next[id]
	if e == nil {
		delete(next, id)
	} else {
		next[id] = e
	}
	r.table.Store(&next)
	return prev
}

func (r *Router) get(id string) *entry { return (*r.table.Load())[id] }

// lease takes an in-flight lease on g, the generation serving id when the
// caller read the table, or — if g started draining since — on its
// successor. nil: nothing serves id. The caller releases the lease.
func (r *Router) lease(id string, g *generation) *generation {
	for g != nil && !g.acquire() {
		g = r.current(id)
	}
	return g
}

// current is the generation serving id, if any.
func (r *Router) current(id string) *generation {
	if e := r.get(id); e != nil {
		return e.gen
	}
	return nil
}

func (r *Router) handle(c *gin.Context) {
	id := c.Param("plugin")
	e := r.get(id)
	if e == nil {
		server.Fail(c, apierror.NotFound)
		return
	}
	if e.down == "disabled" {
		server.Fail(c, errDisabled)
		return
	}
	// Take a lease on the generation that serves now; if it started draining
	// between the table read and here, the table already points at its
	// successor. Everything below — route, permission, call — is that
	// generation's, so a request never mixes two versions' routes.
	g := r.lease(id, e.gen)
	if g == nil {
		unavailable(c)
		return
	}
	defer g.release()
	if !g.alive() {
		unavailable(c)
		return
	}
	path := c.Param("path")
	rt, params, wrongMethod := g.routes.match(c.Request.Method, path)
	if rt == nil {
		if wrongMethod {
			server.Fail(c, apierror.MethodNotAllowed)
		} else {
			server.Fail(c, apierror.NotFound)
		}
		return
	}
	caller := identity.From(c.Request.Context())
	if err := r.authorize(c, id, rt, caller); err != nil {
		server.Fail(c, err)
		return
	}
	limit := r.defaultBody
	if rt.BodyLimit > 0 {
		limit = min(rt.BodyLimit, MaxBodyLimit)
	}
	if c.Request.ContentLength > limit {
		server.Fail(c, apierror.TooLarge(limit))
		return
	}
	streamed := rt.Stream || c.Request.ContentLength > unaryBodyMax || c.Request.ContentLength < 0
	var body []byte
	if !streamed {
		var err error
		if body, err = io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit)); err != nil {
			server.Fail(c, apierror.From(err))
			return
		}
	}
	timeout := r.timeout
	if rt.timeout > 0 {
		timeout = rt.timeout
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
	defer cancel()
	token := newToken()
	g.tokens.Store(token, caller)
	defer g.tokens.Delete(token)
	dl, _ := ctx.Deadline()
	req := &pluginv1.HTTPRequest{
		Method: c.Request.Method, Path: path, RawQuery: c.Request.URL.RawQuery,
		Headers: forwardHeaders(c.Request.Header), Body: body, Caller: r.toCaller(g.id, caller, token),
		RequestId: server.RequestID(c), Route: rt.Path, Params: params, DeadlineUnixMs: dl.UnixMilli(),
	}
	if streamed {
		r.stream(c, ctx, cancel, g, req, limit)
		return
	}
	resp, err := g.rpc.HandleHTTP(ctx, req)
	if err != nil {
		r.callFailed(c, g, err)
		return
	}
	writeHead(c, g, resp)
	_, _ = c.Writer.Write(resp.Body)
}

// writeHead copies the plugin's status and headers to the caller.
func writeHead(c *gin.Context, g *generation, resp *pluginv1.HTTPResponse) {
	for _, h := range resp.Headers {
		if hopByHop[http.CanonicalHeaderKey(h.Name)] {
			continue
		}
		for _, v := range h.Values {
			c.Writer.Header().Add(h.Name, v)
		}
	}
	c.Writer.Header().Set("X-Plugin-Version", g.version)
	c.Status(int(resp.Status))
}

// stream serves a request through HandleHTTPStream: the body goes to the
// plugin in chunks as it arrives (cut at limit), and the response comes back
// in chunks, flushed to the caller as they come.
func (r *Router) stream(c *gin.Context, ctx context.Context, cancel context.CancelFunc, g *generation, req *pluginv1.HTTPRequest, limit int64) {
	// The body is read while the response is written. Without full duplex,
	// net/http discards what is left of an HTTP/1 body (under 256 KiB) the
	// moment the head is written, and the plugin gets it cut short. HTTP/2
	// is full duplex already and answers an error here.
	_ = http.NewResponseController(c.Writer).EnableFullDuplex()
	st, err := g.rpc.HandleHTTPStream(ctx)
	if err != nil {
		r.callFailed(c, g, err)
		return
	}
	if err := st.Send(&pluginv1.HTTPStreamFrame{Frame: &pluginv1.HTTPStreamFrame_Request{Request: req}}); err != nil {
		r.callFailed(c, g, err)
		return
	}
	// The body is pumped beside the response: a plugin may answer before it
	// has read everything (a refusal, say).
	upload := make(chan error, 1)
	go func() {
		body := http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		buf := make([]byte, 32<<10)
		for {
			n, err := body.Read(buf)
			if n > 0 {
				if serr := st.Send(&pluginv1.HTTPStreamFrame{Frame: &pluginv1.HTTPStreamFrame_Chunk{Chunk: buf[:n]}}); serr != nil {
					upload <- serr
					return
				}
			}
			if errors.Is(err, io.EOF) {
				upload <- st.CloseSend()
				return
			}
			if err != nil {
				upload <- err
				cancel() // stop the plugin's half as well
				return
			}
		}
	}()
	first, err := st.Recv()
	if err != nil {
		if uerr := <-upload; uerr != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(uerr, &tooLarge) {
				server.Fail(c, apierror.From(uerr))
				return
			}
		}
		r.callFailed(c, g, err)
		return
	}
	head := first.GetResponse()
	if head == nil {
		server.Fail(c, errBadGateway.Wrap(errors.New("first frame is not the response head")))
		return
	}
	writeHead(c, g, head)
	c.Writer.WriteHeaderNow()
	c.Writer.Flush()
	for {
		f, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			// The head is out, so the status cannot say it. Abort the
			// response (no final chunk, the connection closed) so that the
			// client sees it cut short rather than a complete, shorter body:
			// a truncated download must not pass for a whole one.
			genLog(c, g).Warn("plugin stream broken after the response head; response aborted", "err", err)
			panic(http.ErrAbortHandler)
		}
		if _, err := c.Writer.Write(f.GetChunk()); err != nil {
			cancel()
			return
		}
		c.Writer.Flush()
	}
}

func unavailable(c *gin.Context) {
	c.Header("Retry-After", "1")
	server.Fail(c, errUnavailable)
}

// callFailed maps a failed plugin call to an answer: the deadline passed →
// 504; the process went away → 503 (retry shortly); anything else → 502. A
// call cancelled because the client went away is 499 (server.Fail).
func (r *Router) callFailed(c *gin.Context, g *generation, err error) {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded:
		server.Fail(c, apierror.Timeout.Wrap(err))
	case !g.alive() || status.Code(err) == codes.Unavailable || status.Code(err) == codes.Canceled && c.Request.Context().Err() == nil:
		c.Header("Retry-After", "1")
		server.Fail(c, errUnavailable.Wrap(err))
	default:
		server.Fail(c, errBadGateway.Wrap(err))
	}
}

// authorize checks the route's audience and permission; refusals are audited.
func (r *Router) authorize(c *gin.Context, pluginID string, rt *route, caller *identity.Identity) error {
	if rt.audience[manifest.AudienceAnonymous] {
		return nil
	}
	if caller.Audience == identity.Anonymous {
		c.Header("WWW-Authenticate", `Bearer realm="portal"`)
		return identity.Unauthenticated
	}
	reason := "audience " + caller.Audience + " not allowed"
	if rt.audience[manifest.Audience(caller.Audience)] && rt.Permission != "" {
		d := r.policy.Decide(c.Request.Context(), policy.Input{Subject: caller.PolicySubject(), Action: rt.Permission, Plugin: pluginID})
		if d.Allow {
			return nil
		}
		reason = d.Reason
	}
	_, _ = r.audit.Write(c.Request.Context(), audit.Entry{
		Actor: caller.Username, Action: "plugin.route.denied", Resource: "plugin:" + pluginID + " " + rt.Method + " " + rt.Path,
		Outcome: audit.Denied, RequestID: server.RequestID(c), IP: c.ClientIP(), OrgPath: caller.OrgPath,
		Detail: map[string]string{"permission": rt.Permission, "audience": caller.Audience, "reason": reason},
	})
	return identity.Forbidden
}

var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// forwardHeaders passes the request's headers except credentials and hop-by-hop
// ones: the plugin gets the verified identity, never the caller's secrets.
func forwardHeaders(h http.Header) []*pluginv1.Header {
	out := make([]*pluginv1.Header, 0, len(h))
	for k, v := range h {
		if hopByHop[k] || k == "Authorization" || k == "Cookie" {
			continue
		}
		out = append(out, &pluginv1.Header{Name: k, Values: v})
	}
	return out
}

// toCaller is the identity as plugin sees it: a person's pseudonym is that
// plugin's own.
func (r *Router) toCaller(plugin string, id *identity.Identity, token string) *pluginv1.Caller {
	c := &pluginv1.Caller{Audience: id.Audience, Subject: id.Subject, Username: id.Username, DisplayName: id.DisplayName,
		Roles: id.Roles, Posts: id.Posts, OrgCode: id.OrgCode, OrgPath: id.OrgPath, Jurisdiction: id.Jurisdiction, Locale: id.Locale,
		Uscc: id.USCC, CallToken: token}
	if r.pseudonyms != nil {
		c.PersonKey = r.pseudonyms.ForPlugin(plugin, id.PersonKey)
	}
	return c
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// genLog is the request's logger tagged with the generation serving it.
func genLog(c *gin.Context, g *generation) *slog.Logger {
	return server.Log(c).With("plugin", g.id, "version", g.version, "generation", g.n)
}

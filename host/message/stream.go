package message

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/language"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/message"
)

// ErrTooManyStreams refuses a live stream over the per-user or overall cap.
var ErrTooManyStreams = apierror.New(http.StatusTooManyRequests, "message.too_many_streams", nil)

const (
	// writeWindow is how long one stream write may take before the stream is
	// given up (the http.Server's WriteTimeout would end it at 90 s otherwise).
	writeWindow = 30 * time.Second
	// pageSize bounds the messages one check sends; more follow at once.
	pageSize = 100
	// pollPage bounds one look of the poller at new rows.
	pollPage = 500
)

// hub is the in-process broadcast: the open streams by user, and the poller
// that runs while there are any.
type hub struct {
	mu     sync.Mutex
	subs   map[int]map[*subscriber]struct{}
	total  int
	poller *poller
}

// subscriber is one open stream.
type subscriber struct {
	user int
	wake chan struct{} // buffered 1: a pending wake-up is enough
}

type poller struct {
	cancel context.CancelFunc
	ready  chan struct{} // closed once the poller knows where the table ends
}

func (s *subscriber) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// subscribe opens a stream for user within the caps, starting the poller for
// the first one. The stream should wait for ready before its first query, so
// that nothing written in between escapes both.
func (c *Center) subscribe(user int) (sub *subscriber, ready <-chan struct{}, err error) {
	h := &c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.subs[user]); n >= c.maxPerUser {
		return nil, nil, ErrTooManyStreams.WithDetails(map[string]any{"scope": "user", "limit": c.maxPerUser})
	}
	if h.total >= c.maxStreams {
		return nil, nil, ErrTooManyStreams.WithDetails(map[string]any{"scope": "server", "limit": c.maxStreams})
	}
	sub = &subscriber{user: user, wake: make(chan struct{}, 1)}
	if h.subs[user] == nil {
		h.subs[user] = map[*subscriber]struct{}{}
	}
	h.subs[user][sub] = struct{}{}
	h.total++
	if h.poller == nil {
		ctx, cancel := context.WithCancel(context.Background())
		h.poller = &poller{cancel: cancel, ready: make(chan struct{})}
		go c.pollLoop(ctx, h.poller.ready)
	}
	return sub, h.poller.ready, nil
}

// unsubscribe closes a stream, stopping the poller with the last one.
func (c *Center) unsubscribe(sub *subscriber) {
	h := &c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub.user][sub]; !ok {
		return
	}
	delete(h.subs[sub.user], sub)
	if len(h.subs[sub.user]) == 0 {
		delete(h.subs, sub.user)
	}
	h.total--
	if h.total == 0 && h.poller != nil {
		h.poller.cancel()
		h.poller = nil
	}
}

// wake notifies the streams of users, without blocking.
func (h *hub) wake(users ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, u := range users {
		for s := range h.subs[u] {
			s.notify()
		}
	}
}

// streams is the number of open streams.
func (h *hub) streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

// pollLoop looks every Poll for rows newer than the newest it has seen —
// written by another replica, or sent without Wake — and wakes their
// recipients' streams here. One query per interval, however many streams.
func (c *Center) pollLoop(ctx context.Context, ready chan struct{}) {
	query := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 10*time.Second) }
	qctx, cancel := query()
	hw, err := c.latestID(qctx, 0)
	cancel()
	known := err == nil
	close(ready)
	t := time.NewTicker(c.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-t.C:
		}
		if !known {
			qctx, cancel := query()
			hw, err = c.latestID(qctx, 0)
			cancel()
			known = err == nil
			continue
		}
		for range 10 {
			qctx, cancel := query()
			rows, err := c.client.Message.Query().Where(message.IDGT(hw)).Order(ent.Asc(message.FieldID)).
				Limit(pollPage).Select(message.FieldID, message.FieldRecipientID).All(qctx)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					c.log.Warn("message: poll for new messages", "err", err)
				}
				break
			}
			users := make([]int, 0, len(rows))
			for _, r := range rows {
				users = append(users, r.RecipientID)
				hw = max(hw, r.ID)
			}
			c.hub.wake(users...)
			if len(rows) < pollPage {
				break
			}
		}
	}
}

// stream serves GET /v1/messages/stream (Server-Sent Events).
func (c *Center) stream(g *gin.Context) {
	uid, ok := c.caller(g)
	if !ok {
		return
	}
	sub, ready, err := c.subscribe(uid)
	if err != nil {
		g.Header("Retry-After", "30")
		server.Fail(g, err)
		return
	}
	defer c.unsubscribe(sub)
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
	}

	// The server puts its request deadline (RequestTimeout) on the request's
	// context; a stream outlives it, so its queries use their own timeouts and
	// clientGone watches the connection.
	base := context.WithoutCancel(g.Request.Context())
	query := func() (context.Context, context.CancelFunc) { return context.WithTimeout(base, 10*time.Second) }
	tag := lang(g)

	qctx, cancel := query()
	lastID, err := c.latestID(qctx, uid)
	var unread int
	if err == nil {
		unread, err = c.unread(qctx, uid)
	}
	cancel()
	if err != nil {
		server.Fail(g, err)
		return
	}
	// A browser reconnecting sends the last id it saw: what it missed follows.
	resumed := false
	if v := g.GetHeader("Last-Event-ID"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < lastID {
			lastID, resumed = n, true
		}
	}

	w := g.Writer
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // no proxy buffering (nginx)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	write := func(s string) error {
		if err := rc.SetWriteDeadline(time.Now().Add(writeWindow)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		if _, err := io.WriteString(w, s); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	sendUnread := func(n int) error { return write(fmt.Sprintf("event: unread\ndata: {\"unread\":%d}\n\n", n)) }

	if err := write("retry: 3000\n\n"); err != nil {
		return
	}
	if err := sendUnread(unread); err != nil {
		return
	}
	if resumed {
		sub.notify()
	}

	// check sends the messages newer than the last one sent, then the unread
	// count if it changed or anything was sent.
	check := func(always bool) error {
		qctx, cancel := query()
		defer cancel()
		rows, err := c.client.Message.Query().Where(message.RecipientID(uid), message.IDGT(lastID)).
			Order(ent.Asc(message.FieldID)).Limit(pageSize).All(qctx)
		if err != nil {
			server.Log(g).Warn("message: stream: read new messages", "err", err)
			return nil // the next wake-up tries again
		}
		for _, m := range rows {
			b, err := json.Marshal(c.item(tag, m))
			if err != nil {
				return err
			}
			if err := write("id: " + strconv.Itoa(m.ID) + "\nevent: message\ndata: " + string(b) + "\n\n"); err != nil {
				return err
			}
			lastID = m.ID
		}
		if len(rows) == pageSize {
			sub.notify() // more to come
		}
		n, err := c.unread(qctx, uid)
		if err != nil {
			server.Log(g).Warn("message: stream: count unread", "err", err)
			return nil
		}
		if n != unread || len(rows) > 0 || always {
			unread = n
			return sendUnread(n)
		}
		return nil
	}

	stop := make(chan struct{})
	defer close(stop)
	gone := clientGone(g, stop)
	heartbeat := time.NewTicker(c.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-gone:
			return
		case <-c.done:
			return
		case <-sub.wake:
			if check(false) != nil {
				return
			}
		case <-heartbeat.C:
			// Also catches messages read on another replica.
			if check(false) != nil || write(": ping\n\n") != nil {
				return
			}
		}
	}
}

// clientGone is closed when the client goes away. Until the request deadline
// the request's context says so; after it (a stream outlives it), the
// connection's close notification does. Failing writes end a stream as well.
func clientGone(g *gin.Context, stop <-chan struct{}) <-chan struct{} {
	ctx := g.Request.Context()
	var closed <-chan bool
	if u, ok := g.Writer.(interface{ Unwrap() http.ResponseWriter }); ok {
		//nolint:staticcheck // CloseNotifier is the one signal independent of the request's context, which the request deadline ends.
		if cn, ok := u.Unwrap().(http.CloseNotifier); ok {
			closed = cn.CloseNotify()
		}
	}
	gone := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				close(gone)
				return
			}
		case <-stop:
			return
		}
		select {
		case <-closed:
			close(gone)
		case <-stop:
		}
	}()
	return gone
}

// lang is the request's language.
func lang(g *gin.Context) language.Tag {
	if l := server.Localizer(g); l != nil {
		return l.Tag()
	}
	return i18n.ZhCN
}

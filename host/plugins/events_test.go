package plugins

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/host/event"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/eventdelivery"
	"github.com/shanghai-amr/portal/host/store/storetest"
	"github.com/shanghai-amr/portal/sdk/manifest"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// newEventHost is a test host with an event bus delivering to its plugins.
func newEventHost(t *testing.T) (*testHost, *event.Bus) {
	var bus *event.Bus
	h := newTestHost(t, "sqlite", func(o *Options) {
		bus = event.NewBus(event.Options{Client: o.Store.Client, Log: o.Log, PollInterval: 50 * time.Millisecond,
			UnavailableDelay: 100 * time.Millisecond, BaseDelay: 50 * time.Millisecond, DeliverTimeout: 10 * time.Second})
		o.Events = bus
	})
	bus.Attach(h.m.Subscribers, h.m)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = bus.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h, bus
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An event published while its subscriber is stopped is delivered once the
// subscriber is back, and a redelivery of the same event does not double its
// effect (the example plugin counts with sdk.Once).
func TestEventDeliveredAfterSubscriberRestarts(t *testing.T) {
	h, bus := newEventHost(t)
	ctx := context.Background()
	c := h.m.opts.Store.Client
	h.mustInstall(t, fixtures.notice)
	if got := h.m.Subscribers("notice.created"); len(got) != 1 || got[0] != "notice" {
		t.Fatalf("subscribers of notice.created = %v", got)
	}
	if code, b, _ := h.call(t, "POST", "/api/v1/admin/plugins/notice/disable", nil, true); code != http.StatusOK {
		t.Fatalf("disable = %d %s", code, b)
	}

	id, err := bus.Publish(ctx, event.SourceHost, "notice.created", []byte(`{"id":1,"org_code":"310115"}`))
	if err != nil {
		t.Fatal(err)
	}
	row := func() *ent.EventDelivery {
		d, err := c.EventDelivery.Query().Where(eventdelivery.EventID(id), eventdelivery.Subscriber("notice")).Only(ctx)
		if err != nil {
			return nil
		}
		return d
	}
	// While the plugin is stopped the delivery waits: tried, not counted.
	waitFor(t, "the delivery to wait for the stopped plugin", 10*time.Second, func() bool {
		d := row()
		return d != nil && strings.Contains(d.LastError, "not running")
	})
	time.Sleep(500 * time.Millisecond) // several retry rounds
	if d := row(); d.Status != eventdelivery.StatusPending || d.Attempts != 0 {
		t.Fatalf("delivery while the subscriber is stopped = %+v", d)
	}

	if code, b, _ := h.call(t, "POST", "/api/v1/admin/plugins/notice/enable", nil, true); code != http.StatusOK {
		t.Fatalf("enable = %d %s", code, b)
	}
	waitFor(t, "delivery after the plugin is back", 15*time.Second, func() bool {
		d := row()
		return d != nil && d.Status == eventdelivery.StatusDelivered
	})
	if n := noticeCount(t, h, "310115"); n != 1 {
		t.Fatalf("count after delivery = %d, want 1", n)
	}

	// Force a redelivery of the same event: it reaches the plugin again, and
	// the plugin's effect stays counted once.
	if err := bus.Retry(ctx, row().ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the redelivery", 15*time.Second, func() bool {
		d := row()
		return d != nil && d.Status == eventdelivery.StatusDelivered && d.DeliveredAt != nil
	})
	waitFor(t, "the plugin to log both deliveries", 5*time.Second, func() bool { return received(t, h, id) == 2 })
	if n := noticeCount(t, h, "310115"); n != 1 {
		t.Fatalf("count after a redelivery = %d, want 1 (not idempotent)", n)
	}
}

// received counts the example plugin's "event received" log lines for id.
func received(t *testing.T, h *testHost, id string) int {
	lines, err := h.m.Logs("notice", 2000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range lines {
		if l.Message == "event received" && l.Fields["event"] == id {
			n++
		}
	}
	return n
}

// noticeCount reads the example plugin's statistics from its own database.
func noticeCount(t *testing.T, h *testHost, org string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(h.dir, "plugins", "data", "notice", "data.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT created FROM notice_stats WHERE org_code = ?", org).Scan(&n); err != nil {
		t.Fatalf("notice_stats: %v", err)
	}
	return n
}

// PublishEvent: the source is the plugin, and only declared types are allowed.
func TestPublishEventService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		bus := event.NewBus(event.Options{Client: st.Client})
		mf := &manifest.Manifest{ID: "cases", Events: manifest.Events{Publishes: []string{"cases.closed", "cases.fine.*", "portal.job"}}}
		h := &hostServices{client: st.Client, plugin: "cases", events: &pluginEvents{bus: bus, publishes: mf.Events.Publishes}}
		res, err := h.PublishEvent(ctx, &pluginv1.PublishEventRequest{Type: "cases.closed", Data: []byte(`{"id":7}`)})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := st.Client.Event.Query().Only(ctx)
		if err != nil || ev.EventID != res.Id || ev.Source != "cases" || ev.Type != "cases.closed" {
			t.Fatalf("outbox = %+v, %v", ev, err)
		}
		if _, err := h.PublishEvent(ctx, &pluginv1.PublishEventRequest{Type: "cases.fine.paid"}); err != nil {
			t.Fatalf("wildcard publish: %v", err)
		}
		for _, typ := range []string{"cases.opened", "portal.job", "other.closed"} {
			if _, err := h.PublishEvent(ctx, &pluginv1.PublishEventRequest{Type: typ}); status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s: %v, want PermissionDenied", typ, err)
			}
		}
		if _, err := h.PublishEvent(ctx, &pluginv1.PublishEventRequest{Type: "cases.closed", Data: make([]byte, event.MaxDataBytes+1)}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("oversized: %v", err)
		}
		if _, err := (&hostServices{plugin: "x"}).PublishEvent(ctx, &pluginv1.PublishEventRequest{Type: "a.b"}); status.Code(err) != codes.Unavailable {
			t.Errorf("without a bus: %v", err)
		}
	})
}

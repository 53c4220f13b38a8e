package event

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/ent"
	entevent "github.com/shanghai-amr/portal/host/store/ent/event"
	"github.com/shanghai-amr/portal/host/store/ent/eventdelivery"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// fakeDeliverer records deliveries; a subscriber fails while fail[sub] > 0
// (counting down) and is unavailable while down[sub].
type fakeDeliverer struct {
	mu    sync.Mutex
	fail  map[string]int
	down  map[string]bool
	got   map[string]int // "<event>/<subscriber>" → successful deliveries
	tries map[string]int // subscriber → calls
	last  map[string]Event
	delay time.Duration
}

func newFake() *fakeDeliverer {
	return &fakeDeliverer{fail: map[string]int{}, down: map[string]bool{}, got: map[string]int{}, tries: map[string]int{}, last: map[string]Event{}}
}

func (f *fakeDeliverer) Deliver(ctx context.Context, sub string, ev Event) error {
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries[sub]++
	if f.down[sub] {
		return fmt.Errorf("%w: %s stopped", ErrUnavailable, sub)
	}
	if sub == "uninstalled" {
		return fmt.Errorf("%w: %s", ErrGone, sub)
	}
	if f.fail[sub] != 0 {
		f.fail[sub]--
		return errors.New("handler failed")
	}
	f.got[ev.ID+"/"+sub]++
	f.last[sub] = ev
	return nil
}

func (f *fakeDeliverer) set(fn func(f *fakeDeliverer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeDeliverer) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got[key]
}

func subscribersOf(table map[string][]string) func(string) []string {
	return func(typ string) []string {
		var out []string
		for pattern, subs := range table {
			if Matches(pattern, typ) {
				out = append(out, subs...)
			}
		}
		return out
	}
}

func fastOptions(c *ent.Client) Options {
	return Options{Client: c, PollInterval: 20 * time.Millisecond, BaseDelay: 10 * time.Millisecond,
		MaxDelay: 40 * time.Millisecond, MaxAttempts: 3, UnavailableDelay: 30 * time.Millisecond, DeliverTimeout: 5 * time.Second}
}

func runBus(t *testing.T, b *Bus) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("bus did not stop within 10 s of cancel")
		}
	})
}

// testLog writes a bus's log into the test's output.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func eventually(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func delivery(t *testing.T, c *ent.Client, eventID, sub string) *ent.EventDelivery {
	t.Helper()
	d, err := c.EventDelivery.Query().Where(eventdelivery.EventID(eventID), eventdelivery.Subscriber(sub)).Only(context.Background())
	if err != nil {
		t.Fatalf("delivery %s/%s: %v", eventID, sub, err)
	}
	return d
}

func status(c *ent.Client, eventID, sub string) eventdelivery.Status {
	d, err := c.EventDelivery.Query().Where(eventdelivery.EventID(eventID), eventdelivery.Subscriber(sub)).Only(context.Background())
	if err != nil {
		return ""
	}
	return d.Status
}

func TestPublishValidatesAndCommitsWithTheCaller(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		for _, typ := range []string{"", "Case.closed", "case closed", "case..closed", "case.", "1case", strings.Repeat("a", 129)} {
			if _, err := Publish(ctx, st.Client, "p", typ, nil); !errors.Is(err, ErrBadType) {
				t.Errorf("type %q: err = %v, want ErrBadType", typ, err)
			}
		}
		if _, err := Publish(ctx, st.Client, "p", "case.closed", make([]byte, MaxDataBytes+1)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("oversized data: %v", err)
		}
		// Rolled back with the caller's transaction: no event.
		tx, err := st.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Publish(ctx, tx.Client(), "p", "case.closed", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		_ = tx.Rollback()
		if n, _ := st.Client.Event.Query().Count(ctx); n != 0 {
			t.Fatalf("%d events after rollback", n)
		}
		tx, _ = st.Client.Tx(ctx)
		id, err := Publish(ctx, tx.Client(), "p", "case.closed", []byte(`{"a":1}`))
		if err != nil || tx.Commit() != nil {
			t.Fatal(err)
		}
		ev, err := st.Client.Event.Query().Where(entevent.EventID(id)).Only(ctx)
		if err != nil || ev.Type != "case.closed" || ev.Source != "p" || string(ev.Data) != `{"a":1}` || ev.RelayedAt != nil {
			t.Fatalf("event = %+v, %v", ev, err)
		}
		if len(id) != 36 || id[14] != '7' {
			t.Fatalf("id %q is not a UUIDv7", id)
		}
	})
}

func TestDeliveryRetriesWaitsForStoppedSubscribersAndGoesDead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		f := newFake()
		f.fail["flaky"] = 2      // fails twice, then succeeds
		f.fail["broken"] = -1    // always fails
		f.down["stopped"] = true // not running until we say
		b := NewBus(fastOptions(st.Client))
		b.Attach(subscribersOf(map[string][]string{"case.*": {"flaky", "stopped"}, "case.closed": {"broken", "uninstalled"}, "other": {"nobody"}}), f)
		runBus(t, b)

		id, err := b.Publish(ctx, "enforcement", "case.closed", []byte(`{"case":1}`))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "flaky delivered", 10*time.Second, func() bool { return status(st.Client, id, "flaky") == eventdelivery.StatusDelivered })
		if d := delivery(t, st.Client, id, "flaky"); d.Attempts != 3 || d.LastError != "" || d.DeliveredAt == nil {
			t.Fatalf("flaky delivery = %+v", d)
		}
		if got := f.last["flaky"]; got.ID != id || got.Type != "case.closed" || got.Source != "enforcement" || string(got.Data) != `{"case":1}` {
			t.Fatalf("delivered event = %+v", got)
		}
		eventually(t, "broken dead", 10*time.Second, func() bool { return status(st.Client, id, "broken") == eventdelivery.StatusDead })
		if d := delivery(t, st.Client, id, "broken"); d.Attempts != 3 || d.LastError != "handler failed" {
			t.Fatalf("dead delivery = %+v", d)
		}

		eventually(t, "uninstalled dead", 10*time.Second, func() bool { return status(st.Client, id, "uninstalled") == eventdelivery.StatusDead })
		if d := delivery(t, st.Client, id, "uninstalled"); d.Attempts != 1 {
			t.Fatalf("delivery to an uninstalled subscriber = %+v, want dead at the first attempt", d)
		}

		// The stopped subscriber is tried again and again without burning attempts.
		eventually(t, "stopped tried", 5*time.Second, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.tries["stopped"] >= 5 })
		if d := delivery(t, st.Client, id, "stopped"); d.Status != eventdelivery.StatusPending || d.Attempts != 0 || !strings.Contains(d.LastError, "not running") {
			t.Fatalf("delivery to a stopped subscriber = %+v", d)
		}
		f.set(func(f *fakeDeliverer) { f.down["stopped"] = false })
		eventually(t, "stopped delivered once back", 5*time.Second, func() bool { return status(st.Client, id, "stopped") == eventdelivery.StatusDelivered })
		if d := delivery(t, st.Client, id, "stopped"); d.Attempts != 1 {
			t.Fatalf("attempts after the subscriber came back = %d, want 1", d.Attempts)
		}

		// An administrator retries the dead delivery once the handler is fixed.
		f.set(func(f *fakeDeliverer) { f.fail["broken"] = 0 })
		if err := b.Retry(ctx, delivery(t, st.Client, id, "broken").ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "retried delivery", 5*time.Second, func() bool { return status(st.Client, id, "broken") == eventdelivery.StatusDelivered })

		// Unsubscribed types are relayed without deliveries.
		id2, _ := b.Publish(ctx, "enforcement", "unrelated.thing", nil)
		eventually(t, "relayed", 5*time.Second, func() bool {
			ev, err := st.Client.Event.Query().Where(entevent.EventID(id2)).Only(ctx)
			return err == nil && ev.RelayedAt != nil
		})
		if n, _ := st.Client.EventDelivery.Query().Where(eventdelivery.EventID(id2)).Count(ctx); n != 0 {
			t.Fatalf("%d deliveries for an event nobody subscribes to", n)
		}
		for _, k := range []string{id + "/flaky", id + "/stopped", id + "/broken"} {
			if n := f.count(k); n != 1 {
				t.Errorf("%s delivered %d times, want 1", k, n)
			}
		}
	})
}

// Two host replicas on one database: every event reaches every subscriber
// exactly once in the normal case.
func TestTwoReplicasDeliverEachEventOncePerSubscriber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		other, err := store.Open(ctx, st.DSN)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		f := newFake()
		f.delay = 2 * time.Millisecond
		subs := subscribersOf(map[string][]string{"case.*": {"p1", "p2"}})
		for i, c := range []*ent.Client{st.Client, other.Client} {
			o := fastOptions(c)
			o.Concurrency = 4
			o.Log = slog.New(slog.NewTextHandler(testLog{t}, nil)).With("replica", i)
			b := NewBus(o)
			b.Attach(subs, f)
			runBus(t, b)
		}
		const n = 40
		ids := make([]string, 0, n)
		for i := range n {
			c := st.Client
			if i%2 == 1 {
				c = other.Client
			}
			id, err := Publish(ctx, c, "host", "case.opened", []byte(fmt.Sprint(i)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			k, _ := st.Client.EventDelivery.Query().Where(eventdelivery.StatusEQ(eventdelivery.StatusDelivered)).Count(ctx)
			if k == 2*n {
				break
			}
			if time.Now().After(deadline) {
				// Say which, and how they stand: the replicas' logs are above.
				rest, _ := st.Client.EventDelivery.Query().Where(eventdelivery.StatusNEQ(eventdelivery.StatusDelivered)).All(ctx)
				for _, d := range rest {
					t.Logf("not delivered: %s/%s %s, %d attempts, next %s, %q", d.EventID, d.Subscriber, d.Status,
						d.Attempts, d.NextAttemptAt.Format(time.RFC3339Nano), d.LastError)
				}
				t.Fatalf("timed out after 30s: %d of %d delivered", k, 2*n)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // a duplicate would show up now
		for _, id := range ids {
			for _, s := range []string{"p1", "p2"} {
				if k := f.count(id + "/" + s); k != 1 {
					t.Errorf("%s to %s: %d deliveries, want 1", id, s, k)
				}
			}
		}
		if k, _ := st.Client.EventDelivery.Query().Count(ctx); k != 2*n {
			t.Fatalf("%d delivery rows, want %d", k, 2*n)
		}
	})
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	b := NewBus(Options{Client: &ent.Client{}, BaseDelay: time.Second, MaxDelay: 5 * time.Minute})
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 9: 256 * time.Second, 10: 5 * time.Minute, 30: 5 * time.Minute} {
		got := b.backoff(n)
		if got > want || got < want*4/5 {
			t.Errorf("backoff(%d) = %v, want %v less at most 20 %%", n, got, want)
		}
	}
}

func TestMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, typ string
		want         bool
	}{
		{"case.closed", "case.closed", true}, {"case.closed", "case.closed.x", false},
		{"case.*", "case.closed", true}, {"case.*", "case.fine.paid", true}, {"case.*", "case", false},
		{"case.*", "cases.x", false}, {"*", "anything", true},
	} {
		if got := Matches(c.pattern, c.typ); got != c.want {
			t.Errorf("Matches(%q, %q) = %v", c.pattern, c.typ, got)
		}
	}
}

func TestPruneKeepsWhatIsNotDelivered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		f := newFake()
		f.fail["broken"] = -1
		b := NewBus(fastOptions(st.Client))
		b.Attach(subscribersOf(map[string][]string{"a.b": {"ok"}, "a.dead": {"broken"}, "a.none": nil}), f)
		runBus(t, b)
		done, _ := b.Publish(ctx, "p", "a.b", nil)
		dead, _ := b.Publish(ctx, "p", "a.dead", nil)
		none, _ := b.Publish(ctx, "p", "a.none", nil)
		eventually(t, "outcomes", 10*time.Second, func() bool {
			return status(st.Client, done, "ok") == eventdelivery.StatusDelivered && status(st.Client, dead, "broken") == eventdelivery.StatusDead
		})
		eventually(t, "relayed", 5*time.Second, func() bool {
			n, _ := st.Client.Event.Query().Where(entevent.RelayedAtIsNil()).Count(ctx)
			return n == 0
		})
		b.o.Retention = time.Hour
		if err := b.prune(ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.Client.Event.Query().Count(ctx); n != 3 {
			t.Fatalf("recent events pruned: %d left", n)
		}
		b.o.Retention = -time.Second // everything is old
		if err := b.prune(ctx); err != nil {
			t.Fatal(err)
		}
		left, _ := st.Client.Event.Query().All(ctx)
		if len(left) != 1 || left[0].EventID != dead {
			t.Fatalf("events left after pruning = %v; want only the dead one's (%s, not %s, %s)", left, dead, done, none)
		}
		if n, _ := st.Client.EventDelivery.Query().Count(ctx); n != 1 {
			t.Fatalf("%d deliveries left, want the dead one", n)
		}
	})
}

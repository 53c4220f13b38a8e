package event

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/eventdelivery"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// natsURL is the JetStream server the tests use: PORTAL_TEST_NATS_URL, or the
// one this machine runs on the standard port.
func natsURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("PORTAL_TEST_NATS_URL")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(u, "nats://"), time.Second)
	if err != nil {
		t.Skipf("NATS JetStream at %s is unreachable (%v): NATS mode not tested (set PORTAL_TEST_NATS_URL)", u, err)
	}
	c.Close()
	return u
}

// natsTestOptions names a stream and subjects unique to the test and deletes
// the stream when it ends.
func natsTestOptions(t *testing.T, url string) *NATSOptions {
	var b [4]byte
	_, _ = rand.Read(b[:])
	tag := hex.EncodeToString(b[:])
	o := &NATSOptions{URL: url, Stream: "PT_EVENTS_" + strings.ToUpper(tag), Subject: "pt" + tag + ".events"}
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, o.Stream)
	})
	return o
}

// natsPatience bounds the waits for JetStream deliveries. It exceeds the
// consumer's AckWait (DeliverTimeout + 30 s, 35 s with fastOptions): a
// message the server sent to a pull request that had already expired on a
// loaded machine comes again only then — late, not lost. A CI run once timed
// out at 20 s on "stopped has all"; that is the likely cause (not proven).
const natsPatience = 60 * time.Second

func TestNATSJetStreamDelivery(t *testing.T) {
	url := natsURL(t)
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		other, err := store.Open(ctx, st.DSN)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		no := natsTestOptions(t, url)
		f := newFake()
		f.fail["flaky"] = 2
		f.fail["broken"] = -1
		f.down["stopped"] = true
		subs := subscribersOf(map[string][]string{"case.*": {"flaky", "stopped", "p1"}, "case.closed": {"broken"}})
		var buses []*Bus
		for _, c := range []*ent.Client{st.Client, other.Client} { // two replicas
			o := fastOptions(c)
			o.PollInterval = 100 * time.Millisecond
			o.NATS = no
			b := NewBus(o)
			b.Attach(subs, f)
			runBus(t, b)
			buses = append(buses, b)
		}
		id, err := buses[0].Publish(ctx, "enforcement", "case.closed", []byte(`{"case":1}`))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "flaky delivered", natsPatience, func() bool { return status(st.Client, id, "flaky") == eventdelivery.StatusDelivered })
		if d := delivery(t, st.Client, id, "flaky"); d.Attempts != 3 || d.DeliveredAt == nil {
			t.Fatalf("flaky delivery = %+v", d)
		}
		if got := f.last["flaky"]; got.ID != id || got.Type != "case.closed" || got.Source != "enforcement" || string(got.Data) != `{"case":1}` || got.Time.IsZero() {
			t.Fatalf("delivered event = %+v", got)
		}
		eventually(t, "broken dead", natsPatience, func() bool { return status(st.Client, id, "broken") == eventdelivery.StatusDead })

		// Many events, two replicas: each subscriber gets each once.
		var ids []string
		for i := range 20 {
			id, err := buses[i%2].Publish(ctx, "host", "case.opened", []byte(fmt.Sprint(i)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		eventually(t, "p1 has all", natsPatience, func() bool {
			n, _ := st.Client.EventDelivery.Query().Where(eventdelivery.Subscriber("p1"), eventdelivery.StatusEQ(eventdelivery.StatusDelivered)).Count(ctx)
			return n == 21
		})

		// The stopped subscriber gets everything once it is back, without attempts burnt.
		if d := delivery(t, st.Client, id, "stopped"); d.Status != eventdelivery.StatusPending || d.Attempts != 0 {
			t.Fatalf("delivery to a stopped subscriber = %+v", d)
		}
		f.set(func(f *fakeDeliverer) { f.down["stopped"] = false })
		eventually(t, "stopped has all", natsPatience, func() bool {
			n, _ := st.Client.EventDelivery.Query().Where(eventdelivery.Subscriber("stopped"), eventdelivery.StatusEQ(eventdelivery.StatusDelivered)).Count(ctx)
			return n == 21
		})
		time.Sleep(300 * time.Millisecond)
		for _, id := range append(ids, id) {
			for _, s := range []string{"p1", "stopped"} {
				if k := f.count(id + "/" + s); k != 1 {
					t.Errorf("%s to %s: %d deliveries, want 1", id, s, k)
				}
			}
		}

		// An administrator's retry of the dead delivery goes through the stream
		// again, to that subscriber only.
		f.set(func(f *fakeDeliverer) { f.fail["broken"] = 0 })
		if err := buses[1].Retry(ctx, delivery(t, st.Client, id, "broken").ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "retried", natsPatience, func() bool { return status(st.Client, id, "broken") == eventdelivery.StatusDelivered })
		time.Sleep(300 * time.Millisecond)
		if k := f.count(id + "/p1"); k != 1 {
			t.Errorf("the retry for one subscriber reached p1 too (%d deliveries)", k)
		}
	})
}

package event

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shanghai-amr/portal/host/store/ent"
	entevent "github.com/shanghai-amr/portal/host/store/ent/event"
	"github.com/shanghai-amr/portal/host/store/ent/eventdelivery"
)

// NATSOptions selects NATS JetStream delivery.
type NATSOptions struct {
	// URL of the NATS server(s), e.g. nats://127.0.0.1:4222. Required.
	URL string
	// Stream is the JetStream stream. Default PORTAL_EVENTS.
	Stream string
	// Subject prefixes event subjects: <Subject>.<type>. Default portal.events.
	Subject string
	// MaxAge is how long the stream keeps events. Default 7 days.
	MaxAge time.Duration
}

// Message headers beside Nats-Msg-Id.
const (
	hdrEventID     = "Portal-Event-Id"
	hdrSource      = "Portal-Source"
	hdrTime        = "Portal-Time"
	hdrSubscriber  = "Portal-Subscriber" // set on an administrator's retry: only this subscriber handles it
	consumerPrefix = "portal-sub-"
)

// natsBus is the JetStream side of a Bus: the relay publishes outbox rows to
// the stream; a durable pull consumer per subscriber (shared by all
// replicas, so each message goes to one of them) delivers them.
type natsBus struct {
	b      *Bus
	o      NATSOptions
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	ctx    context.Context

	mu        sync.Mutex
	consumers map[string]bool // subscriber → its fetch loop is running
	wg        sync.WaitGroup
}

func startNATS(ctx context.Context, b *Bus) (*natsBus, error) {
	o := *b.o.NATS
	if o.Stream == "" {
		o.Stream = "PORTAL_EVENTS"
	}
	if o.Subject == "" {
		o.Subject = "portal.events"
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 7 * 24 * time.Hour
	}
	nc, err := nats.Connect(o.URL, nats.Name("portal-host"), nats.MaxReconnects(-1), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("event: nats %s: %w", o.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("event: jetstream: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := js.CreateOrUpdateStream(sctx, jetstream.StreamConfig{
		Name: o.Stream, Subjects: []string{o.Subject + ".>"}, Storage: jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy, MaxAge: o.MaxAge, Duplicates: 2 * time.Minute,
		Description: "portal host events (outbox relay)",
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("event: stream %s: %w", o.Stream, err)
	}
	nb := &natsBus{b: b, o: o, nc: nc, js: js, stream: stream, ctx: ctx, consumers: map[string]bool{}}
	// Resume the consumers of every subscriber known to the stream, so that
	// events waiting for a stopped subscriber are delivered once it is back.
	names := stream.ConsumerNames(sctx)
	for n := range names.Name() {
		if sub, ok := strings.CutPrefix(n, consumerPrefix); ok {
			nb.startConsumer(sub)
		}
	}
	if err := names.Err(); err != nil {
		b.log.Warn("event: list nats consumers", "err", err)
	}
	return nb, nil
}

func (nb *natsBus) close() {
	nb.wg.Wait()
	nb.nc.Close()
}

func (nb *natsBus) subject(typ string) string { return nb.o.Subject + "." + typ }

// relay publishes outbox rows and marks them relayed. The consumers of their
// subscribers exist before the publication, so nobody misses it.
func (nb *natsBus) relay(ctx context.Context, evs []*ent.Event) error {
	for _, ev := range evs {
		subs := nb.b.subscribers(ev.Type)
		for _, s := range subs {
			if err := nb.ensureConsumer(ctx, s); err != nil {
				return err
			}
		}
		if len(subs) > 0 {
			if err := nb.publish(ctx, ev, ev.EventID, ""); err != nil {
				return err
			}
		}
		if err := nb.b.o.Client.Event.Update().Where(entevent.ID(ev.ID), entevent.RelayedAtIsNil()).SetRelayedAt(now()).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (nb *natsBus) publish(ctx context.Context, ev *ent.Event, msgID, only string) error {
	m := nats.NewMsg(nb.subject(ev.Type))
	m.Data = ev.Data
	m.Header.Set(hdrEventID, ev.EventID)
	m.Header.Set(hdrSource, ev.Source)
	m.Header.Set(hdrTime, ev.CreatedAt.UTC().Format(time.RFC3339Nano))
	if only != "" {
		m.Header.Set(hdrSubscriber, only)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := nb.js.PublishMsg(pctx, m, jetstream.WithMsgID(msgID)); err != nil {
		return fmt.Errorf("event: publish %s: %w", ev.EventID, err)
	}
	return nil
}

// republish sends an event again for one subscriber (an administrator's retry).
func (nb *natsBus) republish(ctx context.Context, ev *ent.Event, subscriber string) error {
	if err := nb.ensureConsumer(ctx, subscriber); err != nil {
		return err
	}
	return nb.publish(ctx, ev, fmt.Sprintf("%s/retry/%s/%d", ev.EventID, subscriber, time.Now().UnixNano()), subscriber)
}

func (nb *natsBus) consumerConfig(sub string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable: consumerPrefix + sub, Description: "portal events for plugin " + sub,
		FilterSubject: nb.o.Subject + ".>", DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: nb.b.o.DeliverTimeout + 30*time.Second,
		MaxDeliver: -1, MaxAckPending: 4 * nb.b.o.Concurrency,
	}
}

// ensureConsumer creates the subscriber's durable consumer (from now on) if
// it does not exist and starts its fetch loop on this replica.
func (nb *natsBus) ensureConsumer(ctx context.Context, sub string) error {
	nb.mu.Lock()
	running := nb.consumers[sub]
	nb.mu.Unlock()
	if running {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := nb.stream.Consumer(cctx, consumerPrefix+sub); errors.Is(err, jetstream.ErrConsumerNotFound) {
		if _, err := nb.stream.CreateConsumer(cctx, nb.consumerConfig(sub)); err != nil && !errors.Is(err, jetstream.ErrConsumerExists) {
			return fmt.Errorf("event: consumer for %s: %w", sub, err)
		}
	} else if err != nil {
		return fmt.Errorf("event: consumer for %s: %w", sub, err)
	}
	nb.startConsumer(sub)
	return nil
}

func (nb *natsBus) startConsumer(sub string) {
	nb.mu.Lock()
	defer nb.mu.Unlock()
	if nb.consumers[sub] {
		return
	}
	nb.consumers[sub] = true
	nb.wg.Add(1)
	go func() { defer nb.wg.Done(); nb.consume(sub) }()
}

// consume fetches the subscriber's messages until the bus stops.
func (nb *natsBus) consume(sub string) {
	ctx := nb.ctx
	var cons jetstream.Consumer
	for ctx.Err() == nil {
		if cons == nil {
			c, err := nb.stream.Consumer(ctx, consumerPrefix+sub)
			if err != nil {
				if ctx.Err() == nil {
					nb.b.log.Warn("event: nats consumer", "subscriber", sub, "err", err)
				}
				sleep(ctx, nb.b.o.PollInterval)
				continue
			}
			cons = c
		}
		batch, err := cons.Fetch(nb.b.o.Concurrency, jetstream.FetchMaxWait(nb.b.o.PollInterval))
		if err != nil {
			if errors.Is(err, jetstream.ErrConsumerNotFound) {
				cons = nil
			}
			sleep(ctx, nb.b.o.PollInterval)
			continue
		}
		down := false
		for m := range batch.Messages() {
			if down {
				// The subscriber is not running: leave the rest for later
				// without trying each.
				_ = m.NakWithDelay(nb.b.o.UnavailableDelay)
				continue
			}
			down = nb.handle(ctx, sub, m)
		}
		if down {
			sleep(ctx, nb.b.o.UnavailableDelay)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// handle delivers one message to sub and acknowledges, retries or ends it.
// It reports true when the subscriber is not running.
func (nb *natsBus) handle(ctx context.Context, sub string, m jetstream.Msg) bool {
	typ := strings.TrimPrefix(m.Subject(), nb.o.Subject+".")
	h := m.Headers()
	if only := h.Get(hdrSubscriber); only != "" && only != sub {
		_ = m.Ack()
		return false
	}
	if !slices.Contains(nb.b.subscribers(typ), sub) {
		_ = m.Ack() // no longer subscribed
		return false
	}
	at, _ := time.Parse(time.RFC3339Nano, h.Get(hdrTime))
	ev := Event{ID: h.Get(hdrEventID), Type: typ, Source: h.Get(hdrSource), Time: at, Data: m.Data()}
	if ev.ID == "" {
		_ = m.Term()
		return false
	}
	c := nb.b.o.Client
	if err := c.EventDelivery.Create().SetEventID(ev.ID).SetSubscriber(sub).SetNextAttemptAt(now()).
		OnConflictColumns(eventdelivery.FieldEventID, eventdelivery.FieldSubscriber).Ignore().Exec(ctx); err != nil {
		_ = m.NakWithDelay(nb.b.o.PollInterval)
		return false
	}
	d, err := c.EventDelivery.Query().Where(eventdelivery.EventID(ev.ID), eventdelivery.Subscriber(sub)).Only(ctx)
	if err != nil {
		_ = m.NakWithDelay(nb.b.o.PollInterval)
		return false
	}
	if d.Status != eventdelivery.StatusPending {
		_ = m.Ack() // already acknowledged (or dead) and not retried since
		return false
	}
	// Messages of one subscriber are handled one after another; the global
	// bound on deliveries in flight is the bus's.
	select {
	case nb.b.sem <- struct{}{}:
	case <-ctx.Done():
		_ = m.Nak()
		return false
	}
	_ = m.InProgress() // restart the ack timer: earlier messages of the batch took time
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), nb.b.o.DeliverTimeout)
	err = nb.b.deliverer.Deliver(dctx, sub, ev)
	cancel()
	<-nb.b.sem
	if errors.Is(err, ErrUnavailable) {
		_ = c.EventDelivery.UpdateOne(d).SetLastError("subscriber not running; waiting").Exec(context.WithoutCancel(ctx))
		_ = m.NakWithDelay(nb.b.o.UnavailableDelay)
		return true
	}
	gone := errors.Is(err, ErrGone)
	nb.b.finish(context.WithoutCancel(ctx), d, err, gone)
	switch {
	case err == nil:
		_ = m.Ack()
	case gone || d.Attempts+1 >= nb.b.o.MaxAttempts:
		_ = m.TermWithReason("dead after " + fmt.Sprint(d.Attempts+1) + " attempts")
	default:
		_ = m.NakWithDelay(nb.b.backoff(d.Attempts + 1))
	}
	return false
}

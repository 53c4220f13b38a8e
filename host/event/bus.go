package event

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/store/ent"
	entevent "github.com/shanghai-amr/portal/host/store/ent/event"
	"github.com/shanghai-amr/portal/host/store/ent/eventdelivery"
)

// Options configures a Bus. Zero values take the defaults given.
type Options struct {
	// Client is the host database. Required.
	Client *ent.Client
	Log    *slog.Logger
	// Audit records administrators' retries (MountAPI); nil records nothing.
	Audit *audit.Log
	// NATS, when set, relays and delivers through NATS JetStream instead of
	// the in-process delivery loop.
	NATS *NATSOptions
	// PollInterval is how often the loops look for work when nobody woke
	// them (other replicas' events, due retries). Default 1 s.
	PollInterval time.Duration
	// Concurrency bounds deliveries in flight on this replica. Default 8.
	Concurrency int
	// Batch is how many outbox rows or due deliveries one pass reads. Default 100.
	Batch int
	// DeliverTimeout bounds one delivery. Default 30 s.
	DeliverTimeout time.Duration
	// BaseDelay is the first retry delay after a failed delivery, doubled per
	// failure up to MaxDelay. Defaults 1 s and 5 min.
	BaseDelay, MaxDelay time.Duration
	// MaxAttempts failed deliveries make a delivery dead. Default 20 (about an
	// hour with the default delays).
	MaxAttempts int
	// UnavailableDelay is how often a delivery to a subscriber that is not
	// running is tried again; such waits never count as attempts. Default 5 s.
	UnavailableDelay time.Duration
	// Retention is how long delivered deliveries, and relayed events with no
	// delivery left, are kept; pending and dead ones are kept until they are
	// delivered. Pruned hourly. Default 7 days.
	Retention time.Duration
}

// Bus relays the outbox and delivers events to subscribers. Create it with
// NewBus, give it its subscribers and deliverer with Attach, and Run it.
type Bus struct {
	o    Options
	log  *slog.Logger
	wake chan struct{} // Publish → relay
	kick chan struct{} // relay → delivery loop

	subscribers func(typ string) []string
	deliverer   Deliverer

	sem      chan struct{}
	inflight sync.WaitGroup
	nats     atomic.Pointer[natsBus] // set by Run in NATS mode
}

// NewBus returns a bus; call Attach, then Run.
func NewBus(o Options) *Bus {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, time.Second)
	def(&o.DeliverTimeout, 30*time.Second)
	def(&o.BaseDelay, time.Second)
	def(&o.MaxDelay, 5*time.Minute)
	def(&o.UnavailableDelay, 5*time.Second)
	def(&o.Retention, 7*24*time.Hour)
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 20
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		panic("event.NewBus: Client is required")
	}
	return &Bus{o: o, log: o.Log.With("component", "events"), wake: make(chan struct{}, 1), kick: make(chan struct{}, 1),
		sem: make(chan struct{}, o.Concurrency)}
}

// Attach sets who subscribes to a type (plugin ids) and who delivers. Call it
// before Run.
func (b *Bus) Attach(subscribers func(typ string) []string, d Deliverer) {
	b.subscribers, b.deliverer = subscribers, d
}

// Publish writes an event to the outbox with the bus's own client (see the
// package-level Publish for publishing inside a transaction).
func (b *Bus) Publish(ctx context.Context, source, typ string, data []byte) (string, error) {
	return Publish(ctx, b.o.Client, source, typ, data)
}

// Run relays and delivers until ctx ends, then waits for deliveries in flight.
func (b *Bus) Run(ctx context.Context) error {
	if b.subscribers == nil || b.deliverer == nil {
		return errors.New("event: Bus.Attach was not called")
	}
	wakers.Store(b, b.wake)
	defer wakers.Delete(b)
	if b.o.NATS != nil {
		nb, err := startNATS(ctx, b)
		if err != nil {
			return err
		}
		b.nats.Store(nb)
		defer nb.close()
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.relayLoop(ctx) }()
	go func() { defer wg.Done(); b.pruneLoop(ctx) }()
	if b.nats.Load() == nil {
		wg.Add(1)
		go func() { defer wg.Done(); b.deliveryLoop(ctx) }()
	}
	wg.Wait()
	b.inflight.Wait()
	return nil
}

// relayLoop moves outbox rows to their subscribers. After a wake it looks
// once more shortly after: the publisher's transaction may not have committed
// at the first look.
func (b *Bus) relayLoop(ctx context.Context) {
	t := time.NewTicker(b.o.PollInterval)
	defer t.Stop()
	var again <-chan time.Time
	for {
		for {
			n, err := b.relayOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					b.log.Error("event relay", "err", err)
				}
				break
			}
			if n > 0 {
				signal(b.kick)
			}
			if n < b.o.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-b.wake:
			again = time.After(50 * time.Millisecond)
		case <-again:
			again = nil
		case <-t.C:
		}
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// relayOnce relays one batch of outbox rows and reports how many.
func (b *Bus) relayOnce(ctx context.Context) (int, error) {
	evs, err := b.o.Client.Event.Query().Where(entevent.RelayedAtIsNil()).
		Order(ent.Asc(entevent.FieldID)).Limit(b.o.Batch).All(ctx)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	if nb := b.nats.Load(); nb != nil {
		return len(evs), nb.relay(ctx, evs)
	}
	// Ask for subscribers before the transaction: the answer may need the
	// database, and SQLite's small pool must not wait on itself.
	subsOf := make([][]string, len(evs))
	for i, ev := range evs {
		subsOf[i] = b.subscribers(ev.Type)
	}
	tx, err := b.o.Client.Tx(ctx)
	if err != nil {
		return 0, err
	}
	at := now()
	for i, ev := range evs {
		subs := subsOf[i]
		if len(subs) > 0 {
			creates := make([]*ent.EventDeliveryCreate, 0, len(subs))
			for _, s := range subs {
				creates = append(creates, tx.EventDelivery.Create().SetEventID(ev.EventID).SetSubscriber(s).SetNextAttemptAt(at))
			}
			// Another replica may relay the same row at the same time: the
			// unique (event_id, subscriber) key keeps one delivery each.
			if err := tx.EventDelivery.CreateBulk(creates...).OnConflictColumns(eventdelivery.FieldEventID, eventdelivery.FieldSubscriber).
				Ignore().Exec(ctx); err != nil {
				_ = tx.Rollback()
				return 0, fmt.Errorf("fan out %s: %w", ev.EventID, err)
			}
		}
		if err := tx.Event.Update().Where(entevent.ID(ev.ID), entevent.RelayedAtIsNil()).SetRelayedAt(at).Exec(ctx); err != nil {
			_ = tx.Rollback()
			return 0, err
		}
	}
	return len(evs), tx.Commit()
}

// deliveryLoop hands due deliveries to the deliverer.
func (b *Bus) deliveryLoop(ctx context.Context) {
	t := time.NewTicker(b.o.PollInterval)
	defer t.Stop()
	for {
		if err := b.deliverDue(ctx); err != nil && ctx.Err() == nil {
			b.log.Error("event delivery", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
		case <-t.C:
		}
	}
}

// claimLease is how long a claimed delivery is hidden from other replicas;
// if this replica dies mid-delivery, another delivers it after the lease.
func (b *Bus) claimLease() time.Duration { return b.o.DeliverTimeout + 30*time.Second }

// deliverDue claims and starts due deliveries while there are free slots.
func (b *Bus) deliverDue(ctx context.Context) error {
	at := now()
	rows, err := b.o.Client.EventDelivery.Query().
		Where(eventdelivery.StatusEQ(eventdelivery.StatusPending), eventdelivery.NextAttemptAtLTE(at)).
		Order(ent.Asc(eventdelivery.FieldNextAttemptAt), ent.Asc(eventdelivery.FieldID)).Limit(b.o.Batch).All(ctx)
	if err != nil || len(rows) == 0 {
		return err
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.EventID)
	}
	evs, err := b.o.Client.Event.Query().Where(entevent.EventIDIn(ids...)).All(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]*ent.Event, len(evs))
	for _, e := range evs {
		byID[e.EventID] = e
	}
	var down sync.Map // subscribers found not running in this pass
	for _, r := range rows {
		if _, ok := down.Load(r.Subscriber); ok {
			continue
		}
		select {
		case b.sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		// Claim: only one replica moves next_attempt_at from due to the
		// future; the others' UPDATE matches no row.
		n, err := b.o.Client.EventDelivery.Update().
			Where(eventdelivery.ID(r.ID), eventdelivery.StatusEQ(eventdelivery.StatusPending), eventdelivery.NextAttemptAtLTE(at)).
			SetNextAttemptAt(now().Add(b.claimLease())).Save(ctx)
		if err != nil || n == 0 {
			<-b.sem
			if err != nil {
				return err
			}
			continue
		}
		ev := byID[r.EventID]
		if ev == nil {
			<-b.sem
			b.finish(ctx, r, errors.New("event row missing"), true)
			continue
		}
		b.inflight.Add(1)
		go func(r *ent.EventDelivery, ev *ent.Event) {
			defer b.inflight.Done()
			defer func() { <-b.sem }()
			if !b.deliverOne(context.WithoutCancel(ctx), r, ev) {
				down.Store(r.Subscriber, true)
			}
		}(r, ev)
	}
	return nil
}

// deliverOne delivers a claimed row and records the outcome; false means
// the subscriber is not running.
func (b *Bus) deliverOne(ctx context.Context, r *ent.EventDelivery, ev *ent.Event) bool {
	dctx, cancel := context.WithTimeout(ctx, b.o.DeliverTimeout)
	err := b.deliverer.Deliver(dctx, r.Subscriber, toEvent(ev))
	cancel()
	if errors.Is(err, ErrUnavailable) {
		b.parkSubscriber(ctx, r.Subscriber, r.ID)
		return false
	}
	b.finish(ctx, r, err, errors.Is(err, ErrGone))
	return true
}

// parkSubscriber postpones every due delivery of a subscriber that is not
// running by UnavailableDelay, without counting attempts: one statement, so
// a long-stopped plugin with many waiting events costs one UPDATE per
// UnavailableDelay and does not crowd other subscribers out of the batch.
func (b *Bus) parkSubscriber(ctx context.Context, sub string, claimed int) {
	next := now().Add(b.o.UnavailableDelay)
	const msg = "subscriber not running; waiting"
	if err := b.o.Client.EventDelivery.UpdateOneID(claimed).SetNextAttemptAt(next).SetLastError(msg).Exec(ctx); err != nil {
		b.log.Error("event delivery: record", "subscriber", sub, "err", err)
	}
	if _, err := b.o.Client.EventDelivery.Update().
		Where(eventdelivery.Subscriber(sub), eventdelivery.StatusEQ(eventdelivery.StatusPending), eventdelivery.NextAttemptAtLTE(now())).
		SetNextAttemptAt(next).Save(ctx); err != nil {
		b.log.Error("event delivery: postpone", "subscriber", sub, "err", err)
	}
}

// finish records a delivery's outcome: delivered, retry later, or dead.
func (b *Bus) finish(ctx context.Context, r *ent.EventDelivery, err error, permanent bool) {
	at := now()
	outcome := func(u *ent.EventDeliveryUpdateOne) *ent.EventDeliveryUpdateOne {
		u.AddAttempts(1)
		switch {
		case err == nil:
			return u.SetStatus(eventdelivery.StatusDelivered).SetDeliveredAt(at).SetLastError("")
		case permanent || r.Attempts+1 >= b.o.MaxAttempts:
			return u.SetStatus(eventdelivery.StatusDead).SetLastError(clip(err.Error()))
		default:
			return u.SetNextAttemptAt(at.Add(b.backoff(r.Attempts + 1))).SetLastError(clip(err.Error()))
		}
	}
	switch {
	case err == nil:
	case permanent || r.Attempts+1 >= b.o.MaxAttempts:
		b.log.Error("event delivery dead; kept for an administrator to retry", "event", r.EventID,
			"subscriber", r.Subscriber, "attempts", r.Attempts+1, "err", err)
	default:
		b.log.Warn("event delivery failed; will retry", "event", r.EventID, "subscriber", r.Subscriber,
			"attempts", r.Attempts+1, "err", err)
	}
	// The row stays claimed until its lease ends: an outcome not recorded
	// means a second delivery then. A lock conflict with another replica's
	// relay (MySQL may pick this statement as a deadlock's victim) passes,
	// so try again a few times before giving up.
	var werr error
	for _, wait := range []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond} {
		time.Sleep(wait)
		if werr = outcome(b.o.Client.EventDelivery.UpdateOneID(r.ID)).Exec(ctx); werr == nil {
			return
		}
		b.log.Warn("event delivery: record outcome, will try again", "event", r.EventID, "subscriber", r.Subscriber, "err", werr)
	}
	b.log.Error("event delivery: outcome not recorded; delivered again after the lease", "event", r.EventID,
		"subscriber", r.Subscriber, "err", werr)
}

// backoff is the delay after the n-th failure: BaseDelay·2^(n-1), capped at
// MaxDelay, less up to 20 % jitter so that replicas and subscribers spread.
func (b *Bus) backoff(n int) time.Duration {
	d := b.o.BaseDelay
	for i := 1; i < n && d < b.o.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, b.o.MaxDelay)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

func clip(s string) string {
	if len(s) <= 512 {
		return s
	}
	s = s[:509]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "..."
}

func toEvent(e *ent.Event) Event {
	return Event{ID: e.EventID, Type: e.Type, Source: e.Source, Time: e.CreatedAt, Data: e.Data}
}

// Retry makes a delivery (pending, delivered or dead) due again now, with its
// attempts reset: an administrator's retry of a dead delivery, or a forced
// redelivery. In NATS mode the event is published again for that subscriber.
func (b *Bus) Retry(ctx context.Context, deliveryID int) error {
	d, err := b.o.Client.EventDelivery.Get(ctx, deliveryID)
	if err != nil {
		return err
	}
	if b.o.NATS != nil && b.nats.Load() == nil {
		return errors.New("event: the bus is not running (NATS mode)")
	}
	if err := b.o.Client.EventDelivery.UpdateOne(d).SetStatus(eventdelivery.StatusPending).SetAttempts(0).
		SetNextAttemptAt(now()).SetLastError("").ClearDeliveredAt().Exec(ctx); err != nil {
		return err
	}
	if nb := b.nats.Load(); nb != nil {
		ev, err := b.o.Client.Event.Query().Where(entevent.EventID(d.EventID)).Only(ctx)
		if err != nil {
			return err
		}
		return nb.republish(ctx, ev, d.Subscriber)
	}
	signal(b.kick)
	return nil
}

// pruneLoop removes old delivered rows hourly (the first time a minute after
// start).
func (b *Bus) pruneLoop(ctx context.Context) {
	wait := time.Minute
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = time.Hour
		if err := b.prune(ctx); err != nil && ctx.Err() == nil {
			b.log.Error("event prune", "err", err)
		}
	}
}

// prune deletes deliveries delivered before the retention period, then the
// relayed events of that age that no delivery refers to any more.
func (b *Bus) prune(ctx context.Context) error {
	cut := now().Add(-b.o.Retention)
	if _, err := b.o.Client.EventDelivery.Delete().
		Where(eventdelivery.StatusEQ(eventdelivery.StatusDelivered), eventdelivery.DeliveredAtLT(cut)).Exec(ctx); err != nil {
		return err
	}
	_, err := b.o.Client.Event.Delete().Where(entevent.RelayedAtLT(cut), func(s *sql.Selector) {
		t := sql.Table(eventdelivery.Table)
		s.Where(sql.Not(sql.Exists(sql.Select(t.C(eventdelivery.FieldID)).From(t).
			Where(sql.ColumnsEQ(t.C(eventdelivery.FieldEventID), s.C(entevent.FieldEventID))))))
	}).Exec(ctx)
	return err
}

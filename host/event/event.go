// Package event is the host's event bus and job scheduler.
//
// Events are written to a transactional outbox (table events) by Publish, in
// the same transaction as the change they report when the caller passes a
// transaction's client, so an event exists if and only if its change
// committed. A Bus then relays every outbox row to the plugins whose manifest
// subscribes to its type and delivers it to each of them at least once:
//
//   - in-process (the default): the relay fans an event out into one
//     event_deliveries row per subscriber; the delivery loop hands due rows to
//     the Deliverer (the plugin manager), marks them delivered on success, and
//     otherwise retries with exponential back-off (BaseDelay doubling up to
//     MaxDelay) until MaxAttempts failures make the delivery dead — kept and
//     listed for an administrator, who can retry it;
//   - NATS JetStream (Options.NATS): the relay publishes each outbox row to a
//     stream (subject <prefix>.<type>, Nats-Msg-Id = the event id, so a row
//     relayed twice is stored once), and a durable pull consumer per
//     subscriber delivers with explicit ack, nak-with-delay for retries and
//     term for dead deliveries. event_deliveries rows record each
//     subscriber's outcome in this mode too.
//
// A subscriber that is not running (Deliverer answers ErrUnavailable: the
// plugin is disabled, restarting, parked or being upgraded) is not a failure:
// its deliveries wait, re-checked every UnavailableDelay, without counting
// attempts and without ever going dead, so nothing is lost while a plugin is
// down and it receives everything once it is back. A subscriber that was
// uninstalled (ErrGone) makes its deliveries dead at once.
//
// Several host replicas may share one database: a delivery is claimed with a
// conditional UPDATE (pushing next_attempt_at past the delivery timeout)
// before it is handed over, so in the normal case each event reaches each
// subscriber once; after a crash mid-delivery it is delivered again when the
// claim lapses. Delivery is therefore at least once, in no guaranteed order,
// and handlers must be idempotent by event id (sdk.Once does this for a
// plugin's own database).
//
// The Scheduler runs the jobs plugins declare (manifest jobs, cron
// schedules): at each scheduled time every replica tries to insert the
// job_runs row (job, slot); the unique key lets exactly one win, and the
// winner delivers the job to its plugin as an event of type portal.job.
package event

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/shanghai-amr/portal/host/store/ent"
)

// MaxDataBytes bounds an event's payload.
const MaxDataBytes = 256 << 10

// JobEventType is the type of the event that runs a scheduled job.
const JobEventType = "portal.job"

// SourceHost is the source of events the host itself publishes.
const SourceHost = "host"

// Event is one event as a subscriber receives it.
type Event struct {
	ID     string
	Type   string
	Source string // plugin id, or "host"
	Time   time.Time
	Data   []byte
}

// Deliverer hands an event to one subscriber (the plugin manager implements
// it). A nil error is the subscriber's acknowledgement.
type Deliverer interface {
	Deliver(ctx context.Context, subscriber string, ev Event) error
}

// ErrUnavailable is returned (wrapped) by a Deliverer when the subscriber is
// not running; the delivery waits without counting an attempt.
var ErrUnavailable = errors.New("event: subscriber unavailable")

// ErrGone is returned (wrapped) by a Deliverer when the subscriber no longer
// exists (uninstalled); the delivery is dead at once.
var ErrGone = errors.New("event: subscriber gone")

// Errors of Publish.
var (
	ErrBadType  = errors.New("event: type must be 1–128 characters of a-z 0-9 _ . - starting with a letter")
	ErrTooLarge = fmt.Errorf("event: data exceeds %d bytes", MaxDataBytes)
	ErrBadSrc   = errors.New("event: source must be 1–64 characters")
)

var typeRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,127}$`)

// ValidType reports whether typ is a well-formed event type.
func ValidType(typ string) bool {
	return typeRE.MatchString(typ) && !strings.HasSuffix(typ, ".") && !strings.Contains(typ, "..")
}

// Matches reports whether an event of type typ matches a subscription
// pattern: the exact type, or a prefix ending in ".*" that matches every type
// below it ("case.*" matches "case.closed" and "case.fine.paid", not "case").
// "*" alone matches everything.
func Matches(pattern, typ string) bool {
	if pattern == "*" {
		return true
	}
	if p, ok := strings.CutSuffix(pattern, ".*"); ok {
		return strings.HasPrefix(typ, p+".")
	}
	return pattern == typ
}

// Publish writes an event to the outbox and returns its id. db may be a
// transaction's client (tx.Client()): the event then commits or rolls back
// with the caller's change. Running buses in this process are woken at once;
// others (other replicas) find the event within their poll interval.
func Publish(ctx context.Context, db *ent.Client, source, typ string, data []byte) (string, error) {
	if !ValidType(typ) {
		return "", fmt.Errorf("%w: %q", ErrBadType, typ)
	}
	if len(data) > MaxDataBytes {
		return "", ErrTooLarge
	}
	if source == "" || len(source) > 64 {
		return "", ErrBadSrc
	}
	id := NewID()
	if err := db.Event.Create().SetEventID(id).SetType(typ).SetSource(source).SetData(data).
		SetCreatedAt(now()).Exec(ctx); err != nil {
		return "", fmt.Errorf("event: outbox: %w", err)
	}
	wakeAll()
	return id, nil
}

// NewID returns a new event id: a UUID version 7 (time-ordered, random).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	ms := uint64(time.Now().UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(b[:6], ts[2:])
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// now is the current time as the database keeps it: UTC, microseconds.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// wakers are the running buses of this process, woken by Publish.
var wakers sync.Map // *Bus → chan struct{}

func wakeAll() {
	wakers.Range(func(_, v any) bool {
		select {
		case v.(chan struct{}) <- struct{}{}:
		default:
		}
		return true
	})
}

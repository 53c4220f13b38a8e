// Package audit writes the host's append-only, tamper-evident audit log.
//
// Entries form a hash chain: each stores SM3(previous hash ‖ its own content)
// and a gap-free sequence number, so an edited, inserted or deleted row is found
// by Verify. Writers in one process are serialised by a mutex; across replicas
// the unique sequence number makes a racing writer retry on the new head, which
// keeps the chain linear.
// Details must never carry secrets or full identity numbers; callers mask them.
package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
)

// Outcome of an audited action.
type Outcome string

// Outcomes.
const (
	Success Outcome = "success"
	Failure Outcome = "failure"
	Denied  Outcome = "denied"
)

// Entry is what a caller records.
type Entry struct {
	Actor     string // username, plugin:<id>, or system
	Action    string // e.g. plugin.install
	Resource  string // e.g. plugin:enforcement@1.2.0
	Outcome   Outcome
	RequestID string
	IP        string
	// OrgPath is the actor's organisation path, when known.
	OrgPath string
	Detail  any // marshalled to JSON
}

// Log is the audit log on the host database.
type Log struct {
	// mu serialises this process's writers; the unique sequence number
	// serialises replicas (a loser retries on the new head).
	mu     sync.Mutex
	client *ent.Client
	now    func() time.Time
}

// New returns the audit log; now is injectable for tests (nil = time.Now).
func New(client *ent.Client, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{client: client, now: now}
}

// Write appends one entry and returns its sequence number.
func (l *Log) Write(ctx context.Context, e Entry) (int64, error) {
	detail := ""
	if e.Detail != nil {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return 0, fmt.Errorf("audit: detail: %w", err)
		}
		detail = string(b)
	}
	if e.Actor == "" {
		e.Actor = "system"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for attempt := 0; ; attempt++ {
		seq, err := l.append(ctx, e, detail)
		if err == nil || !ent.IsConstraintError(err) || attempt == 10 {
			return seq, err
		}
		// Another replica took the same sequence number first: chain onto it.
	}
}

func (l *Log) append(ctx context.Context, e Entry, detail string) (int64, error) {
	tx, err := l.client.Tx(ctx)
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	defer tx.Rollback()
	prev, err := tx.AuditEntry.Query().Order(ent.Desc(auditentry.FieldSeq)).First(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return 0, fmt.Errorf("audit: read chain head: %w", err)
	}
	seq, prevHash := int64(1), ""
	if prev != nil {
		seq, prevHash = prev.Seq+1, prev.Hash
	}
	at := l.now().UTC().Truncate(time.Microsecond)
	h := hash(prevHash, seq, at, fields(e.Actor, e.Action, e.Resource, string(e.Outcome), e.RequestID, e.IP, detail, e.OrgPath)...)
	if _, err := tx.AuditEntry.Create().SetSeq(seq).SetAt(at).SetActor(e.Actor).SetAction(e.Action).
		SetResource(e.Resource).SetOutcome(auditentry.Outcome(e.Outcome)).SetRequestID(e.RequestID).
		SetIP(e.IP).SetOrgPath(e.OrgPath).SetDetail(detail).SetPrevHash(prevHash).SetHash(h).Save(ctx); err != nil {
		return 0, err
	}
	return seq, tx.Commit()
}

// fields lists what an entry's hash covers. The organisation path, added
// later, is covered only when present, so that entries written before it
// existed still verify (and blanking it on a newer entry breaks its hash).
func fields(actor, action, resource, outcome, requestID, ip, detail, orgPath string) []string {
	f := []string{actor, action, resource, outcome, requestID, ip, detail}
	if orgPath != "" {
		f = append(f, orgPath)
	}
	return f
}

// hash is SM3 over the length-prefixed fields, so no two field lists collide.
func hash(prev string, seq int64, at time.Time, fields ...string) string {
	d := sm3.New()
	for _, f := range append([]string{prev, strconv.FormatInt(seq, 10), at.Format(time.RFC3339Nano)}, fields...) {
		d.Write([]byte(strconv.Itoa(len(f))))
		d.Write([]byte{':'})
		d.Write([]byte(f))
	}
	return hex.EncodeToString(d.Sum(nil))
}

// ErrBroken means the chain does not verify; the message names the first bad entry.
var ErrBroken = errors.New("audit: chain broken")

// ActionPurge is the checkpoint written when old entries are purged: its
// detail records the last purged sequence number and hash, which anchor the
// first retained entry.
const ActionPurge = "audit.retention.purge"

type purgeDetail struct {
	Through  int64  `json:"through_seq"`
	LastHash string `json:"last_hash"`
}

// Verify walks the chain from its first retained entry and reports the first
// entry that is missing or does not match. Entries purged by retention are
// accounted for by the latest purge checkpoint; any other gap at the start is
// reported as missing.
func (l *Log) Verify(ctx context.Context) (int, error) {
	const page = 1000
	prevHash, want, n := "", int64(1), 0
	first, err := l.client.AuditEntry.Query().Order(ent.Asc(auditentry.FieldSeq)).First(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if first.Seq > 1 {
		cp, err := l.client.AuditEntry.Query().Where(auditentry.Action(ActionPurge)).Order(ent.Desc(auditentry.FieldSeq)).First(ctx)
		var d purgeDetail
		if err != nil || json.Unmarshal([]byte(cp.Detail), &d) != nil || d.Through != first.Seq-1 || d.LastHash != first.PrevHash {
			return 0, fmt.Errorf("%w: entries 1–%d are missing and no purge checkpoint accounts for them", ErrBroken, first.Seq-1)
		}
		prevHash, want = first.PrevHash, first.Seq
	}
	for {
		rows, err := l.client.AuditEntry.Query().Where(auditentry.SeqGTE(want)).
			Order(ent.Asc(auditentry.FieldSeq)).Limit(page).All(ctx)
		if err != nil {
			return n, err
		}
		for _, r := range rows {
			if r.Seq != want {
				return n, fmt.Errorf("%w: entry %d is missing", ErrBroken, want)
			}
			if r.PrevHash != prevHash || r.Hash != hash(prevHash, r.Seq, r.At.UTC(), fields(r.Actor, r.Action, r.Resource, string(r.Outcome), r.RequestID, r.IP, r.Detail, r.OrgPath)...) {
				return n, fmt.Errorf("%w: entry %d was altered", ErrBroken, r.Seq)
			}
			prevHash, want, n = r.Hash, want+1, n+1
		}
		if len(rows) < page {
			return n, nil
		}
	}
}

// Purge deletes entries older than retention, after appending a checkpoint
// that records the last purged entry's sequence number and hash, so that
// Verify still proves the retained chain complete. It returns how many
// entries it deleted. The checkpoint itself is never purged by the same run.
func (l *Log) Purge(ctx context.Context, retention time.Duration) (int, error) {
	cutoff := l.now().UTC().Add(-retention)
	last, err := l.client.AuditEntry.Query().Where(auditentry.AtLT(cutoff)).Order(ent.Desc(auditentry.FieldSeq)).First(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if _, err := l.Write(ctx, Entry{Action: ActionPurge, Resource: "audit",
		Outcome: Success, Detail: purgeDetail{Through: last.Seq, LastHash: last.Hash}}); err != nil {
		return 0, err
	}
	n, err := l.client.AuditEntry.Delete().Where(auditentry.SeqLTE(last.Seq)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("audit: purge: %w", err)
	}
	return n, nil
}

package sdk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// JobEventType is the type of the event through which the host runs a
// scheduled job; Serve hands it to Plugin.OnJob, never to OnEvent.
const JobEventType = "portal.job"

// jobData is the payload of a portal.job event.
type jobData struct {
	Name string    `json:"name"`
	Slot time.Time `json:"slot"`
}

func (s *server) runJob(ctx context.Context, e *pluginv1.Event) (*pluginv1.EventAck, error) {
	if s.p.OnJob == nil {
		return nil, status.Error(codes.Unimplemented, "plugin has no job handler")
	}
	var j jobData
	if err := json.Unmarshal(e.Data, &j); err != nil || j.Name == "" {
		return nil, status.Errorf(codes.InvalidArgument, "job event %s: bad data", e.Id)
	}
	if err := s.p.OnJob(withCaller(ctx, Caller{}, s.hostClient()), j.Name, j.Slot); err != nil {
		return nil, status.Errorf(codes.Aborted, "job %s: %v", j.Name, err)
	}
	return &pluginv1.EventAck{}, nil
}

// ProcessedEventsTable is the table in the plugin's own database where Once
// records the ids of the events it has handled.
const ProcessedEventsTable = "portal_processed_events"

var processedTables sync.Map // *sql.DB → struct{}: table ensured

// Once runs fn in a transaction of db unless the event eventID was handled
// before, and records the id in the same transaction. Events are delivered at
// least once; when fn makes its change through tx, a redelivered event
// changes nothing, and a handler that failed (fn's error, or a crash before
// commit) leaves no trace, so the retry does the work. It works on the two
// databases a plugin may get (SQLite and MySQL, see sdk/storage).
//
//	OnEvent: func(ctx context.Context, e sdk.Event) error {
//		return sdk.Once(ctx, db, e.ID, func(tx *sql.Tx) error {
//			_, err := tx.ExecContext(ctx, "UPDATE stats SET n = n + 1 WHERE k = ?", e.Type)
//			return err
//		})
//	}
//
// Two deliveries of one event running at the same moment both run fn, but only
// one commits: the other's insert of the id fails, its transaction rolls back,
// and Once then reports success because the event is recorded.
func Once(ctx context.Context, db *sql.DB, eventID string, fn func(tx *sql.Tx) error) error {
	if eventID == "" || len(eventID) > 128 {
		return errors.New("sdk.Once: event id must be 1–128 characters")
	}
	if err := ensureProcessedTable(ctx, db); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	var one int
	err = tx.QueryRowContext(ctx, "SELECT 1 FROM "+ProcessedEventsTable+" WHERE event_id = ?", eventID).Scan(&one)
	if err == nil {
		_ = tx.Rollback()
		return nil // handled before
	}
	if !errors.Is(err, sql.ErrNoRows) {
		_ = tx.Rollback()
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+ProcessedEventsTable+" (event_id, processed_at) VALUES (?, ?)",
		eventID, time.Now().UnixMilli()); err != nil {
		_ = tx.Rollback()
		if done, qerr := Processed(ctx, db, eventID); qerr == nil && done {
			return nil // a concurrent delivery of the same event committed first
		}
		return fmt.Errorf("sdk.Once: record %s: %w", eventID, err)
	}
	return tx.Commit()
}

// Processed reports whether Once has recorded the event as handled.
func Processed(ctx context.Context, db *sql.DB, eventID string) (bool, error) {
	if err := ensureProcessedTable(ctx, db); err != nil {
		return false, err
	}
	var one int
	err := db.QueryRowContext(ctx, "SELECT 1 FROM "+ProcessedEventsTable+" WHERE event_id = ?", eventID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// ensureProcessedTable creates the table once per database handle, outside
// any transaction (MySQL commits DDL implicitly). The statement is the same
// on SQLite and MySQL.
func ensureProcessedTable(ctx context.Context, db *sql.DB) error {
	if _, ok := processedTables.Load(db); ok {
		return nil
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+ProcessedEventsTable+
		" (event_id VARCHAR(128) NOT NULL PRIMARY KEY, processed_at BIGINT NOT NULL)"); err != nil {
		return fmt.Errorf("sdk.Once: create %s: %w", ProcessedEventsTable, err)
	}
	processedTables.Store(db, struct{}{})
	return nil
}

// ForgetProcessed deletes the records of events handled before cutoff, to keep
// the table small. Redeliveries come within hours (dead deliveries are retried
// only by an administrator), so keeping a few weeks is plenty.
func ForgetProcessed(ctx context.Context, db *sql.DB, cutoff time.Time) (int64, error) {
	if err := ensureProcessedTable(ctx, db); err != nil {
		return 0, err
	}
	res, err := db.ExecContext(ctx, "DELETE FROM "+ProcessedEventsTable+" WHERE processed_at < ?", cutoff.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

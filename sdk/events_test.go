package sdk_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/storage"
)

// onceDatabases opens a fresh plugin database per dialect: SQLite always,
// MySQL when PORTAL_TEST_MYSQL_DSN names a server (root@tcp(127.0.0.1:3306)/).
func onceDatabases(t *testing.T) map[string]*sql.DB {
	ctx := context.Background()
	out := map[string]*sql.DB{}
	lite, err := storage.Open(ctx, "sqlite3", "file:"+filepath.Join(t.TempDir(), "data.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	out["sqlite"] = lite
	base := strings.TrimPrefix(os.Getenv("PORTAL_TEST_MYSQL_DSN"), "mysql://")
	if base == "" {
		t.Log("PORTAL_TEST_MYSQL_DSN is not set: Once tested on SQLite only")
		return out
	}
	admin, err := storage.Open(ctx, "mysql", base)
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "pt_sdk_once_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE " + name); admin.Close() })
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	my, err := storage.Open(ctx, "mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { my.Close() })
	out["mysql"] = my
	return out
}

func TestOnceAppliesAnEventsEffectOnce(t *testing.T) {
	for dialect, db := range onceDatabases(t) {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			if _, err := db.Exec("CREATE TABLE counter (k VARCHAR(10) PRIMARY KEY, n INT NOT NULL)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("INSERT INTO counter VALUES ('a', 0)"); err != nil {
				t.Fatal(err)
			}
			incr := func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, "UPDATE counter SET n = n + 1 WHERE k = 'a'")
				return err
			}
			count := func() int {
				var n int
				if err := db.QueryRow("SELECT n FROM counter WHERE k = 'a'").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			// A failing handler leaves nothing: the retry does the work.
			boom := errors.New("boom")
			if err := sdk.Once(ctx, db, "ev-1", func(tx *sql.Tx) error { _ = incr(tx); return boom }); !errors.Is(err, boom) {
				t.Fatalf("failing handler: %v", err)
			}
			if done, _ := sdk.Processed(ctx, db, "ev-1"); done || count() != 0 {
				t.Fatalf("a failed handler was recorded (count %d)", count())
			}
			for range 3 { // delivered three times
				if err := sdk.Once(ctx, db, "ev-1", incr); err != nil {
					t.Fatal(err)
				}
			}
			if count() != 1 {
				t.Fatalf("count = %d after three deliveries of one event, want 1", count())
			}
			// Concurrent deliveries of one event: one effect; none fails for
			// good (a loser may report an error, and its retry succeeds).
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for try := 0; try < 20; try++ {
						if sdk.Once(ctx, db, "ev-2", incr) == nil {
							return
						}
						time.Sleep(10 * time.Millisecond)
					}
					t.Error("ev-2 never acknowledged")
				}()
			}
			wg.Wait()
			if count() != 2 {
				t.Fatalf("count = %d after concurrent deliveries, want 2", count())
			}
			if n, err := sdk.ForgetProcessed(ctx, db, time.Now().Add(time.Hour)); err != nil || n != 2 {
				t.Fatalf("forget = %d, %v", n, err)
			}
		})
	}
}

func TestJobEventsGoToOnJob(t *testing.T) {
	mf := []byte("id: jobs\nversion: 1.0.0\nname: {zh-CN: 任务}\nhost: '>=0.1.0'\nprotocol: 1\njobs:\n  - {name: jobs.digest, schedule: '@daily'}\n")
	start := func(context.Context, *sdk.Env) (http.Handler, error) { return nil, nil }
	var gotName string
	var gotSlot time.Time
	var events []string
	p := sdk.Plugin{Manifest: mf, Start: start,
		OnJob:   func(_ context.Context, name string, slot time.Time) error { gotName, gotSlot = name, slot; return nil },
		OnEvent: func(_ context.Context, e sdk.Event) error { events = append(events, e.Type); return nil }}
	srv, err := sdk.NewServerForTest(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	slot := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	data := []byte(`{"name":"jobs.digest","slot":"2026-03-02T00:00:00Z"}`)
	if _, err := srv.DeliverEvent(ctx, &pluginv1.Event{Id: "j1", Type: sdk.JobEventType, Source: "host", Data: data}); err != nil {
		t.Fatal(err)
	}
	if gotName != "jobs.digest" || !gotSlot.Equal(slot) || len(events) != 0 {
		t.Fatalf("OnJob got %q %v; OnEvent got %v", gotName, gotSlot, events)
	}
	if _, err := srv.DeliverEvent(ctx, &pluginv1.Event{Id: "e1", Type: "a.b"}); err != nil || len(events) != 1 {
		t.Fatalf("ordinary event: %v %v", err, events)
	}
	p.OnJob = nil
	srv, _ = sdk.NewServerForTest(p, nil)
	if _, err := srv.DeliverEvent(ctx, &pluginv1.Event{Id: "j1", Type: sdk.JobEventType, Data: data}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("job without OnJob: %v", err)
	}
}

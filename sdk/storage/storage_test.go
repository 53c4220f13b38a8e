package storage_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/shanghai-amr/portal/sdk/storage"
)

// AddColumn is idempotent and safe when two starts race for it (the DSN is
// the one the host provisions for a plugin's SQLite file).
func TestAddColumn(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite3", "file:"+filepath.Join(t.TempDir(), "p.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE notes (id "+storage.AutoID("sqlite3")+", body TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO notes (body) VALUES ('old')"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = storage.AddColumn(ctx, db, "notes", "tag", "VARCHAR(16) NOT NULL DEFAULT ''")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := storage.AddColumn(ctx, db, "notes", "tag", "VARCHAR(16) NOT NULL DEFAULT ''"); err != nil {
		t.Fatalf("second time: %v", err)
	}
	var tag string
	if err := db.QueryRowContext(ctx, "SELECT tag FROM notes WHERE body = 'old'").Scan(&tag); err != nil || tag != "" {
		t.Fatalf("old row reads tag %q, %v", tag, err)
	}
	if err := storage.AddColumn(ctx, db, "missing", "tag", "TEXT"); err == nil {
		t.Fatal("a missing table is an error")
	}
}

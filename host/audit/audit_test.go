package audit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

func TestConcurrentWritesFormOneVerifiableChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		l := audit.New(s.Client, nil)
		ctx := context.Background()
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := l.Write(ctx, audit.Entry{Actor: "admin", Action: "test.write", Resource: "r", Outcome: audit.Success, Detail: map[string]int{"i": i}}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		n, err := l.Verify(ctx)
		if err != nil || n != 20 {
			t.Fatalf("Verify = %d, %v; want 20 entries, nil", n, err)
		}
		// Editing any stored field breaks the chain at that entry.
		// ent refuses to update audit rows (immutable fields); an attacker with SQL does not.
		if _, err := s.DB.ExecContext(ctx, "UPDATE audit_entries SET resource = 'forged' WHERE seq = 7"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Verify(ctx); !errors.Is(err, audit.ErrBroken) {
			t.Fatalf("Verify after tampering = %v, want ErrBroken", err)
		}
	})
}

func TestPurgeKeepsTheRetainedChainVerifiable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		l := audit.New(s.Client, func() time.Time { return now })
		ctx := context.Background()
		for i := range 10 {
			now = now.Add(24 * time.Hour)
			if _, err := l.Write(ctx, audit.Entry{Actor: "admin", Action: "test.write", Resource: "r", Outcome: audit.Success, Detail: i}); err != nil {
				t.Fatal(err)
			}
		}
		// Keep the last 4 days: entries 1–6 go, a checkpoint (11) anchors 7.
		n, err := l.Purge(ctx, 4*24*time.Hour-time.Hour)
		if err != nil || n != 6 {
			t.Fatalf("Purge = %d, %v", n, err)
		}
		if v, err := l.Verify(ctx); err != nil || v != 5 {
			t.Fatalf("Verify after purge = %d, %v", v, err)
		}
		// Deleting the oldest retained entry without a checkpoint is detected.
		if _, err := s.DB.ExecContext(ctx, "DELETE FROM audit_entries WHERE seq = 7"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Verify(ctx); !errors.Is(err, audit.ErrBroken) {
			t.Fatalf("Verify after an unaccounted deletion = %v", err)
		}
	})
}

func TestOrganisationIsCoveredByTheHash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		l := audit.New(s.Client, nil)
		ctx := context.Background()
		_, _ = l.Write(ctx, audit.Entry{Actor: "system", Action: "test.old", Resource: "r", Outcome: audit.Success}) // no organisation
		_, _ = l.Write(ctx, audit.Entry{Actor: "pd_li", Action: "test.new", Resource: "r", Outcome: audit.Success, OrgPath: "/310000/310115/310115-D03"})
		if n, err := l.Verify(ctx); err != nil || n != 2 {
			t.Fatalf("Verify = %d, %v", n, err)
		}
		if _, err := s.DB.ExecContext(ctx, "UPDATE audit_entries SET org_path = '' WHERE seq = 2"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Verify(ctx); !errors.Is(err, audit.ErrBroken) {
			t.Fatalf("blanked organisation not detected: %v", err)
		}
	})
}

package audit_test

import (
	"context"
	"errors"
	"sync"
	"testing"

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

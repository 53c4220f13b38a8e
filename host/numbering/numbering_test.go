package numbering_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"

	"github.com/shanghai-amr/portal/host/numbering"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

var decision = numbering.Rule{Key: "enforcement.penalty_decision", Pattern: "沪市监{区}罚〔{年}〕{序号}号"}

func TestFormat(t *testing.T) {
	pudong := numbering.Scope{OrgCode: "310115", DivisionCode: "310115"}
	city := numbering.Scope{OrgCode: "310000", DivisionCode: "310000"}
	for _, c := range []struct {
		rule  numbering.Rule
		scope numbering.Scope
		want  string
	}{
		{decision, pudong, "沪市监浦罚〔2026〕12号"},
		{decision, city, "沪市监罚〔2026〕12号"},
		{numbering.Rule{Key: "x.y", Pattern: "{机构}-{年}-{序号:4}"}, pudong, "310115-2026-0012"},
	} {
		if got := c.rule.Format(c.scope, 2026, 12); got != c.want {
			t.Errorf("%s: got %s, want %s", c.rule.Pattern, got, c.want)
		}
	}
}

func TestCheckRefusesBadRules(t *testing.T) {
	for _, r := range []numbering.Rule{
		{Key: "a.b", Pattern: "沪市监罚〔{年}〕号"}, // no sequence
		{Key: "a.b", Pattern: "{序号}{序号}"},   // two
		{Key: "a.b", Pattern: "{序号}{部门}"},   // unknown placeholder
		{Key: "a.b", Pattern: "{序号:0}"},     // bad width
		{Key: "Bad Key", Pattern: "{序号}"},   // key
	} {
		if err := r.Check(); !errors.Is(err, numbering.ErrBadRule) {
			t.Errorf("%+v: got %v, want ErrBadRule", r, err)
		}
	}
}

// Sixty-four concurrent allocations for one organisation and year give 64
// distinct consecutive numbers; a rolled-back allocation consumes nothing
// (issue 7: gap-free and unique under concurrency).
func TestConcurrentAllocationsAreGapFree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		scope := numbering.Scope{OrgCode: "310115", DivisionCode: "310115"}
		if err := numbering.Prepare(ctx, st.Client, decision, scope, 2026); err != nil {
			t.Fatal(err)
		}
		// One allocation rolled back first: its number is handed out again.
		tx, err := st.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := numbering.Next(ctx, tx, decision, scope, 2026); err != nil || n.Seq != 1 {
			t.Fatalf("first: %+v %v", n, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}

		const workers = 64
		var (
			mu   sync.Mutex
			seqs []int64
			wg   sync.WaitGroup
			errs = make(chan error, workers)
		)
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tx, err := st.Client.Tx(ctx)
				if err != nil {
					errs <- err
					return
				}
				n, err := numbering.Next(ctx, tx, decision, scope, 2026)
				if err != nil {
					_ = tx.Rollback()
					errs <- err
					return
				}
				if err := tx.Commit(); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				seqs = append(seqs, n.Seq)
				mu.Unlock()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		for i, s := range seqs {
			if s != int64(i+1) {
				t.Fatalf("numbers are not 1..%d without gaps: %v", workers, seqs)
			}
		}
		if cur, _ := numbering.Current(ctx, st.Client, decision, "310115", 2026); cur != workers {
			t.Fatalf("current = %d", cur)
		}
		// Another year and another organisation start their own sequences,
		// without Prepare.
		tx, _ = st.Client.Tx(ctx)
		n, err := numbering.Next(ctx, tx, decision, numbering.Scope{OrgCode: "310104", DivisionCode: "310104"}, 2027)
		if err != nil || n.Text != "沪市监徐罚〔2027〕1号" {
			t.Fatalf("new sequence: %+v %v", n, err)
		}
		_ = tx.Commit()
	})
}

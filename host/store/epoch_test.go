package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/ent/user"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

func epochOf(t *testing.T, st *store.Store) int64 {
	t.Helper()
	return st.Client.AccessEpoch.GetX(context.Background(), 1).N
}

// seedUsers stores users a and b and returns their ids.
func seedUsers(t *testing.T, st *store.Store) (a, b int) {
	t.Helper()
	ctx := context.Background()
	ua := st.Client.User.Create().SetUsername("a").SetDisplayName("甲").SaveX(ctx)
	ub := st.Client.User.Create().SetUsername("b").SetDisplayName("乙").SaveX(ctx)
	return ua.ID, ub.ID
}

// A transaction raises the epoch once, at its commit, however many
// identity changes it holds; a rolled-back one not at all.
func TestAccessEpochOncePerTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		a, b := seedUsers(t, st)
		before := epochOf(t, st)
		tx, err := st.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.User.UpdateOneID(a).SetDisplayName("甲二").ExecX(ctx)
		tx.User.UpdateOneID(b).SetDisplayName("乙二").ExecX(ctx)
		tx.Role.Create().SetKey("r").SetName("角色").ExecX(ctx)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := epochOf(t, st); got != before+1 {
			t.Fatalf("epoch %d → %d after one transaction of three changes, want +1", before, got)
		}
	})
}

// Two transactions that change identities in opposite orders do not
// deadlock over the epoch's row: it is the last lock each takes. (Raised
// after each change instead, the first would hold it while waiting for the
// second's row, and the second would wait for it: InnoDB refuses one.)
// SQLite is left out: its writers take the database's lock at BEGIN.
func TestAccessEpochNoDeadlock(t *testing.T) {
	st := storetest.Open(t, "mysql")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := seedUsers(t, st)
	before := epochOf(t, st)

	tx1, err := st.Client.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx2, err := st.Client.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx1.User.UpdateOneID(a).SetDisplayName("甲一").ExecX(ctx)
	tx2.User.UpdateOneID(b).SetDisplayName("乙二").ExecX(ctx)
	// tx1 now wants b, which tx2 holds, until tx2 commits.
	done := make(chan error, 1)
	go func() {
		if err := tx1.User.UpdateOneID(b).SetDisplayName("乙一").Exec(ctx); err != nil {
			done <- errors.Join(err, tx1.Rollback())
			return
		}
		done <- tx1.Commit()
	}()
	time.Sleep(200 * time.Millisecond) // let tx1 block on b
	if err := tx2.Commit(); err != nil {
		t.Fatalf("the second transaction: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the first transaction: %v", err)
	}
	if got := epochOf(t, st); got != before+2 {
		t.Fatalf("epoch %d → %d after two transactions, want +2", before, got)
	}
	if n := st.Client.User.Query().Where(user.DisplayName("乙一")).CountX(ctx); n != 1 {
		t.Fatalf("b's name is not the last writer's")
	}
}

// When the epoch cannot be raised, a transaction's changes are not
// committed; a change outside one is stored, and says the epoch did not move.
func TestAccessEpochFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		a, _ := seedUsers(t, st)
		st.DB.ExecContext(ctx, "ALTER TABLE access_epoch RENAME TO access_epoch_away")
		t.Cleanup(func() { st.DB.ExecContext(ctx, "ALTER TABLE access_epoch_away RENAME TO access_epoch") })

		tx, err := st.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.User.UpdateOneID(a).SetDisplayName("未存").ExecX(ctx)
		err = tx.Commit()
		if err == nil || !strings.Contains(err.Error(), "access epoch") {
			t.Fatalf("commit = %v, want the epoch's error", err)
		}
		_ = tx.Rollback()
		if u := st.Client.User.GetX(ctx, a); u.DisplayName != "甲" {
			t.Fatalf("a transaction whose epoch failed stored its change: %q", u.DisplayName)
		}

		err = st.Client.User.UpdateOneID(a).SetDisplayName("已存").Exec(ctx)
		if err == nil || !strings.Contains(err.Error(), "the change is stored but the epoch did not move") {
			t.Fatalf("a change outside a transaction = %v", err)
		}
		if u := st.Client.User.GetX(ctx, a); u.DisplayName != "已存" {
			t.Fatalf("display name %q", u.DisplayName)
		}
	})
}

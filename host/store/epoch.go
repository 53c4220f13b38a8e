package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shanghai-amr/portal/host/store/ent"
)

// raiseSQL raises the access epoch (schema.AccessEpoch): the one counter
// host/identity caches staff identities under.
const raiseSQL = "UPDATE access_epoch SET n = n + 1 WHERE id = 1"

// useAccessEpoch makes every change to what a staff identity is made of —
// users, roles, posts, organisations — raise the access epoch. Every host
// client comes from Open, so every writer goes through these hooks: the
// admin APIs, seeding, the CLI.
func useAccessEpoch(c *ent.Client) {
	// A login's timestamp and a password change leave the identity as it
	// was; they need not empty every replica's cache.
	c.User.Use(raiseAccessEpoch("last_login_at", "password_hash", "password_changed_at"))
	c.Role.Use(raiseAccessEpoch())
	c.Post.Use(raiseAccessEpoch())
	c.Organization.Use(raiseAccessEpoch())
}

// raiseAccessEpoch raises the epoch after a mutation, never before, or a
// replica could cache the old identity under the new epoch:
//
//   - in a transaction, once, just before it commits. The epoch's row is
//     then the last lock the transaction takes, and a transaction holding
//     it waits for nothing but its commit, so two transactions changing
//     identities can no longer deadlock over it (they could when each
//     raised it after its first change and then wanted the other's rows);
//   - outside one, right after the mutation, retried briefly: the change
//     is already committed, and until the epoch moves the replicas serve
//     the identities they cached before it.
//
// A mutation that sets only the fields in noise (and the update time)
// leaves the epoch as it is.
func raiseAccessEpoch(noise ...string) ent.Hook {
	noise = append(noise, "updated_at")
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			if err != nil || onlyNoise(m, noise) {
				return v, err
			}
			// Every generated mutation has both.
			x, ok := m.(interface {
				Tx() (*ent.Tx, error)
				Client() *ent.Client
			})
			if !ok {
				return nil, fmt.Errorf("access epoch: %T is not a generated mutation", m)
			}
			if tx, err := x.Tx(); err == nil {
				tx.OnCommit(raiseAtCommit)
				return v, nil
			}
			if err := raiseNow(context.WithoutCancel(ctx), x.Client()); err != nil {
				return nil, err
			}
			return v, nil
		})
	}
}

// raiseNow raises the epoch outside a transaction, trying three times.
func raiseNow(ctx context.Context, c *ent.Client) error {
	var errs []error
	for i, wait := range []time.Duration{0, 50 * time.Millisecond, 250 * time.Millisecond} {
		time.Sleep(wait)
		if _, err := c.ExecContext(ctx, raiseSQL); err != nil {
			errs = append(errs, fmt.Errorf("try %d: %w", i+1, err))
			continue
		}
		return nil
	}
	return fmt.Errorf("access epoch: the change is stored but the epoch did not move: %w", errors.Join(errs...))
}

// epochCommit raises the epoch, then commits.
type epochCommit struct{ next ent.Committer }

func (e epochCommit) Commit(ctx context.Context, tx *ent.Tx) error {
	if _, err := tx.ExecContext(ctx, raiseSQL); err != nil {
		return errors.Join(fmt.Errorf("access epoch: %w", err), tx.Rollback())
	}
	return e.next.Commit(ctx, tx)
}

// raiseAtCommit is the commit hook each identity change in a transaction
// adds; the chain raises the epoch once however many were added in a row.
func raiseAtCommit(next ent.Committer) ent.Committer {
	if _, ok := next.(epochCommit); ok {
		return next
	}
	return epochCommit{next}
}

func onlyNoise(m ent.Mutation, noise []string) bool {
	if !m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
		return false
	}
	if len(m.AddedEdges())+len(m.RemovedEdges())+len(m.ClearedEdges())+len(m.ClearedFields())+len(m.AddedFields()) > 0 {
		return false
	}
	for _, f := range m.Fields() {
		if !slices.Contains(noise, f) {
			return false
		}
	}
	return true
}

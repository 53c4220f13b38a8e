package schema

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// AccessEpoch is one counter (the row with id 1, inserted by the migration
// that creates the table) raised by every change to what a staff identity
// is made of: users, their roles and posts, the roles' permissions and
// scopes, organisations. host/identity caches identities by user and epoch,
// so a change takes effect on the next request on every replica while a
// request reads one row instead of the six or more that build an identity.
type AccessEpoch struct{ ent.Schema }

// Fields of AccessEpoch.
func (AccessEpoch) Fields() []ent.Field {
	return []ent.Field{field.Int64("n").Default(0)}
}

// Annotations of AccessEpoch.
func (AccessEpoch) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "access_epoch"}}
}

// Hooks: the schemas an identity is made of raise the epoch.
func (User) Hooks() []ent.Hook {
	// A login's timestamp and a password change leave the identity as it
	// was; they need not empty every replica's cache.
	return []ent.Hook{raiseAccessEpoch("last_login_at", "password_hash", "password_changed_at")}
}

// Hooks of Role.
func (Role) Hooks() []ent.Hook { return []ent.Hook{raiseAccessEpoch()} }

// Hooks of Post.
func (Post) Hooks() []ent.Hook { return []ent.Hook{raiseAccessEpoch()} }

// Hooks of Organization.
func (Organization) Hooks() []ent.Hook { return []ent.Hook{raiseAccessEpoch()} }

// raiseAccessEpoch raises the access epoch after a mutation, in the
// mutation's transaction when it has one: never before, or a replica could
// cache the old identity under the new epoch. A mutation that sets only the
// fields in noise (and the update time) leaves it.
func raiseAccessEpoch(noise ...string) ent.Hook {
	noise = append(noise, "updated_at")
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			if err != nil || onlyNoise(m, noise) {
				return v, err
			}
			x, ok := m.(interface {
				ExecContext(context.Context, string, ...any) (sql.Result, error)
			})
			if !ok {
				return nil, fmt.Errorf("access epoch: %T cannot execute statements", m)
			}
			if _, err := x.ExecContext(ctx, "UPDATE access_epoch SET n = n + 1 WHERE id = 1"); err != nil {
				return nil, fmt.Errorf("access epoch: %w", err)
			}
			return v, nil
		})
	}
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

package schema

import (
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
// The hooks that raise it are registered by store.Open (host/store/epoch.go),
// where a mutation's transaction can be reached.
type AccessEpoch struct{ ent.Schema }

// Fields of AccessEpoch.
func (AccessEpoch) Fields() []ent.Field {
	return []ent.Field{field.Int64("n").Default(0)}
}

// Annotations of AccessEpoch.
func (AccessEpoch) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "access_epoch"}}
}

package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditEntry is one append-only audit record. Entries are hash-chained: each
// stores the SM3 hash of its own content and the previous entry's hash, so a
// deleted or edited row breaks the chain.
type AuditEntry struct{ ent.Schema }

// Fields of AuditEntry.
func (AuditEntry) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("seq").Unique().Immutable().Comment("gap-free sequence, starts at 1"),
		field.Time("at").SchemaType(datetime).Immutable(),
		field.String("actor").MaxLen(64).Immutable().Comment("username, plugin:<id>, or system"),
		field.String("action").NotEmpty().MaxLen(64).Immutable(),
		field.String("resource").MaxLen(256).Immutable(),
		field.Enum("outcome").Values("success", "failure", "denied").Immutable(),
		field.String("request_id").Optional().MaxLen(64).Immutable(),
		field.String("ip").Optional().MaxLen(64).Immutable(),
		field.String("org_path").Optional().MaxLen(512).Immutable().Comment("the actor's organisation path, for search by organisation"),
		field.Text("detail").Optional().Immutable().Comment("JSON; never secrets or full ID numbers"),
		field.String("prev_hash").MaxLen(64).Immutable(),
		field.String("hash").MaxLen(64).Immutable(),
	}
}

// Indexes of AuditEntry.
func (AuditEntry) Indexes() []ent.Index {
	return []ent.Index{index.Fields("at"), index.Fields("actor", "at"), index.Fields("action", "at"), index.Fields("org_path")}
}

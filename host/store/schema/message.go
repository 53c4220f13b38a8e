package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Message is one in-app message to a user. It stores the template key and its
// parameters, so it is rendered in the reader's language when read.
type Message struct{ ent.Schema }

// Fields of Message.
func (Message) Fields() []ent.Field {
	return []ent.Field{
		field.Int("recipient_id").Immutable(),
		field.String("category").MaxLen(32).Immutable().Comment("task, urge, deadline, supervise, system, plugin"),
		field.String("source").Optional().MaxLen(64).Immutable().Comment("plugin id, or empty for the host"),
		field.String("template").MaxLen(128).Immutable(),
		field.Text("params").Optional().Immutable().Comment("JSON object"),
		field.String("link").Optional().MaxLen(512).Immutable(),
		field.Time("created_at").SchemaType(datetime).Default(nowUTC).Immutable(),
		field.Time("read_at").SchemaType(datetime).Optional().Nillable(),
	}
}

// Indexes of Message.
func (Message) Indexes() []ent.Index {
	return []ent.Index{index.Fields("recipient_id", "read_at")}
}

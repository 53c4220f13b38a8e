package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Event is the transactional outbox: an event is written in the same
// transaction as the change it reports and relayed to its subscribers after
// commit, so a crash or a stopped subscriber loses nothing.
type Event struct{ ent.Schema }

// Fields of Event.
func (Event) Fields() []ent.Field {
	return []ent.Field{
		field.String("event_id").NotEmpty().MaxLen(64).Unique().Immutable(),
		field.String("type").NotEmpty().MaxLen(128).Immutable(),
		field.String("source").MaxLen(64).Immutable().Comment("plugin id, or host"),
		field.Bytes("data").Optional().Immutable(),
		field.Time("created_at").SchemaType(datetime).Default(nowUTC).Immutable(),
		field.Time("relayed_at").SchemaType(datetime).Optional().Nillable().Comment("fanned out to subscribers or the broker"),
	}
}

// Indexes of Event.
func (Event) Indexes() []ent.Index {
	return []ent.Index{index.Fields("relayed_at"), index.Fields("created_at")}
}

// EventDelivery tracks one event for one subscriber: acknowledged, or when it
// is next retried.
type EventDelivery struct{ ent.Schema }

// Fields of EventDelivery.
func (EventDelivery) Fields() []ent.Field {
	return []ent.Field{
		field.String("event_id").MaxLen(64).Immutable(),
		field.String("subscriber").MaxLen(64).Immutable(),
		field.Enum("status").Values("pending", "delivered", "dead").Default("pending"),
		field.Int("attempts").Default(0),
		field.Time("next_attempt_at").SchemaType(datetime).Default(nowUTC),
		field.String("last_error").Optional().MaxLen(512),
		field.Time("delivered_at").SchemaType(datetime).Optional().Nillable(),
	}
}

// Indexes of EventDelivery.
func (EventDelivery) Indexes() []ent.Index {
	return []ent.Index{index.Fields("event_id", "subscriber").Unique(), index.Fields("status", "next_attempt_at")}
}

// JobRun claims one run of a scheduled job: the unique (job, slot) key lets
// exactly one host replica run each scheduled time.
type JobRun struct{ ent.Schema }

// Fields of JobRun.
func (JobRun) Fields() []ent.Field {
	return []ent.Field{
		field.String("job").NotEmpty().MaxLen(128).Immutable().Comment("<plugin>/<name>"),
		field.Time("slot").SchemaType(datetime).Immutable().Comment("the scheduled time this run is for"),
		field.String("runner").MaxLen(128).Immutable().Comment("the replica that claimed it"),
		field.Enum("status").Values("running", "succeeded", "failed").Default("running"),
		field.Time("started_at").SchemaType(datetime).Default(nowUTC).Immutable(),
		field.Time("finished_at").SchemaType(datetime).Optional().Nillable(),
		field.String("error").Optional().MaxLen(512),
	}
}

// Indexes of JobRun.
func (JobRun) Indexes() []ent.Index {
	return []ent.Index{index.Fields("job", "slot").Unique()}
}

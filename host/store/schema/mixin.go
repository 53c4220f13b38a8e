package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
)

// TimeMixin adds creation and update times, stored in UTC.
type TimeMixin struct{ mixin.Schema }

// Fields of TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").SchemaType(datetime).Default(nowUTC).Immutable(),
		field.Time("updated_at").SchemaType(datetime).Default(nowUTC).UpdateDefault(nowUTC),
	}
}

func nowUTC() time.Time { return time.Now().UTC() }

// datetime stores times with microseconds and a range past 2038 on MySQL
// (ent's default there is TIMESTAMP).
var datetime = map[string]string{dialect.MySQL: "datetime(6)"}

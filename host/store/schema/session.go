package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Session is a signed-in session: a staff user's (with the user edge), or an
// enterprise's or a member of the public's signed in through an external
// identity provider (audience, subject and the verified claims, no user).
// Only the SHA-256 of its token is stored, so a database leak does not leak
// live sessions.
type Session struct{ ent.Schema }

// Fields of Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.String("token_hash").NotEmpty().MaxLen(64).Unique().Immutable(),
		field.String("csrf_token").NotEmpty().MaxLen(64).Sensitive().Immutable(),
		field.Time("created_at").SchemaType(datetime).Immutable(),
		field.Time("last_seen_at").SchemaType(datetime),
		field.Time("expires_at").SchemaType(datetime).Immutable().Comment("absolute end, whatever the activity"),
		field.Time("revoked_at").SchemaType(datetime).Optional().Nillable(),
		field.String("ip").Optional().MaxLen(64),
		field.String("user_agent").Optional().MaxLen(256),
		field.Enum("audience").Values("staff", "enterprise", "public").Default("staff").Immutable(),
		field.String("provider").Optional().MaxLen(64).Immutable().Comment("external identity provider, for enterprise and public sessions"),
		field.String("subject").Optional().MaxLen(255).Immutable().Comment("the provider's subject identifier"),
		field.String("display_name").Optional().MaxLen(128).Immutable(),
		field.String("uscc").Optional().MaxLen(18).Immutable().Comment("unified social credit code of an enterprise, validated"),
		field.String("id_number").Optional().MaxLen(255).Immutable().Comment("resident identity number, sealed with SM4-GCM"),
		field.Int("user_id").Optional().Immutable().StorageKey("session_user").
			Comment("the staff user, for staff sessions (the user edge's column)"),
	}
}

// Edges of Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{edge.To("user", User.Type).Unique().Immutable().Field("user_id")}
}

// Indexes of Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at")}
}

// LoginThrottle counts failed logins per username, known or not, so that
// lockout behaves the same for both and reveals nothing.
type LoginThrottle struct{ ent.Schema }

// Fields of LoginThrottle.
func (LoginThrottle) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").NotEmpty().MaxLen(64).Unique(),
		field.Int("failures").Default(0),
		field.Time("first_failure_at").SchemaType(datetime),
		field.Time("locked_until").SchemaType(datetime).Optional().Nillable(),
	}
}

package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// User is a staff account. Enterprise and public identities come from external
// identity providers and are not stored as users with passwords.
type User struct{ ent.Schema }

// Fields of User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").NotEmpty().MaxLen(64).Unique(),
		field.String("display_name").NotEmpty().MaxLen(64),
		field.String("password_hash").Optional().Sensitive().MaxLen(255).
			Comment("argon2id PHC string; empty for accounts that cannot log in with a password"),
		field.Enum("status").Values("active", "disabled", "locked").Default("active"),
		field.String("locale").Optional().MaxLen(16).Comment("preferred UI language, zh-CN or en"),
		field.String("email").Optional().MaxLen(128),
		field.String("mobile").Optional().MaxLen(255).Comment("sealed with SM4-GCM (host/pii), never plain"),
		field.Time("password_changed_at").SchemaType(datetime).Optional().Nillable(),
		field.Time("last_login_at").SchemaType(datetime).Optional().Nillable(),
	}
}

// Edges of User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).Ref("users").Unique().
			Comment("the user's primary organisation"),
		edge.To("roles", Role.Type),
		edge.To("posts", Post.Type),
	}
}

// Mixin of User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Role is a named set of permissions, e.g. 承办人 or 系统管理员.
type Role struct{ ent.Schema }

// Fields of Role.
func (Role) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").NotEmpty().MaxLen(64).Unique(),
		field.String("name").NotEmpty().MaxLen(64),
		field.String("name_en").Optional().MaxLen(64),
		field.Bool("builtin").Default(false),
		field.JSON("permissions", []string{}).Optional(),
		field.Enum("data_scope").Values("all", "subtree", "own_level", "own", "custom").Default("subtree").
			Comment("which records the role reaches: all; its unit and below (by jurisdiction); its unit only; records it owns; the custom units"),
		field.JSON("custom_scope", []string{}).Optional().Comment("organisation codes, for data_scope custom"),
	}
}

// Edges of Role.
func (Role) Edges() []ent.Edge {
	return []ent.Edge{edge.From("users", User.Type).Ref("roles")}
}

// Mixin of Role.
func (Role) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Post is a position (岗位) held in an organisation, such as 执法岗 or 法制审核岗;
// process definitions route approvals to posts.
type Post struct{ ent.Schema }

// Fields of Post.
func (Post) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").NotEmpty().MaxLen(64).Unique(),
		field.String("name").NotEmpty().MaxLen(64),
		field.String("name_en").Optional().MaxLen(64),
	}
}

// Edges of Post.
func (Post) Edges() []ent.Edge {
	return []ent.Edge{edge.From("users", User.Type).Ref("posts")}
}

// Mixin of Post.
func (Post) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

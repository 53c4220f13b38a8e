package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Plugin is the installed state of one plugin id: which version serves, which
// version it can roll back to, and whether it is enabled.
type Plugin struct{ ent.Schema }

// Fields of Plugin.
func (Plugin) Fields() []ent.Field {
	return []ent.Field{
		field.String("plugin_id").NotEmpty().MaxLen(64).Unique(),
		field.String("version").NotEmpty().MaxLen(64).Comment("the version that serves"),
		field.String("previous_version").Optional().MaxLen(64).Comment("the version rollback returns to"),
		field.Bool("enabled").Default(true),
		field.Enum("state").Values("installed", "running", "stopped", "failed").Default("installed"),
		field.String("last_error").Optional().MaxLen(1024),
	}
}

// Mixin of Plugin.
func (Plugin) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// PluginBundle is one verified bundle stored content-addressed under the data dir.
type PluginBundle struct{ ent.Schema }

// Fields of PluginBundle.
func (PluginBundle) Fields() []ent.Field {
	return []ent.Field{
		field.String("plugin_id").NotEmpty().MaxLen(64),
		field.String("version").NotEmpty().MaxLen(64),
		field.String("digest").NotEmpty().MaxLen(80).Comment("sha256 of the bundle file, hex"),
		field.String("signer").NotEmpty().MaxLen(128).Comment("fingerprint of the key that signed it"),
		field.String("binary_sha256").NotEmpty().MaxLen(64),
		field.Bytes("manifest").Comment("the manifest as shipped, YAML"),
		field.Time("installed_at").SchemaType(datetime).Default(nowUTC).Immutable(),
		field.String("installed_by").Optional().MaxLen(64),
	}
}

// Indexes of PluginBundle.
func (PluginBundle) Indexes() []ent.Index {
	return []ent.Index{index.Fields("plugin_id", "version").Unique()}
}

// Setting is one key of configuration, host-wide (scope "host") or owned by a
// plugin (scope = plugin id).
type Setting struct{ ent.Schema }

// Fields of Setting.
func (Setting) Fields() []ent.Field {
	return []ent.Field{
		field.String("scope").NotEmpty().MaxLen(64),
		field.String("key").NotEmpty().MaxLen(128),
		field.Text("value"),
	}
}

// Indexes of Setting.
func (Setting) Indexes() []ent.Index {
	return []ent.Index{index.Fields("scope", "key").Unique()}
}

// Mixin of Setting.
func (Setting) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

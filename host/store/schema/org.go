// Package schema declares the host's own tables as ent schemas. The generated
// client lives in host/store/ent; the reviewed SQL migrations that create these
// tables live in host/store/migrations. Plugins never see these tables: they own
// their own databases.
package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Organization is one node of the jurisdiction tree: the city bureau 市局,
// the district bureaus 区局, market stations 市场所, and internal departments
// 科/处室 at any level.
type Organization struct{ ent.Schema }

// Fields of Organization.
func (Organization) Fields() []ent.Field {
	return []ent.Field{
		field.String("code").NotEmpty().MaxLen(64).Unique().
			Comment("stable business key, e.g. 310101 for 黄浦区 or 310101-S01 for a station"),
		field.String("name").NotEmpty().MaxLen(128),
		field.String("name_en").Optional().MaxLen(128),
		field.Enum("kind").Values("city", "district", "station", "department"),
		field.String("division_code").Optional().MaxLen(12).
			Comment("GB/T 2260 administrative division code of the area the unit covers"),
		field.String("path").NotEmpty().MaxLen(512).
			Comment("materialised path of codes from the root, '/'-separated, for subtree scope queries"),
		field.Int("sort").Default(0),
	}
}

// Edges of Organization.
func (Organization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("children", Organization.Type).From("parent").Unique(),
		edge.To("users", User.Type),
	}
}

// Indexes of Organization.
func (Organization) Indexes() []ent.Index {
	return []ent.Index{index.Fields("path")}
}

// Mixin of Organization.
func (Organization) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

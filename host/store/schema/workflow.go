package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ProcessDefinition is one published version of an approval process: a node
// tree declared in a plugin's manifest or edited by an administrator. Versions
// are immutable; running instances keep the version they started on.
type ProcessDefinition struct{ ent.Schema }

// Fields of ProcessDefinition.
func (ProcessDefinition) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").NotEmpty().MaxLen(128).Immutable(),
		field.Int("version").Positive().Immutable(),
		field.String("plugin").Optional().MaxLen(64).Immutable().Comment("the declaring plugin; empty for host processes"),
		field.String("source").MaxLen(16).Immutable().Comment("manifest or admin"),
		field.String("plugin_version").Optional().MaxLen(64).Immutable().Comment("for manifest versions: the plugin version that declared it"),
		field.Text("spec").Immutable().Comment("the node tree, JSON"),
		field.String("digest").MaxLen(64).Immutable().Comment("SHA-256 of spec, to skip re-publishing an unchanged manifest"),
		field.String("created_by").MaxLen(64).Immutable(),
		field.Time("created_at").SchemaType(datetime).Default(nowUTC).Immutable(),
	}
}

// Indexes of ProcessDefinition.
func (ProcessDefinition) Indexes() []ent.Index {
	return []ent.Index{index.Fields("key", "version").Unique()}
}

// ProcessInstance is one running or finished approval.
type ProcessInstance struct{ ent.Schema }

// Fields of ProcessInstance.
func (ProcessInstance) Fields() []ent.Field {
	return []ent.Field{
		field.Int("definition_id").Immutable(),
		field.String("key").MaxLen(128).Immutable(),
		field.Int("version").Immutable(),
		field.String("plugin").Optional().MaxLen(64).Immutable(),
		field.String("business_key").Optional().MaxLen(128).Immutable(),
		field.String("title").MaxLen(256),
		field.String("link").Optional().MaxLen(512).Comment("the plugin page of the business record"),
		field.Int("initiator_id").Immutable(),
		field.String("org_path").MaxLen(512).Immutable().Comment("the initiator's organisation path: the data scope of the instance"),
		field.Text("form").Comment("form data, JSON object"),
		field.Enum("status").Values("running", "approved", "rejected", "withdrawn", "terminated").Default("running"),
		field.Text("state").Comment("engine state, JSON: active nodes, joins, path taken"),
		field.Time("due_at").SchemaType(datetime).Optional().Nillable(),
		field.Time("started_at").SchemaType(datetime).Default(nowUTC).Immutable(),
		field.Time("ended_at").SchemaType(datetime).Optional().Nillable(),
		field.Int("urge_count").Default(0),
	}
}

// Indexes of ProcessInstance.
func (ProcessInstance) Indexes() []ent.Index {
	return []ent.Index{index.Fields("initiator_id", "started_at"), index.Fields("plugin", "business_key"), index.Fields("status", "due_at")}
}

// ProcessAction is one entry of an instance's timeline: who did what, when and
// why, with the comment and attachments.
type ProcessAction struct{ ent.Schema }

// Fields of ProcessAction.
func (ProcessAction) Fields() []ent.Field {
	return []ent.Field{
		field.Int("instance_id").Immutable(),
		field.Int("task_id").Optional().Nillable().Immutable(),
		field.String("node_id").Optional().MaxLen(64).Immutable(),
		field.Int("actor_id").Optional().Nillable().Immutable(),
		field.String("actor").MaxLen(64).Immutable().Comment("username, or system"),
		field.String("action").MaxLen(32).Immutable(),
		field.Text("comment").Optional().Immutable(),
		field.JSON("attachments", []string{}).Optional().Immutable(),
		field.Text("detail").Optional().Immutable().Comment("JSON"),
		field.Time("at").SchemaType(datetime).Default(nowUTC).Immutable(),
	}
}

// Indexes of ProcessAction.
func (ProcessAction) Indexes() []ent.Index {
	return []ent.Index{index.Fields("instance_id")}
}

// Task is one item in someone's workbench: an approval step, a copy (抄送),
// a 督办 item, or a to-do a plugin created. A group task has no assignee until
// a candidate claims it.
type Task struct{ ent.Schema }

// Fields of Task.
func (Task) Fields() []ent.Field {
	return []ent.Field{
		field.String("plugin").Optional().MaxLen(64).Immutable(),
		field.Enum("kind").Values("approval", "cc", "supervise", "todo").Immutable(),
		field.String("type").MaxLen(128).Immutable().Comment("the plugin task type or the process key"),
		field.String("title").MaxLen(256),
		field.String("business_key").Optional().MaxLen(128).Immutable(),
		field.String("link").Optional().MaxLen(512),
		field.Int("instance_id").Optional().Nillable().Immutable(),
		field.String("node_id").Optional().MaxLen(64).Immutable(),
		field.String("node_name").Optional().MaxLen(128).Immutable(),
		field.String("node_name_en").Optional().MaxLen(128).Immutable().Comment("the step's English name, when it has one"),
		field.Int("round").Default(0).Immutable().Comment("activation round of the node within the instance"),
		field.Int("seq").Default(0).Immutable().Comment("position in a sequential (依次) node"),
		field.Int("parent_id").Optional().Nillable().Immutable().Comment("the task this one was delegated or added from"),
		field.String("relation").Optional().MaxLen(16).Immutable().Comment("delegate, before, after, transfer"),
		field.Int("assignee_id").Optional().Nillable(),
		field.Int("initiator_id").Optional().Nillable().Immutable(),
		field.String("org_path").Optional().MaxLen(512).Immutable(),
		field.Enum("status").Values("open", "waiting", "done", "cancelled").Default("open"),
		field.String("outcome").Optional().MaxLen(32),
		field.Text("reason").Comment("why it reached this person, JSON {code, zh, en}"),
		field.Time("created_at").SchemaType(datetime).Default(nowUTC).Immutable(),
		field.Time("due_at").SchemaType(datetime).Optional().Nillable(),
		field.Time("yellow_at").SchemaType(datetime).Optional().Nillable().Comment("when the deadline turns yellow"),
		field.Time("orange_at").SchemaType(datetime).Optional().Nillable().Comment("when it turns orange"),
		field.Int("warned").Default(0).Comment("warning messages sent: 1 yellow, 2 orange, 3 red (overdue, 督办 raised)"),
		field.Text("clock").Optional().Comment("the deadline's inputs and explanation, JSON"),
		field.Time("completed_at").SchemaType(datetime).Optional().Nillable(),
		field.Int("completed_by").Optional().Nillable(),
		field.Text("comment").Optional(),
		field.Int("urge_count").Default(0),
		field.Time("read_at").SchemaType(datetime).Optional().Nillable(),
	}
}

// Indexes of Task: the inbox lists are index range scans.
func (Task) Indexes() []ent.Index {
	return []ent.Index{
		// 待办 and 督办: equality on assignee and status, then deadline order;
		// kind in the index filters without reading rows, counts are index-only.
		index.Fields("assignee_id", "status", "due_at", "kind"),
		// 抄送我的 and other lists by kind, newest first.
		index.Fields("assignee_id", "kind", "created_at"),
		// 已办, newest first.
		index.Fields("completed_by", "status", "completed_at"),
		index.Fields("instance_id"),
		index.Fields("status", "due_at"),
		index.Fields("status", "warned", "yellow_at"),
	}
}

// TaskCandidate is a user who may claim an unassigned group task.
type TaskCandidate struct{ ent.Schema }

// Fields of TaskCandidate.
func (TaskCandidate) Fields() []ent.Field {
	return []ent.Field{field.Int("task_id").Immutable(), field.Int("user_id").Immutable()}
}

// Indexes of TaskCandidate.
func (TaskCandidate) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "task_id").Unique(), index.Fields("task_id")}
}

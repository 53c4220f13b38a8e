package workflow

import (
	"context"
	"encoding/json"
	"time"

	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/processaction"
	"github.com/shanghai-amr/portal/host/store/ent/task"
	"github.com/shanghai-amr/portal/host/store/ent/taskcandidate"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// Action is one timeline entry.
type Action struct {
	At          time.Time      `json:"at"`
	Actor       string         `json:"actor"`
	ActorName   string         `json:"actor_name,omitempty"`
	Action      string         `json:"action"`
	Node        string         `json:"node,omitempty"`
	NodeName    string         `json:"node_name,omitempty"`
	NodeNameEn  string         `json:"node_name_en,omitempty"`
	TaskID      *int           `json:"task_id,omitempty"`
	Comment     string         `json:"comment,omitempty"`
	Attachments []string       `json:"attachments,omitempty"`
	Detail      map[string]any `json:"detail,omitempty"`
}

// InstanceView is an instance with its timeline and open tasks.
type InstanceView struct {
	InstanceItem
	Initiator string         `json:"initiator"`
	Form      map[string]any `json:"form,omitempty"`
	Current   []Item         `json:"current"`
	Timeline  []Action       `json:"timeline"`
}

// TaskView is what a task page shows.
type TaskView struct {
	Task       Item              `json:"task"`
	Instance   *InstanceView     `json:"instance,omitempty"`
	Form       map[string]any    `json:"form,omitempty"`
	FormFields []FormField       `json:"form_fields,omitempty"` // the definition's titles for Form, in order
	Fields     map[string]string `json:"fields,omitempty"`
	Actions    []string          `json:"actions"`
	Returnable []Returnable      `json:"returnable,omitempty"`
	Clock      json.RawMessage   `json:"clock,omitempty"`
}

// Returnable is a node a task can be returned to.
type Returnable struct {
	Node string `json:"node"`
	Name string `json:"name"`
}

// Task returns the task page for the user; manage lets process managers see
// any task.
func (e *Engine) Task(ctx context.Context, userID, taskID int, manage bool) (*TaskView, error) {
	t, err := e.o.Client.Task.Get(ctx, taskID)
	if ent.IsNotFound(err) {
		return nil, ErrNoTask
	}
	if err != nil {
		return nil, err
	}
	candidate, err := e.o.Client.TaskCandidate.Query().Where(taskcandidate.TaskID(t.ID), taskcandidate.UserID(userID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	mine := t.AssigneeID != nil && *t.AssigneeID == userID
	visible := mine || candidate || (t.CompletedBy != nil && *t.CompletedBy == userID) ||
		(t.InitiatorID != nil && *t.InitiatorID == userID) || manage
	if !visible {
		return nil, ErrNoTask // as for a missing task: ids reveal nothing
	}
	now := e.o.Now().UTC()
	v := &TaskView{Task: itemOf(t, now), Actions: []string{}}
	if t.Clock != "" {
		v.Clock = json.RawMessage(t.Clock)
	}
	if t.InstanceID == nil {
		if mine && t.Status == task.StatusOpen {
			v.Actions = []string{"complete"}
		}
		return v, nil
	}
	iv, x, err := e.instanceView(ctx, *t.InstanceID)
	if err != nil {
		return nil, err
	}
	v.Instance = iv
	n := x.node(t.NodeID)
	v.Fields = map[string]string{}
	if n != nil {
		for k, p := range n.Fields {
			v.Fields[k] = p
		}
	}
	v.Form = map[string]any{}
	for k, val := range x.form {
		if v.Fields[k] != "hidden" {
			v.Form[k] = val
		}
	}
	for _, f := range x.g.form {
		if v.Fields[f.Name] != "hidden" {
			v.FormFields = append(v.FormFields, f)
		}
	}
	switch {
	case t.Kind != task.KindApproval || t.Status == task.StatusDone || t.Status == task.StatusCancelled:
	case t.AssigneeID == nil && candidate:
		v.Actions = []string{OpClaim}
	case mine && t.Status == task.StatusOpen:
		v.Actions = []string{OpApprove, OpReject}
		if t.Relation != "delegate" && t.Relation != "before" {
			v.Actions = append(v.Actions, OpReturn, OpTransfer, OpDelegate, OpAddSign)
			if n != nil && (n.Mode == ModeAll || n.Mode == "") {
				v.Actions = append(v.Actions, OpRemoveSign)
			}
			for _, id := range x.returnable(t.NodeID) {
				name := id
				if nn := x.node(id); nn != nil && nn.Name != "" {
					name = nn.Name
				}
				v.Returnable = append(v.Returnable, Returnable{Node: id, Name: name})
			}
		}
		if candidate {
			v.Actions = append(v.Actions, OpRelease)
		}
	}
	return v, nil
}

// Instance returns an instance's page: for its initiator, anyone who had a
// task in it, or a process manager.
func (e *Engine) Instance(ctx context.Context, userID, id int, manage bool) (*InstanceView, error) {
	iv, x, err := e.instanceView(ctx, id)
	if err != nil {
		return nil, err
	}
	if !manage && x.inst.InitiatorID != userID {
		took, err := e.o.Client.Task.Query().Where(task.InstanceID(id), task.Or(task.AssigneeID(userID), task.CompletedBy(userID))).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if !took {
			return nil, ErrNoInstance
		}
	}
	return iv, nil
}

func (e *Engine) instanceView(ctx context.Context, id int) (*InstanceView, *exec, error) {
	tx, err := e.o.Client.Tx(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	x, err := e.load(ctx, tx, id, nil, 0, false)
	if err != nil {
		return nil, nil, err
	}
	in := x.inst
	iv := &InstanceView{InstanceItem: InstanceItem{ID: in.ID, Key: in.Key, Version: in.Version, Plugin: in.Plugin, Title: in.Title,
		BusinessKey: in.BusinessKey, Link: in.Link, Status: string(in.Status), StartedAt: in.StartedAt, EndedAt: in.EndedAt,
		DueAt: in.DueAt, UrgeCount: in.UrgeCount}, Form: x.form, Current: []Item{}, Timeline: []Action{}}
	if u, err := tx.User.Get(ctx, in.InitiatorID); err == nil {
		iv.Initiator = u.Username
	}
	now := e.o.Now().UTC()
	open, err := tx.Task.Query().Where(task.InstanceID(id), task.StatusIn(task.StatusOpen, task.StatusWaiting)).
		Order(ent.Asc(task.FieldID)).All(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range open {
		iv.Current = append(iv.Current, itemOf(t, now))
	}
	acts, err := tx.ProcessAction.Query().Where(processaction.InstanceID(id)).Order(ent.Asc(processaction.FieldID)).All(ctx)
	if err != nil {
		return nil, nil, err
	}
	names := map[int]string{}
	for _, a := range acts {
		if a.ActorID != nil {
			names[*a.ActorID] = ""
		}
	}
	if len(names) > 0 {
		ids := make([]int, 0, len(names))
		for id := range names {
			ids = append(ids, id)
		}
		us, err := tx.User.Query().Where(user.IDIn(ids...)).All(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, u := range us {
			names[u.ID] = u.DisplayName
		}
	}
	for _, a := range acts {
		act := Action{At: a.At, Actor: a.Actor, Action: a.Action, Node: a.NodeID, TaskID: a.TaskID, Comment: a.Comment, Attachments: a.Attachments}
		if a.ActorID != nil {
			act.ActorName = names[*a.ActorID]
		}
		if nn := x.node(a.NodeID); nn != nil {
			act.NodeName, act.NodeNameEn = nn.Name, nn.NameEn
		}
		if a.Detail != "" {
			_ = json.Unmarshal([]byte(a.Detail), &act.Detail)
		}
		iv.Timeline = append(iv.Timeline, act)
	}
	return iv, x, nil
}

// MarkRead marks a copy (抄送) read.
func (e *Engine) MarkRead(ctx context.Context, userID, taskID int) error {
	n, err := e.o.Client.Task.Update().Where(task.ID(taskID), task.AssigneeID(userID), task.KindEQ(task.KindCc)).
		SetReadAt(e.o.Now().UTC()).Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNoTask
	}
	return nil
}

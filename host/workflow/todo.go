package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/ent/processinstance"
	"github.com/shanghai-amr/portal/host/store/ent/task"
)

// TodoInput is a to-do a plugin puts in the workbench, outside any process.
type TodoInput struct {
	Plugin, Type, BusinessKey, Title, Link string
	Name, NameEn                           string   // what the to-do is, shown as its step: the task type's title (default Type)
	Assignees                              []string // usernames: one task each
	CandidateRoles                         []string // one group task for the role holders under OrgPath
	OrgPath                                string   // the bureau the group task belongs to
	Due                                    *time.Time
}

// CreateTodo creates the to-dos and returns their ids.
func (e *Engine) CreateTodo(ctx context.Context, in TodoInput) ([]int, error) {
	if in.Title == "" || len(in.Title) > 256 || len(in.BusinessKey) > 128 || len(in.Link) > 512 {
		return nil, apierror.Invalid("title is required (at most 256 bytes); business key at most 128, link at most 512")
	}
	if (len(in.Assignees) == 0) == (len(in.CandidateRoles) == 0) || len(in.Assignees) > 100 || len(in.CandidateRoles) > 10 {
		return nil, apierror.Invalid("name assignees (at most 100) or candidate roles (at most 10), not both")
	}
	now := e.o.Now().UTC()
	var ids, woken []int
	err := e.inTx(ctx, func(tx *ent.Tx) error {
		x := &exec{e: e, ctx: ctx, tx: tx, now: now, inst: &ent.ProcessInstance{Plugin: in.Plugin, Key: in.Type,
			Title: in.Title, BusinessKey: in.BusinessKey, Link: in.Link, OrgPath: in.OrgPath, DueAt: in.Due}}
		var groups [][]assignment
		if len(in.Assignees) > 0 {
			us, err := x.users(in.Assignees)
			if err != nil {
				return err
			}
			for _, u := range us {
				groups = append(groups, []assignment{{UserID: u.ID, Reason: Reason{"plugin", "业务系统指派", "assigned by " + in.Plugin}}})
			}
		} else {
			// The to-do is the bureau's (scopeRoot): its reason names it.
			who := people{orgPath: in.OrgPath}
			root, _ := scopeRoot("", in.OrgPath)
			if o, err := tx.Organization.Query().Where(organization.Path(root)).Only(ctx); err == nil {
				who.where = &scopeName{o.Name, cmp.Or(o.NameEn, o.Name)}
			}
			var as []assignment
			for _, r := range in.CandidateRoles {
				got, err := resolve(ctx, tx.Client(), &Approvers{Type: ByRole, Role: r}, who)
				if err != nil {
					return err
				}
				as = append(as, got...)
			}
			if len(as) == 0 {
				return ErrNoApprover.WithDetails(map[string]any{"roles": in.CandidateRoles})
			}
			groups = append(groups, as)
		}
		n := &cnode{Node: &Node{ID: "todo", Name: cmp.Or(in.Name, in.Type), NameEn: in.NameEn}}
		for _, g := range groups {
			a := g[0]
			if len(g) > 1 || len(in.CandidateRoles) > 0 {
				a = assignment{Reason: g[0].Reason}
			}
			t, err := x.newTodo(n, a)
			if err != nil {
				return err
			}
			if a.UserID == 0 {
				for _, c := range g {
					if err := tx.TaskCandidate.Create().SetTaskID(t.ID).SetUserID(c.UserID).Exec(ctx); err != nil {
						return err
					}
				}
				x.notifyTask(t, idsOf(g))
			}
			ids = append(ids, t.ID)
		}
		woken = x.woken
		return nil
	})
	if err != nil {
		return nil, err
	}
	if e.o.Messages != nil && len(woken) > 0 {
		e.o.Messages.Wake(woken...)
	}
	e.audit(ctx, "plugin:"+in.Plugin, in.OrgPath, "task.create", fmt.Sprintf("task:%v", ids), map[string]any{"type": in.Type, "business_key": in.BusinessKey})
	return ids, nil
}

// newTodo creates one to-do row (no instance).
func (x *exec) newTodo(n *cnode, a assignment) (*ent.Task, error) {
	rb, _ := json.Marshal(a.Reason)
	c := x.tx.Task.Create().SetPlugin(x.inst.Plugin).SetKind(task.KindTodo).SetType(x.inst.Key).SetTitle(x.inst.Title).
		SetBusinessKey(x.inst.BusinessKey).SetLink(x.inst.Link).SetNodeName(n.Name).SetNodeNameEn(n.NameEn).SetOrgPath(x.inst.OrgPath).
		SetReason(string(rb)).SetCreatedAt(x.now)
	if a.UserID != 0 {
		c.SetAssigneeID(a.UserID)
	}
	if x.inst.DueAt != nil {
		setDue(c, x.now, *x.inst.DueAt)
	}
	t, err := c.Save(x.ctx)
	if err == nil && a.UserID != 0 {
		x.notifyTask(t, []int{a.UserID})
	}
	return t, err
}

// CompleteTodo closes a plugin's own to-do (done elsewhere).
func (e *Engine) CompleteTodo(ctx context.Context, plugin string, id int, comment string) error {
	n, err := e.o.Client.Task.Update().Where(task.ID(id), task.Plugin(plugin), task.KindEQ(task.KindTodo), task.StatusEQ(task.StatusOpen)).
		SetStatus(task.StatusDone).SetOutcome("completed").SetCompletedAt(e.o.Now().UTC()).SetComment(comment).Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNoTask
	}
	e.audit(ctx, "plugin:"+plugin, "", "task.complete", fmt.Sprintf("task:%d", id), nil)
	return nil
}

// Summary is an instance's state for its plugin.
type Summary struct {
	ID      int
	Status  string
	Version int
	Current []string
}

// Get returns the state of one of the plugin's instances.
func (e *Engine) Get(ctx context.Context, plugin string, id int) (*Summary, error) {
	inst, err := e.o.Client.ProcessInstance.Query().Where(processinstance.ID(id), processinstance.Plugin(plugin)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNoInstance
	}
	if err != nil {
		return nil, err
	}
	var st state
	_ = json.Unmarshal([]byte(inst.State), &st)
	s := &Summary{ID: inst.ID, Status: string(inst.Status), Version: inst.Version}
	for n := range st.Active {
		s.Current = append(s.Current, n)
	}
	return s, nil
}

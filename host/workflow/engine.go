package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/message"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/processdefinition"
	"github.com/shanghai-amr/portal/host/store/ent/processinstance"
	"github.com/shanghai-amr/portal/host/store/ent/role"
	"github.com/shanghai-amr/portal/host/store/ent/task"
	"github.com/shanghai-amr/portal/host/store/ent/taskcandidate"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// Errors the API answers with.
var (
	ErrNoDefinition = apierror.New(http.StatusNotFound, "workflow.no_definition", nil)
	ErrNoInstance   = apierror.New(http.StatusNotFound, "workflow.no_instance", nil)
	ErrNoTask       = apierror.New(http.StatusNotFound, "workflow.no_task", nil)
	ErrNotAssignee  = apierror.New(http.StatusForbidden, "workflow.not_assignee", nil)
	ErrTaskClosed   = apierror.New(http.StatusConflict, "workflow.task_closed", nil)
	ErrNotRunning   = apierror.New(http.StatusConflict, "workflow.not_running", nil)
	ErrNotInitiator = apierror.New(http.StatusForbidden, "workflow.not_initiator", nil)
	ErrBadTarget    = apierror.New(http.StatusBadRequest, "workflow.bad_target", nil)
	ErrNoApprover   = apierror.New(http.StatusUnprocessableEntity, "workflow.no_approver", nil)
	ErrReadonly     = apierror.New(http.StatusUnprocessableEntity, "workflow.field_readonly", nil)
	ErrNoUser       = apierror.New(http.StatusBadRequest, "workflow.no_user", nil)
	ErrBadOperation = apierror.New(http.StatusBadRequest, "workflow.bad_operation", nil)
	ErrLastApprover = apierror.New(http.StatusConflict, "workflow.last_approver", nil)
)

// Ended tells the plugin that owns an instance how it ended.
type Ended struct {
	Plugin      string
	InstanceID  int
	Key         string
	BusinessKey string
	Status      string // approved, rejected, withdrawn, terminated
	Form        map[string]any
	Actor       string
	Comment     string
}

// Options configure an Engine.
type Options struct {
	Client   *ent.Client
	Calendar *clock.Calendar
	Audit    *audit.Log
	Messages *message.Center // nil: no messages
	// Ended is called after an instance ends (after commit).
	Ended func(context.Context, Ended)
	// Completed is called after a plugin's to-do is completed (after commit).
	Completed func(ctx context.Context, t *ent.Task, by *identity.Identity, comment string)
	// LockRows takes row locks (MySQL); SQLite serialises writers itself.
	LockRows bool
	Now      func() time.Time
	Log      *slog.Logger

	generalOnly bool // tests: skip the single-statement 待办 path
}

// Engine runs process instances.
type Engine struct {
	o Options
}

// New returns an engine.
func New(o Options) *Engine {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Engine{o: o}
}

// SetCallbacks sets the hooks that tell plugins about ended instances and
// completed to-dos (the plugin manager's, which is built after the engine).
// Call it before serving.
func (e *Engine) SetCallbacks(ended func(context.Context, Ended), completed func(context.Context, *ent.Task, *identity.Identity, string)) {
	e.o.Ended, e.o.Completed = ended, completed
}

// state is an instance's engine state, stored as JSON on the instance.
type state struct {
	Path   []string                `json:"path"`            // nodes passed, in order (start first)
	Active map[string]int          `json:"active"`          // active node → its round
	Joins  map[string]int          `json:"joins,omitempty"` // parallel node → branches finished
	Queue  map[string][]assignment `json:"queue,omitempty"` // sequential node → approvers still to come
	Rounds int                     `json:"rounds"`          // activations so far
}

// Publish stores a new version of a definition. For source "manifest" an
// unchanged spec (same digest as the newest manifest version) is not stored
// again; the existing version is returned.
func (e *Engine) Publish(ctx context.Context, key, plugin, pluginVersion, source string, spec []byte, by string) (*ent.ProcessDefinition, error) {
	s, err := ParseSpec(spec)
	if err != nil {
		return nil, apierror.Invalid(err.Error()).Wrap(err)
	}
	canonical, _ := json.Marshal(s)
	sum := sha256.Sum256(canonical)
	digest := hex.EncodeToString(sum[:])
	var out *ent.ProcessDefinition
	created := false
	err = e.inTx(ctx, func(tx *ent.Tx) error {
		latest, err := tx.ProcessDefinition.Query().Where(processdefinition.Key(key)).
			Order(ent.Desc(processdefinition.FieldVersion)).First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		version := 1
		if latest != nil {
			version = latest.Version + 1
			if source == "manifest" {
				same, err := tx.ProcessDefinition.Query().Where(processdefinition.Key(key),
					processdefinition.Source("manifest"), processdefinition.Digest(digest)).Exist(ctx)
				if err != nil {
					return err
				}
				if same {
					out = latest
					return nil
				}
			}
		}
		out, err = tx.ProcessDefinition.Create().SetKey(key).SetVersion(version).SetPlugin(plugin).
			SetSource(source).SetPluginVersion(pluginVersion).SetSpec(string(canonical)).SetDigest(digest).
			SetCreatedBy(by).Save(ctx)
		created = err == nil
		return err
	})
	if err != nil {
		return nil, err
	}
	if created {
		e.audit(ctx, by, "", "process.publish", fmt.Sprintf("process:%s@%d", key, out.Version), map[string]any{"source": source})
	}
	return out, nil
}

// StartInput is what starting an instance needs.
type StartInput struct {
	Key         string
	Plugin      string // the plugin starting it, which must own the process; empty: the host, for host processes
	BusinessKey string
	Title       string
	Link        string
	Form        map[string]any
	DueAt       *time.Time
}

// Start starts an instance of the newest version of a definition for the
// initiator, and activates its first node.
func (e *Engine) Start(ctx context.Context, who *identity.Identity, in StartInput) (*ent.ProcessInstance, error) {
	if in.Title == "" || len(in.Title) > 256 {
		return nil, apierror.Invalid("title is required (at most 256 bytes)")
	}
	initiator, err := e.userOf(ctx, who)
	if err != nil {
		return nil, err
	}
	def, err := e.o.Client.ProcessDefinition.Query().Where(processdefinition.Key(in.Key)).
		Order(ent.Desc(processdefinition.FieldVersion)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNoDefinition.WithDetails(map[string]any{"key": in.Key})
	}
	if err != nil {
		return nil, err
	}
	if def.Plugin != in.Plugin { // a plugin starts its own processes; the host, host processes
		return nil, ErrNoDefinition.WithDetails(map[string]any{"key": in.Key})
	}
	if in.Form == nil {
		in.Form = map[string]any{}
	}
	form, err := json.Marshal(in.Form)
	if err != nil {
		return nil, apierror.Invalid("form must be a JSON object")
	}
	var inst *ent.ProcessInstance
	var woken []int
	err = e.inTx(ctx, func(tx *ent.Tx) error {
		st := state{Path: []string{StartNode}, Active: map[string]int{}}
		sb, _ := json.Marshal(st)
		c := tx.ProcessInstance.Create().SetDefinitionID(def.ID).SetKey(def.Key).SetVersion(def.Version).
			SetPlugin(def.Plugin).SetBusinessKey(in.BusinessKey).SetTitle(in.Title).SetLink(in.Link).
			SetInitiatorID(initiator.ID).SetOrgPath(who.OrgPath).SetForm(string(form)).SetState(string(sb)).
			SetStartedAt(e.o.Now().UTC())
		if in.DueAt != nil {
			c.SetDueAt(in.DueAt.UTC())
		}
		if inst, err = c.Save(ctx); err != nil {
			return err
		}
		x, err := e.load(ctx, tx, inst.ID, who, initiator.ID, true)
		if err != nil {
			return err
		}
		x.log("", nil, "start", "", nil, map[string]any{"version": def.Version})
		if err := x.enter(x.g.first); err != nil {
			return err
		}
		if err := x.save(); err != nil {
			return err
		}
		inst, woken = x.inst, x.woken
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.after(ctx, who, "process.start", inst, woken, map[string]any{"key": def.Key, "version": def.Version, "business_key": in.BusinessKey})
	return inst, nil
}

// Op is an operation on a task.
type Op struct {
	Action      string         `json:"action"`
	Comment     string         `json:"comment"`
	Attachments []string       `json:"attachments"`
	Target      string         `json:"target"` // return: node id or "previous"
	Users       []string       `json:"users"`  // transfer, delegate, add-sign: usernames
	Position    string         `json:"position"`
	Form        map[string]any `json:"form"` // approve: changes to editable fields
	Task        int            `json:"task"` // remove-sign: the task to remove
}

// Task operations.
const (
	OpApprove    = "approve"
	OpReject     = "reject"
	OpReturn     = "return"
	OpTransfer   = "transfer"
	OpDelegate   = "delegate"
	OpAddSign    = "add_sign"
	OpRemoveSign = "remove_sign"
	OpClaim      = "claim"
	OpRelease    = "release"
)

// Act performs an operation on a task as who.
func (e *Engine) Act(ctx context.Context, who *identity.Identity, taskID int, op Op) error {
	if len(op.Comment) > 2000 || len(op.Attachments) > 50 {
		return apierror.Invalid("comment at most 2000 bytes and at most 50 attachments")
	}
	me, err := e.userOf(ctx, who)
	if err != nil {
		return err
	}
	t, err := e.o.Client.Task.Get(ctx, taskID)
	if ent.IsNotFound(err) {
		return ErrNoTask
	}
	if err != nil {
		return err
	}
	if t.InstanceID == nil {
		return e.actTodo(ctx, who, me, t, op)
	}
	var inst *ent.ProcessInstance
	var woken []int
	err = e.inTx(ctx, func(tx *ent.Tx) error {
		x, err := e.load(ctx, tx, *t.InstanceID, who, me.ID, true)
		if err != nil {
			return err
		}
		// Re-read the task under the instance lock.
		t, err := tx.Task.Get(ctx, taskID)
		if err != nil {
			return err
		}
		if x.inst.Status != processinstance.StatusRunning {
			return ErrNotRunning
		}
		if err := x.act(t, me, op); err != nil {
			return err
		}
		if err := x.save(); err != nil {
			return err
		}
		inst, woken = x.inst, x.woken
		return nil
	})
	if err != nil {
		return err
	}
	e.after(ctx, who, "process."+op.Action, inst, woken, map[string]any{"task": taskID, "target": op.Target, "users": op.Users, "position": op.Position})
	return nil
}

// Instance operations.
const (
	OpWithdraw  = "withdraw"
	OpTerminate = "terminate"
	OpUrge      = "urge"
	OpComment   = "comment"
)

// ActOnInstance performs an instance-level operation: withdraw (撤回, the
// initiator), terminate (终止, canManage), urge (催办, the initiator) or comment.
func (e *Engine) ActOnInstance(ctx context.Context, who *identity.Identity, id int, op Op, canManage bool) error {
	if len(op.Comment) > 2000 || len(op.Attachments) > 50 {
		return apierror.Invalid("comment at most 2000 bytes and at most 50 attachments")
	}
	me, err := e.userOf(ctx, who)
	if err != nil {
		return err
	}
	var inst *ent.ProcessInstance
	var woken []int
	err = e.inTx(ctx, func(tx *ent.Tx) error {
		x, err := e.load(ctx, tx, id, who, me.ID, true)
		if err != nil {
			return err
		}
		if x.inst.Status != processinstance.StatusRunning && op.Action != OpComment {
			return ErrNotRunning
		}
		initiator := x.inst.InitiatorID == me.ID
		switch op.Action {
		case OpWithdraw:
			if !initiator {
				return ErrNotInitiator
			}
			x.log("", &me.ID, OpWithdraw, op.Comment, op.Attachments, nil)
			if err := x.finish(processinstance.StatusWithdrawn, op.Comment); err != nil {
				return err
			}
		case OpTerminate:
			if !canManage {
				return apierror.New(http.StatusForbidden, "auth.forbidden", nil)
			}
			x.log("", &me.ID, OpTerminate, op.Comment, op.Attachments, nil)
			if err := x.finish(processinstance.StatusTerminated, op.Comment); err != nil {
				return err
			}
		case OpUrge:
			if !initiator {
				return ErrNotInitiator
			}
			if err := x.urge(op.Comment); err != nil {
				return err
			}
			x.log("", &me.ID, OpUrge, op.Comment, op.Attachments, nil)
		case OpComment:
			if op.Comment == "" {
				return apierror.Invalid("comment is required")
			}
			x.log("", &me.ID, OpComment, op.Comment, op.Attachments, nil)
		default:
			return ErrBadOperation.WithDetails(map[string]any{"action": op.Action})
		}
		if err := x.save(); err != nil {
			return err
		}
		inst, woken = x.inst, x.woken
		return nil
	})
	if err != nil {
		return err
	}
	e.after(ctx, who, "process."+op.Action, inst, woken, nil)
	return nil
}

// after commits side effects: live message push, audit, the plugin callback.
func (e *Engine) after(ctx context.Context, who *identity.Identity, action string, inst *ent.ProcessInstance, woken []int, detail map[string]any) {
	if e.o.Messages != nil && len(woken) > 0 {
		e.o.Messages.Wake(woken...)
	}
	e.audit(ctx, who.Username, who.OrgPath, action, fmt.Sprintf("process:%s/%d", inst.Key, inst.ID), detail)
	if inst.Status != processinstance.StatusRunning && e.o.Ended != nil && inst.Plugin != "" {
		var form map[string]any
		_ = json.Unmarshal([]byte(inst.Form), &form)
		e.o.Ended(context.WithoutCancel(ctx), Ended{Plugin: inst.Plugin, InstanceID: inst.ID, Key: inst.Key,
			BusinessKey: inst.BusinessKey, Status: string(inst.Status), Form: form, Actor: who.Username})
	}
}

func (e *Engine) audit(ctx context.Context, actor, orgPath, action, resource string, detail map[string]any) {
	if e.o.Audit == nil {
		return
	}
	if _, err := e.o.Audit.Write(context.WithoutCancel(ctx), audit.Entry{Actor: actor, OrgPath: orgPath, Action: action,
		Resource: resource, Outcome: audit.Success, Detail: detail}); err != nil {
		e.o.Log.Error("audit write failed", "action", action, "err", err)
	}
}

func (e *Engine) inTx(ctx context.Context, fn func(*ent.Tx) error) error {
	tx, err := e.o.Client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// userOf finds the staff user behind an identity.
func (e *Engine) userOf(ctx context.Context, who *identity.Identity) (*ent.User, error) {
	if who == nil || who.Username == "" || who.Audience != identity.Staff {
		return nil, apierror.New(http.StatusForbidden, "auth.forbidden", nil)
	}
	u, err := e.o.Client.User.Query().Where(user.Username(who.Username)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apierror.New(http.StatusForbidden, "auth.forbidden", nil)
	}
	return u, err
}

// load reads an instance — with a row lock when lock is set (to act on it) —
// and compiles its definition version.
func (e *Engine) load(ctx context.Context, tx *ent.Tx, id int, who *identity.Identity, actorID int, lock bool) (*exec, error) {
	q := tx.ProcessInstance.Query().Where(processinstance.ID(id))
	if e.o.LockRows && lock {
		q.ForUpdate()
	}
	inst, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNoInstance
	}
	if err != nil {
		return nil, err
	}
	def, err := tx.ProcessDefinition.Get(ctx, inst.DefinitionID)
	if err != nil {
		return nil, err
	}
	var spec Spec
	if err := json.Unmarshal([]byte(def.Spec), &spec); err != nil {
		return nil, fmt.Errorf("workflow: stored definition %s@%d: %w", def.Key, def.Version, err)
	}
	g, err := compile(&spec)
	if err != nil {
		return nil, err
	}
	x := &exec{e: e, ctx: ctx, tx: tx, inst: inst, g: g, who: who, actorID: actorID, now: e.o.Now().UTC()}
	if err := json.Unmarshal([]byte(inst.State), &x.st); err != nil {
		return nil, fmt.Errorf("workflow: instance %d state: %w", id, err)
	}
	if x.st.Active == nil {
		x.st.Active = map[string]int{}
	}
	if err := json.Unmarshal([]byte(inst.Form), &x.form); err != nil {
		return nil, fmt.Errorf("workflow: instance %d form: %w", id, err)
	}
	return x, nil
}

// exec is one operation on one instance, inside a transaction.
type exec struct {
	e       *Engine
	ctx     context.Context
	tx      *ent.Tx
	inst    *ent.ProcessInstance
	g       *graph
	st      state
	form    map[string]any
	who     *identity.Identity
	actorID int
	now     time.Time
	woken   []int // users with new messages
	depth   int
	err     error // the first failed timeline write; save reports it
}

func (x *exec) save() error {
	if x.err != nil {
		return x.err
	}
	sb, _ := json.Marshal(x.st)
	fb, _ := json.Marshal(x.form)
	inst, err := x.inst.Update().SetState(string(sb)).SetForm(string(fb)).Save(x.ctx)
	if err != nil {
		return err
	}
	x.inst = inst
	return nil
}

func (x *exec) log(node string, taskID *int, action, comment string, attachments []string, detail map[string]any) {
	c := x.tx.ProcessAction.Create().SetInstanceID(x.inst.ID).SetNodeID(node).SetAction(action).
		SetComment(comment).SetAt(x.now).SetActor("system")
	if taskID != nil {
		c.SetTaskID(*taskID)
	}
	if x.who != nil && action != "system" {
		c.SetActor(x.who.Username).SetActorID(x.actorID)
	}
	if len(attachments) > 0 {
		c.SetAttachments(attachments)
	}
	if detail != nil {
		b, _ := json.Marshal(detail)
		c.SetDetail(string(b))
	}
	// The timeline is part of the operation: a failed write fails it (save
	// reports the first error, so the transaction is rolled back).
	if _, err := c.Save(x.ctx); err != nil && x.err == nil {
		x.err = fmt.Errorf("workflow: timeline entry: %w", err)
	}
}

func (x *exec) people() people {
	return people{initiatorID: x.inst.InitiatorID, orgPath: x.inst.OrgPath, form: x.form, expr: x.exprInput()}
}

func (x *exec) exprInput() exprInput {
	return exprInput{Form: x.form, Initiator: map[string]any{"org_path": x.inst.OrgPath},
		Instance: map[string]any{"id": x.inst.ID, "key": x.inst.Key, "business_key": x.inst.BusinessKey}}
}

// enter activates a node (or a join, or the end).
func (x *exec) enter(id string) error {
	x.depth++
	defer func() { x.depth-- }()
	if x.depth > 200 {
		return fmt.Errorf("workflow: definition loops")
	}
	if id == "" {
		if len(x.st.Active) == 0 {
			return x.finish(processinstance.StatusApproved, "")
		}
		return nil
	}
	if len(id) > 5 && id[:5] == "join:" {
		p := id[5:]
		if x.st.Joins == nil {
			x.st.Joins = map[string]int{}
		}
		x.st.Joins[p]++
		if x.st.Joins[p] < len(x.g.nodes[p].Branches) {
			return nil
		}
		delete(x.st.Joins, p)
		x.st.Path = append(x.st.Path, p)
		return x.enter(x.g.nodes[p].next)
	}
	if id == StartNode {
		return x.activateStart()
	}
	n, ok := x.g.nodes[id]
	if !ok {
		return fmt.Errorf("workflow: no node %q", id)
	}
	switch n.Type {
	case Condition:
		for i, b := range n.Branches {
			ok := b.When == ""
			if !ok {
				var err error
				if ok, err = holds(x.ctx, b.When, x.exprInput()); err != nil {
					return apierror.New(http.StatusUnprocessableEntity, "workflow.expression", map[string]any{"Detail": err.Error()})
				}
			}
			if ok {
				x.log(id, nil, "branch", "", nil, map[string]any{"branch": i + 1, "when": b.When})
				x.st.Path = append(x.st.Path, id)
				if len(b.Nodes) == 0 {
					return x.enter(n.next)
				}
				return x.enter(b.Nodes[0].ID)
			}
		}
		x.log(id, nil, "branch", "", nil, map[string]any{"branch": 0})
		x.st.Path = append(x.st.Path, id)
		return x.enter(n.next)
	case Parallel:
		if x.st.Joins == nil {
			x.st.Joins = map[string]int{}
		}
		x.st.Joins[id] = 0
		for _, b := range n.Branches {
			if err := x.enter(b.Nodes[0].ID); err != nil {
				return err
			}
		}
		return nil
	case CC:
		as, err := resolve(x.ctx, x.tx.Client(), n.Approvers, x.people())
		if err != nil {
			return err
		}
		for _, a := range as {
			if _, err := x.newTask(n, task.KindCc, a, 0, 0, nil, ""); err != nil {
				return err
			}
		}
		x.st.Path = append(x.st.Path, id)
		return x.enter(n.next)
	}
	return x.activate(n)
}

// activateStart sends the instance back to the initiator (退回发起人).
func (x *exec) activateStart() error {
	x.st.Rounds++
	round := x.st.Rounds
	x.st.Active[StartNode] = round
	n := &cnode{Node: &Node{ID: StartNode, Type: Approval, Name: "发起人修改", NameEn: "Revise and resubmit"}, next: x.g.first}
	_, err := x.newTask(n, task.KindApproval, assignment{UserID: x.inst.InitiatorID,
		Reason: Reason{"returned", "退回发起人修改", "returned to the initiator"}}, round, 0, nil, "")
	return err
}

// activate creates an approval node's tasks by its mode.
func (x *exec) activate(n *cnode) error {
	as, err := resolve(x.ctx, x.tx.Client(), n.Approvers, x.people())
	if err != nil {
		return err
	}
	if len(as) == 0 {
		switch n.Empty {
		case "skip":
			x.log(n.ID, nil, "skipped", "", nil, map[string]any{"reason": "no approver"})
			x.st.Path = append(x.st.Path, n.ID)
			return x.enter(n.next)
		case "admin":
			admins, err := x.tx.User.Query().Where(user.HasRolesWith(role.Key(identity.RoleSystemAdmin)), user.StatusEQ(user.StatusActive)).All(x.ctx)
			if err != nil {
				return err
			}
			for _, u := range admins {
				as = append(as, assignment{UserID: u.ID, Reason: Reason{"empty_admin", "审批人为空，转交系统管理员", "no approver found: passed to the system administrator"}})
			}
		}
		if len(as) == 0 {
			return ErrNoApprover.WithDetails(map[string]any{"node": n.ID})
		}
	}
	x.st.Rounds++
	round := x.st.Rounds
	x.st.Active[n.ID] = round
	mode := n.Mode
	if n.Approvers.Type == ByLeaders {
		mode = ModeSequential
	}
	switch {
	case mode == ModeSequential:
		if _, err := x.newTask(n, task.KindApproval, as[0], round, 0, nil, ""); err != nil {
			return err
		}
		if len(as) > 1 {
			if x.st.Queue == nil {
				x.st.Queue = map[string][]assignment{}
			}
			x.st.Queue[n.ID] = as[1:]
		}
	case n.Group:
		t, err := x.newTask(n, task.KindApproval, assignment{Reason: as[0].Reason}, round, 0, nil, "")
		if err != nil {
			return err
		}
		for _, a := range as {
			if err := x.tx.TaskCandidate.Create().SetTaskID(t.ID).SetUserID(a.UserID).Exec(x.ctx); err != nil {
				return err
			}
		}
		x.notifyTask(t, idsOf(as))
	default:
		for _, a := range as {
			if _, err := x.newTask(n, task.KindApproval, a, round, 0, nil, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// setDue sets a task's deadline and the times it turns yellow and orange.
func setDue(c *ent.TaskCreate, from, due time.Time) {
	th := clock.DefaultThresholds
	span := due.Sub(from)
	c.SetDueAt(due.UTC()).SetYellowAt(from.Add(time.Duration(th.Yellow * float64(span))).UTC()).
		SetOrangeAt(from.Add(time.Duration(th.Orange * float64(span))).UTC())
}

func idsOf(as []assignment) []int {
	out := make([]int, len(as))
	for i, a := range as {
		out[i] = a.UserID
	}
	return out
}

// newTask creates a task for a (no assignee when a.UserID is 0: a group task).
func (x *exec) newTask(n *cnode, kind task.Kind, a assignment, round, seq int, parent *int, relation string) (*ent.Task, error) {
	rb, _ := json.Marshal(a.Reason)
	name := n.Name
	if name == "" {
		name = n.ID
	}
	c := x.tx.Task.Create().SetPlugin(x.inst.Plugin).SetKind(kind).SetType(x.inst.Key).SetTitle(x.inst.Title).
		SetBusinessKey(x.inst.BusinessKey).SetLink(x.inst.Link).SetInstanceID(x.inst.ID).SetNodeID(n.ID).
		SetNodeName(name).SetNodeNameEn(n.NameEn).SetRound(round).SetSeq(seq).SetInitiatorID(x.inst.InitiatorID).SetOrgPath(x.inst.OrgPath).
		SetReason(string(rb)).SetCreatedAt(x.now).SetRelation(relation).SetNillableParentID(parent)
	if a.UserID != 0 {
		c.SetAssigneeID(a.UserID)
	}
	if kind == task.KindCc { // a copy is informational: nothing to do
		c.SetStatus(task.StatusDone).SetOutcome("cc")
	}
	if n.Deadline != nil && kind == task.KindApproval {
		d, err := x.e.o.Calendar.Compute(x.now, *n.Deadline)
		if err != nil {
			return nil, apierror.New(http.StatusUnprocessableEntity, "workflow.deadline", map[string]any{"Detail": err.Error()})
		}
		cb, _ := json.Marshal(d)
		setDue(c, x.now, d.Due)
		c.SetClock(string(cb))
	} else if x.inst.DueAt != nil && kind == task.KindApproval {
		setDue(c, x.now, *x.inst.DueAt)
	}
	t, err := c.Save(x.ctx)
	if err != nil {
		return nil, err
	}
	if a.UserID != 0 {
		x.notifyTask(t, []int{a.UserID})
	}
	return t, nil
}

func (x *exec) notifyTask(t *ent.Task, users []int) {
	m := x.e.o.Messages
	if m == nil {
		return
	}
	tmpl := "message.task.new"
	if t.Kind == task.KindCc {
		tmpl = "message.task.cc"
	}
	if err := m.Send(x.ctx, x.tx.Client(), message.Message{Recipients: users, Category: message.CategoryTask, Source: t.Plugin,
		Template: tmpl, Params: map[string]any{"Title": t.Title, "Node": t.NodeName}, Link: fmt.Sprintf("/workbench/tasks/%d", t.ID)}); err != nil {
		x.e.o.Log.Error("workflow: message", "err", err)
		return
	}
	x.woken = append(x.woken, users...)
}

// finish ends the instance with a status: open tasks are cancelled.
func (x *exec) finish(status processinstance.Status, comment string) error {
	if _, err := x.tx.Task.Update().Where(task.InstanceID(x.inst.ID), task.StatusIn(task.StatusOpen, task.StatusWaiting)).
		SetStatus(task.StatusCancelled).SetOutcome(string(status)).SetCompletedAt(x.now).Save(x.ctx); err != nil {
		return err
	}
	x.st.Active, x.st.Joins, x.st.Queue = map[string]int{}, nil, nil
	inst, err := x.inst.Update().SetStatus(status).SetEndedAt(x.now).Save(x.ctx)
	if err != nil {
		return err
	}
	x.inst = inst
	x.log("", nil, "end", comment, nil, map[string]any{"status": status})
	if m := x.e.o.Messages; m != nil {
		if err := m.Send(x.ctx, x.tx.Client(), message.Message{Recipients: []int{x.inst.InitiatorID}, Category: message.CategoryTask,
			Source: x.inst.Plugin, Template: "message.process." + string(status), Params: map[string]any{"Title": x.inst.Title},
			Link: fmt.Sprintf("/workbench/instances/%d", x.inst.ID)}); err == nil {
			x.woken = append(x.woken, x.inst.InitiatorID)
		}
	}
	return nil
}

// urge counts an urge on every open task and messages their assignees.
func (x *exec) urge(comment string) error {
	ts, err := x.tx.Task.Query().Where(task.InstanceID(x.inst.ID), task.StatusEQ(task.StatusOpen), task.KindEQ(task.KindApproval)).All(x.ctx)
	if err != nil {
		return err
	}
	var users []int
	for _, t := range ts {
		if err := t.Update().AddUrgeCount(1).Exec(x.ctx); err != nil {
			return err
		}
		if t.AssigneeID != nil {
			users = append(users, *t.AssigneeID)
		} else {
			ids, err := x.tx.TaskCandidate.Query().Where(taskcandidate.TaskID(t.ID)).Select(taskcandidate.FieldUserID).Ints(x.ctx)
			if err != nil {
				return err
			}
			users = append(users, ids...)
		}
	}
	if err := x.inst.Update().AddUrgeCount(1).Exec(x.ctx); err != nil {
		return err
	}
	if m := x.e.o.Messages; m != nil && len(users) > 0 {
		if err := m.Send(x.ctx, x.tx.Client(), message.Message{Recipients: users, Category: message.CategoryUrge, Source: x.inst.Plugin,
			Template: "message.task.urged", Params: map[string]any{"Title": x.inst.Title, "Comment": comment},
			Link: fmt.Sprintf("/workbench/instances/%d", x.inst.ID)}); err != nil {
			return err
		}
		x.woken = append(x.woken, users...)
	}
	return nil
}

// need is how many approvals a node needs out of n votes.
func need(n *cnode, votes int) int {
	if n.Mode == ModeAll || n.Mode == "" {
		r := n.Ratio
		if r == 0 {
			r = 1
		}
		return int(math.Ceil(r*float64(votes) - 1e-9))
	}
	return 1
}

// evaluate decides whether the node's round has passed, failed, or waits.
func (x *exec) evaluate(n *cnode) error {
	round := x.st.Active[n.ID]
	ts, err := x.tx.Task.Query().Where(task.InstanceID(x.inst.ID), task.NodeID(n.ID), task.Round(round),
		task.KindEQ(task.KindApproval)).All(x.ctx)
	if err != nil {
		return err
	}
	votes, approved, pending, pendingAfter, rejected := 0, 0, 0, 0, 0
	for _, t := range ts {
		if t.Relation == "delegate" || t.Relation == "before" || t.Status == task.StatusCancelled || t.Outcome == "transferred" {
			continue
		}
		votes++
		switch {
		case t.Status == task.StatusOpen || t.Status == task.StatusWaiting:
			pending++
			if t.Relation == "after" {
				pendingAfter++
			}
		case t.Outcome == "approved":
			approved++
		case t.Outcome == "rejected":
			rejected++
		}
	}
	if n.ID == StartNode {
		if approved > 0 {
			return x.pass(n)
		}
		return nil
	}
	queued := len(x.st.Queue[n.ID])
	mode := n.Mode
	if n.Approvers != nil && n.Approvers.Type == ByLeaders {
		mode = ModeSequential
	}
	switch mode {
	case ModeAny:
		if rejected > 0 {
			return x.finish(processinstance.StatusRejected, "")
		}
		if approved > 0 && pendingAfter == 0 {
			return x.pass(n)
		}
		if approved > 0 { // the first approval decides: only added signers still count
			return x.cancelOpen(n, round, func(t *ent.Task) bool { return t.Relation != "after" })
		}
		return nil
	case ModeSequential:
		if rejected > 0 {
			return x.finish(processinstance.StatusRejected, "")
		}
		if pending > 0 {
			return nil
		}
		if queued > 0 {
			next := x.st.Queue[n.ID][0]
			x.st.Queue[n.ID] = x.st.Queue[n.ID][1:]
			if len(x.st.Queue[n.ID]) == 0 {
				delete(x.st.Queue, n.ID)
			}
			_, err := x.newTask(n, task.KindApproval, next, round, len(ts), nil, "")
			return err
		}
		return x.pass(n)
	default: // 会签
		k := need(n, votes)
		if approved+pending < k || (k == votes && rejected > 0) {
			return x.finish(processinstance.StatusRejected, "")
		}
		if approved >= k && pendingAfter == 0 {
			return x.pass(n)
		}
		return nil
	}
}

func (x *exec) cancelOpen(n *cnode, round int, which func(*ent.Task) bool) error {
	ts, err := x.tx.Task.Query().Where(task.InstanceID(x.inst.ID), task.NodeID(n.ID), task.Round(round),
		task.StatusIn(task.StatusOpen, task.StatusWaiting)).All(x.ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if which(t) {
			if err := t.Update().SetStatus(task.StatusCancelled).SetOutcome("not_needed").SetCompletedAt(x.now).Exec(x.ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// pass completes the node and moves on.
func (x *exec) pass(n *cnode) error {
	round := x.st.Active[n.ID]
	if err := x.cancelOpen(n, round, func(*ent.Task) bool { return true }); err != nil {
		return err
	}
	delete(x.st.Active, n.ID)
	delete(x.st.Queue, n.ID)
	x.st.Path = append(x.st.Path, n.ID)
	x.log(n.ID, nil, "passed", "", nil, nil)
	return x.enter(n.next)
}

// node returns the compiled node a task belongs to (the start pseudo-node too).
func (x *exec) node(id string) *cnode {
	if id == StartNode {
		return &cnode{Node: &Node{ID: StartNode, Type: Approval, Name: "发起人修改"}, next: x.g.first}
	}
	return x.g.nodes[id]
}

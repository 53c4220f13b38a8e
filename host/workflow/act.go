package workflow

import (
	"context"
	"fmt"
	"net/http"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/task"
	"github.com/shanghai-amr/portal/host/store/ent/taskcandidate"
	"github.com/shanghai-amr/portal/host/store/ent/user"
)

// act performs op on task t of this instance for user me.
func (x *exec) act(t *ent.Task, me *ent.User, op Op) error {
	if t.Kind != task.KindApproval {
		return ErrBadOperation.WithDetails(map[string]any{"action": op.Action, "kind": t.Kind})
	}
	switch op.Action {
	case OpClaim, OpRelease:
		return x.claim(t, me, op.Action == OpClaim)
	case OpRemoveSign:
		return x.removeSign(t, me, op)
	}
	if t.Status != task.StatusOpen {
		return ErrTaskClosed
	}
	if t.AssigneeID == nil || *t.AssigneeID != me.ID {
		return ErrNotAssignee
	}
	n := x.node(t.NodeID)
	if n == nil {
		return fmt.Errorf("workflow: task %d: node %q not in definition", t.ID, t.NodeID)
	}
	done := func(outcome string) error {
		return t.Update().SetStatus(task.StatusDone).SetOutcome(outcome).SetCompletedAt(x.now).
			SetCompletedBy(me.ID).SetComment(op.Comment).Exec(x.ctx)
	}
	logIt := func(detail map[string]any) {
		x.log(t.NodeID, &t.ID, op.Action, op.Comment, op.Attachments, detail)
	}
	switch op.Action {
	case OpApprove, OpReject:
		if op.Action == OpApprove {
			if err := x.applyForm(n, op.Form); err != nil {
				return err
			}
		} else if len(op.Form) > 0 {
			return apierror.Invalid("a rejection does not change the form")
		}
		outcome := map[string]string{OpApprove: "approved", OpReject: "rejected"}[op.Action]
		if err := done(outcome); err != nil {
			return err
		}
		logIt(nil)
		if t.Relation == "delegate" || t.Relation == "before" {
			// The helper has answered: the task comes back to its owner.
			return x.reopen(*t.ParentID, t.Relation, me.Username, outcome)
		}
		return x.evaluate(n)
	case OpReturn:
		if t.Relation == "delegate" || t.Relation == "before" {
			return ErrBadOperation.WithDetails(map[string]any{"action": op.Action, "reason": "only the owner of the task can return it"})
		}
		return x.returnTo(t, n, op, logIt)
	case OpTransfer, OpDelegate, OpAddSign:
		users, err := x.users(op.Users)
		if err != nil {
			return err
		}
		if op.Action != OpAddSign && len(users) != 1 {
			return apierror.Invalid("name exactly one user")
		}
		for _, u := range users {
			if u.ID == me.ID {
				return apierror.Invalid("you cannot name yourself")
			}
		}
		parent := t.ID
		switch op.Action {
		case OpTransfer:
			if err := done("transferred"); err != nil {
				return err
			}
			logIt(map[string]any{"to": users[0].Username})
			_, err := x.newTask(n, task.KindApproval, assignment{UserID: users[0].ID, Reason: Reason{"transfer",
				fmt.Sprintf("由 %s 转办：%s", me.DisplayName, op.Comment), fmt.Sprintf("transferred by %s: %s", me.Username, op.Comment)}},
				t.Round, t.Seq, &parent, "transfer")
			return err
		case OpDelegate:
			if err := t.Update().SetStatus(task.StatusWaiting).Exec(x.ctx); err != nil {
				return err
			}
			logIt(map[string]any{"to": users[0].Username})
			_, err := x.newTask(n, task.KindApproval, assignment{UserID: users[0].ID, Reason: Reason{"delegate",
				fmt.Sprintf("由 %s 委派，处理后交回", me.DisplayName), fmt.Sprintf("delegated by %s; comes back to them", me.Username)}},
				t.Round, t.Seq, &parent, "delegate")
			return err
		}
		// 加签
		if t.Relation == "delegate" || t.Relation == "before" {
			return ErrBadOperation.WithDetails(map[string]any{"action": op.Action, "reason": "a delegated or added task cannot add signers"})
		}
		switch op.Position {
		case "before":
			if err := t.Update().SetStatus(task.StatusWaiting).Exec(x.ctx); err != nil {
				return err
			}
		case "after":
			if err := x.applyForm(n, op.Form); err != nil {
				return err
			}
			if err := done("approved"); err != nil {
				return err
			}
		default:
			return apierror.Invalid("position must be before or after")
		}
		names := make([]string, len(users))
		for i, u := range users {
			names[i] = u.Username
			relation, zh, en := "after", "由 %s 加签（后）", "added after %s"
			if op.Position == "before" {
				relation, zh, en = "before", "由 %s 加签（前），审批后交回", "added before %s, comes back to them"
			}
			if _, err := x.newTask(n, task.KindApproval, assignment{UserID: u.ID, Reason: Reason{"add_sign_" + op.Position,
				fmt.Sprintf(zh, me.DisplayName), fmt.Sprintf(en, me.Username)}}, t.Round, t.Seq, &parent, relation); err != nil {
				return err
			}
		}
		logIt(map[string]any{"users": names, "position": op.Position})
		if op.Position == "after" {
			return x.evaluate(n)
		}
		return nil
	}
	return ErrBadOperation.WithDetails(map[string]any{"action": op.Action})
}

// reopen gives a waiting task back to its owner once the delegate (or the
// signer added before) has answered — when no other helper is still open.
func (x *exec) reopen(parentID int, relation, by, outcome string) error {
	open, err := x.tx.Task.Query().Where(task.ParentID(parentID), task.Relation(relation),
		task.StatusIn(task.StatusOpen, task.StatusWaiting)).Exist(x.ctx)
	if err != nil || open {
		return err
	}
	p, err := x.tx.Task.Get(x.ctx, parentID)
	if err != nil {
		return err
	}
	if p.Status != task.StatusWaiting {
		return nil
	}
	if err := p.Update().SetStatus(task.StatusOpen).Exec(x.ctx); err != nil {
		return err
	}
	x.log(p.NodeID, &p.ID, "returned_to_owner", "", nil, map[string]any{"by": by, "opinion": outcome})
	if p.AssigneeID != nil {
		x.notifyTask(p, []int{*p.AssigneeID})
	}
	return nil
}

// returnTo implements 退回: to "previous" or an earlier node on the path.
func (x *exec) returnTo(t *ent.Task, n *cnode, op Op, logIt func(map[string]any)) error {
	target := op.Target
	path := x.st.Path
	if target == "" || target == "previous" {
		if len(path) == 0 {
			return ErrBadTarget
		}
		target = path[len(path)-1]
		// condition and parallel nodes are not places to return to
		for i := len(path) - 1; i >= 0; i-- {
			if nn := x.g.nodes[path[i]]; path[i] == StartNode || (nn != nil && nn.Type == Approval) {
				target = path[i]
				break
			}
		}
	}
	pos := -1
	for i, id := range path {
		if id == target {
			pos = i
		}
	}
	tn := x.node(target)
	if pos < 0 || tn == nil || tn.Type != Approval || !x.g.earlier(target, n.ID) && target != StartNode {
		return ErrBadTarget.WithDetails(map[string]any{"target": op.Target, "returnable": x.returnable(n.ID)})
	}
	if err := t.Update().SetStatus(task.StatusDone).SetOutcome("returned").SetCompletedAt(x.now).
		SetCompletedBy(x.actorID).SetComment(op.Comment).Exec(x.ctx); err != nil {
		return err
	}
	logIt(map[string]any{"to": target})
	if _, err := x.tx.Task.Update().Where(task.InstanceID(x.inst.ID), task.StatusIn(task.StatusOpen, task.StatusWaiting)).
		SetStatus(task.StatusCancelled).SetOutcome("returned").SetCompletedAt(x.now).Save(x.ctx); err != nil {
		return err
	}
	x.st.Path = append([]string(nil), path[:pos]...)
	x.st.Active, x.st.Joins, x.st.Queue = map[string]int{}, nil, nil
	return x.enter(target)
}

// returnable lists the nodes a task at node can be returned to.
func (x *exec) returnable(node string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range x.st.Path {
		nn := x.node(id)
		if !seen[id] && nn != nil && nn.Type == Approval && (id == StartNode || x.g.earlier(id, node)) {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// claim and release a group task.
func (x *exec) claim(t *ent.Task, me *ent.User, claim bool) error {
	if t.Status != task.StatusOpen {
		return ErrTaskClosed
	}
	cand, err := x.tx.TaskCandidate.Query().Where(taskcandidate.TaskID(t.ID), taskcandidate.UserID(me.ID)).Exist(x.ctx)
	if err != nil {
		return err
	}
	if !cand {
		return ErrNotAssignee
	}
	if claim {
		if t.AssigneeID != nil {
			return apierror.New(http.StatusConflict, "workflow.already_claimed", nil)
		}
		err = t.Update().SetAssigneeID(me.ID).Exec(x.ctx)
	} else {
		if t.AssigneeID == nil || *t.AssigneeID != me.ID {
			return ErrNotAssignee
		}
		err = t.Update().ClearAssigneeID().Exec(x.ctx)
	}
	if err != nil {
		return err
	}
	action := map[bool]string{true: OpClaim, false: OpRelease}[claim]
	x.log(t.NodeID, &t.ID, action, "", nil, nil)
	return nil
}

// removeSign (减签) cancels another signer's open task on a 会签 node.
func (x *exec) removeSign(mine *ent.Task, me *ent.User, op Op) error {
	victim, err := x.tx.Task.Get(x.ctx, op.Task)
	if ent.IsNotFound(err) {
		return ErrNoTask
	}
	if err != nil {
		return err
	}
	n := x.node(victim.NodeID)
	if victim.InstanceID == nil || *victim.InstanceID != x.inst.ID || victim.NodeID != mine.NodeID || victim.Round != mine.Round || n == nil ||
		(n.Mode != ModeAll && n.Mode != "" && victim.Relation != "after") {
		return ErrBadOperation.WithDetails(map[string]any{"action": op.Action, "reason": "only a signer of the same 会签 node can be removed"})
	}
	if mine.AssigneeID == nil || *mine.AssigneeID != me.ID {
		return ErrNotAssignee
	}
	if victim.Status != task.StatusOpen || victim.ID == mine.ID {
		return ErrTaskClosed
	}
	others, err := x.tx.Task.Query().Where(task.InstanceID(x.inst.ID), task.NodeID(n.ID), task.Round(victim.Round),
		task.IDNEQ(victim.ID), task.StatusNEQ(task.StatusCancelled), task.Or(task.OutcomeIsNil(), task.OutcomeNEQ("transferred"))).Count(x.ctx)
	if err != nil {
		return err
	}
	if others == 0 {
		return ErrLastApprover
	}
	if err := victim.Update().SetStatus(task.StatusCancelled).SetOutcome("removed").SetCompletedAt(x.now).Exec(x.ctx); err != nil {
		return err
	}
	x.log(n.ID, &victim.ID, OpRemoveSign, op.Comment, op.Attachments, map[string]any{"removed_task": victim.ID})
	return x.evaluate(n)
}

// applyForm merges an approver's changes, refusing fields the node does not
// let them edit.
func (x *exec) applyForm(n *cnode, changes map[string]any) error {
	var bad []string
	for k := range changes {
		if n.Fields[k] != "edit" {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		return ErrReadonly.WithDetails(map[string]any{"fields": bad})
	}
	for k, v := range changes {
		x.form[k] = v
	}
	return nil
}

// users finds active staff users by username.
func (x *exec) users(names []string) ([]*ent.User, error) {
	if len(names) == 0 || len(names) > 20 {
		return nil, apierror.Invalid("name one to 20 users")
	}
	us, err := x.tx.User.Query().Where(user.UsernameIn(names...), user.StatusEQ(user.StatusActive)).All(x.ctx)
	if err != nil {
		return nil, err
	}
	if len(us) != len(names) {
		found := map[string]bool{}
		for _, u := range us {
			found[u.Username] = true
		}
		var missing []string
		for _, n := range names {
			if !found[n] {
				missing = append(missing, n)
			}
		}
		return nil, ErrNoUser.WithDetails(map[string]any{"users": missing})
	}
	return us, nil
}

// actTodo completes a plugin's to-do (a task outside any process).
func (e *Engine) actTodo(ctx context.Context, who *identity.Identity, me *ent.User, t *ent.Task, op Op) error {
	if op.Action != OpApprove && op.Action != "complete" {
		return ErrBadOperation.WithDetails(map[string]any{"action": op.Action})
	}
	if t.Status != task.StatusOpen {
		return ErrTaskClosed
	}
	if t.AssigneeID == nil || *t.AssigneeID != me.ID {
		return ErrNotAssignee
	}
	n, err := e.o.Client.Task.Update().Where(task.ID(t.ID), task.StatusEQ(task.StatusOpen)).SetStatus(task.StatusDone).
		SetOutcome("completed").SetCompletedAt(e.o.Now().UTC()).SetCompletedBy(me.ID).SetComment(op.Comment).Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrTaskClosed
	}
	e.audit(ctx, who.Username, who.OrgPath, "task.complete", fmt.Sprintf("task:%d", t.ID), map[string]any{"type": t.Type})
	if e.o.Completed != nil && t.Plugin != "" {
		e.o.Completed(context.WithoutCancel(ctx), t, who, op.Comment)
	}
	return nil
}

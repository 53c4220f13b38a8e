package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/message"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/predicate"
	"github.com/shanghai-amr/portal/host/store/ent/task"
)

// Warning levels stored in tasks.warned.
const (
	warnYellow = 1
	warnOrange = 2
	warnRed    = 3
)

// Sweep sends the deadline warnings that are due: a message to the assignee
// when a task turns yellow, orange and red, and on red (overdue) a 督办 item
// for the leader above the task's organisation. Each step is claimed with a
// conditional update, so several host replicas never send one twice. It
// returns the number of warnings sent.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	now := e.o.Now().UTC()
	sent := 0
	for _, level := range []struct {
		n      int
		colour string
		due    predicate.Task
	}{
		{warnRed, "red", task.DueAtLT(now)},
		{warnOrange, "orange", task.OrangeAtLTE(now)},
		{warnYellow, "yellow", task.YellowAtLTE(now)},
	} {
		ts, err := e.o.Client.Task.Query().Where(task.StatusEQ(task.StatusOpen), task.WarnedLT(level.n), level.due,
			task.KindIn(task.KindApproval, task.KindTodo)).Limit(500).All(ctx)
		if err != nil {
			return sent, err
		}
		for _, t := range ts {
			ok, err := e.warn(ctx, t, level.n, level.colour, now)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
	return sent, nil
}

func (e *Engine) warn(ctx context.Context, t *ent.Task, level int, colour string, now time.Time) (bool, error) {
	var woken []int
	claimed := false
	err := e.inTx(ctx, func(tx *ent.Tx) error {
		n, err := tx.Task.Update().Where(task.ID(t.ID), task.Warned(t.Warned)).SetWarned(level).Save(ctx)
		if err != nil || n == 0 {
			return err // another replica took it
		}
		claimed = true
		var to []int
		if t.AssigneeID != nil {
			to = []int{*t.AssigneeID}
		}
		due := ""
		if t.DueAt != nil {
			due = t.DueAt.In(clock.Shanghai).Format("2006-01-02 15:04")
		}
		if e.o.Messages != nil && len(to) > 0 {
			if err := e.o.Messages.Send(ctx, tx.Client(), message.Message{Recipients: to, Category: message.CategoryDeadline, Source: t.Plugin,
				Template: "message.deadline." + colour, Params: map[string]any{"Title": t.Title, "Due": due},
				Link: fmt.Sprintf("/workbench/tasks/%d", t.ID)}); err != nil {
				return err
			}
			woken = append(woken, to...)
		}
		if level != warnRed || t.OrgPath == "" {
			return nil
		}
		chain, err := leaders(ctx, tx.Client(), t.OrgPath, 1)
		if err != nil || len(chain) == 0 {
			return err
		}
		rb, _ := json.Marshal(Reason{"overdue", fmt.Sprintf("事项已超期（期限 %s），督办", due), fmt.Sprintf("overdue since %s: supervise", due)})
		for _, u := range chain[0] {
			c := tx.Task.Create().SetPlugin(t.Plugin).SetKind(task.KindSupervise).SetType(t.Type).SetTitle(t.Title).
				SetBusinessKey(t.BusinessKey).SetLink(t.Link).SetNillableInstanceID(t.InstanceID).SetNodeID(t.NodeID).
				SetNodeName(t.NodeName).SetNodeNameEn(t.NodeNameEn).SetParentID(t.ID).SetRelation("supervise").SetAssigneeID(u.ID).
				SetOrgPath(t.OrgPath).SetReason(string(rb)).SetCreatedAt(now)
			if _, err := c.Save(ctx); err != nil {
				return err
			}
			if e.o.Messages != nil {
				if err := e.o.Messages.Send(ctx, tx.Client(), message.Message{Recipients: []int{u.ID}, Category: message.CategorySupervise,
					Source: t.Plugin, Template: "message.supervise.overdue", Params: map[string]any{"Title": t.Title},
					Link: fmt.Sprintf("/workbench/tasks/%d", t.ID)}); err != nil {
					return err
				}
				woken = append(woken, u.ID)
			}
		}
		return nil
	})
	if err != nil || !claimed {
		return false, err
	}
	if e.o.Messages != nil && len(woken) > 0 {
		e.o.Messages.Wake(woken...)
	}
	if level == warnRed {
		e.audit(ctx, "system", t.OrgPath, "task.overdue", fmt.Sprintf("task:%d", t.ID), map[string]any{"type": t.Type})
	}
	return true, nil
}

// RunSweeper sweeps every interval until ctx ends.
func (e *Engine) RunSweeper(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := e.Sweep(ctx); err != nil && ctx.Err() == nil {
			e.o.Log.Error("deadline sweep", "err", err)
		} else if n > 0 {
			e.o.Log.Info("deadline warnings sent", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

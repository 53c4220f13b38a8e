package workflow

import (
	"context"
	stdsql "database/sql"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/predicate"
	"github.com/shanghai-amr/portal/host/store/ent/task"
	"github.com/shanghai-amr/portal/host/store/ent/taskcandidate"
)

// todoFirst reads a 待办 page by deadline in one statement: the page's rows
// from the deadline segment with the counts and the number of group tasks
// the user could claim alongside. It is the workbench's hottest query (every home
// page shows it), and one round trip instead of three halves its cost. It
// answers ok=false — and the caller takes the general path — when the user
// has group tasks, or the page reaches into the tasks without a deadline.
func (e *Engine) todoFirst(ctx context.Context, userID int, where []predicate.Task, q ListQuery) (total int, ts []*ent.Task, ok bool, err error) {
	mine := append([]predicate.Task{task.AssigneeID(userID), task.StatusEQ(task.StatusOpen), task.KindIn(task.KindApproval, task.KindTodo)}, where...)
	count := func(extra ...*sql.Predicate) *sql.Selector {
		t := sql.Table(task.Table)
		s := sql.Select(sql.Count("*")).From(t)
		for _, p := range mine {
			p(s)
		}
		for _, p := range extra {
			s.Where(p)
		}
		return s
	}
	pt := sql.Table(task.Table)
	cols := make([]string, len(listFields))
	for i, f := range listFields {
		cols[i] = pt.C(f)
	}
	// The counts ride along as uncorrelated scalar subqueries (evaluated
	// once); a derived table would be materialised, on disk because of the
	// text columns.
	page := sql.Select(cols...).From(pt).Where(sql.NotNull(pt.C(task.FieldDueAt)))
	page.AppendSelectExprAs(count(), "total")
	page.AppendSelectExprAs(count(sql.IsNull(task.FieldDueAt)), "nodue")
	page.AppendSelectExprAs(sql.Select(sql.Count("*")).From(sql.Table(taskcandidate.Table)).Where(sql.EQ(taskcandidate.FieldUserID, userID)), "grp")
	for _, p := range mine {
		p(page)
	}
	page.OrderBy(pt.C(task.FieldDueAt), pt.C(task.FieldKind), pt.C(task.FieldID)).Limit(q.Size).Offset((q.Page - 1) * q.Size)
	query, args := page.Query()
	rows, err := e.o.Client.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, nil, false, err
	}
	defer rows.Close()
	var nodue, grp int
	for rows.Next() {
		var (
			id, urge                                        stdsql.NullInt64
			instance, assignee                              stdsql.NullInt64
			plugin, kind, typ, title, bk, link, node, nname stdsql.NullString
			nnameEn                                         stdsql.NullString
			status, outcome, reason                         stdsql.NullString
			created, dueAt, yellow, orange, completed, read stdsql.NullTime
		)
		if err := rows.Scan(&id, &plugin, &kind, &typ, &title, &bk, &link, &instance, &node, &nname, &nnameEn,
			&status, &outcome, &reason, &assignee, &created, &dueAt, &yellow, &orange, &urge, &completed, &read, &total, &nodue, &grp); err != nil {
			return 0, nil, false, err
		}
		ts = append(ts, &ent.Task{ID: int(id.Int64), Plugin: plugin.String, Kind: task.Kind(kind.String), Type: typ.String,
			Title: title.String, BusinessKey: bk.String, Link: link.String, InstanceID: nullInt(instance), NodeID: node.String,
			NodeName: nname.String, NodeNameEn: nnameEn.String, Status: task.Status(status.String), Outcome: outcome.String, Reason: reason.String,
			AssigneeID: nullInt(assignee), CreatedAt: created.Time, DueAt: nullTime(dueAt), YellowAt: nullTime(yellow),
			OrangeAt: nullTime(orange), UrgeCount: int(urge.Int64), CompletedAt: nullTime(completed), ReadAt: nullTime(read)})
	}
	if err := rows.Err(); err != nil {
		return 0, nil, false, err
	}
	// Answered when the page is full, or every task has a deadline (so the
	// deadline segment is all there is). An empty page carries no counts.
	return total, ts, len(ts) > 0 && grp == 0 && (len(ts) == q.Size || nodue == 0), nil
}

func nullInt(v stdsql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	i := int(v.Int64)
	return &i
}

func nullTime(v stdsql.NullTime) *time.Time {
	if !v.Valid {
		return nil
	}
	t := v.Time.UTC()
	return &t
}

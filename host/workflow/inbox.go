package workflow

import (
	"context"
	"encoding/json"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/predicate"
	"github.com/shanghai-amr/portal/host/store/ent/processinstance"
	"github.com/shanghai-amr/portal/host/store/ent/task"
	"github.com/shanghai-amr/portal/host/store/ent/taskcandidate"
)

// Inbox boxes.
const (
	BoxTodo      = "todo"      // 待办
	BoxDone      = "done"      // 已办
	BoxStarted   = "started"   // 我发起的
	BoxCC        = "cc"        // 抄送我的
	BoxSupervise = "supervise" // 督办
)

// ListQuery filters and pages a box.
type ListQuery struct {
	Box    string
	Q      string // title contains
	Plugin string
	Colour string // green, yellow, orange, red
	Sort   string // due (default), created
	Page   int
	Size   int
}

// Item is one row of a box.
type Item struct {
	ID          int             `json:"id"`
	Kind        string          `json:"kind"`
	Plugin      string          `json:"plugin,omitempty"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	BusinessKey string          `json:"business_key,omitempty"`
	Link        string          `json:"link,omitempty"`
	InstanceID  *int            `json:"instance_id,omitempty"`
	Node        string          `json:"node,omitempty"`
	NodeName    string          `json:"node_name,omitempty"`
	NodeNameEn  string          `json:"node_name_en,omitempty"`
	Status      string          `json:"status"`
	Outcome     string          `json:"outcome,omitempty"`
	Reason      json.RawMessage `json:"reason"` // {code, zh, en}: why it reached the user (Reason)
	Claimable   bool            `json:"claimable,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	DueAt       *time.Time      `json:"due_at,omitempty"`
	Colour      string          `json:"colour,omitempty"`
	UrgeCount   int             `json:"urge_count,omitempty"`
	CompletedAt *time.Time      `json:"completed_at,omitempty"`
	ReadAt      *time.Time      `json:"read_at,omitempty"`
}

// InstanceItem is one row of 我发起的.
type InstanceItem struct {
	ID          int        `json:"id"`
	Key         string     `json:"key"`
	Version     int        `json:"version"`
	Plugin      string     `json:"plugin,omitempty"`
	Title       string     `json:"title"`
	BusinessKey string     `json:"business_key,omitempty"`
	Link        string     `json:"link,omitempty"`
	Status      string     `json:"status"`
	StartedAt   time.Time  `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	UrgeCount   int        `json:"urge_count,omitempty"`
}

// Page is a page of a box.
type Page struct {
	Items any `json:"items"`
	Total int `json:"total"`
	Page  int `json:"page"`
	Size  int `json:"size"`
}

// Counts are the numbers on the workbench home page.
type Counts struct {
	Todo      int            `json:"todo"`
	Colours   map[string]int `json:"todo_by_colour"`
	CC        int            `json:"cc_unread"`
	Supervise int            `json:"supervise"`
	Started   int            `json:"started_running"`
}

// todoWhere is the 待办 condition: open tasks assigned to the user, and
// unclaimed group tasks the user is a candidate of.
func (e *Engine) todoWhere(ctx context.Context, userID int, kinds ...task.Kind) (predicate.Task, error) {
	groups, err := e.o.Client.TaskCandidate.Query().Where(taskcandidate.UserID(userID)).
		Limit(5000).Select(taskcandidate.FieldTaskID).Ints(ctx)
	if err != nil {
		return nil, err
	}
	mine := task.And(task.AssigneeID(userID), task.StatusEQ(task.StatusOpen), task.KindIn(kinds...))
	if len(groups) == 0 {
		return mine, nil
	}
	return task.Or(mine, task.And(task.IDIn(groups...), task.AssigneeIDIsNil(), task.StatusEQ(task.StatusOpen))), nil
}

// colourWhere selects tasks by their deadline colour at now.
func colourWhere(colour string, now time.Time) (predicate.Task, error) {
	switch colour {
	case "red":
		return task.DueAtLT(now), nil
	case "orange":
		return task.And(task.OrangeAtLTE(now), task.DueAtGTE(now)), nil
	case "yellow":
		return task.And(task.YellowAtLTE(now), task.OrangeAtGT(now)), nil
	case "green":
		return task.Or(task.DueAtIsNil(), task.YellowAtGT(now)), nil
	}
	return nil, apierror.Invalid("colour must be green, yellow, orange or red")
}

// List returns one page of a box for the user.
func (e *Engine) List(ctx context.Context, userID int, q ListQuery) (*Page, error) {
	if q.Page <= 0 {
		q.Page = 1
	}
	if q.Size <= 0 {
		q.Size = 20
	}
	if q.Size > 100 || q.Page > 10000 || len(q.Q) > 100 {
		return nil, apierror.Invalid("size at most 100, page at most 10000, q at most 100 bytes")
	}
	now := e.o.Now().UTC()
	if q.Box == BoxStarted {
		return e.listStarted(ctx, userID, q)
	}
	var filters []predicate.Task
	if q.Q != "" {
		filters = append(filters, task.TitleContains(q.Q))
	}
	if q.Plugin != "" {
		filters = append(filters, task.Plugin(q.Plugin))
	}
	if q.Colour != "" {
		p, err := colourWhere(q.Colour, now)
		if err != nil {
			return nil, err
		}
		filters = append(filters, p)
	}
	var where []predicate.Task
	switch q.Box {
	case BoxTodo:
		if q.Sort == "" || q.Sort == "due" {
			total, ts, ok, err := e.todoFirst(ctx, userID, filters, q)
			if err != nil {
				return nil, err
			}
			if ok && !e.o.generalOnly {
				return pageOf(total, ts, q, now), nil
			}
		}
		p, err := e.todoWhere(ctx, userID, task.KindApproval, task.KindTodo)
		if err != nil {
			return nil, err
		}
		where = append(where, p)
	case BoxDone:
		where = append(where, task.CompletedBy(userID), task.StatusEQ(task.StatusDone))
	case BoxCC:
		where = append(where, task.AssigneeID(userID), task.KindEQ(task.KindCc))
	case BoxSupervise:
		where = append(where, task.AssigneeID(userID), task.KindEQ(task.KindSupervise), task.StatusEQ(task.StatusOpen))
	default:
		return nil, apierror.Invalid("box must be todo, done, started, cc or supervise")
	}
	where = append(where, filters...)
	query := e.o.Client.Task.Query().Where(where...)
	var ts []*ent.Task
	var total int
	var err error
	switch {
	case q.Box == BoxDone:
		total, ts, err = page(ctx, query, q, ent.Desc(task.FieldCompletedAt), ent.Desc(task.FieldID))
	case q.Box == BoxCC || q.Sort == "created":
		total, ts, err = page(ctx, query, q, ent.Desc(task.FieldCreatedAt), ent.Desc(task.FieldID))
	case q.Sort == "" || q.Sort == "due":
		total, ts, err = pageByDue(ctx, query, q)
	default:
		return nil, apierror.Invalid("sort must be due or created")
	}
	if err != nil {
		return nil, err
	}
	return pageOf(total, ts, q, now), nil
}

func pageOf(total int, ts []*ent.Task, q ListQuery, now time.Time) *Page {
	items := make([]Item, len(ts))
	for i, t := range ts {
		items[i] = itemOf(t, now)
	}
	return &Page{Items: items, Total: total, Page: q.Page, Size: q.Size}
}

// listFields are the columns a list shows (not the clock's explanation or comments).
var listFields = []string{task.FieldID, task.FieldPlugin, task.FieldKind, task.FieldType, task.FieldTitle,
	task.FieldBusinessKey, task.FieldLink, task.FieldInstanceID, task.FieldNodeID, task.FieldNodeName, task.FieldNodeNameEn, task.FieldStatus,
	task.FieldOutcome, task.FieldReason, task.FieldAssigneeID, task.FieldCreatedAt, task.FieldDueAt, task.FieldYellowAt,
	task.FieldOrangeAt, task.FieldUrgeCount, task.FieldCompletedAt, task.FieldReadAt}

// page counts and reads one page in the given order.
func page(ctx context.Context, query *ent.TaskQuery, q ListQuery, order ...task.OrderOption) (int, []*ent.Task, error) {
	total, err := query.Clone().Count(ctx)
	if err != nil || total <= (q.Page-1)*q.Size {
		return total, nil, err
	}
	ts, err := query.Order(order...).Offset((q.Page - 1) * q.Size).Limit(q.Size).Select(listFields...).All(ctx)
	return total, ts, err
}

// pageByDue reads one page soonest deadline first, tasks without a deadline
// after them. It reads the two segments separately so that each is an index
// range read in index order (MySQL sorts NULL first, and an expression in
// ORDER BY would sort every row): the counts are index-only and a page reads
// only its own rows. Ties on the deadline are broken by kind and id, the
// index's own order.
func pageByDue(ctx context.Context, query *ent.TaskQuery, q ListQuery) (int, []*ent.Task, error) {
	var counts []struct {
		Total int `json:"total"`
		Due   int `json:"due"`
	}
	err := query.Clone().Aggregate(
		func(s *sql.Selector) string { return sql.As(sql.Count("*"), "total") },
		func(s *sql.Selector) string { return sql.As(sql.Count(s.C(task.FieldDueAt)), "due") },
	).Scan(ctx, &counts)
	if err != nil || len(counts) == 0 {
		return 0, nil, err
	}
	total, due := counts[0].Total, counts[0].Due
	offset := (q.Page - 1) * q.Size
	var out []*ent.Task
	if offset < due {
		ts, err := query.Clone().Where(task.DueAtNotNil()).Order(ent.Asc(task.FieldDueAt), ent.Asc(task.FieldKind), ent.Asc(task.FieldID)).
			Offset(offset).Limit(q.Size).Select(listFields...).All(ctx)
		if err != nil {
			return 0, nil, err
		}
		out = ts
	}
	if rest := q.Size - len(out); rest > 0 && total > due {
		ts, err := query.Clone().Where(task.DueAtIsNil()).Order(ent.Asc(task.FieldID)).
			Offset(max(0, offset-due)).Limit(rest).Select(listFields...).All(ctx)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, ts...)
	}
	return total, out, nil
}

func itemOf(t *ent.Task, now time.Time) Item {
	it := Item{ID: t.ID, Kind: string(t.Kind), Plugin: t.Plugin, Type: t.Type, Title: t.Title, BusinessKey: t.BusinessKey,
		Link: t.Link, InstanceID: t.InstanceID, Node: t.NodeID, NodeName: t.NodeName, NodeNameEn: t.NodeNameEn, Status: string(t.Status),
		Outcome: t.Outcome, Claimable: t.AssigneeID == nil && t.Status == task.StatusOpen, CreatedAt: t.CreatedAt,
		DueAt: t.DueAt, UrgeCount: t.UrgeCount, CompletedAt: t.CompletedAt, ReadAt: t.ReadAt}
	it.Reason = json.RawMessage(t.Reason)
	if t.DueAt != nil {
		it.Colour = string(colourAt(t, now))
	}
	return it
}

func colourAt(t *ent.Task, now time.Time) clock.Colour {
	switch {
	case t.DueAt == nil:
		return clock.Green
	case now.After(*t.DueAt):
		return clock.Red
	case t.OrangeAt != nil && !now.Before(*t.OrangeAt):
		return clock.Orange
	case t.YellowAt != nil && !now.Before(*t.YellowAt):
		return clock.Yellow
	}
	return clock.Green
}

func (e *Engine) listStarted(ctx context.Context, userID int, q ListQuery) (*Page, error) {
	query := e.o.Client.ProcessInstance.Query().Where(processinstance.InitiatorID(userID))
	if q.Q != "" {
		query.Where(processinstance.TitleContains(q.Q))
	}
	if q.Plugin != "" {
		query.Where(processinstance.Plugin(q.Plugin))
	}
	total, err := query.Clone().Count(ctx)
	if err != nil {
		return nil, err
	}
	is, err := query.Order(ent.Desc(processinstance.FieldStartedAt), ent.Desc(processinstance.FieldID)).
		Offset((q.Page - 1) * q.Size).Limit(q.Size).All(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]InstanceItem, len(is))
	for i, in := range is {
		items[i] = InstanceItem{ID: in.ID, Key: in.Key, Version: in.Version, Plugin: in.Plugin, Title: in.Title,
			BusinessKey: in.BusinessKey, Link: in.Link, Status: string(in.Status), StartedAt: in.StartedAt,
			EndedAt: in.EndedAt, DueAt: in.DueAt, UrgeCount: in.UrgeCount}
	}
	return &Page{Items: items, Total: total, Page: q.Page, Size: q.Size}, nil
}

// CountsFor returns the workbench counts for the user.
func (e *Engine) CountsFor(ctx context.Context, userID int) (*Counts, error) {
	now := e.o.Now().UTC()
	todo, err := e.todoWhere(ctx, userID, task.KindApproval, task.KindTodo)
	if err != nil {
		return nil, err
	}
	c := &Counts{Colours: map[string]int{}}
	for _, colour := range []string{"green", "yellow", "orange", "red"} {
		p, _ := colourWhere(colour, now)
		n, err := e.o.Client.Task.Query().Where(todo, p).Count(ctx)
		if err != nil {
			return nil, err
		}
		c.Colours[colour] = n
		c.Todo += n
	}
	if c.CC, err = e.o.Client.Task.Query().Where(task.AssigneeID(userID), task.KindEQ(task.KindCc), task.ReadAtIsNil()).Count(ctx); err != nil {
		return nil, err
	}
	if c.Supervise, err = e.o.Client.Task.Query().Where(task.AssigneeID(userID), task.KindEQ(task.KindSupervise), task.StatusEQ(task.StatusOpen)).Count(ctx); err != nil {
		return nil, err
	}
	if c.Started, err = e.o.Client.ProcessInstance.Query().Where(processinstance.InitiatorID(userID), processinstance.StatusEQ(processinstance.StatusRunning)).Count(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Trend is how many tasks the user completed on each of the last days days
// (Shanghai calendar days, oldest first).
func (e *Engine) Trend(ctx context.Context, userID, days int) ([]DayCount, error) {
	if days < 1 || days > 90 {
		return nil, apierror.Invalid("days must be 1–90")
	}
	now := e.o.Now().In(clock.Shanghai)
	first := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, clock.Shanghai).AddDate(0, 0, -(days - 1))
	times, err := e.o.Client.Task.Query().Where(task.CompletedBy(userID), task.StatusEQ(task.StatusDone),
		task.CompletedAtGTE(first.UTC())).Select(task.FieldCompletedAt).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DayCount, days)
	for i := range out {
		out[i].Day = first.AddDate(0, 0, i).Format(time.DateOnly)
	}
	for _, t := range times {
		if t.CompletedAt == nil {
			continue
		}
		d := t.CompletedAt.In(clock.Shanghai)
		i := int(time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, clock.Shanghai).Sub(first).Hours() / 24)
		if i >= 0 && i < days {
			out[i].Count++
		}
	}
	return out, nil
}

// DayCount is one day of a trend.
type DayCount struct {
	Day   string `json:"day"`
	Count int    `json:"count"`
}

package workflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/org"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/task"
	"github.com/shanghai-amr/portal/host/store/ent/user"
	"github.com/shanghai-amr/portal/host/store/storetest"
	"github.com/shanghai-amr/portal/host/workflow"
)

type fx struct {
	t   *testing.T
	e   *workflow.Engine
	db  *ent.Client
	now *time.Time
}

func newFx(t *testing.T, dialect string) *fx {
	t.Helper()
	st := storetest.Open(t, dialect)
	ctx := context.Background()
	if _, err := org.SeedDemo(ctx, st.Client); err != nil {
		t.Fatal(err)
	}
	if err := identity.EnsureBuiltinRoles(ctx, st.Client); err != nil {
		t.Fatal(err)
	}
	if _, err := identity.SeedDemoUsers(ctx, st.Client, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := identity.EnsureBootstrapAdmin(ctx, st.Client, "Root#Portal2026"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []identity.NewUser{
		{Username: "pd_chen", DisplayName: "陈晨", OrgCode: "310115-D01", Roles: []string{"legal_reviewer"}, Posts: []string{"legal_review"}},
		{Username: "d03_head", DisplayName: "队长", OrgCode: "310115-D03", Roles: []string{"case_lead"}, Posts: []string{"unit_head"}},
		{Username: "city_head", DisplayName: "局长", OrgCode: "310000", Roles: []string{"agency_head"}, Posts: []string{"unit_head"}},
	} {
		u.Password = identity.DemoPassword
		if _, err := identity.CreateUser(ctx, st.Client, u); err != nil {
			t.Fatal(err)
		}
	}
	cal, err := clock.New()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, clock.Shanghai)
	e := workflow.New(workflow.Options{Client: st.Client, Calendar: cal, LockRows: dialect == "mysql",
		Now: func() time.Time { return now }})
	return &fx{t: t, e: e, db: st.Client, now: &now}
}

var orgOf = map[string]string{
	"pd_li": "/310000/310115/310115-D03", "pd_wang": "/310000/310115", "pd_legal": "/310000/310115/310115-D01",
	"pd_chen": "/310000/310115/310115-D01", "zj_zhao": "/310000/310115/310115-S02", "city_zhang": "/310000/310000-D04",
	"hp_liu": "/310000/310101/310101-D03", "admin": "/310000", "hp_reg": "/310000/310101/310101-D02", "d03_head": "/310000/310115/310115-D03",
}

func who(name string) *identity.Identity {
	return &identity.Identity{Audience: identity.Staff, Username: name, OrgPath: orgOf[name]}
}

func (f *fx) uid(name string) int {
	f.t.Helper()
	u, err := f.db.User.Query().Where(user.Username(name)).Only(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return u.ID
}

func (f *fx) publish(key, spec string) {
	f.t.Helper()
	if _, err := f.e.Publish(context.Background(), key, "", "", "admin", []byte(spec), "admin"); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) start(by, key string, form map[string]any) int {
	f.t.Helper()
	inst, err := f.e.Start(context.Background(), who(by), workflow.StartInput{Key: key, Title: "测试事项", Form: form})
	if err != nil {
		f.t.Fatal(err)
	}
	return inst.ID
}

// open lists the user's open task ids at node for the instance.
func (f *fx) open(name string, inst int, node string) []int {
	f.t.Helper()
	p, err := f.e.List(context.Background(), f.uid(name), workflow.ListQuery{Box: workflow.BoxTodo, Size: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []int
	for _, it := range p.Items.([]workflow.Item) {
		if it.InstanceID != nil && *it.InstanceID == inst && it.Node == node {
			out = append(out, it.ID)
		}
	}
	return out
}

func (f *fx) one(name string, inst int, node string) int {
	f.t.Helper()
	ids := f.open(name, inst, node)
	if len(ids) != 1 {
		f.t.Fatalf("%s has %d open tasks at %s, want 1", name, len(ids), node)
	}
	return ids[0]
}

func (f *fx) act(name string, taskID int, op workflow.Op) error {
	return f.e.Act(context.Background(), who(name), taskID, op)
}

func (f *fx) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) status(inst int) string {
	f.t.Helper()
	iv, err := f.e.Instance(context.Background(), 0, inst, true)
	if err != nil {
		f.t.Fatal(err)
	}
	return iv.Status
}

func code(err error) string {
	var e *apierror.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return fmt.Sprint(err)
}

func approve(s string) workflow.Op { return workflow.Op{Action: workflow.OpApprove, Comment: s} }

func TestRatioCountersignPassesAtTwoThirdsAndFailsWhenUnreachable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFx(t, dialect)
		f.publish("ratio", `{"nodes":[{"id":"vote","type":"approval","mode":"all","ratio":0.66,
			"approvers":{"type":"user","users":["pd_legal","pd_chen","pd_wang"]}}]}`)
		a := f.start("pd_li", "ratio", nil)
		f.must(f.act("pd_legal", f.one("pd_legal", a, "vote"), approve("")))
		f.must(f.act("pd_chen", f.one("pd_chen", a, "vote"), approve("")))
		if s := f.status(a); s != "approved" {
			t.Fatalf("2 of 3 at ratio 0.66: %s", s)
		}
		if len(f.open("pd_wang", a, "vote")) != 0 {
			t.Fatal("the third vote is no longer needed and must be withdrawn")
		}
		b := f.start("pd_li", "ratio", nil)
		f.must(f.act("pd_legal", f.one("pd_legal", b, "vote"), workflow.Op{Action: workflow.OpReject}))
		if s := f.status(b); s != "running" {
			t.Fatalf("one rejection of three at 0.66 is not yet decisive: %s", s)
		}
		f.must(f.act("pd_chen", f.one("pd_chen", b, "vote"), workflow.Op{Action: workflow.OpReject}))
		if s := f.status(b); s != "rejected" {
			t.Fatalf("two rejections make 2/3 unreachable: %s", s)
		}
	})
}

func TestSequentialLeadersParallelBranchesAndCopies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFx(t, dialect)
		// 逐级 leaders 2 levels from pd_li (D03 brigade head, then the Pudong
		// bureau head), then two parallel branches, then a copy.
		f.publish("chain", `{"nodes":[
			{"id":"leaders","type":"approval","approvers":{"type":"leaders","levels":2}},
			{"id":"par","type":"parallel","branches":[
				{"nodes":[{"id":"legal","type":"approval","approvers":{"type":"role","role":"legal_reviewer"},"mode":"any"}]},
				{"nodes":[{"id":"station","type":"approval","approvers":{"type":"user","users":["zj_zhao"]}}]}]},
			{"id":"copy","type":"cc","approvers":{"type":"user","users":["hp_liu"]}}]}`)
		i := f.start("pd_li", "chain", nil)
		if len(f.open("pd_wang", i, "leaders")) != 0 {
			t.Fatal("依次: the second leader must wait for the first")
		}
		f.must(f.act("d03_head", f.one("d03_head", i, "leaders"), approve("")))
		f.must(f.act("pd_wang", f.one("pd_wang", i, "leaders"), approve("")))
		// Both branches are open at once; role holders in the initiator's bureau only.
		legal := f.open("pd_legal", i, "legal")
		chen := f.open("pd_chen", i, "legal")
		station := f.one("zj_zhao", i, "station")
		if len(legal) != 1 || len(chen) != 1 {
			t.Fatalf("legal reviewers of Pudong: %v %v", legal, chen)
		}
		f.must(f.act("zj_zhao", station, approve("")))
		if s := f.status(i); s != "running" {
			t.Fatalf("one branch done: %s", s)
		}
		f.must(f.act("pd_chen", chen[0], approve("")))
		if len(f.open("pd_legal", i, "legal")) != 0 {
			t.Fatal("或签: pd_legal's task must be withdrawn")
		}
		if s := f.status(i); s != "approved" {
			t.Fatalf("both branches done: %s", s)
		}
		cc, err := f.e.List(context.Background(), f.uid("hp_liu"), workflow.ListQuery{Box: workflow.BoxCC})
		f.must(err)
		if cc.Total != 1 {
			t.Fatalf("copies: %d", cc.Total)
		}
	})
}

func TestGroupTaskClaimReleaseDelegateAndAddAfter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFx(t, dialect)
		f.publish("group", `{"nodes":[{"id":"pick","type":"approval","group":true,
			"approvers":{"type":"post","post":"legal_review"}}]}`)
		i := f.start("pd_li", "group", nil)
		id := f.one("pd_legal", i, "pick")
		if f.one("pd_chen", i, "pick") != id {
			t.Fatal("a group task is one task for all candidates")
		}
		if err := f.act("pd_legal", id, approve("")); code(err) != "workflow.not_assignee" {
			t.Fatalf("approving before claiming: %v", err)
		}
		f.must(f.act("pd_legal", id, workflow.Op{Action: workflow.OpClaim}))
		if len(f.open("pd_chen", i, "pick")) != 0 {
			t.Fatal("a claimed task leaves the other candidates' lists")
		}
		if err := f.act("pd_chen", id, workflow.Op{Action: workflow.OpClaim}); code(err) != "workflow.already_claimed" {
			t.Fatalf("second claim: %v", err)
		}
		f.must(f.act("pd_legal", id, workflow.Op{Action: workflow.OpRelease}))
		f.one("pd_chen", i, "pick")
		f.must(f.act("pd_chen", id, workflow.Op{Action: workflow.OpClaim}))
		// 委派: pd_chen delegates to zj_zhao and gets it back.
		f.must(f.act("pd_chen", id, workflow.Op{Action: workflow.OpDelegate, Users: []string{"zj_zhao"}}))
		f.must(f.act("zj_zhao", f.one("zj_zhao", i, "pick"), approve("查过了")))
		// 加签 after: pd_chen approves and pd_wang must also approve.
		f.must(f.act("pd_chen", f.one("pd_chen", i, "pick"), workflow.Op{Action: workflow.OpAddSign, Position: "after", Users: []string{"pd_wang"}}))
		if s := f.status(i); s != "running" {
			t.Fatalf("after 加签 after: %s", s)
		}
		f.must(f.act("pd_wang", f.one("pd_wang", i, "pick"), approve("")))
		if s := f.status(i); s != "approved" {
			t.Fatalf("after the added signer: %s", s)
		}
	})
}

func TestRemoveSignUrgeTerminateAndEmptyApprovers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFx(t, dialect)
		f.publish("all3", `{"nodes":[{"id":"vote","type":"approval","approvers":{"type":"user","users":["pd_legal","pd_chen","pd_wang"]}}]}`)
		i := f.start("pd_li", "all3", nil)
		// 减签: pd_legal removes pd_wang; the remaining two decide.
		f.must(f.act("pd_legal", f.one("pd_legal", i, "vote"), workflow.Op{Action: workflow.OpRemoveSign, Task: f.one("pd_wang", i, "vote")}))
		f.must(f.act("pd_legal", f.one("pd_legal", i, "vote"), approve("")))
		f.must(f.e.ActOnInstance(context.Background(), who("pd_li"), i, workflow.Op{Action: workflow.OpUrge, Comment: "请尽快"}, false))
		n, err := f.db.Task.Query().Where(task.InstanceID(i), task.StatusEQ(task.StatusOpen), task.UrgeCount(1)).Count(context.Background())
		f.must(err)
		if n != 1 {
			t.Fatalf("urged open tasks: %d", n)
		}
		if err := f.e.ActOnInstance(context.Background(), who("pd_chen"), i, workflow.Op{Action: workflow.OpTerminate}, false); code(err) != "auth.forbidden" {
			t.Fatalf("terminate without processes.manage: %v", err)
		}
		f.must(f.e.ActOnInstance(context.Background(), who("pd_wang"), i, workflow.Op{Action: workflow.OpTerminate, Comment: "案件移送"}, true))
		if s := f.status(i); s != "terminated" {
			t.Fatalf("status %s", s)
		}
		// Empty approvers (no audit administrator works in Pudong): error
		// (nothing started), skip, admin.
		f.publish("empty", `{"nodes":[{"id":"nobody","type":"approval","approvers":{"type":"role","role":"auditadmin"}}]}`)
		if _, err := f.e.Start(context.Background(), who("pd_li"), workflow.StartInput{Key: "empty", Title: "x"}); code(err) != "workflow.no_approver" {
			t.Fatalf("no approver: %v", err)
		}
		f.publish("skip", `{"nodes":[{"id":"nobody","type":"approval","empty":"skip","approvers":{"type":"role","role":"auditadmin"}}]}`)
		if s := f.status(f.start("pd_li", "skip", nil)); s != "approved" {
			t.Fatalf("skip: %s", s)
		}
		f.publish("toadmin", `{"nodes":[{"id":"nobody","type":"approval","empty":"admin","approvers":{"type":"role","role":"auditadmin"}}]}`)
		j := f.start("pd_li", "toadmin", nil)
		v, err := f.e.Task(context.Background(), f.uid("admin"), f.one("admin", j, "nobody"), false)
		f.must(err)
		var r workflow.Reason
		f.must(json.Unmarshal(v.Task.Reason, &r))
		if r.Code != "empty_admin" {
			t.Fatalf("reason %s", v.Task.Reason)
		}
	})
}

func TestConditionsSeeTheFormAndExpressionApprovers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFx(t, dialect)
		f.publish("cond", `{"nodes":[
			{"id":"route","type":"condition","branches":[
				{"when":"form.amount >= 100000","nodes":[{"id":"big","type":"approval","approvers":{"type":"expression","expression":"users := [\"pd_wang\"]"}}]},
				{"when":"form.kind == \"simple\"","nodes":[]},
				{"nodes":[{"id":"small","type":"approval","approvers":{"type":"field","field":"reviewer"}}]}]}]}`)
		big := f.start("pd_li", "cond", map[string]any{"amount": 200000})
		f.one("pd_wang", big, "big")
		if s := f.status(f.start("pd_li", "cond", map[string]any{"amount": 1, "kind": "simple"})); s != "approved" {
			t.Fatalf("empty branch: %s", s)
		}
		small := f.start("pd_li", "cond", map[string]any{"amount": 1, "reviewer": "pd_legal"})
		f.one("pd_legal", small, "small")
	})
}

func TestDefinitionsAreValidatedAndVersioned(t *testing.T) {
	for _, bad := range []string{
		`{"nodes":[]}`,
		`{"nodes":[{"id":"a","type":"approval"}]}`,
		`{"nodes":[{"id":"a","type":"approval","approvers":{"type":"user","users":["x"]}},{"id":"a","type":"cc","approvers":{"type":"initiator"}}]}`,
		`{"nodes":[{"id":"A b","type":"approval","approvers":{"type":"initiator"}}]}`,
		`{"nodes":[{"id":"c","type":"condition","branches":[{"nodes":[]},{"when":"form.x","nodes":[]}]}]}`,
		`{"nodes":[{"id":"c","type":"condition","branches":[{"when":"form.x >","nodes":[]}]}]}`,
		`{"nodes":[{"id":"p","type":"parallel","branches":[{"nodes":[]}]}]}`,
		`{"nodes":[{"id":"a","type":"approval","mode":"any","ratio":0.5,"approvers":{"type":"initiator"}}]}`,
		`{"nodes":[{"id":"a","type":"approval","fields":{"x":"write"},"approvers":{"type":"initiator"}}]}`,
		`{"nodes":[{"id":"a","type":"approval","deadline":{"unit":"weeks","amount":1},"approvers":{"type":"initiator"}}]}`,
		`{"nodes":[{"id":"a","type":"approval","approvers":{"type":"initiator"}}],"extra":1}`,
		`{"nodes":[{"id":"a","type":"approval","approvers":{"type":"initiator"}}],"form":[{"name":"x","title":{"en":"X"}}]}`,
		`{"nodes":[{"id":"a","type":"approval","approvers":{"type":"initiator"}}],"form":[{"name":"x","title":{"zh-CN":"甲"}},{"name":"x","title":{"zh-CN":"乙"}}]}`,
		`{"nodes":[{"id":"a","type":"approval","approvers":{"type":"initiator"}}],"form":[{"name":"a b","title":{"zh-CN":"甲"}}]}`,
	} {
		if _, err := workflow.ParseSpec([]byte(bad)); err == nil {
			t.Errorf("accepted: %s", bad)
		}
	}
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFx(t, dialect)
		ctx := context.Background()
		spec := []byte(`{"nodes":[{"id":"a","type":"approval","approvers":{"type":"user","users":["pd_wang"]}}]}`)
		d1, err := f.e.Publish(ctx, "notice.review", "notice", "0.1.0", "manifest", spec, "plugin:notice")
		f.must(err)
		d2, err := f.e.Publish(ctx, "notice.review", "notice", "0.1.1", "manifest", spec, "plugin:notice")
		f.must(err)
		if d1.Version != 1 || d2.Version != 1 {
			t.Fatalf("an unchanged manifest process is not republished: %d %d", d1.Version, d2.Version)
		}
		inst, err := f.e.Start(ctx, who("pd_li"), workflow.StartInput{Key: "notice.review", Plugin: "notice", Title: "x"})
		f.must(err)
		d3, err := f.e.Publish(ctx, "notice.review", "notice", "", "admin", []byte(`{"nodes":[{"id":"b","type":"approval","approvers":{"type":"user","users":["pd_legal"]}}]}`), "admin")
		f.must(err)
		if d3.Version != 2 {
			t.Fatalf("admin version = %d", d3.Version)
		}
		// The running instance keeps version 1.
		f.one("pd_wang", inst.ID, "a")
		if _, err := f.e.Start(ctx, who("pd_li"), workflow.StartInput{Key: "notice.review", Plugin: "other", Title: "x"}); code(err) != "workflow.no_definition" {
			t.Fatalf("another plugin's process: %v", err)
		}
	})
}

func TestDeadlinesColoursWarningsAndSupervision(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFx(t, dialect)
		ctx := context.Background()
		// Started Friday 13 Feb 2026 before the Spring Festival: 3 working days
		// counting from the next day are 14 Feb (make-up Saturday), 24 and 25 Feb.
		*f.now = time.Date(2026, 2, 13, 10, 0, 0, 0, clock.Shanghai)
		f.publish("timed", `{"nodes":[{"id":"a","type":"approval","approvers":{"type":"user","users":["pd_legal"]},
			"deadline":{"unit":"working_days","amount":3,"start_rule":"next_day"}}]}`)
		i := f.start("pd_li", "timed", nil)
		id := f.one("pd_legal", i, "a")
		v, err := f.e.Task(ctx, f.uid("pd_legal"), id, false)
		f.must(err)
		if v.Task.DueAt == nil || v.Task.DueAt.In(clock.Shanghai).Format("2006-01-02") != "2026-02-25" || v.Task.Colour != "green" {
			t.Fatalf("due %v colour %s", v.Task.DueAt, v.Task.Colour)
		}
		var d clock.Deadline
		f.must(json.Unmarshal(v.Clock, &d))
		if len(d.Steps) < 3 {
			t.Fatalf("explanation: %v", d.Steps)
		}
		for _, step := range []struct {
			at     time.Time
			colour string
			sent   int
		}{
			{time.Date(2026, 2, 20, 12, 0, 0, 0, clock.Shanghai), "yellow", 1},
			{time.Date(2026, 2, 24, 9, 0, 0, 0, clock.Shanghai), "orange", 1},
			{time.Date(2026, 2, 26, 9, 0, 0, 0, clock.Shanghai), "red", 1},
			{time.Date(2026, 2, 27, 9, 0, 0, 0, clock.Shanghai), "red", 0},
		} {
			*f.now = step.at
			n, err := f.e.Sweep(ctx)
			f.must(err)
			p, err := f.e.List(ctx, f.uid("pd_legal"), workflow.ListQuery{Box: workflow.BoxTodo, Colour: step.colour})
			f.must(err)
			if n != step.sent || p.Total != 1 {
				t.Fatalf("%s: sent %d (want %d), %d tasks %s", step.at, n, step.sent, p.Total, step.colour)
			}
		}
		// Overdue raised 督办 to the nearest leader above the initiator (the D03 head).
		sv, err := f.e.List(ctx, f.uid("d03_head"), workflow.ListQuery{Box: workflow.BoxSupervise})
		f.must(err)
		if sv.Total != 1 {
			t.Fatalf("督办 items: %d", sv.Total)
		}
		c, err := f.e.CountsFor(ctx, f.uid("pd_legal"))
		f.must(err)
		if c.Todo != 1 || c.Colours["red"] != 1 {
			t.Fatalf("counts %+v", c)
		}
	})
}

func TestPluginTodos(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFx(t, dialect)
		ctx := context.Background()
		ids, err := f.e.CreateTodo(ctx, workflow.TodoInput{Plugin: "notice", Type: "notice.review", Title: "审核公告",
			Link: "/plugins/notice/notices/7", CandidateRoles: []string{"legal_reviewer"}, OrgPath: orgOf["pd_li"]})
		f.must(err)
		if len(ids) != 1 {
			t.Fatalf("one group task: %v", ids)
		}
		for _, u := range []string{"pd_legal", "pd_chen"} {
			p, err := f.e.List(ctx, f.uid(u), workflow.ListQuery{Box: workflow.BoxTodo})
			f.must(err)
			if p.Total != 1 || !p.Items.([]workflow.Item)[0].Claimable {
				t.Fatalf("%s: %+v", u, p)
			}
		}
		if _, err := f.e.CreateTodo(ctx, workflow.TodoInput{Plugin: "notice", Type: "t", Title: "x", Assignees: []string{"nobody"}}); code(err) != "workflow.no_user" {
			t.Fatalf("unknown assignee: %v", err)
		}
		f.must(f.e.CompleteTodo(ctx, "notice", ids[0], "done elsewhere"))
		if err := f.e.CompleteTodo(ctx, "other", ids[0], ""); code(err) != "workflow.no_task" {
			t.Fatalf("another plugin's task: %v", err)
		}
		done := []string{}
		for _, u := range []string{"pd_legal", "pd_chen"} {
			p, err := f.e.List(ctx, f.uid(u), workflow.ListQuery{Box: workflow.BoxTodo})
			f.must(err)
			if p.Total != 0 {
				done = append(done, u)
			}
		}
		if !slices.Equal(done, []string{}) {
			t.Fatalf("still open for %v", done)
		}
	})
}

// TestSingleStatementTodoMatchesTheGeneralPath compares every page of 待办,
// with and without filters, between the one-statement path and the general one.
func TestSingleStatementTodoMatchesTheGeneralPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFx(t, dialect)
		ctx := context.Background()
		me := f.uid("pd_legal")
		now := f.now.UTC()
		for i := 0; i < 57; i++ {
			c := f.db.Task.Create().SetKind([]task.Kind{task.KindApproval, task.KindTodo, task.KindSupervise, task.KindCc}[i%4]).
				SetType("t").SetTitle(fmt.Sprintf("事项 %d %s", i, []string{"甲", "乙"}[i%2])).SetPlugin([]string{"a", "b", "c"}[i%3]).
				SetReason(`{"code":"x"}`).SetAssigneeID(me).SetCreatedAt(now.Add(-time.Duration(i) * time.Hour)).
				SetStatus([]task.Status{task.StatusOpen, task.StatusOpen, task.StatusDone}[i%3])
			if i%5 != 0 { // every fifth has no deadline
				due := now.Add(time.Duration(i%7-2) * 24 * time.Hour) // ties on purpose
				c.SetDueAt(due).SetYellowAt(due.Add(-48 * time.Hour)).SetOrangeAt(due.Add(-12 * time.Hour))
			}
			f.must(c.Exec(ctx))
		}
		general := workflow.New(workflow.GeneralOnly(workflow.Options{Client: f.db, Now: func() time.Time { return now }}))
		for _, q := range []workflow.ListQuery{{}, {Plugin: "a"}, {Q: "甲"}, {Colour: "red"}, {Colour: "green"}} {
			for _, size := range []int{1, 7, 20, 100} {
				for page := 1; page <= 40/size+2; page++ {
					q := q
					q.Box, q.Page, q.Size = workflow.BoxTodo, page, size
					a, err := f.e.List(ctx, me, q)
					f.must(err)
					b, err := general.List(ctx, me, q)
					f.must(err)
					ja, _ := json.Marshal(a)
					jb, _ := json.Marshal(b)
					if string(ja) != string(jb) {
						t.Fatalf("%+v:\n one statement %s\n general       %s", q, ja, jb)
					}
				}
			}
		}
	})
}

func TestTrendCountsCompletedTasksPerDay(t *testing.T) {
	f := newFx(t, "sqlite")
	ctx := context.Background()
	f.publish("one", `{"nodes":[{"id":"a","type":"approval","approvers":{"type":"user","users":["pd_legal"]}}]}`)
	for i := 0; i < 2; i++ {
		f.must(f.act("pd_legal", f.one("pd_legal", f.start("pd_li", "one", nil), "a"), approve("")))
	}
	*f.now = f.now.AddDate(0, 0, 1)
	days, err := f.e.Trend(ctx, f.uid("pd_legal"), 7)
	f.must(err)
	if len(days) != 7 || days[5].Count != 2 || days[6].Count != 0 || days[5].Day != "2026-03-02" {
		t.Fatalf("trend %+v", days)
	}
	if _, err := f.e.Trend(ctx, 1, 0); code(err) != "request.invalid" {
		t.Fatalf("0 days: %v", err)
	}
}

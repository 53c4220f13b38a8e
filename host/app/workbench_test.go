package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shanghai-amr/portal/host/app"
	"github.com/shanghai-amr/portal/host/config"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// portal is a whole host (app.New with demo data) behind an httptest server.
type portal struct {
	t      *testing.T
	a      *app.App
	ts     *httptest.Server
	tokens map[string]string
	dir    string // the data directory (pluginPortal)
}

func newPortal(t *testing.T, dialect string) *portal {
	t.Helper()
	return openPortal(t, t.TempDir(), storetest.DSN(t, dialect))
}

// openPortal starts a host on a data folder and database (again, to restart).
func openPortal(t *testing.T, dir, dsn string) *portal {
	t.Helper()
	cfg, err := config.Load("portal", []string{"--data-dir", dir, "--db-dsn", dsn, "--demo"},
		func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ts := httptest.NewServer(a.Server.Handler())
	t.Cleanup(ts.Close)
	return &portal{t: t, a: a, ts: ts, tokens: map[string]string{}}
}

// as sends a request as a demo user (bearer session token), decoding the
// JSON answer into out when given; it returns the status and the raw body.
func (p *portal) as(user, method, path string, body any, out any) (int, string) {
	p.t.Helper()
	tok, ok := p.tokens[user]
	if !ok {
		password := identity.DemoPassword
		if user == "admin" {
			password = p.a.AdminPassword
		}
		code, b := p.do("", "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": password}, nil)
		if code != http.StatusOK {
			p.t.Fatalf("login %s: %d %s", user, code, b)
		}
		var s identity.Session
		_ = json.Unmarshal([]byte(b), &s)
		tok = s.Token
		p.tokens[user] = tok
	}
	return p.do(tok, method, path, body, out)
}

func (p *portal) do(tok, method, path string, body any, out any) (int, string) {
	p.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = strings.NewReader(string(j))
	}
	req, _ := http.NewRequest(method, p.ts.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			p.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return res.StatusCode, string(b)
}

func (p *portal) ok(user, method, path string, body any, out any) {
	p.t.Helper()
	if code, b := p.as(user, method, path, body, out); code >= 300 {
		p.t.Fatalf("%s %s %s: %d %s", user, method, path, code, b)
	}
}

type inboxItem struct {
	ID         int    `json:"id"`
	InstanceID int    `json:"instance_id"`
	Node       string `json:"node"`
	Status     string `json:"status"`
	Claimable  bool   `json:"claimable"`
	Reason     struct{ Code, Zh, En string }
}

// todo is the user's 待办 for one instance: node ids in order.
func (p *portal) todo(user string, inst int) []inboxItem {
	p.t.Helper()
	var page struct{ Items []inboxItem }
	p.ok(user, "GET", "/api/v1/workbench/boxes/todo?size=100", nil, &page)
	var out []inboxItem
	for _, it := range page.Items {
		if it.InstanceID == inst {
			out = append(out, it)
		}
	}
	return out
}

// one returns the user's only 待办 of the instance at node, failing otherwise.
func (p *portal) one(user string, inst int, node string) inboxItem {
	p.t.Helper()
	items := p.todo(user, inst)
	if len(items) != 1 || items[0].Node != node {
		p.t.Fatalf("%s's todo for instance %d = %+v, want one task at %s", user, inst, items, node)
	}
	return items[0]
}

func (p *portal) none(user string, inst int) {
	p.t.Helper()
	if items := p.todo(user, inst); len(items) != 0 {
		p.t.Fatalf("%s's todo for instance %d = %+v, want none", user, inst, items)
	}
}

func (p *portal) act(user string, task int, op map[string]any) {
	p.t.Helper()
	p.ok(user, "POST", fmt.Sprintf("/api/v1/workbench/tasks/%d/actions", task), op, nil)
}

// lastAudit checks the newest audit entry of the action's family (process.*,
// dict.* …): its action and actor.
func (p *portal) lastAudit(action, actor string) {
	p.t.Helper()
	family, _, _ := strings.Cut(action, ".")
	e, err := p.a.Store.Client.AuditEntry.Query().Where(auditentry.ActionHasPrefix(family + ".")).
		Order(ent.Desc(auditentry.FieldSeq)).First(context.Background())
	if err != nil {
		p.t.Fatal(err)
	}
	if e.Action != action || e.Actor != actor {
		p.t.Fatalf("last %s audit entry = %s by %s, want %s by %s", family, e.Action, e.Actor, action, actor)
	}
}

const filingDefinition = `{
  "title": {"zh-CN": "立案审批（测试）", "en": "Case filing (test)"},
  "form": [{"name": "party", "title": {"zh-CN": "当事人", "en": "Party"}}, {"name": "amount", "title": {"zh-CN": "罚款金额", "en": "Fine"}}],
  "nodes": [
    {"id": "review", "type": "approval", "name": "承办审核", "approvers": {"type": "user", "users": ["zj_zhao"]},
     "deadline": {"unit": "working_days", "amount": 3, "start_rule": "next_day"}},
    {"id": "joint", "type": "approval", "name": "联合审查", "mode": "all",
     "approvers": {"type": "user", "users": ["pd_legal", "pd_wang", "pd_chen"]}, "fields": {"amount": "edit", "party": "hidden"}},
    {"id": "amount_check", "type": "condition", "branches": [
      {"when": "form.amount > 10000", "nodes": [
        {"id": "leaders", "type": "approval", "name": "负责人审批", "mode": "any", "approvers": {"type": "user", "users": ["pd_wang", "city_zhang"]}}
      ]},
      {"nodes": []}
    ]},
    {"id": "copy", "type": "cc", "approvers": {"type": "user", "users": ["hp_liu"]}},
    {"id": "final", "type": "approval", "name": "机构负责人", "approvers": {"type": "initiator_leader"}}
  ]
}`

// TestApprovalRunThroughTheHTTPAPI runs one definition with a 会签 node, an 或签
// node and a condition branch through 转办, 加签, 退回 to a non-adjacent earlier
// node and 撤回, as different users, checking inboxes and the audit trail after
// every step.
func TestApprovalRunThroughTheHTTPAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		p := newPortal(t, dialect)
		ctx := context.Background()
		if _, err := identity.CreateUser(ctx, p.a.Store.Client, identity.NewUser{Username: "pd_chen", DisplayName: "陈晨",
			Password: identity.DemoPassword, OrgCode: "310115-D01", Roles: []string{"legal_reviewer"}}); err != nil {
			t.Fatal(err)
		}
		// An administrator publishes the definition; a handler cannot.
		if code, _ := p.as("pd_li", "POST", "/api/v1/admin/processes/case_filing", filingDefinition, nil); code != http.StatusForbidden {
			t.Fatalf("handler publishing: %d, want 403", code)
		}
		var pub struct{ Version int }
		p.ok("admin", "POST", "/api/v1/admin/processes/case_filing", filingDefinition, &pub)
		if pub.Version != 1 {
			t.Fatalf("version = %d", pub.Version)
		}
		p.lastAudit("process.publish", "admin")

		// 1. pd_li starts it.
		var started struct{ ID int }
		p.ok("pd_li", "POST", "/api/v1/workbench/instances", map[string]any{"key": "case_filing", "title": "某公司虚假宣传案立案",
			"form": map[string]any{"amount": 50000, "party": "某公司"}}, &started)
		inst := started.ID
		review := p.one("zj_zhao", inst, "review")
		p.lastAudit("process.start", "pd_li")

		// 2. 转办: zj_zhao hands the review to city_zhang for good.
		p.act("zj_zhao", review.ID, map[string]any{"action": "transfer", "users": []string{"city_zhang"}, "comment": "出差，转张伟"})
		p.none("zj_zhao", inst)
		moved := p.one("city_zhang", inst, "review")
		if moved.Reason.Code != "transfer" || !strings.Contains(moved.Reason.Zh, "转办") {
			t.Fatalf("reason = %+v", moved.Reason)
		}
		p.lastAudit("process.transfer", "zj_zhao")
		p.act("city_zhang", moved.ID, map[string]any{"action": "approve", "comment": "同意立案审查"})
		p.lastAudit("process.approve", "city_zhang")

		// 3. 会签: three reviewers. A reviewer cannot change a read-only field.
		legal, wang, chen := p.one("pd_legal", inst, "joint"), p.one("pd_wang", inst, "joint"), p.one("pd_chen", inst, "joint")
		var view struct {
			Form       map[string]any
			FormFields []struct{ Name string } `json:"form_fields"`
			Fields     map[string]string
		}
		p.ok("pd_legal", "GET", fmt.Sprintf("/api/v1/workbench/tasks/%d", legal.ID), nil, &view)
		if _, hidden := view.Form["party"]; hidden || view.Fields["amount"] != "edit" {
			t.Fatalf("task view form = %v fields = %v: party must be hidden, amount editable", view.Form, view.Fields)
		}
		// The definition's titled fields, the hidden one left out.
		if len(view.FormFields) != 1 || view.FormFields[0].Name != "amount" {
			t.Fatalf("task view form_fields = %+v, want amount alone", view.FormFields)
		}
		if code, b := p.as("pd_legal", "POST", fmt.Sprintf("/api/v1/workbench/tasks/%d/actions", legal.ID),
			map[string]any{"action": "approve", "form": map[string]any{"party": "别的公司"}}, nil); code != http.StatusUnprocessableEntity || !strings.Contains(b, "workflow.field_readonly") {
			t.Fatalf("editing a hidden field: %d %s", code, b)
		}
		p.act("pd_legal", legal.ID, map[string]any{"action": "approve", "form": map[string]any{"amount": 60000}})
		// 加签 before: pd_wang asks hp_reg first; his task waits until she answers.
		p.act("pd_wang", wang.ID, map[string]any{"action": "add_sign", "position": "before", "users": []string{"hp_reg"}, "comment": "请登记科先看"})
		p.none("pd_wang", inst)
		added := p.one("hp_reg", inst, "joint")
		p.lastAudit("process.add_sign", "pd_wang")
		p.act("hp_reg", added.ID, map[string]any{"action": "approve", "comment": "登记信息无误"})
		back := p.one("pd_wang", inst, "joint")
		if back.ID != wang.ID {
			t.Fatalf("pd_wang's task after 加签 = %d, want his original %d", back.ID, wang.ID)
		}
		p.act("pd_wang", wang.ID, map[string]any{"action": "approve"})
		p.one("pd_chen", inst, "joint")
		p.act("pd_chen", chen.ID, map[string]any{"action": "approve"})

		// 4. amount 60000 > 10000: the condition takes the 或签 branch.
		p.one("pd_wang", inst, "leaders")
		zhang := p.one("city_zhang", inst, "leaders")
		// 5. 退回 to "review", two nodes back on the path (not the previous one).
		p.act("city_zhang", zhang.ID, map[string]any{"action": "return", "target": "review", "comment": "证据不足，退回补充"})
		p.none("pd_wang", inst)
		p.none("city_zhang", inst)
		again := p.one("zj_zhao", inst, "review")
		p.lastAudit("process.return", "city_zhang")
		p.act("zj_zhao", again.ID, map[string]any{"action": "approve", "comment": "已补充"})
		for _, u := range []string{"pd_legal", "pd_wang", "pd_chen"} {
			p.act(u, p.one(u, inst, "joint").ID, map[string]any{"action": "approve"})
		}
		// 或签: the first approval decides; city_zhang's task is withdrawn.
		p.act("pd_wang", p.one("pd_wang", inst, "leaders").ID, map[string]any{"action": "approve"})
		p.none("city_zhang", inst)
		// 抄送 hp_liu, then the initiator's leader (pd_wang heads the Pudong bureau).
		var cc struct{ Items []inboxItem }
		p.ok("hp_liu", "GET", "/api/v1/workbench/boxes/cc", nil, &cc)
		if len(cc.Items) != 1 || cc.Items[0].InstanceID != inst {
			t.Fatalf("hp_liu's 抄送 = %+v", cc.Items)
		}
		p.one("pd_wang", inst, "final")

		// 6. 撤回 by the initiator: only they may; open tasks go away.
		if code, _ := p.as("pd_wang", "POST", fmt.Sprintf("/api/v1/workbench/instances/%d/actions", inst), map[string]any{"action": "withdraw"}, nil); code != http.StatusForbidden {
			t.Fatalf("withdraw by a non-initiator: %d", code)
		}
		p.ok("pd_li", "POST", fmt.Sprintf("/api/v1/workbench/instances/%d/actions", inst), map[string]any{"action": "withdraw", "comment": "当事人已整改"}, nil)
		p.none("pd_wang", inst)
		p.lastAudit("process.withdraw", "pd_li")
		var iv struct {
			Status   string
			Timeline []struct{ Action, Actor string }
		}
		p.ok("pd_li", "GET", fmt.Sprintf("/api/v1/workbench/instances/%d", inst), nil, &iv)
		if iv.Status != "withdrawn" {
			t.Fatalf("status = %s", iv.Status)
		}
		var acts []string
		for _, a := range iv.Timeline {
			acts = append(acts, a.Action)
		}
		want := "start transfer approve passed approve add_sign approve returned_to_owner approve approve passed branch return"
		if got := strings.Join(acts, " "); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "withdraw end") {
			t.Fatalf("timeline = %s", got)
		}
		// The done list of a participant, and 我发起的.
		var done, mine struct{ Total int }
		p.ok("pd_wang", "GET", "/api/v1/workbench/boxes/done", nil, &done)
		p.ok("pd_li", "GET", "/api/v1/workbench/boxes/started", nil, &mine)
		if done.Total != 3 || mine.Total != 1 {
			t.Fatalf("pd_wang done = %d (want 3), pd_li started = %d (want 1)", done.Total, mine.Total)
		}
	})
}

// TestTasksSurviveARestart: the inbox is in the host database, so a restarted
// host shows the same tasks and they can be acted on.
func TestTasksSurviveARestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		dir, dsn := t.TempDir(), storetest.DSN(t, dialect)
		p := openPortal(t, dir, dsn)
		p.ok("admin", "POST", "/api/v1/admin/processes/leave", `{"nodes":[{"id":"head","type":"approval","name":"负责人",
			"approvers":{"type":"initiator_leader"},"deadline":{"unit":"working_days","amount":2}}]}`, nil)
		var started struct{ ID int }
		p.ok("pd_li", "POST", "/api/v1/workbench/instances", map[string]any{"key": "leave", "title": "请假"}, &started)
		before := p.one("pd_wang", started.ID, "head")
		p.ts.Close()
		if err := p.a.Close(); err != nil {
			t.Fatal(err)
		}
		q := openPortal(t, dir, dsn)
		after := q.one("pd_wang", started.ID, "head")
		if after.ID != before.ID {
			t.Fatalf("task %d before the restart, %d after", before.ID, after.ID)
		}
		q.act("pd_wang", after.ID, map[string]any{"action": "approve"})
		var iv struct{ Status string }
		q.ok("pd_li", "GET", fmt.Sprintf("/api/v1/workbench/instances/%d", started.ID), nil, &iv)
		if iv.Status != "approved" {
			t.Fatalf("status %s", iv.Status)
		}
		var counts struct {
			Todo int `json:"todo"`
		}
		q.ok("pd_wang", "GET", "/api/v1/workbench/counts", nil, &counts)
		if counts.Todo != 0 {
			t.Fatalf("counts %+v", counts)
		}
	})
}

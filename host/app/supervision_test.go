package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/event"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
	"github.com/shanghai-amr/portal/host/store/ent/jobrun"
)

type supervisionJSON struct {
	Status        string
	NextReportDue time.Time `json:"next_report_due"`
	Reports       []struct{ Late bool }
	Opinions      []struct {
		ID       int64
		ReplyDue time.Time `json:"reply_due"`
		Late     bool
		Overdue  bool
	}
	Overdue []struct{ Kind, Ref string }
}

// todoItem is a row of a user's 待办 box.
type todoItem struct {
	ID          int
	Type        string
	BusinessKey string     `json:"business_key"`
	DueAt       *time.Time `json:"due_at"`
}

// supervisionTodos are the user's open to-dos of a type for the case.
func (p *portal) supervisionTodos(user, typ string, caseID int64) []todoItem {
	p.t.Helper()
	var page struct{ Items []todoItem }
	p.ok(user, "GET", "/api/v1/workbench/boxes/todo?size=100", nil, &page)
	var out []todoItem
	for _, it := range page.Items {
		if it.Type == typ && it.BusinessKey == strconv.FormatInt(caseID, 10) {
			out = append(out, it)
		}
	}
	return out
}

// messagesFrom counts the user's messages from the enforcement plugin whose
// title contains every one of parts.
func (p *portal) messagesFrom(user string, parts ...string) int {
	p.t.Helper()
	var msgs struct {
		Items []struct{ Source, Title string }
	}
	p.ok(user, "GET", "/api/v1/messages?size=100", nil, &msgs)
	n := 0
	for _, m := range msgs.Items {
		all := m.Source == "enforcement"
		for _, s := range parts {
			all = all && strings.Contains(m.Title, s)
		}
		if all {
			n++
		}
	}
	return n
}

// runJobs runs the scheduled jobs due at slot through the host's scheduler,
// its clock set to slot, and waits for the supervision job's run to succeed.
func (p *portal) runJobs(slot time.Time) {
	p.t.Helper()
	ctx := context.Background()
	s := event.NewScheduler(event.SchedulerOptions{Client: p.a.Store.Client, Jobs: p.a.Plugins.Jobs, Deliverer: p.a.Plugins,
		Location: clock.Shanghai, Now: func() time.Time { return slot }})
	s.Tick(ctx)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := p.a.Store.Client.JobRun.Query().Where(jobrun.Job("enforcement/enforcement.supervision")).
			Order(ent.Desc(jobrun.FieldSlot)).First(ctx)
		if err == nil && r.Slot.Equal(slot) && r.Status != jobrun.StatusRunning {
			if r.Status != jobrun.StatusSucceeded {
				p.t.Fatalf("the supervision job at %s: %s %s", slot, r.Status, r.Error)
			}
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the supervision job at %s did not run: %v %v", slot, r, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A Pudong case under the city bureau's supervision (督办, C24), through the
// HTTP API with the real plugin from a signed bundle: city_zhang (city
// enforcement division) designates it; the host's scheduler runs the daily
// job, which reminds the handler once, five days before the report day
// (R-DL-7); pd_li reports; a 催办 is answered within three working days on
// the host's calendar (R-DL-8, module 1340); a 督办意见 left unanswered is
// escalated once by the job to the head of the unit, pd_wang, and the
// supervisor is told (R-SUP-5, module 1339), and its late reply is recorded;
// a Huangpu officer gets 404 on every supervision route.
func TestSupervisedCaseThroughTheHTTPAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the enforcement plugin")
	}
	p, _ := pluginPortal(t, "enforcement")
	cal := p.a.Calendar
	loadNextYears(t, cal)
	c := fileCase(t, p, "")
	base := fmt.Sprintf("%s/cases/%d/supervision", ep, c.ID)
	today := time.Now().In(clock.Shanghai)
	at8 := func(days int) time.Time {
		d := today.AddDate(0, 0, days)
		return time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, clock.Shanghai)
	}
	endOfDay := func(d time.Time) time.Time {
		d = d.In(clock.Shanghai)
		return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 999_000_000, clock.Shanghai)
	}

	// Designation: the city bureau only. The first report is due on the
	// first report day after today, chosen three days ahead.
	designation := map[string]any{"report_day": today.AddDate(0, 0, 3).Day(), "deadline": today.AddDate(0, 3, 0).Format("2006-01-02"),
		"requirements": "查清涉案食品进货来源，每月报告调查进展"}
	if code, body := p.as("pd_li", "POST", base, designation, nil); code != http.StatusForbidden {
		t.Fatalf("a district designates: %d %s", code, body)
	}
	var x supervisionJSON
	p.ok("city_zhang", "POST", base, designation, &x)
	if x.Status != "active" || !x.NextReportDue.Equal(endOfDay(today.AddDate(0, 0, 3))) {
		t.Fatalf("designation: %+v", x)
	}
	if n := p.messagesFrom("pd_li", "已列为市局督办案件", c.Number); n != 1 {
		t.Fatalf("pd_li is told of the designation %d times", n)
	}

	// R-DL-7: the reminder window opened two days ago; the job reminds pd_li
	// once, however often it runs.
	p.runJobs(at8(1))
	p.runJobs(at8(2))
	reminders := p.supervisionTodos("pd_li", "enforcement.supervision.report", c.ID)
	if len(reminders) != 1 || reminders[0].DueAt == nil || !reminders[0].DueAt.Equal(x.NextReportDue) {
		t.Fatalf("pd_li's report reminders: %+v", reminders)
	}
	if code, body := p.as("city_zhang", "POST", base+"/reports", map[string]any{"body": "x"}, nil); code != http.StatusForbidden {
		t.Fatalf("the city reports: %d %s", code, body)
	}
	p.ok("pd_li", "POST", base+"/reports", map[string]any{"body": "已调取进货单据，涉案批次已送检。"}, &x)
	if len(x.Reports) != 1 || x.Reports[0].Late || len(p.supervisionTodos("pd_li", "enforcement.supervision.report", c.ID)) != 0 {
		t.Fatalf("report: %+v", x)
	}

	// R-DL-8: a 催办 today is due at the end of the third working day on the
	// host's calendar; pd_li has the to-do and answers in time.
	p.ok("city_zhang", "POST", base+"/opinions", map[string]any{"kind": "urge", "body": "请加快办理并回复检验进度"}, &x)
	want, err := cal.Compute(time.Now(), clock.Limit{Unit: clock.WorkingDays, Amount: 3, Start: clock.NextDay})
	if err != nil {
		t.Fatal(err)
	}
	urge := x.Opinions[0]
	if !urge.ReplyDue.Equal(want.Due) {
		t.Fatalf("reply due %s, the host's calendar says %s", urge.ReplyDue, want.Due)
	}
	if todos := p.supervisionTodos("pd_li", "enforcement.supervision.reply", c.ID); len(todos) != 1 || !todos[0].DueAt.Equal(want.Due) {
		t.Fatalf("pd_li's reply to-dos: %+v", todos)
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/opinions/%d/reply", base, urge.ID), map[string]any{"body": "检验报告预计下周出具。"}, &x)
	if x.Opinions[0].Late || len(p.supervisionTodos("pd_li", "enforcement.supervision.reply", c.ID)) != 0 {
		t.Fatalf("reply in time: %+v", x.Opinions)
	}

	// A 督办意见 served on paper 20 days ago: its reply day has passed. The
	// job escalates it once — a to-do for pd_wang (case_lead, the level
	// above the handler) and a message to city_zhang — then pd_li's late
	// reply is recorded as late.
	p.ok("city_zhang", "POST", base+"/opinions", map[string]any{"kind": "supervise", "body": "请报告检验结果及下一步意见",
		"received_on": today.AddDate(0, 0, -20).Format("2006-01-02")}, &x)
	late := x.Opinions[1]
	if !late.Overdue || !late.ReplyDue.Before(time.Now()) {
		t.Fatalf("an opinion received 20 days ago: %+v", late)
	}
	if n := len(p.supervisionTodos("pd_wang", "enforcement.supervision.overdue", c.ID)); n != 0 {
		t.Fatalf("escalated before the job ran: %d", n)
	}
	p.runJobs(at8(3))
	p.runJobs(at8(4))
	if n := len(p.supervisionTodos("pd_wang", "enforcement.supervision.overdue", c.ID)); n != 1 {
		t.Fatalf("pd_wang's overdue warnings: %d, want 1", n)
	}
	if n := p.messagesFrom("city_zhang", "回复逾期", c.Number); n != 1 {
		t.Fatalf("city_zhang is told of the late reply %d times", n)
	}
	p.ok("pd_li", "POST", fmt.Sprintf("%s/opinions/%d/reply", base, late.ID), map[string]any{"body": "检验报告已出具，拟作出处罚。"}, &x)
	if !x.Opinions[1].Late || len(x.Overdue) != 1 || x.Overdue[0].Kind != "reply_overdue" {
		t.Fatalf("late reply: %+v %+v", x.Opinions, x.Overdue)
	}
	for _, a := range []struct{ action, actor string }{{"enforcement.supervision.designate", "city_zhang"},
		{"enforcement.supervision.remind", "plugin:enforcement"}, {"enforcement.supervision.escalate", "plugin:enforcement"},
		{"enforcement.supervision.reply", "pd_li"}} {
		if n, err := p.a.Store.Client.AuditEntry.Query().Where(auditentry.Action(a.action), auditentry.Actor(a.actor)).Count(context.Background()); err != nil || n == 0 {
			t.Fatalf("no audit entry %s by %s (%v)", a.action, a.actor, err)
		}
	}

	// Data scope: the city and Pudong list it; Huangpu lists nothing and gets
	// 404 on every supervision route of this case.
	for user, n := range map[string]int{"city_zhang": 1, "pd_li": 1, "hp_liu": 0} {
		var list struct{ Supervisions []supervisionJSON }
		p.ok(user, "GET", ep+"/supervisions", nil, &list)
		if len(list.Supervisions) != n {
			t.Fatalf("%s lists %d supervised cases, want %d", user, len(list.Supervisions), n)
		}
	}
	probe := map[string]any{"body": "x", "kind": "urge", "reason": "x", "report_day": 10, "deadline": today.AddDate(0, 1, 0).Format("2006-01-02"), "requirements": "x"}
	for _, r := range []string{"GET ", "POST ", "POST /reports", "POST /opinions", fmt.Sprintf("POST /opinions/%d/reply", late.ID), "POST /end"} {
		method, path, _ := strings.Cut(r, " ")
		if code, body := p.as("hp_liu", method, base+path, probe, nil); code != http.StatusNotFound {
			t.Fatalf("hp_liu %s %s: %d %s", method, base+path, code, body)
		}
	}
	p.ok("city_zhang", "GET", base, nil, &x)
	if x.Status != "active" || len(x.Opinions) != 2 || len(x.Reports) != 1 {
		t.Fatalf("the refused calls changed the supervision: %+v", x)
	}
}

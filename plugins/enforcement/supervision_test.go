package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/plugins/enforcement/rules"
	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/plugintest"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// Dates of the tests: September–December 2026, with the Mid-Autumn and
// National Day holidays (09-25…27, 10-01…07) and the make-up working days
// 09-20 (Sunday) and 10-10 (Saturday) of the State Council's 2026 schedule
// (host/clock/calendars/2026.yaml), which the host's calendar answers at run
// time.
var supHolidays = map[string]bool{"2026-09-25": true, "2026-09-26": true, "2026-09-27": true, "2026-10-01": true, "2026-10-02": true,
	"2026-10-03": true, "2026-10-04": true, "2026-10-05": true, "2026-10-06": true, "2026-10-07": true}

var supMakeUp = map[string]bool{"2026-09-20": true, "2026-10-10": true}

var supCalendar = rules.CalendarFunc(func(d time.Time) bool {
	k := isoDay(d)
	if d.In(shanghai).Year() != 2026 {
		panic("test calendar: 2026 only, " + k)
	}
	return supMakeUp[k] || (!supHolidays[k] && d.In(shanghai).Weekday() != time.Saturday && d.In(shanghai).Weekday() != time.Sunday)
})

func cst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func endOf(s string) time.Time { return rules.EndOfDay(cst(s + " 00:00")) }

// fakePlatform stands in for the host's calendar, workbench and message
// centre, recording what the plugin asked; failTodo and failMessage make the
// next calls fail.
type fakePlatform struct {
	mu                    sync.Mutex
	todos                 []*pluginv1.CreateTaskRequest
	completed             []string
	messages              []fakeMessage
	failTodo, failMessage int
}

type fakeMessage struct {
	To       []string
	Template string
	Data     map[string]any
}

func (f *fakePlatform) replyDue(_ context.Context, received time.Time) (time.Time, error) {
	return rules.ReplyDue(supCalendar, received), nil
}

func (f *fakePlatform) createTodo(_ context.Context, req *pluginv1.CreateTaskRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failTodo > 0 {
		f.failTodo--
		return "", errors.New("workbench down")
	}
	f.todos = append(f.todos, req)
	return fmt.Sprint(len(f.todos)), nil
}

func (f *fakePlatform) completeTodo(_ context.Context, taskID, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.completed = append(f.completed, taskID)
	return nil
}

func (f *fakePlatform) sendMessage(_ context.Context, to []string, template string, data map[string]any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failMessage > 0 {
		f.failMessage--
		return errors.New("message centre down")
	}
	f.messages = append(f.messages, fakeMessage{to, template, data})
	return nil
}

// todosOf are the to-dos of a type, in order.
func (f *fakePlatform) todosOf(typ string) []*pluginv1.CreateTaskRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*pluginv1.CreateTaskRequest
	for _, t := range f.todos {
		if t.TaskType == typ {
			out = append(out, t)
		}
	}
	return out
}

var (
	// city_zhang of the city enforcement division (demo seed).
	cityUser = sdk.Caller{Audience: "staff", Subject: "city_zhang", Username: "city_zhang", OrgCode: "310000-D04",
		OrgPath: "/310000/310000-D04", Jurisdiction: "city", Locale: "zh-CN"}
	// pd_li of the Pudong enforcement brigade, the case's handler.
	unitUser = sdk.Caller{Audience: "staff", Subject: "pd_li", Username: "pd_li", OrgCode: "310115-D03",
		OrgPath: "/310000/310115/310115-D03", Jurisdiction: "district", Locale: "zh-CN"}
	// hp_liu of Huangpu: not the handling unit.
	otherUnitUser = sdk.Caller{Audience: "staff", Subject: "hp_liu", Username: "hp_liu", OrgCode: "310101-D03",
		OrgPath: "/310000/310101/310101-D03", Jurisdiction: "district", Locale: "zh-CN"}
)

// supervisionHarness starts the plugin with the fake platform and a clock
// the test sets, and files a Pudong case (as the filing approval would) for
// pd_li; it returns the case id.
func supervisionHarness(t *testing.T) (*plugintest.Harness, *fakePlatform, *time.Time, int64) {
	t.Helper()
	h := plugintest.Start(t, Plugin())
	fake := &fakePlatform{}
	now := cst("2026-09-20 10:00")
	supervisor.platform, supervisor.now = fake, func() time.Time { return now }
	ctx := context.Background()
	filed := cst("2026-09-01 09:00")
	res, err := svc.db.ExecContext(ctx, `INSERT INTO leads (source, party_name, party_id, party_address, summary, org_code, org_path,
		status, track, created_by, created_at) VALUES ('complaint', '上海浦东示例科技有限公司', '91310115MA1K4PTX8J', '', '投诉',
		'310115-D03', '/310000/310115/310115-D03', 'filed', '{}', 'pd_li', ?)`, ms(filed))
	if err != nil {
		t.Fatal(err)
	}
	lead, _ := res.LastInsertId()
	res, err = svc.db.ExecContext(ctx, `INSERT INTO cases (lead_id, number, cause, party_name, party_id, party_address, org_code, org_path,
		status, track, created_at) VALUES (?, '沪市监浦立〔2026〕7号', '销售过期食品', '上海浦东示例科技有限公司', '91310115MA1K4PTX8J', '',
		'310115-D03', '/310000/310115/310115-D03', 'investigating', '{}', ?)`, lead, ms(filed))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return h, fake, &now, id
}

type supJSON struct {
	Status        string
	NextReportDue time.Time `json:"next_report_due"`
	ReminderOn    time.Time `json:"reminder_on"`
	Reports       []struct {
		PeriodDue     time.Time `json:"period_due"`
		Late          bool
		Supplementary bool
	}
	Opinions []struct {
		ID       int64
		ReplyDue time.Time `json:"reply_due"`
		Late     bool
		Overdue  bool
	}
	Overdue []struct{ Kind, Ref string }
}

func doSup(t *testing.T, h *plugintest.Harness, method, path, body string, who sdk.Caller, status int) supJSON {
	t.Helper()
	rec := h.Do(t, method, path, body, who)
	if rec.Code != status {
		t.Fatalf("%s %s as %s: %d %s, want %d", method, path, who.Username, rec.Code, rec.Body, status)
	}
	var out supJSON
	if status < 300 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// R-DL-7 (module 1338): the monthly report periods — the first ends on the
// first report day after the designation day; a report covers the oldest
// unreported period, late after its day; one filed before the next period
// starts is supplementary.
func TestSupervisionReportPeriods(t *testing.T) {
	for _, c := range []struct {
		name       string
		day        int
		designated string
		want       string
	}{
		{"R-DL-7 report day 10, designated 09-20: 10-10", 10, "2026-09-20 10:00", "2026-10-10"},
		{"R-DL-7 designated on the report day: next month", 10, "2026-09-10 10:00", "2026-10-10"},
		{"R-DL-7 designated the day before: the next day", 10, "2026-09-09 23:00", "2026-09-10"},
		{"R-DL-7 report day 31 in November: its last day", 31, "2026-11-03 10:00", "2026-11-30"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := firstReportDue(c.day, cst(c.designated)); !got.Equal(endOf(c.want)) {
				t.Fatalf("firstReportDue = %s, want the end of %s", got, c.want)
			}
		})
	}
	x := &supervisionRecord{ReportDay: 31, periodStart: cst("2026-10-01 00:00"), NextReportDue: endOf("2026-10-31")}
	for _, c := range []struct {
		name                 string
		at                   string
		due                  string
		late, supplementary  bool
		nextStart, nextDueOn string
	}{
		{"R-DL-7 on the report day: in time, next 11-30", "2026-10-31 23:59", "2026-10-31", false, false, "2026-11-01", "2026-11-30"},
		{"R-DL-7 the day after: late (民法典 第二百零三条)", "2026-11-01 00:00", "2026-10-31", true, false, "2026-11-01", "2026-11-30"},
		{"before the period starts: supplementary", "2026-09-30 15:00", "2026-09-30", false, true, "2026-10-01", "2026-10-31"},
	} {
		t.Run(c.name, func(t *testing.T) {
			due, late, supp, nextStart, nextDue := x.reportPeriod(cst(c.at))
			if !rules.StartOfDay(due).Equal(rules.StartOfDay(endOf(c.due))) || late != c.late || supp != c.supplementary ||
				!nextStart.Equal(cst(c.nextStart+" 00:00")) || !nextDue.Equal(endOf(c.nextDueOn)) {
				t.Fatalf("reportPeriod = %s late %v supplementary %v, next %s–%s", due, late, supp, nextStart, nextDue)
			}
		})
	}
}

// What the job records when (R-DL-7 reminder, R-DL-8 reply, R-SUP-5
// escalations).
func TestSupervisionDueAlerts(t *testing.T) {
	replied := cst("2026-10-16 09:00")
	x := &supervisionRecord{NextReportDue: endOf("2026-10-10"), Deadline: endOf("2026-12-31"),
		Opinions: []supOpinion{{ID: 1, ReplyDue: endOf("2026-10-15")}}}
	lateReply := &supervisionRecord{NextReportDue: endOf("2026-11-10"), Deadline: endOf("2026-12-31"),
		Opinions: []supOpinion{{ID: 2, ReplyDue: endOf("2026-10-15"), RepliedAt: &replied, Late: true}},
		Reports:  []supReport{{PeriodDue: endOf("2026-10-10"), Late: true}}}
	for _, c := range []struct {
		name string
		x    *supervisionRecord
		at   string
		want string
	}{
		{"R-DL-7 six days before the report day: nothing", x, "2026-10-04 08:00", ""},
		{"R-DL-7 five days before: the reminder", x, "2026-10-05 08:00", "report_reminder 2026-10-10"},
		{"R-DL-7 on the report day: still the reminder", x, "2026-10-10 08:00", "report_reminder 2026-10-10"},
		{"R-SUP-5 the day after, unreported: overdue; R-DL-8 the reply due 10-15 not yet", x, "2026-10-11 08:00", "report_overdue 2026-10-10"},
		{"R-DL-8 the day after the reply's third working day: overdue", x, "2026-10-16 08:00", "report_overdue 2026-10-10; reply_overdue opinion-1"},
		{"a reply and a report that came late are escalated too", lateReply, "2026-10-20 08:00", "report_overdue 2026-10-10; reply_overdue opinion-2"},
		{"督办期限 passed with the case open", lateReply, "2027-01-01 08:00",
			"report_overdue 2026-11-10; report_overdue 2026-10-10; reply_overdue opinion-2; deadline_overdue 2026-12-31"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, a := range c.x.dueAlerts(cst(c.at)) {
				got = append(got, a.Kind+" "+a.Ref)
			}
			if strings.Join(got, "; ") != c.want {
				t.Fatalf("dueAlerts = %q, want %q", strings.Join(got, "; "), c.want)
			}
		})
	}
}

// Designation by the city bureau, the unit's report, a 催办 opinion answered
// in time and a 督办意见 answered late, through the routes, with who may do
// what and the audit trail (C24 1337, 1339, 1340).
func TestSupervisionThroughTheRoutes(t *testing.T) {
	h, fake, now, id := supervisionHarness(t)
	base := fmt.Sprintf("/cases/%d/supervision", id)
	designation := `{"report_day":10,"deadline":"2026-12-31","requirements":"查清进货来源，每月报告调查进展"}`

	doSup(t, h, "GET", base, "", cityUser, http.StatusNotFound)
	doSup(t, h, "POST", base, designation, unitUser, http.StatusForbidden) // a district does not supervise
	for _, bad := range []string{`{"report_day":0,"deadline":"2026-12-31","requirements":"x"}`,
		`{"report_day":10,"deadline":"2026-09-19","requirements":"x"}`, `{"report_day":10,"deadline":"2026-12-31","requirements":" "}`} {
		doSup(t, h, "POST", base, bad, cityUser, http.StatusBadRequest)
	}
	x := doSup(t, h, "POST", base, designation, cityUser, http.StatusCreated)
	if x.Status != "active" || !x.NextReportDue.Equal(endOf("2026-10-10")) || !x.ReminderOn.Equal(cst("2026-10-05 00:00")) {
		t.Fatalf("designation: %+v", x)
	}
	doSup(t, h, "POST", base, designation, cityUser, http.StatusConflict)
	if len(fake.messages) != 1 || fake.messages[0].Template != "supervision.designated" || fake.messages[0].To[0] != "pd_li" {
		t.Fatalf("the handler is told: %+v", fake.messages)
	}

	// The unit reports; the city cannot, nor another district.
	report := `{"body":"已调取进货单据，正在核查供货商。"}`
	doSup(t, h, "POST", base+"/reports", report, cityUser, http.StatusForbidden)
	doSup(t, h, "POST", base+"/reports", report, otherUnitUser, http.StatusForbidden)
	*now = cst("2026-10-09 16:00")
	x = doSup(t, h, "POST", base+"/reports", report, unitUser, http.StatusCreated)
	if len(x.Reports) != 1 || x.Reports[0].Late || !x.Reports[0].PeriodDue.Equal(endOf("2026-10-10")) || !x.NextReportDue.Equal(endOf("2026-11-10")) {
		t.Fatalf("report in time: %+v", x)
	}

	// R-DL-8: a 催办 received Tuesday 09-29 is answered by Friday 10-09 (the
	// National Day holiday does not count); the handler's to-do is due then.
	*now = cst("2026-09-29 15:00")
	doSup(t, h, "POST", base+"/opinions", `{"kind":"urge","body":"请加快办理"}`, unitUser, http.StatusForbidden)
	doSup(t, h, "POST", base+"/opinions", `{"kind":"praise","body":"x"}`, cityUser, http.StatusBadRequest)
	x = doSup(t, h, "POST", base+"/opinions", `{"kind":"urge","body":"请加快办理，十月九日前回复"}`, cityUser, http.StatusCreated)
	urge := x.Opinions[0]
	if !urge.ReplyDue.Equal(endOf("2026-10-09")) {
		t.Fatalf("reply due %s, want the end of 2026-10-09", urge.ReplyDue)
	}
	todos := fake.todosOf(taskSupReply)
	if len(todos) != 1 || todos[0].Assignees[0] != "pd_li" || todos[0].OrgCode != "310115-D03" || todos[0].DueUnixMs != ms(endOf("2026-10-09")) {
		t.Fatalf("reply to-do: %+v", todos)
	}
	*now = cst("2026-10-09 20:00")
	x = doSup(t, h, "POST", fmt.Sprintf("%s/opinions/%d/reply", base, urge.ID), `{"body":"已于10月8日完成抽样送检。"}`, unitUser, http.StatusOK)
	if x.Opinions[0].Late || len(fake.completed) != 1 || fake.completed[0] != "1" {
		t.Fatalf("reply in time: %+v, completed %v", x.Opinions, fake.completed)
	}
	doSup(t, h, "POST", fmt.Sprintf("%s/opinions/%d/reply", base, urge.ID), `{"body":"again"}`, unitUser, http.StatusConflict)

	// A 督办意见 entered on 10-12, served on paper on Thursday 10-08: due
	// Monday 10-12 (10-09, the make-up Saturday 10-10, 10-12); answered 10-13,
	// late.
	*now = cst("2026-10-12 11:00")
	x = doSup(t, h, "POST", base+"/opinions", `{"kind":"supervise","body":"请报告检验结果","received_on":"2026-10-08"}`, cityUser, http.StatusCreated)
	sup := x.Opinions[1]
	if !sup.ReplyDue.Equal(endOf("2026-10-12")) || sup.Overdue {
		t.Fatalf("督办意见: %+v", sup)
	}
	*now = cst("2026-10-13 09:00")
	x = doSup(t, h, "POST", fmt.Sprintf("%s/opinions/%d/reply", base, sup.ID), `{"body":"检验报告已出具。"}`, unitUser, http.StatusOK)
	if !x.Opinions[1].Late {
		t.Fatalf("a reply on a day after the due day is late: %+v", x.Opinions[1])
	}
	doSup(t, h, "POST", base+"/opinions", `{"kind":"urge","body":"x","received_on":"2026-08-01"}`, cityUser, http.StatusBadRequest)

	// The end: no more changes.
	doSup(t, h, "POST", base+"/end", `{"reason":"已作出处罚决定"}`, unitUser, http.StatusForbidden)
	x = doSup(t, h, "POST", base+"/end", `{"reason":"已作出处罚决定"}`, cityUser, http.StatusOK)
	if x.Status != "ended" {
		t.Fatalf("end: %+v", x)
	}
	doSup(t, h, "POST", base+"/reports", report, unitUser, http.StatusConflict)

	var actions []string
	for _, a := range h.Audit() {
		actions = append(actions, a.Action)
	}
	if got := strings.Join(actions, " "); got != "supervision.designate supervision.report supervision.opinion supervision.reply supervision.opinion supervision.reply supervision.end" {
		t.Fatalf("audit: %s", got)
	}
	var list struct{ Supervisions []supJSON }
	if rec := h.Do(t, "GET", "/supervisions", "", cityUser); rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &list) != nil || len(list.Supervisions) != 1 {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
}

// The job, run for slots days apart: the report reminder once per report day
// (R-DL-7), one escalation per late report and reply (R-SUP-5, R-DL-8), a
// failed host call retried by the next run without repeating what succeeded,
// and nothing after the supervision ended.
func TestSupervisionJobRemindsOnceAndEscalatesOnce(t *testing.T) {
	h, fake, now, id := supervisionHarness(t)
	base := fmt.Sprintf("/cases/%d/supervision", id)
	doSup(t, h, "POST", base, `{"report_day":10,"deadline":"2026-12-31","requirements":"每月报告调查进展"}`, cityUser, http.StatusCreated)
	ctx := context.Background()
	run := func(slot string) {
		t.Helper()
		if err := onJob(ctx, supervisionJob, cst(slot)); err != nil {
			t.Fatalf("job at %s: %v", slot, err)
		}
	}
	count := func(want string) {
		t.Helper()
		got := fmt.Sprintf("%d reminders, %d escalations, %d messages", len(fake.todosOf(taskSupReport)), len(fake.todosOf(taskSupOverdue)), len(fake.messages)-1)
		if got != want {
			t.Fatalf("%s, want %s", got, want)
		}
	}

	run("2026-10-04 08:00")
	count("0 reminders, 0 escalations, 0 messages")
	for _, slot := range []string{"2026-10-05 08:00", "2026-10-06 08:00", "2026-10-10 08:00"} {
		run(slot)
		count("1 reminders, 0 escalations, 0 messages")
	}
	r := fake.todosOf(taskSupReport)[0]
	if r.Assignees[0] != "pd_li" || r.OrgCode != "310115-D03" || r.DueUnixMs != ms(endOf("2026-10-10")) || !strings.Contains(r.Title["zh-CN"], "2026-10-10前报市局") {
		t.Fatalf("reminder: %+v", r)
	}

	// Unreported on 10-11: recorded, the head of the unit warned (a to-do
	// for case_lead in the Pudong bureau), the handler and the supervisor told.
	run("2026-10-11 08:00")
	run("2026-10-12 08:00")
	count("1 reminders, 1 escalations, 1 messages")
	e, m := fake.todosOf(taskSupOverdue)[0], fake.messages[1]
	if e.CandidateRoles[0] != "case_lead" || e.OrgCode != "310115" || m.Template != "supervision.report_overdue" ||
		strings.Join(m.To, ",") != "pd_li,city_zhang" || m.Data["due"] != "2026-10-10" {
		t.Fatalf("escalation: %+v, %+v", e, m)
	}
	// The late report closes the reminder and is not escalated again.
	*now = cst("2026-10-12 10:00")
	x := doSup(t, h, "POST", base+"/reports", `{"body":"进展报告"}`, unitUser, http.StatusCreated)
	if !x.Reports[0].Late || len(fake.completed) != 1 || len(x.Overdue) != 1 || x.Overdue[0].Kind != "report_overdue" {
		t.Fatalf("late report: %+v, completed %v", x, fake.completed)
	}
	run("2026-10-13 08:00")
	count("1 reminders, 1 escalations, 1 messages")

	// A 催办 received 10-12, due 10-15, not answered. The message centre is
	// down on 10-16: the warning to-do is kept, the message is sent on 10-17,
	// and nothing is sent twice.
	*now = cst("2026-10-12 11:00")
	doSup(t, h, "POST", base+"/opinions", `{"kind":"urge","body":"请于三个工作日内回复"}`, cityUser, http.StatusCreated)
	fake.failMessage = 1
	if err := onJob(ctx, supervisionJob, cst("2026-10-16 08:00")); err == nil || !strings.Contains(err.Error(), "message centre down") {
		t.Fatalf("a failed message fails the run: %v", err)
	}
	count("1 reminders, 2 escalations, 1 messages")
	run("2026-10-17 08:00")
	run("2026-10-18 08:00")
	count("1 reminders, 2 escalations, 2 messages")
	if m := fake.messages[2]; m.Template != "supervision.reply_overdue" || m.Data["due"] != "2026-10-15" || strings.Join(m.To, ",") != "pd_li,city_zhang" {
		t.Fatalf("reply escalation: %+v", m)
	}
	// A failed to-do is retried too.
	fake.failTodo = 1
	if err := onJob(ctx, supervisionJob, cst("2026-11-05 08:00")); err == nil {
		t.Fatal("a failed to-do fails the run")
	}
	run("2026-11-06 08:00")
	count("2 reminders, 2 escalations, 2 messages")

	// Ended: nothing more, not even past the deadline.
	*now = cst("2026-11-06 10:00")
	doSup(t, h, "POST", base+"/end", `{"reason":"督办事项已完成"}`, cityUser, http.StatusOK)
	run("2027-01-05 08:00")
	count("2 reminders, 2 escalations, 2 messages")
	var remind, escalate int
	for _, a := range h.Audit() {
		switch a.Action {
		case "supervision.remind":
			remind++
		case "supervision.escalate":
			escalate++
		}
	}
	if remind != 2 || escalate != 2 {
		t.Fatalf("audited %d reminders and %d escalations", remind, escalate)
	}
}

package main

// Supervision (督办, C24 督办案件执行管理, modules 1337–1344): the city bureau
// designates a case as supervised, with the day of the month its progress
// report is due and the supervision deadline (督办期限); the handling unit
// files a progress report each month; the city bureau sends 催办 and 督办
// opinions, which the unit answers within three working days; a scheduled job
// reminds the unit five days before each report day and escalates what is
// late. Rules: R-DL-6 … R-DL-8 (§2.1), R-SUP-5 (§2.9).
//
// Who is who. The supervisor is a city-level user (jurisdiction "city") with
// enforcement.case.write: only they designate, send opinions and end the
// supervision. The handling unit is the bureau the case belongs to (the
// first two segments of its organisation path, e.g. /310000/310115): only
// its users file reports and replies. Everyone else in scope may read. Out of
// scope — a case of another district — answers 404 on every route, as on
// every case route; the host's policy decides (the city sees every
// supervised case, a district its own).
//
// Reports. Periods end on the report day of each month (rules.MonthlyReportDue;
// a 31 in a short month is its last day); the first ends on the first report
// day after the designation day. A report covers the oldest unreported period
// and is late when filed on a day after its report day. A report filed while
// the current period is already covered (it has not started yet) is a
// supplementary report and moves nothing.
//
// The job (plugin.yaml jobs: enforcement.supervision, daily at 08:00) works
// from the stored state, not from the slot it was given, so a missed slot is
// caught up by the next: for every active supervision of an open case it
// records what is due as an alert row, unique per (supervision, kind, ref),
// then delivers the alerts not yet delivered, each step (to-do, message)
// stored once done. So a reminder is sent once per report day, an escalation
// once per late report, reply or deadline, and a host call that failed is
// retried by the next run without repeating the steps that succeeded.
//
//   - report_reminder (R-DL-7): from five days before the report day through
//     the day itself, a to-do for the case handler, due on the report day,
//     completed when the report is filed.
//   - report_overdue, reply_overdue, deadline_overdue (R-SUP-5: "overdue or
//     missing reports are recorded, the unit warned, the supervising dept
//     informed"; R-DL-8 for replies): the alert is the record; the warning
//     goes one level up from the handler who owes the report or reply — a
//     to-do for the head of the handling unit (role case_lead in the case's
//     bureau) — and a message tells the handler and the supervisor (the
//     designating user, and for a reply the user who sent the opinion). A
//     reply or report that came late, after the job last ran, is escalated
//     the same way.
//
// The job's "now" is its slot (the scheduled time), so tests run it for any
// day without waiting. Requests take their time from supervision.now.
//
// Not built: the approval chains of 1337 (designation after 分管局领导
// approval) and 1341 (the report chain through five reviews to 市级督办部门)
// — the city user's permission stands for them; 案件捏合 (1338); the
// 督办文书 (1344); statistics (1343); the R-SUP-1…3 prompts and consent
// gates inside the case flow.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/plugins/enforcement/rules"
	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/storage"
)

// Names in plugin.yaml.
const (
	supervisionJob     = "enforcement.supervision"         // jobs
	taskSupReport      = "enforcement.supervision.report"  // tasks: the monthly report, R-DL-7
	taskSupReply       = "enforcement.supervision.reply"   // tasks: the reply to an opinion, R-DL-8
	taskSupOverdue     = "enforcement.supervision.overdue" // tasks: the warning, R-SUP-5
	supEscalationRole  = "case_lead"                       // 办案机构负责人: the level above the handler
	supStatusActive    = "active"
	supStatusEnded     = "ended"
	supMaxText         = 4000
	supOpinionBackdays = 30 // an opinion served on paper may be entered up to this many days later
)

// Alert kinds (supervision_alerts.kind).
const (
	alertReminder   = "report_reminder"  // R-DL-7
	alertReportLate = "report_overdue"   // R-SUP-5
	alertReplyLate  = "reply_overdue"    // R-DL-8, R-SUP-5
	alertDeadline   = "deadline_overdue" // 督办期限 passed with the case open
)

// opinionKinds are the opinions the city bureau sends (R-DL-8: "催办或督办意见").
var opinionKinds = map[string][2]string{"urge": {"催办意见", "urging"}, "supervise": {"督办意见", "supervision opinion"}}

func init() {
	// The supervision routes' refusals, in the plugin's one message table.
	messages["enforcement.city_only"] = [2]string{"仅市局可以进行此操作（督办）", "Only the city bureau may do this (supervision)"}
	messages["enforcement.unit_only"] = [2]string{"仅承办单位可以进行此操作", "Only the handling unit may do this"}
}

// supervisionHost is what supervision needs from the host, narrowed so its
// tests can stand in for the calendar, the workbench and the message centre
// (the plugintest host has none of them). Calls made with a request's
// context act for its user; the job's act as the plugin.
type supervisionHost interface {
	// replyDue is the end of the third working day after receipt, on the
	// host's calendar (R-DL-8).
	replyDue(ctx context.Context, received time.Time) (time.Time, error)
	createTodo(ctx context.Context, req *pluginv1.CreateTaskRequest) (string, error)
	completeTodo(ctx context.Context, taskID, comment string) error
	sendMessage(ctx context.Context, to []string, template string, data map[string]any) error
}

// hostSupervision is supervisionHost on the real host.
type hostSupervision struct{ s *service }

func (h hostSupervision) replyDue(ctx context.Context, received time.Time) (time.Time, error) {
	// The same count as the party's statement window: N working days from
	// receipt, the day of receipt not counted.
	return h.s.statementDue(ctx, received, rules.ReplyWorkingDays)
}

func (h hostSupervision) createTodo(ctx context.Context, req *pluginv1.CreateTaskRequest) (string, error) {
	t, err := h.s.host.Tasks.CreateTask(ctx, req)
	if err != nil {
		return "", err
	}
	return t.TaskId, nil
}

func (h hostSupervision) completeTodo(ctx context.Context, taskID, comment string) error {
	_, err := h.s.host.Tasks.CompleteTask(ctx, &pluginv1.CompleteTaskRequest{TaskId: taskID, Comment: comment})
	return err
}

func (h hostSupervision) sendMessage(ctx context.Context, to []string, template string, data map[string]any) error {
	b, _ := json.Marshal(data)
	_, err := h.s.host.Messages.SendMessage(ctx, &pluginv1.SendMessageRequest{Recipients: to, Template: template, Data: b})
	return err
}

// supervision is the 督办 part of the service.
type supervision struct {
	*service
	platform supervisionHost
	now      func() time.Time
}

// supervisor is the started supervision; scheduled jobs arrive after Start
// (like svc for task callbacks).
var supervisor *supervision

// supervisionRoutes registers the 督办 routes (plugin.yaml lists them).
func (s *service) supervisionRoutes(mux *http.ServeMux) {
	sv := &supervision{service: s, platform: hostSupervision{s}, now: time.Now}
	supervisor = sv
	mux.HandleFunc("GET /supervisions", sv.list)
	mux.HandleFunc("GET /cases/{id}/supervision", sv.get)
	mux.HandleFunc("POST /cases/{id}/supervision", sv.designate)
	mux.HandleFunc("POST /cases/{id}/supervision/reports", sv.fileReport)
	mux.HandleFunc("POST /cases/{id}/supervision/opinions", sv.sendOpinion)
	mux.HandleFunc("POST /cases/{id}/supervision/opinions/{opinion}/reply", sv.reply)
	mux.HandleFunc("POST /cases/{id}/supervision/end", sv.end)
}

// onJob runs the plugin's scheduled jobs (plugin.yaml jobs).
func onJob(ctx context.Context, name string, slot time.Time) error {
	if name == supervisionJob && supervisor != nil {
		return supervisor.run(ctx, slot)
	}
	return nil
}

// supCase is what supervision reads of a case.
type supCase struct {
	ID        int64
	Number    string
	PartyName string
	OrgCode   string
	OrgPath   string
	Status    string
	Handler   string // who registered the lead and handles the case
}

// supervisionRecord is a supervised case as the API shows it.
type supervisionRecord struct {
	ID            int64     `json:"id"`
	CaseID        int64     `json:"case_id"`
	CaseNumber    string    `json:"case_number"`
	PartyName     string    `json:"party_name"`
	OrgCode       string    `json:"org_code"`
	CaseStatus    string    `json:"case_status"`
	Status        string    `json:"status"` // active, ended
	ReportDay     int       `json:"report_day"`
	Deadline      time.Time `json:"deadline"` // 督办期限
	Requirements  string    `json:"requirements"`
	Handler       string    `json:"handler"`
	DesignatedBy  string    `json:"designated_by"`
	DesignatedAt  time.Time `json:"designated_at"`
	NextReportDue time.Time `json:"next_report_due"`
	// ReminderOn is the day the reminder of the next report appears (R-DL-7).
	ReminderOn time.Time `json:"reminder_on"`
	// ProgressReviewOn is the next 3-monthly progress prompt for the
	// handler (R-DL-6).
	ProgressReviewOn time.Time      `json:"progress_review_on"`
	EndedAt          *time.Time     `json:"ended_at,omitempty"`
	EndReason        string         `json:"end_reason,omitempty"`
	OverdueCount     int            `json:"overdue_count"`
	Reports          []supReport    `json:"reports,omitempty"`
	Opinions         []supOpinion   `json:"opinions,omitempty"`
	Overdue          []supAlertView `json:"overdue,omitempty"` // the records of R-SUP-5
	periodStart      time.Time
	orgPath          string
}

type supReport struct {
	ID            int64     `json:"id"`
	PeriodDue     time.Time `json:"period_due"`
	Late          bool      `json:"late"`
	Supplementary bool      `json:"supplementary,omitempty"`
	Body          string    `json:"body"`
	FiledBy       string    `json:"filed_by"`
	FiledAt       time.Time `json:"filed_at"`
}

type supOpinion struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"` // urge (催办), supervise (督办意见)
	Body       string     `json:"body"`
	IssuedBy   string     `json:"issued_by"`
	ReceivedAt time.Time  `json:"received_at"`
	ReplyDue   time.Time  `json:"reply_due"`
	Reply      string     `json:"reply,omitempty"`
	RepliedBy  string     `json:"replied_by,omitempty"`
	RepliedAt  *time.Time `json:"replied_at,omitempty"`
	Late       bool       `json:"late"`    // replied on a day after the due day
	Overdue    bool       `json:"overdue"` // not replied, and the due day has passed
	taskID     string
}

type supAlertView struct {
	Kind       string    `json:"kind"`
	Ref        string    `json:"ref"`
	Due        time.Time `json:"due"`
	RecordedAt time.Time `json:"recorded_at"`
}

// supAlert is something the job must do once: a reminder or an escalation.
type supAlert struct {
	Kind string
	Ref  string // the report day (2026-10-10), the opinion (opinion-7) or the deadline day
	Due  time.Time
}

func isoDay(t time.Time) string { return t.In(shanghai).Format("2006-01-02") }

func opinionRef(id int64) string { return "opinion-" + strconv.FormatInt(id, 10) }

// firstReportDue is the end of the first report day after the designation
// day (R-DL-7's monthly report day).
func firstReportDue(reportDay int, designated time.Time) time.Time {
	return rules.MonthlyReportDue(reportDay, rules.StartOfDay(designated).AddDate(0, 0, 1))
}

// reportPeriod says what a report filed at now covers: the current period
// (due at the next report day; late when filed on a day after it), after
// which the next period starts the day after that report day; or, when the
// current period has not started yet, nothing new (a supplementary report).
func (x *supervisionRecord) reportPeriod(now time.Time) (due time.Time, late, supplementary bool, nextStart, nextDue time.Time) {
	if now.Before(x.periodStart) {
		return x.periodStart.Add(-time.Millisecond), false, true, x.periodStart, x.NextReportDue
	}
	due = x.NextReportDue
	nextStart = rules.StartOfDay(due).AddDate(0, 0, 1)
	return due, rules.Expired(due, now), false, nextStart, rules.MonthlyReportDue(x.ReportDay, nextStart)
}

// dueAlerts is what the job must record at now for an active supervision
// with its reports and opinions.
func (x *supervisionRecord) dueAlerts(now time.Time) []supAlert {
	var out []supAlert
	due := x.NextReportDue
	if rules.RemindReport(now, due) { // R-DL-7
		out = append(out, supAlert{alertReminder, isoDay(due), due})
	}
	if rules.Escalate(now, due) { // R-SUP-5: the period's report is missing
		out = append(out, supAlert{alertReportLate, isoDay(due), due})
	}
	for _, r := range x.Reports {
		if r.Late { // R-SUP-5: it came, but late
			out = append(out, supAlert{alertReportLate, isoDay(r.PeriodDue), r.PeriodDue})
		}
	}
	for _, o := range x.Opinions {
		if o.Late || (o.RepliedAt == nil && rules.Escalate(now, o.ReplyDue)) { // R-DL-8
			out = append(out, supAlert{alertReplyLate, opinionRef(o.ID), o.ReplyDue})
		}
	}
	if rules.Expired(x.Deadline, now) {
		out = append(out, supAlert{alertDeadline, isoDay(x.Deadline), x.Deadline})
	}
	return out
}

// inUnit reports whether a user at callerPath belongs to the bureau handling
// a case at caseOrgPath (the bureau that issues its documents).
func inUnit(callerPath, caseOrgPath string) bool {
	return callerPath != "" && bureau(callerPath) == bureau(caseOrgPath)
}

// ---------------------------------------------------------------- storage

// migrateSupervision creates the supervision tables (expand-only). Dates are
// Unix milliseconds, like the case tables; booleans are 0/1.
func migrateSupervision(ctx context.Context, db *sql.DB, dialect string) error {
	id := storage.AutoID(dialect)
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS supervisions (
			id ` + id + `,
			case_id BIGINT NOT NULL UNIQUE,
			status VARCHAR(16) NOT NULL,
			report_day INT NOT NULL,
			deadline BIGINT NOT NULL,
			requirements TEXT NOT NULL,
			handler VARCHAR(64) NOT NULL,
			designated_by VARCHAR(64) NOT NULL,
			designated_at BIGINT NOT NULL,
			period_start BIGINT NOT NULL,
			next_due BIGINT NOT NULL,
			ended_at BIGINT NOT NULL DEFAULT 0,
			end_reason VARCHAR(500) NOT NULL DEFAULT '')`,
		`CREATE TABLE IF NOT EXISTS supervision_reports (
			id ` + id + `,
			supervision_id BIGINT NOT NULL,
			period_due BIGINT NOT NULL,
			late INT NOT NULL,
			supplementary INT NOT NULL,
			body TEXT NOT NULL,
			filed_by VARCHAR(64) NOT NULL,
			filed_at BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS supervision_opinions (
			id ` + id + `,
			supervision_id BIGINT NOT NULL,
			kind VARCHAR(16) NOT NULL,
			body TEXT NOT NULL,
			issued_by VARCHAR(64) NOT NULL,
			received_at BIGINT NOT NULL,
			reply_due BIGINT NOT NULL,
			task_id VARCHAR(32) NOT NULL DEFAULT '',
			reply TEXT,
			replied_by VARCHAR(64) NOT NULL DEFAULT '',
			replied_at BIGINT NOT NULL DEFAULT 0,
			late INT NOT NULL DEFAULT 0,
			created_at BIGINT NOT NULL)`,
		// One row per reminder or escalation: the record of R-SUP-5, and the
		// job's memory of what it has sent (task_id, messaged; pending until
		// every step is done).
		`CREATE TABLE IF NOT EXISTS supervision_alerts (
			id ` + id + `,
			supervision_id BIGINT NOT NULL,
			kind VARCHAR(32) NOT NULL,
			ref VARCHAR(64) NOT NULL,
			due BIGINT NOT NULL,
			task_id VARCHAR(32) NOT NULL DEFAULT '',
			messaged INT NOT NULL DEFAULT 0,
			pending INT NOT NULL DEFAULT 1,
			created_at BIGINT NOT NULL,
			UNIQUE (supervision_id, kind, ref))`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("supervision: create table: %w", err)
		}
	}
	return nil
}

const supColumns = `s.id, s.case_id, s.status, s.report_day, s.deadline, s.requirements, s.handler, s.designated_by, s.designated_at,
	s.period_start, s.next_due, s.ended_at, s.end_reason, c.number, c.party_name, c.org_code, c.org_path, c.status, c.created_at,
	(SELECT COUNT(*) FROM supervision_alerts a WHERE a.supervision_id = s.id AND a.kind <> 'report_reminder')`

const supFrom = " FROM supervisions s JOIN cases c ON c.id = s.case_id"

// scanSupervision reads a supervision row (without reports, opinions and
// records), with its dates as of now.
func scanSupervision(row interface{ Scan(...any) error }, now time.Time) (*supervisionRecord, error) {
	var x supervisionRecord
	var deadline, designated, start, next, ended, filed int64
	if err := row.Scan(&x.ID, &x.CaseID, &x.Status, &x.ReportDay, &deadline, &x.Requirements, &x.Handler, &x.DesignatedBy, &designated,
		&start, &next, &ended, &x.EndReason, &x.CaseNumber, &x.PartyName, &x.OrgCode, &x.orgPath, &x.CaseStatus, &filed, &x.OverdueCount); err != nil {
		return nil, err
	}
	x.Deadline, x.DesignatedAt, x.periodStart, x.NextReportDue = fromMS(deadline), fromMS(designated), fromMS(start), fromMS(next)
	x.ReminderOn = rules.ReportReminderDate(x.NextReportDue)
	x.ProgressReviewOn = rules.NextProgressReminder(fromMS(filed), now)
	if ended > 0 {
		t := fromMS(ended)
		x.EndedAt = &t
	}
	return &x, nil
}

// readSupervision reads one supervision with its reports, opinions and
// overdue records, as of now; sql.ErrNoRows when there is none.
func (sv *supervision) readSupervision(ctx context.Context, now time.Time, where string, args ...any) (*supervisionRecord, error) {
	x, err := scanSupervision(sv.db.QueryRowContext(ctx, "SELECT "+supColumns+supFrom+" WHERE "+where, args...), now)
	if err != nil {
		return nil, err
	}
	rows, err := sv.db.QueryContext(ctx, "SELECT id, period_due, late, supplementary, body, filed_by, filed_at FROM supervision_reports WHERE supervision_id = ? ORDER BY id", x.ID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r supReport
		var due, at int64
		if err := rows.Scan(&r.ID, &due, &r.Late, &r.Supplementary, &r.Body, &r.FiledBy, &at); err != nil {
			rows.Close()
			return nil, err
		}
		r.PeriodDue, r.FiledAt = fromMS(due), fromMS(at)
		x.Reports = append(x.Reports, r)
	}
	rows.Close()
	rows, err = sv.db.QueryContext(ctx, `SELECT id, kind, body, issued_by, received_at, reply_due, task_id, reply, replied_by, replied_at, late
		FROM supervision_opinions WHERE supervision_id = ? ORDER BY id`, x.ID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var o supOpinion
		var received, due, replied int64
		var reply sql.NullString
		if err := rows.Scan(&o.ID, &o.Kind, &o.Body, &o.IssuedBy, &received, &due, &o.taskID, &reply, &o.RepliedBy, &replied, &o.Late); err != nil {
			rows.Close()
			return nil, err
		}
		o.ReceivedAt, o.ReplyDue, o.Reply = fromMS(received), fromMS(due), reply.String
		if replied > 0 {
			t := fromMS(replied)
			o.RepliedAt = &t
		}
		o.Overdue = o.RepliedAt == nil && rules.Escalate(now, o.ReplyDue)
		x.Opinions = append(x.Opinions, o)
	}
	rows.Close()
	rows, err = sv.db.QueryContext(ctx, "SELECT kind, ref, due, created_at FROM supervision_alerts WHERE supervision_id = ? AND kind <> ? ORDER BY id", x.ID, alertReminder)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var a supAlertView
		var due, at int64
		if err := rows.Scan(&a.Kind, &a.Ref, &due, &at); err != nil {
			return nil, err
		}
		a.Due, a.RecordedAt = fromMS(due), fromMS(at)
		x.Overdue = append(x.Overdue, a)
	}
	return x, rows.Err()
}

// loadSupervised reads the case at {id} for a caller who may take action on
// it — 404 when there is no such case or it is out of the caller's scope —
// and its supervision (nil when the case is not supervised).
func (sv *supervision) loadSupervised(w http.ResponseWriter, r *http.Request, action string) (*supCase, *supervisionRecord, bool) {
	id, ok := pathID(w, r)
	if !ok {
		return nil, nil, false
	}
	var c supCase
	err := sv.db.QueryRowContext(r.Context(), `SELECT c.id, c.number, c.party_name, c.org_code, c.org_path, c.status, l.created_by
		FROM cases c JOIN leads l ON l.id = c.lead_id WHERE c.id = ?`, id).
		Scan(&c.ID, &c.Number, &c.PartyName, &c.OrgCode, &c.OrgPath, &c.Status, &c.Handler)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return nil, nil, false
	}
	if err == nil {
		if ok, err = allowed(r.Context(), action, c.OrgPath); err != nil {
			fail(w, r, http.StatusServiceUnavailable, "enforcement.host", err.Error(), err)
			return nil, nil, false
		}
	}
	if err != nil || !ok {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", nil)
		return nil, nil, false
	}
	x, err := sv.readSupervision(r.Context(), sv.now(), "s.case_id = ?", c.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return &c, nil, true
	} else if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return nil, nil, false
	}
	return &c, x, true
}

// active loads a supervised case for a change by the supervisor (city) or
// the handling unit (unit): the case must be supervised and the supervision
// active.
func (sv *supervision) active(w http.ResponseWriter, r *http.Request, by string) (*supCase, *supervisionRecord, bool) {
	c, x, ok := sv.loadSupervised(w, r, "enforcement.case.write")
	if !ok {
		return nil, nil, false
	}
	caller := sdk.CallerFrom(r.Context())
	switch {
	case x == nil:
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", nil)
	case by == "city" && caller.Jurisdiction != "city":
		fail(w, r, http.StatusForbidden, "enforcement.city_only", "", nil)
	case by == "unit" && !inUnit(caller.OrgPath, c.OrgPath):
		fail(w, r, http.StatusForbidden, "enforcement.unit_only", "", nil)
	case x.Status != supStatusActive:
		fail(w, r, http.StatusConflict, "enforcement.state", x.Status, nil)
	default:
		return c, x, true
	}
	return nil, nil, false
}

// changed audits a change of the case's supervision (as the caller) and
// answers with the supervision as it now is.
func (sv *supervision) changed(w http.ResponseWriter, r *http.Request, status int, caseID int64, action string, detail map[string]any) {
	if err := audit(r.Context(), sv.host, action, fmt.Sprintf("case:%d", caseID), detail); err != nil {
		fail(w, r, http.StatusBadGateway, "enforcement.host", err.Error(), err)
		return
	}
	x, err := sv.readSupervision(r.Context(), sv.now(), "s.case_id = ?", caseID)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	sdk.WriteJSON(w, status, x)
}

// ---------------------------------------------------------------- routes

// list answers the supervised cases in the caller's scope: the city all,
// a district its own.
func (sv *supervision) list(w http.ResponseWriter, r *http.Request) {
	where, args, ok := sv.scope(w, r)
	if !ok {
		return
	}
	rows, err := sv.db.QueryContext(r.Context(), "SELECT "+supColumns+supFrom+" WHERE ("+where+") ORDER BY s.id DESC LIMIT 200", args...)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	defer rows.Close()
	out := []*supervisionRecord{}
	for rows.Next() {
		x, err := scanSupervision(rows, sv.now())
		if err != nil {
			fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
			return
		}
		out = append(out, x)
	}
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"supervisions": out})
}

func (sv *supervision) get(w http.ResponseWriter, r *http.Request) {
	_, x, ok := sv.loadSupervised(w, r, "enforcement.case.read")
	if ok && x == nil {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", nil)
	} else if ok {
		sdk.WriteJSON(w, http.StatusOK, x)
	}
}

// designate makes a case supervised (1337 督办案件: 被督办机构 — the case's
// unit —, 督办期限, 督察内容), with its monthly report day (R-DL-7). The
// handler is told by message.
func (sv *supervision) designate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ReportDay    int    `json:"report_day"`
		Deadline     string `json:"deadline"` // YYYY-MM-DD
		Requirements string `json:"requirements"`
	}
	if !decode(w, r, &in) {
		return
	}
	now := sv.now()
	deadline, err := time.ParseInLocation("2006-01-02", in.Deadline, shanghai)
	in.Requirements = strings.TrimSpace(in.Requirements)
	if in.ReportDay < 1 || in.ReportDay > 31 || err != nil || !deadline.After(now) || in.Requirements == "" || utf8.RuneCountInString(in.Requirements) > supMaxText {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "report_day: 1–31; deadline: a future date (YYYY-MM-DD); requirements: 1–4000 characters", err)
		return
	}
	c, x, ok := sv.loadSupervised(w, r, "enforcement.case.write")
	if !ok {
		return
	}
	caller := sdk.CallerFrom(r.Context())
	switch {
	case caller.Jurisdiction != "city":
		fail(w, r, http.StatusForbidden, "enforcement.city_only", "", nil)
		return
	case x != nil:
		fail(w, r, http.StatusConflict, "enforcement.state", "督办中 / supervised", nil)
		return
	case c.Status == "archived":
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	due := firstReportDue(in.ReportDay, now)
	end := rules.EndOfDay(deadline)
	err = sv.inTx(r.Context(), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(r.Context(), `INSERT INTO supervisions (case_id, status, report_day, deadline, requirements, handler,
			designated_by, designated_at, period_start, next_due) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, supStatusActive, in.ReportDay, ms(end), in.Requirements, c.Handler, caller.Username, ms(now),
			ms(rules.StartOfDay(now)), ms(due)); err != nil {
			return err
		}
		return sv.platform.sendMessage(r.Context(), []string{c.Handler}, "supervision.designated", map[string]any{
			"case": c.Number, "party": c.PartyName, "day": in.ReportDay, "deadline": isoDay(end), "due": isoDay(due)})
	})
	if err != nil {
		sv.failed(w, r, err)
		return
	}
	sv.changed(w, r, http.StatusCreated, c.ID, "supervision.designate", map[string]any{
		"report_day": in.ReportDay, "deadline": isoDay(end), "first_report_due": isoDay(due)})
}

// fileReport files the handling unit's progress report for the current
// period (R-DL-7), late when after its report day; the period's reminder
// to-do is completed.
func (sv *supervision) fileReport(w http.ResponseWriter, r *http.Request) {
	text, ok := bodyText(w, r)
	if !ok {
		return
	}
	c, x, ok := sv.active(w, r, "unit")
	if !ok {
		return
	}
	now := sv.now()
	due, late, supplementary, nextStart, nextDue := x.reportPeriod(now)
	err := sv.inTx(r.Context(), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(r.Context(), "UPDATE supervisions SET period_start = ?, next_due = ? WHERE id = ? AND next_due = ?",
			ms(nextStart), ms(nextDue), x.ID, ms(x.NextReportDue))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errConcurrent // another report moved the period meanwhile
		}
		_, err = tx.ExecContext(r.Context(), `INSERT INTO supervision_reports (supervision_id, period_due, late, supplementary, body, filed_by, filed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, x.ID, ms(due), late, supplementary, text, sdk.CallerFrom(r.Context()).Username, ms(now))
		return err
	})
	if err != nil {
		sv.failed(w, r, err)
		return
	}
	if !supplementary {
		sv.closeTodo(r.Context(), sv.reminderTask(r.Context(), x.ID, due), "已报送进展报告")
	}
	sv.changed(w, r, http.StatusCreated, c.ID, "supervision.report", map[string]any{
		"period_due": isoDay(due), "late": late, "supplementary": supplementary})
}

// sendOpinion records a 催办 or 督办 opinion from the city bureau; the unit
// must reply within three working days of receiving it (R-DL-8, module
// 1340), on the host's calendar. received_on is for an opinion served on
// paper and entered later (default: today). The handler gets a to-do due
// then.
func (sv *supervision) sendOpinion(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Kind       string `json:"kind"`
		Body       string `json:"body"`
		ReceivedOn string `json:"received_on"` // YYYY-MM-DD
	}
	if !decode(w, r, &in) {
		return
	}
	now := sv.now()
	received := now
	var problems []string
	if _, ok := opinionKinds[in.Kind]; !ok {
		problems = append(problems, "kind: urge (催办) or supervise (督办意见)")
	}
	if in.Body = strings.TrimSpace(in.Body); in.Body == "" || utf8.RuneCountInString(in.Body) > supMaxText {
		problems = append(problems, "body: 1–4000 characters")
	}
	if in.ReceivedOn != "" {
		d, err := time.ParseInLocation("2006-01-02", in.ReceivedOn, shanghai)
		if err != nil || d.After(now) || rules.StartOfDay(now).Sub(d) > supOpinionBackdays*24*time.Hour {
			problems = append(problems, fmt.Sprintf("received_on: a date in the past %d days (YYYY-MM-DD)", supOpinionBackdays))
		} else if isoDay(d) != isoDay(now) {
			received = d.Add(9 * time.Hour)
		}
	}
	if len(problems) > 0 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", strings.Join(problems, "; "), nil)
		return
	}
	c, x, ok := sv.active(w, r, "city")
	if !ok {
		return
	}
	due, err := sv.platform.replyDue(r.Context(), received)
	if err != nil {
		hostFailed(w, r, err)
		return
	}
	kind := opinionKinds[in.Kind]
	var id int64
	err = sv.inTx(r.Context(), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(r.Context(), `INSERT INTO supervision_opinions (supervision_id, kind, body, issued_by, received_at, reply_due, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, x.ID, in.Kind, in.Body, sdk.CallerFrom(r.Context()).Username, ms(received), ms(due), ms(now))
		if err != nil {
			return err
		}
		id, _ = res.LastInsertId()
		task, err := sv.platform.createTodo(r.Context(), &pluginv1.CreateTaskRequest{TaskType: taskSupReply, BusinessKey: strconv.FormatInt(c.ID, 10),
			Title: map[string]string{
				"zh-CN": fmt.Sprintf("回复市局%s（%s前）：%s %s", kind[0], isoDay(due), c.PartyName, c.Number),
				"en":    fmt.Sprintf("Reply to the city bureau's %s by %s: %s %s", kind[1], isoDay(due), c.PartyName, c.Number)},
			Assignees: []string{x.Handler}, OrgCode: c.OrgCode, DueUnixMs: ms(due)})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(r.Context(), "UPDATE supervision_opinions SET task_id = ? WHERE id = ?", task, id)
		return err
	})
	if err != nil {
		sv.failed(w, r, err)
		return
	}
	sv.changed(w, r, http.StatusCreated, c.ID, "supervision.opinion", map[string]any{
		"opinion": id, "kind": in.Kind, "received": isoDay(received), "reply_due": isoDay(due)})
}

// reply records the unit's reply to an opinion; after the due day it is
// accepted and recorded as late (R-DL-8), and the job escalates it.
func (sv *supervision) reply(w http.ResponseWriter, r *http.Request) {
	text, ok := bodyText(w, r)
	if !ok {
		return
	}
	oid, err := strconv.ParseInt(r.PathValue("opinion"), 10, 64)
	if err != nil {
		fail(w, r, http.StatusBadRequest, "enforcement.bad_id", "", err)
		return
	}
	c, x, ok := sv.active(w, r, "unit")
	if !ok {
		return
	}
	var o *supOpinion
	for i := range x.Opinions {
		if x.Opinions[i].ID == oid {
			o = &x.Opinions[i]
		}
	}
	if o == nil {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", nil)
		return
	}
	now := sv.now()
	late := rules.Escalate(now, o.ReplyDue)
	res, err := sv.db.ExecContext(r.Context(), "UPDATE supervision_opinions SET reply = ?, replied_by = ?, replied_at = ?, late = ? WHERE id = ? AND replied_at = 0",
		text, sdk.CallerFrom(r.Context()).Username, ms(now), late, o.ID)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	if n, _ := res.RowsAffected(); n != 1 {
		fail(w, r, http.StatusConflict, "enforcement.state", "已回复 / replied", nil)
		return
	}
	sv.closeTodo(r.Context(), o.taskID, "已回复")
	sv.changed(w, r, http.StatusOK, c.ID, "supervision.reply", map[string]any{
		"opinion": o.ID, "reply_due": isoDay(o.ReplyDue), "late": late})
}

// end lifts the supervision (the case concluded, or the city bureau decides
// so): no more reminders or escalations; open to-dos are closed.
func (sv *supervision) end(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Reason = strings.TrimSpace(in.Reason); in.Reason == "" || utf8.RuneCountInString(in.Reason) > 500 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "reason: 1–500 characters", nil)
		return
	}
	c, x, ok := sv.active(w, r, "city")
	if !ok {
		return
	}
	err := sv.inTx(r.Context(), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(r.Context(), "UPDATE supervisions SET status = ?, ended_at = ?, end_reason = ? WHERE id = ?",
			supStatusEnded, ms(sv.now()), in.Reason, x.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(r.Context(), "UPDATE supervision_alerts SET pending = 0 WHERE supervision_id = ?", x.ID)
		return err
	})
	if err != nil {
		sv.failed(w, r, err)
		return
	}
	sv.closeTodo(r.Context(), sv.reminderTask(r.Context(), x.ID, x.NextReportDue), "督办已结束")
	for _, o := range x.Opinions {
		if o.RepliedAt == nil {
			sv.closeTodo(r.Context(), o.taskID, "督办已结束")
		}
	}
	sv.changed(w, r, http.StatusOK, c.ID, "supervision.end", map[string]any{"reason": in.Reason})
}

// ---------------------------------------------------------------- the job

// run records and delivers what is due at now (the job's slot) for every
// active supervision of an open case. One supervision's failure does not
// stop the others; the run reports them all, and the next run retries.
func (sv *supervision) run(ctx context.Context, now time.Time) error {
	rows, err := sv.db.QueryContext(ctx, "SELECT s.case_id"+supFrom+" WHERE s.status = ? AND c.status <> 'archived' ORDER BY s.id", supStatusActive)
	if err != nil {
		return fmt.Errorf("supervision job: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("supervision job: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	var errs []error
	for _, id := range ids {
		x, err := sv.readSupervision(ctx, now, "s.case_id = ?", id)
		if err == nil {
			for _, a := range x.dueAlerts(now) {
				if err = sv.record(ctx, x.ID, a, now); err != nil {
					break
				}
			}
		}
		if err == nil {
			err = sv.deliver(ctx, x)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("case %d: %w", id, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("supervision job: %w", errors.Join(errs...))
	}
	return nil
}

// record stores an alert once: the unique key (supervision, kind, ref)
// stops a second row, also when two runs race.
func (sv *supervision) record(ctx context.Context, supID int64, a supAlert, now time.Time) error {
	exists := func() bool {
		var n int
		err := sv.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM supervision_alerts WHERE supervision_id = ? AND kind = ? AND ref = ?", supID, a.Kind, a.Ref).Scan(&n)
		return err == nil && n > 0
	}
	if exists() {
		return nil
	}
	_, err := sv.db.ExecContext(ctx, "INSERT INTO supervision_alerts (supervision_id, kind, ref, due, pending, created_at) VALUES (?, ?, ?, ?, 1, ?)",
		supID, a.Kind, a.Ref, ms(a.Due), ms(now))
	if err != nil && exists() {
		return nil
	}
	return err
}

// deliver sends a supervision's pending alerts: the to-do, then (for an
// escalation) the message, each step stored as done so that a retry repeats
// none.
func (sv *supervision) deliver(ctx context.Context, x *supervisionRecord) error {
	rows, err := sv.db.QueryContext(ctx, "SELECT id, kind, ref, due, task_id, messaged FROM supervision_alerts WHERE supervision_id = ? AND pending = 1 ORDER BY id", x.ID)
	if err != nil {
		return err
	}
	type pending struct {
		id       int64
		kind     string
		ref      string
		due      time.Time
		task     string
		messaged bool
	}
	var todo []pending
	for rows.Next() {
		var p pending
		var due int64
		if err := rows.Scan(&p.id, &p.kind, &p.ref, &due, &p.task, &p.messaged); err != nil {
			rows.Close()
			return err
		}
		p.due = fromMS(due)
		todo = append(todo, p)
	}
	rows.Close()
	for _, p := range todo {
		req, template, recipients := x.alertNotice(p.kind, p.ref, p.due)
		if p.task == "" {
			task, err := sv.platform.createTodo(ctx, req)
			if err != nil {
				return fmt.Errorf("%s %s: to-do: %w", p.kind, p.ref, err)
			}
			if _, err := sv.db.ExecContext(ctx, "UPDATE supervision_alerts SET task_id = ? WHERE id = ?", task, p.id); err != nil {
				return err
			}
			p.task = task
		}
		if template != "" && !p.messaged {
			if err := sv.platform.sendMessage(ctx, recipients, template, map[string]any{"case": x.CaseNumber, "party": x.PartyName, "due": isoDay(p.due)}); err != nil {
				return fmt.Errorf("%s %s: message: %w", p.kind, p.ref, err)
			}
			if _, err := sv.db.ExecContext(ctx, "UPDATE supervision_alerts SET messaged = 1 WHERE id = ?", p.id); err != nil {
				return err
			}
		}
		if _, err := sv.db.ExecContext(ctx, "UPDATE supervision_alerts SET pending = 0 WHERE id = ?", p.id); err != nil {
			return err
		}
		action := "supervision.escalate"
		if p.kind == alertReminder {
			action = "supervision.remind"
		}
		if err := audit(ctx, sv.host, action, fmt.Sprintf("case:%d", x.CaseID), map[string]any{
			"kind": p.kind, "ref": p.ref, "due": isoDay(p.due), "task": p.task}); err != nil {
			sv.log.Warn("audit write failed", "action", action, "err", err)
		}
	}
	return nil
}

// alertNotice is what an alert sends. A reminder: a to-do for the handler,
// due on the report day. An escalation: a to-do for the head of the
// handling unit (role case_lead in the case's bureau), and a message (an
// i18n key of plugin.yaml) to the handler and the supervisor, and for a
// reply to the user who sent the opinion.
func (x *supervisionRecord) alertNotice(kind, ref string, due time.Time) (todo *pluginv1.CreateTaskRequest, template string, to []string) {
	key := strconv.FormatInt(x.CaseID, 10)
	if kind == alertReminder {
		return &pluginv1.CreateTaskRequest{TaskType: taskSupReport, BusinessKey: key, Assignees: []string{x.Handler}, OrgCode: x.OrgCode,
			DueUnixMs: ms(due), Title: map[string]string{
				"zh-CN": fmt.Sprintf("督办案件进展报告（%s前报市局）：%s %s", isoDay(due), x.PartyName, x.CaseNumber),
				"en":    fmt.Sprintf("Supervised case progress report, due %s: %s %s", isoDay(due), x.PartyName, x.CaseNumber)}}, "", nil
	}
	what := map[string][2]string{
		alertReportLate: {"进展报告逾期未报", "progress report overdue"},
		alertReplyLate:  {"催办/督办意见逾期未复", "reply to an opinion overdue"},
		alertDeadline:   {"超过督办期限未办结", "past the supervision deadline"},
	}[kind]
	to = []string{x.Handler}
	add := func(u string) {
		if !slices.Contains(to, u) {
			to = append(to, u)
		}
	}
	add(x.DesignatedBy)
	for _, o := range x.Opinions {
		if kind == alertReplyLate && opinionRef(o.ID) == ref {
			add(o.IssuedBy)
		}
	}
	return &pluginv1.CreateTaskRequest{TaskType: taskSupOverdue, BusinessKey: key, CandidateRoles: []string{supEscalationRole},
		OrgCode: bureau(x.orgPath), Title: map[string]string{
			"zh-CN": fmt.Sprintf("督办逾期警示：%s %s，%s（期限%s）", x.PartyName, x.CaseNumber, what[0], isoDay(due)),
			"en":    fmt.Sprintf("Supervision overdue: %s %s, %s (due %s)", x.PartyName, x.CaseNumber, what[1], isoDay(due))}}, "supervision." + kind, to
}

// ---------------------------------------------------------------- helpers

// bodyText decodes a report's or a reply's {"body": "…"}: 1–4000 characters.
func bodyText(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Body string `json:"body"`
	}
	if !decode(w, r, &in) {
		return "", false
	}
	if in.Body = strings.TrimSpace(in.Body); in.Body == "" || utf8.RuneCountInString(in.Body) > supMaxText {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "body: 1–4000 characters", nil)
		return "", false
	}
	return in.Body, true
}

var errConcurrent = errors.New("the supervision changed meanwhile; try again")

// inTx runs f in a transaction, committed when f succeeds. Host calls inside
// f (a message, a to-do) make the change stand or fall with them.
func (sv *supervision) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := sv.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// failed answers an error of inTx: a host's refusal, a concurrent change, or
// an internal error.
func (sv *supervision) failed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errConcurrent):
		fail(w, r, http.StatusConflict, "enforcement.state", err.Error(), nil)
	case isStatus(err):
		hostFailed(w, r, err)
	default:
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
	}
}

// isStatus reports whether err is a host's answer (a gRPC status).
func isStatus(err error) bool {
	_, ok := status.FromError(err)
	return ok
}

// reminderTask is the to-do of the reminder for the report due at due, if
// the job has opened one.
func (sv *supervision) reminderTask(ctx context.Context, supID int64, due time.Time) string {
	var task string
	_ = sv.db.QueryRowContext(ctx, "SELECT task_id FROM supervision_alerts WHERE supervision_id = ? AND kind = ? AND ref = ?",
		supID, alertReminder, isoDay(due)).Scan(&task)
	return task
}

// closeTodo completes a to-do the plugin opened; a failure is logged (the
// user can still close it in the workbench).
func (sv *supervision) closeTodo(ctx context.Context, taskID, comment string) {
	if taskID == "" {
		return
	}
	if err := sv.platform.completeTodo(ctx, taskID, comment); err != nil {
		sv.log.Warn("to-do not completed", "task", taskID, "err", err)
	}
}

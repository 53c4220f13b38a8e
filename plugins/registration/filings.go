package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/filter"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

var shanghai = time.FixedZone("CST", 8*3600)

const (
	maxSuspension = 3 * 365 // 累计不超过三年 (市场主体登记管理条例 第三十条), in days
	extendWindow  = 30      // 应当在歇业期满前30日内 (R32, module 47), in days
)

type filing struct {
	ID             int64  `json:"id"`
	Kind           string `json:"kind"` // filing, extension, termination
	ParentID       int64  `json:"parent_id,omitempty"`
	USCC           string `json:"uscc"`
	Name           string `json:"name,omitempty"`
	District       string `json:"district"`
	OrgPath        string `json:"-"`
	Reason         string `json:"reason"`
	StartDate      string `json:"start_date"`
	EndDate        string `json:"end_date"`
	ServiceAddress string `json:"service_address"`
	Status         string `json:"status"` // submitted, approved, rejected
	TaskID         string `json:"-"`
	DocumentID     string `json:"document_id,omitempty"`
	Number         string `json:"number,omitempty"`
	Note           string `json:"note,omitempty"`
}

const filingColumns = "id, kind, parent_id, uscc, district, org_path, reason, start_date, end_date, service_address, status, task_id, document_id, number, note"

func scanFiling(row interface{ Scan(...any) error }) (*filing, error) {
	var f filing
	var note sql.NullString
	err := row.Scan(&f.ID, &f.Kind, &f.ParentID, &f.USCC, &f.District, &f.OrgPath, &f.Reason, &f.StartDate, &f.EndDate, &f.ServiceAddress,
		&f.Status, &f.TaskID, &f.DocumentID, &f.Number, &note)
	f.Note = note.String
	return &f, err
}

func (s *service) filings(ctx context.Context, where string, args ...any) ([]filing, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+filingColumns+" FROM filings WHERE "+where+" ORDER BY id DESC LIMIT 200", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []filing{}
	for rows.Next() {
		f, err := scanFiling(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *f)
	}
	return out, rows.Err()
}

func (s *service) filingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /suspensions", s.listFilings)
	mux.HandleFunc("GET /suspensions/{id}", s.getFiling)
	mux.HandleFunc("POST /suspensions/{id}/approve", s.decide(true))
	mux.HandleFunc("POST /suspensions/{id}/reject", s.decide(false))
	mux.HandleFunc("GET /my/enterprise", s.myEnterprise)
	mux.HandleFunc("POST /my/suspensions", s.file)
	mux.HandleFunc("POST /my/suspensions/{id}/extend", s.extend)
	mux.HandleFunc("POST /my/suspensions/{id}/terminate", s.terminate)
}

// myEnterprise is the signed-in enterprise's record with its filings
// (module 50: progress of every application).
func (s *service) myEnterprise(w http.ResponseWriter, r *http.Request) {
	e, ok := s.mine(w, r)
	if !ok {
		return
	}
	fs, err := s.filings(r.Context(), "uscc = ?", e.USCC)
	if err != nil {
		internal(w, r, err)
		return
	}
	e.Filings = fs
	writeJSON(w, http.StatusOK, e)
}

func (s *service) mine(w http.ResponseWriter, r *http.Request) (*enterprise, bool) {
	uscc := sdk.CallerFrom(r.Context()).USCC
	e, err := s.enterprise(r.Context(), uscc)
	if uscc == "" || errors.Is(err, sql.ErrNoRows) {
		refuse(w, r, http.StatusNotFound, "registration.not_registered", "未找到本企业的登记信息", "Your enterprise is not in the registry")
		return nil, false
	} else if err != nil {
		internal(w, r, err)
		return nil, false
	}
	return e, true
}

// file is the online suspension filing (modules 40–47): eligibility, the
// period, and the review task for the enterprise's district.
func (s *service) file(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason         string `json:"reason"`
		StartDate      string `json:"start_date"`
		EndDate        string `json:"end_date"`
		ServiceAddress string `json:"service_address"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		refuse(w, r, http.StatusBadRequest, "registration.bad_json", "请求格式不正确", "The request is not valid JSON")
		return
	}
	e, ok := s.mine(w, r)
	if !ok {
		return
	}
	// Eligibility (module 41): only an entity in business may suspend.
	if e.Status != "存续" && e.Status != "在业" {
		refuse(w, r, http.StatusUnprocessableEntity, "registration.not_eligible",
			fmt.Sprintf("企业登记状态为“%s”，不能办理歇业备案", e.Status),
			fmt.Sprintf("The entity's status is %s: it cannot file a suspension", e.Status))
		return
	}
	start, ok1 := day(in.StartDate)
	end, ok2 := day(in.EndDate)
	switch {
	case strings.TrimSpace(in.Reason) == "" || utf8.RuneCountInString(in.Reason) > 500 || strings.TrimSpace(in.ServiceAddress) == "":
		refuse(w, r, http.StatusBadRequest, "registration.invalid", "请填写歇业原因（500字以内）和法律文书送达地址", "Give the reason (at most 500 characters) and the address for service")
		return
	case !ok1 || !ok2 || !end.After(start) || start.Before(today()):
		refuse(w, r, http.StatusBadRequest, "registration.invalid", "歇业期限不正确：起始日期不早于今天，截止日期晚于起始日期", "The period must start today or later and end after it starts")
		return
	case end.Sub(start) > maxSuspension*24*time.Hour:
		refuse(w, r, http.StatusUnprocessableEntity, "registration.too_long", "歇业期限累计不得超过三年", "A suspension may last three years at most")
		return
	}
	// No overlap with a filing under review or in force.
	active, err := s.filings(r.Context(), "uscc = ? AND kind = 'filing' AND status IN ('submitted', 'approved') AND start_date <= ? AND end_date >= ?",
		e.USCC, in.EndDate, in.StartDate)
	if err != nil {
		internal(w, r, err)
		return
	}
	if len(active) > 0 {
		a := active[0]
		refuse(w, r, http.StatusUnprocessableEntity, "registration.overlap",
			fmt.Sprintf("与已申请的歇业期限（%s至%s）重叠", a.StartDate, a.EndDate),
			fmt.Sprintf("It overlaps the suspension from %s to %s already filed", a.StartDate, a.EndDate))
		return
	}
	s.submit(w, r, e, filing{Kind: "filing", USCC: e.USCC, Reason: in.Reason, StartDate: in.StartDate, EndDate: in.EndDate, ServiceAddress: in.ServiceAddress})
}

// submit stores an application and puts its review in the district's
// registration reviewers' workbench.
func (s *service) submit(w http.ResponseWriter, r *http.Request, e *enterprise, f filing) {
	orgPath := "/310000/" + e.District
	res, err := s.db.ExecContext(r.Context(), `INSERT INTO filings (kind, parent_id, uscc, district, org_path, reason, start_date, end_date,
		service_address, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted', ?)`,
		f.Kind, f.ParentID, f.USCC, e.District, orgPath, f.Reason, f.StartDate, f.EndDate, f.ServiceAddress, time.Now().UnixMilli())
	if err != nil {
		internal(w, r, err)
		return
	}
	id, _ := res.LastInsertId()
	title := map[string]string{"filing": "歇业备案审核：", "extension": "延长歇业期限审核："}[f.Kind] + e.Name
	task, err := s.host.Tasks.CreateTask(r.Context(), &pluginv1.CreateTaskRequest{TaskType: "registration.suspension.review",
		BusinessKey: strconv.FormatInt(id, 10), Title: map[string]string{"zh-CN": title, "en": "Suspension review: " + e.Name},
		CandidateRoles: []string{"registration_reviewer"}, OrgCode: e.District})
	if err != nil {
		_, _ = s.db.ExecContext(r.Context(), "DELETE FROM filings WHERE id = ?", id)
		refuse(w, r, http.StatusBadGateway, "registration.host", "平台服务调用失败："+err.Error(), "A host service failed: "+err.Error())
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "UPDATE filings SET task_id = ? WHERE id = ?", task.TaskId, id); err != nil {
		internal(w, r, err)
		return
	}
	s.audit(r.Context(), "suspension."+f.Kind, id, map[string]any{"uscc": f.USCC, "start": f.StartDate, "end": f.EndDate})
	f.ID, f.Status, f.District = id, "submitted", e.District
	writeJSON(w, http.StatusCreated, f)
}

func (s *service) audit(ctx context.Context, action string, id int64, detail map[string]any) {
	b, _ := json.Marshal(detail)
	if _, err := s.host.Audit.Write(ctx, &pluginv1.AuditRecord{Action: action, Resource: fmt.Sprintf("filing:%d", id), Outcome: "success", Detail: b}); err != nil {
		s.log.Warn("audit write failed", "action", action, "err", err)
	}
}

// myFiling loads one of the signed-in enterprise's filings.
func (s *service) myFiling(w http.ResponseWriter, r *http.Request, e *enterprise) (*filing, bool) {
	f, err := scanFiling(s.db.QueryRowContext(r.Context(), "SELECT "+filingColumns+" FROM filings WHERE id = ? AND uscc = ?", r.PathValue("id"), e.USCC))
	if errors.Is(err, sql.ErrNoRows) {
		refuse(w, r, http.StatusNotFound, "registration.not_found", "没有该申请", "No such application")
		return nil, false
	} else if err != nil {
		internal(w, r, err)
		return nil, false
	}
	return f, true
}

// extend applies to extend an approved suspension, within the 30 days before
// it expires (R32, module 47), to at most three years in all.
func (s *service) extend(w http.ResponseWriter, r *http.Request) {
	var in struct {
		EndDate string `json:"end_date"`
		Reason  string `json:"reason"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		refuse(w, r, http.StatusBadRequest, "registration.bad_json", "请求格式不正确", "The request is not valid JSON")
		return
	}
	e, ok := s.mine(w, r)
	if !ok {
		return
	}
	f, ok := s.myFiling(w, r, e)
	if !ok {
		return
	}
	end, _ := day(f.EndDate)
	start, _ := day(f.StartDate)
	newEnd, okEnd := day(in.EndDate)
	opens := end.AddDate(0, 0, -extendWindow)
	switch {
	case f.Kind != "filing" || f.Status != "approved" || e.Status != "歇业":
		refuse(w, r, http.StatusConflict, "registration.state", "只有已备案且正在歇业的期限可以延长", "Only a suspension in force can be extended")
	case today().Before(opens) || today().After(end):
		refuse(w, r, http.StatusUnprocessableEntity, "registration.extend_window",
			fmt.Sprintf("延长歇业期限应当在歇业期满前30日内申请（%s至%s）", opens.Format("2006-01-02"), f.EndDate),
			fmt.Sprintf("An extension is applied for in the 30 days before the suspension ends (%s to %s)", opens.Format("2006-01-02"), f.EndDate))
	case !okEnd || !newEnd.After(end):
		refuse(w, r, http.StatusBadRequest, "registration.invalid", "新的截止日期应晚于原截止日期", "The new end date must be after the current one")
	case newEnd.Sub(start) > maxSuspension*24*time.Hour:
		refuse(w, r, http.StatusUnprocessableEntity, "registration.too_long", "歇业期限累计不得超过三年", "A suspension may last three years at most")
	default:
		s.submit(w, r, e, filing{Kind: "extension", ParentID: f.ID, USCC: e.USCC, Reason: in.Reason, StartDate: f.EndDate, EndDate: in.EndDate,
			ServiceAddress: f.ServiceAddress})
	}
}

// terminate ends a suspension early: publishing the 终止歇业 announcement
// restores the status the entity had before (R39, modules 49/68).
func (s *service) terminate(w http.ResponseWriter, r *http.Request) {
	e, ok := s.mine(w, r)
	if !ok {
		return
	}
	f, ok := s.myFiling(w, r, e)
	if !ok {
		return
	}
	if f.Kind != "filing" || f.Status != "approved" || e.Status != "歇业" {
		refuse(w, r, http.StatusConflict, "registration.state", "没有正在歇业的备案可以终止", "There is no suspension in force to end")
		return
	}
	prior := e.PriorStatus
	if prior == "" {
		prior = "存续"
	}
	if _, err := s.db.ExecContext(r.Context(), "UPDATE enterprises SET status = ?, prior_status = '' WHERE uscc = ? AND status = '歇业'", prior, e.USCC); err != nil {
		internal(w, r, err)
		return
	}
	res, err := s.db.ExecContext(r.Context(), `INSERT INTO filings (kind, parent_id, uscc, district, org_path, reason, start_date, end_date,
		service_address, status, note, created_at) VALUES ('termination', ?, ?, ?, ?, '终止歇业', ?, ?, ?, 'approved', '终止歇业公告已发布', ?)`,
		f.ID, e.USCC, e.District, f.OrgPath, today().Format("2006-01-02"), f.EndDate, f.ServiceAddress, time.Now().UnixMilli())
	if err != nil {
		internal(w, r, err)
		return
	}
	id, _ := res.LastInsertId()
	s.statusChanged(r.Context(), e.USCC, "歇业", prior, "suspension.terminated")
	s.audit(r.Context(), "suspension.terminate", id, map[string]any{"uscc": e.USCC, "restored": prior})
	writeJSON(w, http.StatusOK, map[string]any{"status": prior, "announcement": "终止歇业公告已发布"})
}

// statusChanged tells other plugins (enterprise.status_changed).
func (s *service) statusChanged(ctx context.Context, uscc, from, to, reason string) {
	b, _ := json.Marshal(map[string]string{"uscc": uscc, "from": from, "to": to, "reason": reason})
	if _, err := s.host.Events.PublishEvent(ctx, &pluginv1.PublishEventRequest{Type: "enterprise.status_changed", Data: b}); err != nil {
		s.log.Warn("enterprise.status_changed not published", "uscc", uscc, "err", err)
	}
}

var scopeColumns = map[string]string{"resource.org_path": "org_path"}

// staffFiling loads a filing in the caller's data scope (404 otherwise).
func (s *service) staffFiling(w http.ResponseWriter, r *http.Request, action string) (*filing, bool) {
	f, err := scanFiling(s.db.QueryRowContext(r.Context(), "SELECT "+filingColumns+" FROM filings WHERE id = ?", r.PathValue("id")))
	if errors.Is(err, sql.ErrNoRows) {
		refuse(w, r, http.StatusNotFound, "registration.not_found", "没有该申请", "No such application")
		return nil, false
	} else if err != nil {
		internal(w, r, err)
		return nil, false
	}
	res, _ := json.Marshal(map[string]string{"org_path": f.OrgPath})
	d, err := sdk.HostFrom(r.Context()).Policy.Decide(r.Context(), &pluginv1.DecideRequest{Action: action, Resource: res})
	if err != nil || !d.Allow {
		refuse(w, r, http.StatusNotFound, "registration.not_found", "没有该申请", "No such application")
		return nil, false
	}
	if e, err := s.enterprise(r.Context(), f.USCC); err == nil {
		f.Name = e.Name
	}
	return f, true
}

func (s *service) getFiling(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.staffFiling(w, r, "registration.application.read"); ok {
		writeJSON(w, http.StatusOK, f)
	}
}

func (s *service) scope(w http.ResponseWriter, r *http.Request) (string, []any, bool) {
	fl, err := sdk.HostFrom(r.Context()).Policy.DataFilter(r.Context(), &pluginv1.DataFilterRequest{Action: "registration.application.read", ResourceType: "filing"})
	if err != nil {
		refuse(w, r, http.StatusServiceUnavailable, "registration.host", "权限服务暂不可用", "The policy service is unavailable")
		return "", nil, false
	}
	where, args, err := filter.SQL(fl, scopeColumns)
	if err != nil {
		internal(w, r, err)
		return "", nil, false
	}
	return where, args, true
}

func (s *service) listFilings(w http.ResponseWriter, r *http.Request) {
	where, args, ok := s.scope(w, r)
	if !ok {
		return
	}
	fs, err := s.filings(r.Context(), "("+where+")", args...)
	if err != nil {
		internal(w, r, err)
		return
	}
	for i := range fs {
		if e, err := s.enterprise(r.Context(), fs[i].USCC); err == nil {
			fs[i].Name = e.Name
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"suspensions": fs})
}

// decide is the district reviewer's approval or refusal (modules 64–66). An
// approved filing suspends the entity and issues the signed 歇业备案通知书; an
// approved extension moves the end of the suspension.
func (s *service) decide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Note string `json:"note"`
		}
		_ = json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in)
		f, ok := s.staffFiling(w, r, "registration.application.review")
		if !ok {
			return
		}
		if f.Status != "submitted" {
			refuse(w, r, http.StatusConflict, "registration.state", "该申请已处理", "The application has been decided")
			return
		}
		if !approve && strings.TrimSpace(in.Note) == "" {
			refuse(w, r, http.StatusBadRequest, "registration.invalid", "不予备案须说明理由", "Give the reason for refusing")
			return
		}
		e, err := s.enterprise(r.Context(), f.USCC)
		if err != nil {
			internal(w, r, err)
			return
		}
		host := sdk.HostFrom(r.Context())
		status := "rejected"
		if approve {
			status = "approved"
			if f.Kind == "filing" {
				if e.Status != "存续" && e.Status != "在业" {
					refuse(w, r, http.StatusConflict, "registration.not_eligible", "企业登记状态已变化，不能备案", "The entity's status changed; it cannot be filed")
					return
				}
				data, _ := json.Marshal(map[string]any{"enterprise_name": e.Name, "uscc": e.USCC, "apply_date": today().Format("2006-01-02"),
					"start_date": f.StartDate, "end_date": f.EndDate, "service_address": f.ServiceAddress, "issue_date": today().Format("2006-01-02")})
				doc, err := host.Documents.RenderDocument(r.Context(), &pluginv1.RenderDocumentRequest{DocumentType: "suspension_notice",
					Data: data, Subject: fmt.Sprintf("filing-%d", f.ID), OrgCode: e.District})
				if err != nil {
					refuse(w, r, http.StatusBadGateway, "registration.host", "通知书生成失败："+err.Error(), "The notice could not be issued: "+err.Error())
					return
				}
				f.DocumentID, f.Number = doc.DocumentId, doc.Number
				if _, err := s.db.ExecContext(r.Context(), "UPDATE enterprises SET prior_status = status, status = '歇业' WHERE uscc = ?", e.USCC); err != nil {
					internal(w, r, err)
					return
				}
				s.statusChanged(r.Context(), e.USCC, e.Status, "歇业", "suspension.filed")
			} else if _, err := s.db.ExecContext(r.Context(), "UPDATE filings SET end_date = ? WHERE id = ?", f.EndDate, f.ParentID); err != nil {
				internal(w, r, err)
				return
			}
		}
		if _, err := s.db.ExecContext(r.Context(), "UPDATE filings SET status = ?, document_id = ?, number = ?, note = ? WHERE id = ? AND status = 'submitted'",
			status, f.DocumentID, f.Number, in.Note, f.ID); err != nil {
			internal(w, r, err)
			return
		}
		if f.TaskID != "" {
			if _, err := host.Tasks.CompleteTask(r.Context(), &pluginv1.CompleteTaskRequest{TaskId: f.TaskID, Comment: status + " " + in.Note}); err != nil {
				s.log.Warn("review task not completed", "task", f.TaskID, "err", err)
			}
		}
		s.audit(r.Context(), "suspension."+status, f.ID, map[string]any{"kind": f.Kind, "number": f.Number})
		f.Status = status
		writeJSON(w, http.StatusOK, f)
	}
}

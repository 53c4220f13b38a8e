package main

// Changes to a case in investigation, each an approval (the sub-flows of
// C12, R-RET-1/2): the handler (承办人员) applies; the head of the handling
// unit and the head of the agency approve through the host's process
// `enforcement.case_change` (administrators can adjust it); the change is
// made when the approval ends, and nothing changes if it is refused.
//
//   - the case clock: pause (time for testing, inspection, appraisal is
//     excluded, R-DL-3), resume, extend — a further extension needs the
//     collective discussion recorded first (R-LEG-3);
//   - suspension (中止调查) on a ground of R-SUS-1, and resumption only with
//     proof that the ground has ceased, filed into the dossier;
//   - termination (调查终止) for an outcome that is not a penalty or a
//     transfer (R-LEG-5);
//   - change of handling body (变更办案机构), which moves the case's data
//     scope to the new organisation;
//   - data correction (数据修改, 1191) of the cause or the party's name or
//     address; the change records keep the history (old and new value).
//
// The request is checked when it is made (so a bad one is refused at once)
// and again when the approval ends (the case may have moved on meanwhile).

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
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/storage"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// changeOps are the changes and their names (the approval's title).
var changeOps = map[string][2]string{
	"pause":                {"办案期限暂停", "Clock pause"},
	"resume":               {"办案期限恢复", "Clock resumption"},
	"extend":               {"案件延期", "Extension"},
	"suspend":              {"中止调查", "Suspension of the investigation"},
	"resume_investigation": {"恢复调查", "Resumption of the investigation"},
	"terminate":            {"调查终止", "Termination of the investigation"},
	"transfer":             {"变更办案机构", "Change of handling body"},
	"correct":              {"数据修改", "Data correction"},
}

// correctable are the case's fields a data correction (1191) may change.
var correctable = map[string]string{"cause": "案由", "party_name": "当事人名称", "party_address": "当事人住所"}

// suspensionGrounds are R-SUS-1's grounds for 中止调查.
var suspensionGrounds = map[string]string{
	"pending_ruling":  "行政处罚决定须以相关案件的裁判结果或者其他行政决定为依据，而相关案件尚未审结或者其他行政决定尚未作出",
	"interpretation":  "涉及法律适用等问题，需要送请有权机关作出解释或者确认",
	"force_majeure":   "因不可抗力致使案件暂时无法调查",
	"party_missing":   "因当事人下落不明致使案件暂时无法调查",
	"other_statutory": "其他应当中止调查的情形",
}

// terminationTypes are R-LEG-5's 调查处理类型 other than 给予处罚 and 移送.
var terminationTypes = map[string]string{
	"no_violation": "违法事实不能成立",
	"minor":        "违法行为轻微并及时改正，没有造成危害后果，不予行政处罚",
	"time_barred":  "违法行为在二年内未被发现，不再给予行政处罚",
	"revoked":      "撤销立案",
}

// changeRequest is what the handler submits, and what is applied.
type changeRequest struct {
	Reason     string `json:"reason"`
	Days       int    `json:"days,omitempty"`
	Discussion string `json:"collective_discussion,omitempty"` // R-LEG-3, for a further extension
	Ground     string `json:"ground,omitempty"`
	Type       string `json:"type,omitempty"`
	ProofID    string `json:"proof_file_id,omitempty"`
	OrgCode    string `json:"org_code,omitempty"`
	OrgPath    string `json:"org_path,omitempty"` // resolved when requested
	Field      string `json:"field,omitempty"`    // a data correction's field
	Value      string `json:"value,omitempty"`    // and its new value
	Old        string `json:"old,omitempty"`      // recorded when requested
}

// change is a requested change and its approval.
type change struct {
	ID          int64         `json:"id"`
	Op          string        `json:"op"`
	Title       string        `json:"title"`
	Request     changeRequest `json:"request"`
	Status      string        `json:"status"` // pending, applied, refused, failed
	Note        string        `json:"note,omitempty"`
	InstanceID  string        `json:"instance_id"`
	RequestedBy string        `json:"requested_by"`
	CreatedAt   int64         `json:"created_at"`
}

func migrateChanges(ctx context.Context, db *sql.DB, dialect string) error {
	id := storage.AutoID(dialect)
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS case_changes (
		id `+id+`,
		case_id BIGINT NOT NULL,
		op VARCHAR(32) NOT NULL,
		request TEXT NOT NULL,
		status VARCHAR(16) NOT NULL,
		note TEXT,
		instance_id VARCHAR(32) NOT NULL DEFAULT '',
		requested_by VARCHAR(64) NOT NULL,
		created_at BIGINT NOT NULL)`)
	if err != nil {
		return err
	}
	// A lead's clock changes go through the same approval (leads.go).
	return storage.AddColumn(ctx, db, "case_changes", "lead_id", "BIGINT NOT NULL DEFAULT 0")
}

func (s *service) caseChangeRoutes(mux *http.ServeMux) {
	for op := range changeOps {
		mux.HandleFunc("POST /cases/{id}/"+strings.ReplaceAll(op, "_", "-"), s.requestChange(op))
	}
}

// changesOf lists a case's changes (or, with lead, a lead's), newest first.
func (s *service) changesOf(ctx context.Context, id int64, lead bool) ([]change, error) {
	column := "case_id"
	if lead {
		column = "lead_id"
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, op, request, status, note, instance_id, requested_by, created_at FROM case_changes WHERE "+column+" = ? ORDER BY id DESC", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []change{}
	for rows.Next() {
		var ch change
		var req string
		var note sql.NullString
		if err := rows.Scan(&ch.ID, &ch.Op, &req, &ch.Status, &note, &ch.InstanceID, &ch.RequestedBy, &ch.CreatedAt); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(req), &ch.Request)
		ch.Note, ch.Title = note.String, changeOps[ch.Op][0]
		out = append(out, ch)
	}
	return out, rows.Err()
}

// changeError is a change that cannot be made, with its answer.
type changeError struct {
	status int
	code   string
	detail string
}

func (e *changeError) Error() string { return e.code + ": " + e.detail }

func invalid(detail string) error {
	return &changeError{http.StatusBadRequest, "enforcement.invalid", detail}
}

func wrongState(c *kase) error {
	return &changeError{http.StatusConflict, "enforcement.state", c.Status}
}

// check says whether op may be made to c now (the request's own fields, the
// case's state, the clock).
func check(c *kase, op string, in *changeRequest) error {
	switch op {
	case "pause", "resume", "extend":
		if c.Status == "archived" || c.Status == "terminated" {
			return wrongState(c)
		}
		if op == "extend" && len(c.track.Extensions) > 0 && strings.TrimSpace(in.Discussion) == "" {
			return invalid("collective_discussion: a further extension needs the agency heads' collective discussion recorded (R-LEG-3)")
		}
		t := c.track // a copy of the slices is enough: change only appends or sets the last pause's end
		t.Pauses = append([]pause(nil), c.track.Pauses...)
		if err := t.change(op, time.Now(), in.Days, in.Reason); err != nil {
			return &changeError{http.StatusConflict, "enforcement.invalid", err.Error()}
		}
	case "suspend":
		if _, ok := suspensionGrounds[in.Ground]; !ok {
			return invalid("ground: pending_ruling, interpretation, force_majeure, party_missing or other_statutory (R-SUS-1)")
		}
		if c.Status != "investigating" {
			return wrongState(c)
		}
	case "resume_investigation":
		if in.ProofID == "" {
			return invalid("proof_file_id: the proof that the ground of suspension has ceased is required (R-SUS-1)")
		}
		if c.Status != "suspended" {
			return wrongState(c)
		}
	case "terminate":
		if _, ok := terminationTypes[in.Type]; !ok {
			return invalid("type: no_violation, minor, time_barred or revoked (R-LEG-5; a penalty or a transfer ends the investigation instead)")
		}
		if c.Status != "investigating" && c.Status != "suspended" {
			return wrongState(c)
		}
	case "transfer":
		if c.Status != "investigating" && c.Status != "suspended" {
			return wrongState(c)
		}
	case "correct":
		in.Value = strings.TrimSpace(in.Value)
		limit := map[string]int{"cause": 200, "party_name": 100, "party_address": 200}[in.Field]
		if _, ok := correctable[in.Field]; !ok || in.Value == "" || utf8.RuneCountInString(in.Value) > limit {
			return invalid("field (cause, party_name or party_address) and its new value (within the field's length) are required")
		}
		if c.Status == "archived" || c.Status == "terminated" {
			return wrongState(c)
		}
	}
	return nil
}

// requestChange is the handler's application: checked, then sent for
// approval; 202 with the change.
func (s *service) requestChange(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		in, ok := decodeChange(w, r)
		if !ok {
			return
		}
		c, ok := s.loadCase(w, r, "enforcement.case.write")
		if !ok {
			return
		}
		if err := check(c, op, &in); err != nil {
			changeFailed(w, r, err)
			return
		}
		ctx := r.Context()
		switch op {
		case "transfer":
			org, err := s.host.Identity.GetOrganization(ctx, &pluginv1.GetOrganizationRequest{Code: strings.TrimSpace(in.OrgCode)})
			if status.Code(err) == codes.NotFound || (err == nil && (org.Path == c.OrgPath || len(strings.Split(strings.Trim(org.Path, "/"), "/")) < 2)) {
				fail(w, r, http.StatusBadRequest, "enforcement.invalid", "org_code: a district bureau or one of its units, other than the current handling one", nil)
				return
			} else if err != nil {
				hostFailed(w, r, err)
				return
			}
			in.OrgCode, in.OrgPath = org.Code, org.Path
		case "correct":
			in.Old = map[string]string{"cause": c.Cause, "party_name": c.PartyName, "party_address": c.PartyAddress}[in.Field]
		case "resume_investigation":
			// The proof is evidence whatever the approval decides.
			meta, _ := json.Marshal(map[string]any{"date": time.Now().In(shanghai).Format("2006-01-02")})
			if _, err := s.host.Dossiers.AppendDossier(ctx, &pluginv1.AppendDossierRequest{Subject: subject(c.ID), Kind: "evidence",
				Title: "中止调查情形消除的证明材料", FileId: in.ProofID, Meta: meta}); err != nil {
				hostFailed(w, r, err)
				return
			}
		}
		form := map[string]any{"case": c.Number, "party_name": c.PartyName, "change": changeOps[op][0], "reason": in.Reason,
			"days": in.Days, "collective_discussion": in.Discussion}
		s.submitChange(w, r, changeTarget{caseID: c.ID, resource: fmt.Sprintf("case:%d", c.ID), audit: "case.change_requested",
			title: changeOps[op][0] + "审批：" + c.PartyName + " " + c.Number, page: fmt.Sprintf("/cases/%d", c.ID)}, op, &in, form)
	}
}

// decodeChange reads a change request of a case or a lead: a reason, and a
// collective discussion of at most 2,000 characters. What the plugin
// resolves or records itself (org_path, old) is never taken from the caller.
func decodeChange(w http.ResponseWriter, r *http.Request) (changeRequest, bool) {
	var in changeRequest
	if !decode(w, r, &in) || !reasonGiven(w, r, &in.Reason) {
		return in, false
	}
	if utf8.RuneCountInString(in.Discussion) > 2000 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "collective_discussion: at most 2,000 characters", nil)
		return in, false
	}
	in.OrgPath, in.Old = "", ""
	return in, true
}

// reasonGiven trims *reason and answers 400 unless it holds 1–1000
// characters.
func reasonGiven(w http.ResponseWriter, r *http.Request, reason *string) bool {
	*reason = strings.TrimSpace(*reason)
	if *reason == "" || utf8.RuneCountInString(*reason) > 1000 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "reason (1–1000 characters) is required", nil)
		return false
	}
	return true
}

// changeTarget is what a change request is about: a case (caseID) or a
// lead's check clock (leadID), with the approval task's title and page.
type changeTarget struct {
	caseID, leadID  int64
	resource, audit string
	title, page     string
}

// submitChange records a checked change request and starts its approval
// (enforcement.case_change); one change per case or lead awaits approval at
// a time. 202 with the change and the process instance.
func (s *service) submitChange(w http.ResponseWriter, r *http.Request, t changeTarget, op string, in *changeRequest, form map[string]any) {
	ctx := r.Context()
	var pending int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM case_changes WHERE case_id = ? AND lead_id = ? AND status = 'pending'",
		t.caseID, t.leadID).Scan(&pending); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	if pending > 0 {
		fail(w, r, http.StatusConflict, "enforcement.state", "another change is awaiting approval", nil)
		return
	}
	req, _ := json.Marshal(in)
	res, err := s.db.ExecContext(ctx, "INSERT INTO case_changes (case_id, lead_id, op, request, status, requested_by, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
		t.caseID, t.leadID, op, string(req), sdk.CallerFrom(ctx).Username, ms(time.Now()))
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	id, _ := res.LastInsertId()
	// The approvers' page shows what applies to this change: no 天数 0, no
	// empty 集体讨论.
	for k, v := range form {
		if v == 0 || v == "" {
			delete(form, k)
		}
	}
	vars, _ := json.Marshal(form)
	inst, err := s.host.Processes.StartProcess(ctx, &pluginv1.StartProcessRequest{ProcessKey: "enforcement.case_change",
		BusinessKey: strconv.FormatInt(id, 10), Variables: vars, Title: t.title, Page: t.page})
	if err != nil {
		_, _ = s.db.ExecContext(ctx, "DELETE FROM case_changes WHERE id = ?", id)
		hostFailed(w, r, err)
		return
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE case_changes SET instance_id = ? WHERE id = ?", inst.InstanceId, id); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(ctx, s.host, t.audit, t.resource, map[string]any{"op": op, "change": id, "instance": inst.InstanceId})
	sdk.WriteJSON(w, http.StatusAccepted, map[string]any{"change_id": id, "instance_id": inst.InstanceId, "state": inst.State})
}

func changeFailed(w http.ResponseWriter, r *http.Request, err error) {
	var ce *changeError
	if errors.As(err, &ce) {
		fail(w, r, ce.status, ce.code, ce.detail, nil)
		return
	}
	fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
}

// onChange learns the outcome of a change's approval and makes the change,
// checked again against the case as it is now. Idempotent: a change is made
// once.
func (s *service) onChange(ctx context.Context, ev sdk.TaskEvent) error {
	id, err := strconv.ParseInt(ev.BusinessKey, 10, 64)
	if err != nil {
		return nil
	}
	var caseID, leadID int64
	var op, req string
	err = s.db.QueryRowContext(ctx, "SELECT case_id, lead_id, op, request FROM case_changes WHERE id = ? AND instance_id = ? AND status = 'pending'", id, ev.InstanceID).Scan(&caseID, &leadID, &op, &req)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	settle := func(status, note string) error {
		_, err := s.db.ExecContext(ctx, "UPDATE case_changes SET status = ?, note = ? WHERE id = ? AND status = 'pending'", status, note, id)
		return err
	}
	if ev.Transition != "approved" {
		return settle("refused", ev.Comment)
	}
	var in changeRequest
	_ = json.Unmarshal([]byte(req), &in)
	kind, target := "case", caseID
	apply := s.applyCaseChange
	if leadID != 0 {
		kind, target, apply = "lead", leadID, s.applyLeadChange
	}
	if err := apply(ctx, target, op, &in); err != nil {
		var ce *changeError
		if errors.As(err, &ce) {
			return settle("failed", err.Error())
		}
		return err
	}
	if err := settle("applied", ev.Comment); err != nil {
		return err
	}
	return audit(ctx, s.host, kind+"."+op, fmt.Sprintf("%s:%d", kind, target), map[string]any{"change": id, "reason": in.Reason, "instance": ev.InstanceID})
}

// applyCaseChange makes an approved change to a case, checked again against
// the case as it is now.
func (s *service) applyCaseChange(ctx context.Context, caseID int64, op string, in *changeRequest) error {
	c, err := s.readCase(ctx, "id = ?", caseID)
	if err != nil {
		return err
	}
	if err := check(c, op, in); err != nil {
		return err
	}
	return s.apply(ctx, c, op, in)
}

// apply makes an approved change.
func (s *service) apply(ctx context.Context, c *kase, op string, in *changeRequest) error {
	if c.findings == nil {
		c.findings = map[string]any{}
	}
	now := time.Now()
	next := c.Status
	switch op {
	case "pause", "resume", "extend":
		reason := in.Reason
		if in.Discussion != "" {
			reason += "（集体讨论：" + in.Discussion + "）"
		}
		if err := c.track.change(op, now, in.Days, reason); err != nil {
			return &changeError{http.StatusConflict, "enforcement.invalid", err.Error()}
		}
		// The host's calendar decides whether the changed clock holds
		// (e.g. no extension of a period that has already run out).
		if _, err := evaluate(ctx, s.host, c.track); err != nil {
			return &changeError{http.StatusConflict, "enforcement.invalid", status.Convert(err).Message()}
		}
	case "suspend":
		ground := suspensionGrounds[in.Ground]
		if err := c.track.change("pause", now, 0, "中止调查："+ground); err != nil {
			return &changeError{http.StatusConflict, "enforcement.invalid", err.Error()}
		}
		c.findings["suspension"] = map[string]any{"ground": in.Ground, "ground_text": ground, "reason": in.Reason, "at": now.UnixMilli()}
		next = "suspended"
	case "resume_investigation":
		if err := c.track.change("resume", now, 0, in.Reason); err != nil {
			return &changeError{http.StatusConflict, "enforcement.invalid", err.Error()}
		}
		if sus, ok := c.findings["suspension"].(map[string]any); ok {
			sus["resumed_at"], sus["proof"] = now.UnixMilli(), in.ProofID
		}
		next = "investigating"
	case "terminate":
		c.findings["termination"] = map[string]any{"type": in.Type, "outcome": terminationTypes[in.Type], "reason": in.Reason, "at": now.UnixMilli()}
		next = "terminated"
	case "transfer":
		res, err := s.db.ExecContext(ctx, "UPDATE cases SET org_code = ?, org_path = ? WHERE id = ? AND org_path = ?", in.OrgCode, in.OrgPath, c.ID, c.OrgPath)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return wrongState(c)
		}
		return nil
	case "correct":
		// The column is one of correctable's keys, checked in check.
		_, err := s.db.ExecContext(ctx, "UPDATE cases SET "+in.Field+" = ? WHERE id = ?", in.Value, c.ID)
		return err
	}
	tj, _ := json.Marshal(c.track)
	fj, _ := json.Marshal(c.findings)
	res, err := s.db.ExecContext(ctx, "UPDATE cases SET status = ?, track = ?, findings = ? WHERE id = ? AND status = ?", next, string(tj), string(fj), c.ID, c.Status)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return wrongState(c)
	}
	return nil
}

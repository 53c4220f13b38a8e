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
	"github.com/shanghai-amr/portal/sdk/idcode"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/storage"
)

// lead is a case lead (线索, C11 module 1168).
type lead struct {
	ID           int64     `json:"id"`
	Source       string    `json:"source"`
	PartyName    string    `json:"party_name"`
	PartyID      string    `json:"party_id"`
	PartyAddress string    `json:"party_address"`
	Summary      string    `json:"summary"`
	OrgCode      string    `json:"org_code"`
	OrgPath      string    `json:"-"`
	Status       string    `json:"status"` // registered, filing, filed, not_filed, merged, returned
	InstanceID   string    `json:"instance_id,omitempty"`
	CaseID       int64     `json:"case_id,omitempty"`
	CreatedBy    string    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
	track        track
	Clock        *clockView `json:"clock,omitempty"`
	// Outcome is what the handler proposed and the filing approval decided
	// (立案, 不予立案, 合并立案), or why the lead was returned.
	Outcome *leadOutcome `json:"outcome,omitempty"`
	// Changes are the clock changes applied for and their approvals.
	Changes []change `json:"changes,omitempty"`
}

// leadOutcome is a lead's outcome (C11 1168).
type leadOutcome struct {
	Outcome   string `json:"outcome"` // file, not_file, merge, return
	Reason    string `json:"reason,omitempty"`
	MergeInto int64  `json:"merge_into,omitempty"`
}

var outcomeNames = map[string]string{"file": "立案", "not_file": "不予立案", "merge": "合并立案"}

// migrateLeadOutcomes adds the outcome column (expand-only).
func migrateLeadOutcomes(ctx context.Context, db *sql.DB, _ string) error {
	return storage.AddColumn(ctx, db, "leads", "outcome", "TEXT")
}

var sources = map[string]bool{"complaint": true, "inspection": true, "referral": true, "monitoring": true, "other": true}

// createLead registers a lead (manual registration, or another system's
// intake through the same route) and starts its 15-working-day check clock
// from the day the lead was received (R-DL-2).
func (s *service) createLead(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Source       string `json:"source"`
		PartyName    string `json:"party_name"`
		PartyID      string `json:"party_id"`
		PartyAddress string `json:"party_address"`
		Summary      string `json:"summary"`
		ReceivedOn   string `json:"received_on"` // YYYY-MM-DD; default today
	}
	if !decode(w, r, &in) {
		return
	}
	in.PartyName, in.Summary = strings.TrimSpace(in.PartyName), strings.TrimSpace(in.Summary)
	var problems []string
	if !sources[in.Source] {
		problems = append(problems, "source: complaint, inspection, referral, monitoring or other")
	}
	if in.PartyName == "" || utf8.RuneCountInString(in.PartyName) > 100 {
		problems = append(problems, "party_name: 1–100 characters")
	}
	if err := idcode.ValidUSCC(in.PartyID); err != nil {
		problems = append(problems, "party_id: "+err.Error())
	}
	if in.Summary == "" || utf8.RuneCountInString(in.Summary) > 2000 || utf8.RuneCountInString(in.PartyAddress) > 200 {
		problems = append(problems, "summary: 1–2000 characters; party_address: at most 200")
	}
	received := time.Now().In(shanghai)
	if in.ReceivedOn != "" {
		d, err := time.ParseInLocation("2006-01-02", in.ReceivedOn, shanghai)
		if err != nil || d.After(received) || received.Sub(d) > 365*24*time.Hour {
			problems = append(problems, "received_on: a date in the past year (YYYY-MM-DD)")
		} else {
			received = d.Add(9 * time.Hour)
		}
	}
	if len(problems) > 0 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", strings.Join(problems, "; "), nil)
		return
	}
	c := sdk.CallerFrom(r.Context())
	t := leadClock(received)
	tj, _ := json.Marshal(t)
	res, err := s.db.ExecContext(r.Context(), `INSERT INTO leads (source, party_name, party_id, party_address, summary, org_code,
		org_path, status, track, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?, ?)`,
		in.Source, in.PartyName, in.PartyID, in.PartyAddress, in.Summary, c.OrgCode, c.OrgPath, string(tj), c.Username, ms(time.Now()))
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	id, _ := res.LastInsertId()
	if err := audit(r.Context(), s.host, "lead.create", fmt.Sprintf("lead:%d", id), map[string]any{"source": in.Source}); err != nil {
		fail(w, r, http.StatusBadGateway, "enforcement.host", err.Error(), err)
		return
	}
	l, ok := s.loadLead(w, r, id, "enforcement.case.read")
	if ok {
		sdk.WriteJSON(w, http.StatusCreated, l)
	}
}

const leadColumns = "id, source, party_name, party_id, party_address, summary, org_code, org_path, status, track, instance_id, case_id, created_by, created_at, outcome"

func scanLead(row interface{ Scan(...any) error }) (*lead, error) {
	var l lead
	var tj string
	var at int64
	var outcome sql.NullString
	if err := row.Scan(&l.ID, &l.Source, &l.PartyName, &l.PartyID, &l.PartyAddress, &l.Summary, &l.OrgCode, &l.OrgPath,
		&l.Status, &tj, &l.InstanceID, &l.CaseID, &l.CreatedBy, &at, &outcome); err != nil {
		return nil, err
	}
	if outcome.String != "" {
		l.Outcome = &leadOutcome{}
		_ = json.Unmarshal([]byte(outcome.String), l.Outcome)
	}
	l.CreatedAt = fromMS(at)
	if err := json.Unmarshal([]byte(tj), &l.track); err != nil {
		return nil, err
	}
	return &l, nil
}

// loadLead reads a lead the caller may take action on, with its clock; out
// of scope answers 404 like a lead that does not exist.
func (s *service) loadLead(w http.ResponseWriter, r *http.Request, id int64, action string) (*lead, bool) {
	l, err := scanLead(s.db.QueryRowContext(r.Context(), "SELECT "+leadColumns+" FROM leads WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", err)
		return nil, false
	} else if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return nil, false
	}
	ok, err := allowed(r.Context(), action, l.OrgPath)
	if err != nil {
		fail(w, r, http.StatusServiceUnavailable, "enforcement.host", err.Error(), err)
		return nil, false
	}
	if !ok {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", nil)
		return nil, false
	}
	if l.Status == "registered" || l.Status == "filing" {
		cv, err := evaluate(r.Context(), s.host, l.track)
		if err != nil {
			fail(w, r, http.StatusBadGateway, "enforcement.host", err.Error(), err)
			return nil, false
		}
		l.Clock = &cv
	}
	return l, true
}

func (s *service) getLead(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	l, ok := s.loadLead(w, r, id, "enforcement.case.read")
	if !ok {
		return
	}
	var err error
	if l.Changes, err = s.changesOf(r.Context(), l.ID, true); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, l)
}

var scopeColumns = map[string]string{"resource.org_path": "org_path"}

func (s *service) listLeads(w http.ResponseWriter, r *http.Request) {
	listScoped(s, w, r, leadColumns, "leads", "leads", scanLead, nil)
}

// scope is the caller's data scope as SQL, compiled by the host's policy.
func (s *service) scope(w http.ResponseWriter, r *http.Request) (string, []any, bool) {
	f, err := sdk.HostFrom(r.Context()).Policy.DataFilter(r.Context(), &pluginv1.DataFilterRequest{Action: "enforcement.case.read", ResourceType: "case"})
	if err != nil {
		fail(w, r, http.StatusServiceUnavailable, "enforcement.host", err.Error(), err)
		return "", nil, false
	}
	where, args, err := filter.SQL(f, scopeColumns)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return "", nil, false
	}
	return where, args, true
}

// leadClock pauses, resumes or extends (by 15 working days, once) a lead's
// check clock. The spec has these as approval flows (R-DL-4); here the
// permission enforcement.case.approve (the head of the unit) is the approval,
// recorded in the audit log with the reason.
// returnLead returns a lead that does not qualify (e.g. outside the bureau's
// jurisdiction or not a matter for market regulation) to its source, with the
// reason; its clock stops.
func (s *service) returnLead(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if !decode(w, r, &in) || !reasonGiven(w, r, &in.Reason) {
		return
	}
	l, ok := s.loadLead(w, r, id, "enforcement.case.write")
	if !ok {
		return
	}
	outcome, _ := json.Marshal(leadOutcome{Outcome: "return", Reason: in.Reason})
	res, err := s.db.ExecContext(r.Context(), "UPDATE leads SET status = 'returned', outcome = ? WHERE id = ? AND status = 'registered'", string(outcome), l.ID)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	if n, _ := res.RowsAffected(); n == 0 {
		fail(w, r, http.StatusConflict, "enforcement.state", l.Status, nil)
		return
	}
	_ = audit(r.Context(), s.host, "lead.return", fmt.Sprintf("lead:%d", l.ID), map[string]any{"reason": in.Reason})
	if l, ok := s.loadLead(w, r, id, "enforcement.case.read"); ok {
		sdk.WriteJSON(w, http.StatusOK, l)
	}
}

// leadChanges are the lead clock's changes and their names (R-DL-2, R-RET-1).
var leadChanges = map[string]string{"pause": "线索期限暂停", "resume": "线索期限恢复", "extend": "线索延长"}

// checkLeadChange says whether op may be made to l's clock now; the host's
// calendar decides whether the changed clock would hold (e.g. no extension
// of a period that has already run out).
func (s *service) checkLeadChange(ctx context.Context, l *lead, op string, in *changeRequest) error {
	if l.Status != "registered" {
		return &changeError{http.StatusConflict, "enforcement.state", l.Status}
	}
	if op == "extend" {
		if len(l.track.Extensions) > 0 {
			return &changeError{http.StatusConflict, "enforcement.invalid", "a lead's check period is extended once, by 15 working days (R-DL-2)"}
		}
		in.Days = 15
	}
	t := l.track
	t.Pauses = append([]pause(nil), l.track.Pauses...)
	if err := t.change(op, time.Now(), in.Days, in.Reason); err != nil {
		return &changeError{http.StatusConflict, "enforcement.invalid", err.Error()}
	}
	if _, err := evaluate(ctx, s.host, t); err != nil {
		if st, ok := statusOf(err); ok {
			return &changeError{http.StatusUnprocessableEntity, "enforcement.host", st}
		}
		return err
	}
	return nil
}

// requestLeadChange is the handler's application to pause, resume or extend
// a lead's check clock; the heads approve it through enforcement.case_change
// (R-RET-1), and it is made when approved (applyLeadChange).
func (s *service) requestLeadChange(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		in, ok := decodeChange(w, r)
		if !ok {
			return
		}
		l, ok := s.loadLead(w, r, id, "enforcement.case.write")
		if !ok {
			return
		}
		ctx := r.Context()
		if err := s.checkLeadChange(ctx, l, op, &in); err != nil {
			changeFailed(w, r, err)
			return
		}
		form := map[string]any{"lead_id": l.ID, "party_name": l.PartyName, "change": leadChanges[op], "reason": in.Reason, "days": in.Days}
		s.submitChange(w, r, changeTarget{leadID: l.ID, resource: fmt.Sprintf("lead:%d", l.ID), audit: "lead.change_requested",
			title: leadChanges[op] + "审批：" + l.PartyName, page: fmt.Sprintf("/leads/%d", l.ID)}, op, &in, form)
	}
}

// applyLeadChange makes an approved change to a lead's clock, checked again.
func (s *service) applyLeadChange(ctx context.Context, leadID int64, op string, in *changeRequest) error {
	l, err := scanLead(s.db.QueryRowContext(ctx, "SELECT "+leadColumns+" FROM leads WHERE id = ?", leadID))
	if err != nil {
		return err
	}
	if err := s.checkLeadChange(ctx, l, op, in); err != nil {
		return err
	}
	if err := l.track.change(op, time.Now(), in.Days, in.Reason); err != nil {
		return &changeError{http.StatusConflict, "enforcement.invalid", err.Error()}
	}
	tj, _ := json.Marshal(l.track)
	_, err = s.db.ExecContext(ctx, "UPDATE leads SET track = ? WHERE id = ? AND status = 'registered'", string(tj), l.ID)
	return err
}

// fileLead submits the filing approval (立案审批, P2 joint review) to the
// host's process engine; the outcome arrives in onTask.
func (s *service) fileLead(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in struct {
		Cause   string `json:"cause"`
		Opinion string `json:"opinion"`
		// Outcome proposed: file (立案, the default), not_file (不予立案) or
		// merge (合并立案 into an open case of the same party, MergeInto).
		Outcome   string `json:"outcome"`
		MergeInto int64  `json:"merge_into"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Outcome == "" {
		in.Outcome = "file"
	}
	if _, known := outcomeNames[in.Outcome]; !known || strings.TrimSpace(in.Opinion) == "" ||
		(in.Outcome == "file" && (strings.TrimSpace(in.Cause) == "" || utf8.RuneCountInString(in.Cause) > 200)) ||
		(in.Outcome == "merge" && in.MergeInto <= 0) {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "outcome (file, not_file or merge), opinion, and cause (1–200 characters) to file or merge_into to merge are required", nil)
		return
	}
	l, ok := s.loadLead(w, r, id, "enforcement.case.write")
	if !ok {
		return
	}
	if l.Status != "registered" {
		fail(w, r, http.StatusConflict, "enforcement.state", l.Status, nil)
		return
	}
	if in.Outcome == "merge" {
		target, err := s.readCase(r.Context(), "id = ?", in.MergeInto)
		var ok bool
		if err == nil {
			ok, err = allowed(r.Context(), "enforcement.case.write", target.OrgPath)
		}
		switch {
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
			return
		case err != nil || !ok:
			fail(w, r, http.StatusBadRequest, "enforcement.invalid", "merge_into: no such case in your scope", nil)
			return
		case target.PartyID != l.PartyID || target.Status != "investigating":
			fail(w, r, http.StatusBadRequest, "enforcement.invalid", "merge_into: a case of the same party still in investigation", nil)
			return
		}
	}
	outcome, _ := json.Marshal(leadOutcome{Outcome: in.Outcome, Reason: in.Opinion, MergeInto: in.MergeInto})
	form, _ := json.Marshal(map[string]any{"cause": in.Cause, "opinion": in.Opinion, "party_name": l.PartyName, "lead_id": l.ID,
		"outcome": in.Outcome, "outcome_text": outcomeNames[in.Outcome], "merge_into": in.MergeInto})
	if _, err := s.db.ExecContext(r.Context(), "UPDATE leads SET outcome = ? WHERE id = ? AND status = 'registered'", string(outcome), l.ID); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	inst, err := sdk.HostFrom(r.Context()).Processes.StartProcess(r.Context(), &pluginv1.StartProcessRequest{
		ProcessKey: "enforcement.filing", BusinessKey: strconv.FormatInt(l.ID, 10), Variables: form,
		Title: outcomeNames[in.Outcome] + "审批：" + l.PartyName + " " + in.Cause, Page: "/leads/{business_key}"})
	if err != nil {
		hostFailed(w, r, err)
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "UPDATE leads SET status = 'filing', instance_id = ? WHERE id = ? AND status = 'registered'",
		inst.InstanceId, l.ID); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "lead.file", fmt.Sprintf("lead:%d", l.ID), map[string]any{"instance": inst.InstanceId, "cause": in.Cause})
	sdk.WriteJSON(w, http.StatusAccepted, map[string]any{"instance_id": inst.InstanceId, "state": inst.State})
}

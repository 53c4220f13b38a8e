package main

// Changes to a case in investigation (C12, R-RET-2's list): suspension
// (中止调查) on one of the statutory grounds and resumption with proof that
// the ground has ceased (R-SUS-1), termination (调查终止) for the
// outcomes that are not a penalty or a transfer (R-LEG-5), and the change of
// handling body (变更办案机构), which moves the case's data scope. As with
// the clock changes, the head of the handling unit's permission
// (enforcement.case.approve) stands for the approval these need.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func (s *service) caseChangeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /cases/{id}/suspend", s.suspendCase)
	mux.HandleFunc("POST /cases/{id}/resume-investigation", s.resumeCase)
	mux.HandleFunc("POST /cases/{id}/terminate", s.terminateCase)
	mux.HandleFunc("POST /cases/{id}/transfer", s.transferCase)
}

// suspensionGrounds are R-SUS-1's grounds for 中止调查.
var suspensionGrounds = map[string]string{
	"pending_ruling":  "行政处罚决定须以相关案件的裁判结果或者其他行政决定为依据，而相关案件尚未审结或者其他行政决定尚未作出",
	"interpretation":  "涉及法律适用等问题，需要送请有权机关作出解释或者确认",
	"force_majeure":   "因不可抗力致使案件暂时无法调查",
	"party_missing":   "因当事人下落不明致使案件暂时无法调查",
	"other_statutory": "其他应当中止调查的情形",
}

// terminationTypes are R-LEG-5's 调查处理类型 other than 给予处罚 and 移送:
// the investigation ends (调查终止) and the case is closed.
var terminationTypes = map[string]string{
	"no_violation": "违法事实不能成立",
	"minor":        "违法行为轻微并及时改正，没有造成危害后果，不予行政处罚",
	"time_barred":  "违法行为在二年内未被发现，不再给予行政处罚",
	"revoked":      "撤销立案",
}

type changeInput struct {
	Ground  string `json:"ground"`
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	ProofID string `json:"proof_file_id"`
	OrgCode string `json:"org_code"`
}

func (s *service) readChange(w http.ResponseWriter, r *http.Request) (*changeInput, bool) {
	var in changeInput
	if !decode(w, r, &in) {
		return nil, false
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" || utf8.RuneCountInString(in.Reason) > 1000 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "reason (1–1000 characters) is required", nil)
		return nil, false
	}
	return &in, true
}

// setState stores a case's new status (and clock), guarded by the status it
// had, and audits the change.
func (s *service) setState(w http.ResponseWriter, r *http.Request, c *kase, from, to, action string, detail map[string]any) {
	tj, _ := json.Marshal(c.track)
	fj, _ := json.Marshal(c.findings)
	res, err := s.db.ExecContext(r.Context(), "UPDATE cases SET status = ?, track = ?, findings = ? WHERE id = ? AND status = ?", to, string(tj), string(fj), c.ID, from)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	if n, _ := res.RowsAffected(); n == 0 {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	_ = audit(r.Context(), s.host, action, fmt.Sprintf("case:%d", c.ID), detail)
	if c, ok := s.loadCase(w, r, "enforcement.case.read"); ok {
		writeJSON(w, http.StatusOK, c)
	}
}

// suspendCase: 中止调查 on a ground of R-SUS-1; the case clock stops.
func (s *service) suspendCase(w http.ResponseWriter, r *http.Request) {
	in, ok := s.readChange(w, r)
	if !ok {
		return
	}
	ground, known := suspensionGrounds[in.Ground]
	if !known {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "ground: pending_ruling, interpretation, force_majeure, party_missing or other_statutory (R-SUS-1)", nil)
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.approve")
	if !ok {
		return
	}
	if c.Status != "investigating" {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	if err := c.track.change("pause", time.Now(), 0, "中止调查："+ground); err != nil {
		fail(w, r, http.StatusConflict, "enforcement.invalid", err.Error(), nil)
		return
	}
	if c.findings == nil {
		c.findings = map[string]any{}
	}
	c.findings["suspension"] = map[string]any{"ground": in.Ground, "ground_text": ground, "reason": in.Reason, "at": time.Now().UnixMilli()}
	s.setState(w, r, c, "investigating", "suspended", "case.suspend", map[string]any{"ground": in.Ground})
}

// resumeCase: 恢复调查, only with proof that the ground has ceased (R-SUS-1:
// "从中止改为正常"); the proof goes into the dossier and the clock runs again.
func (s *service) resumeCase(w http.ResponseWriter, r *http.Request) {
	in, ok := s.readChange(w, r)
	if !ok {
		return
	}
	if in.ProofID == "" {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "proof_file_id: the proof that the ground of suspension has ceased is required (R-SUS-1)", nil)
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.approve")
	if !ok {
		return
	}
	if c.Status != "suspended" {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	meta, _ := json.Marshal(map[string]any{"date": time.Now().In(shanghai).Format("2006-01-02")})
	if _, err := s.host.Dossiers.AppendDossier(r.Context(), &pluginv1.AppendDossierRequest{Subject: subject(c.ID), Kind: "evidence",
		Title: "中止调查情形消除的证明材料", FileId: in.ProofID, Meta: meta}); err != nil {
		hostFailed(w, r, err)
		return
	}
	if err := c.track.change("resume", time.Now(), 0, in.Reason); err != nil {
		fail(w, r, http.StatusConflict, "enforcement.invalid", err.Error(), nil)
		return
	}
	if sus, ok := c.findings["suspension"].(map[string]any); ok {
		sus["resumed_at"], sus["proof"] = time.Now().UnixMilli(), in.ProofID
	}
	s.setState(w, r, c, "suspended", "investigating", "case.resume", map[string]any{"proof": in.ProofID})
}

// terminateCase: 调查终止 for an outcome that is not a penalty or a
// transfer (R-LEG-5); the case is closed and its clock stops.
func (s *service) terminateCase(w http.ResponseWriter, r *http.Request) {
	in, ok := s.readChange(w, r)
	if !ok {
		return
	}
	outcome, known := terminationTypes[in.Type]
	if !known {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "type: no_violation, minor, time_barred or revoked (R-LEG-5; a penalty or a transfer ends the investigation instead)", nil)
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.approve")
	if !ok {
		return
	}
	if c.Status != "investigating" && c.Status != "suspended" {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	if c.findings == nil {
		c.findings = map[string]any{}
	}
	c.findings["termination"] = map[string]any{"type": in.Type, "outcome": outcome, "reason": in.Reason, "at": time.Now().UnixMilli()}
	s.setState(w, r, c, c.Status, "terminated", "case.terminate", map[string]any{"type": in.Type})
}

// transferCase: 变更办案机构. The case, its clock and its history move to the
// new handling organisation, and with them the data scope: from now on the
// new organisation's staff see and act on it, and the old one's do not.
func (s *service) transferCase(w http.ResponseWriter, r *http.Request) {
	in, ok := s.readChange(w, r)
	if !ok {
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.approve")
	if !ok {
		return
	}
	if c.Status != "investigating" && c.Status != "suspended" {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	org, err := s.host.Identity.GetOrganization(r.Context(), &pluginv1.GetOrganizationRequest{Code: strings.TrimSpace(in.OrgCode)})
	if status.Code(err) == codes.NotFound || (err == nil && org.Path == c.OrgPath) {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "org_code: an organisation other than the current handling one", nil)
		return
	} else if err != nil {
		hostFailed(w, r, err)
		return
	}
	if len(strings.Split(strings.Trim(org.Path, "/"), "/")) < 2 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "org_code: a district bureau or one of its units handles cases", nil)
		return
	}
	res, err := s.db.ExecContext(r.Context(), "UPDATE cases SET org_code = ?, org_path = ? WHERE id = ? AND org_path = ?", org.Code, org.Path, c.ID, c.OrgPath)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	if n, _ := res.RowsAffected(); n == 0 {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	_ = audit(r.Context(), s.host, "case.transfer", fmt.Sprintf("case:%d", c.ID), map[string]any{"from": c.OrgCode, "to": org.Code, "reason": in.Reason})
	writeJSON(w, http.StatusOK, map[string]any{"id": c.ID, "org_code": org.Code, "org_name": org.Name})
}

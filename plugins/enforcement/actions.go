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

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// notice issues the notice of intended penalty (行政处罚告知书) after the
// investigation and opens the party's statement window once they receive it
// (R-NOT-1; the window is configurable per case, default 3 working days).
func (s *service) notice(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Facts, Evidence, Violated, Basis, Penalty, Contact, Address string
		FineYuan                                                    int64 `json:"fine_yuan"`
		WindowDays                                                  int   `json:"window_days"`
		// Hearing: the intended penalty carries the right to a hearing
		// (行政处罚法 第六十三条): the 行政处罚听证告知书 is issued too.
		Hearing bool `json:"hearing"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.WindowDays == 0 {
		in.WindowDays = 3
	}
	if in.WindowDays < 1 || in.WindowDays > 30 || in.FineYuan < 0 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "window_days: 1–30; fine_yuan: not negative", nil)
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.write")
	if !ok {
		return
	}
	if c.Status != "investigating" {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	findings := map[string]any{"facts": in.Facts, "evidence": in.Evidence, "violated": in.Violated, "basis": in.Basis, "penalty": in.Penalty}
	data := map[string]any{"party_name": c.PartyName, "filing_date": c.CreatedAt.Format("2006-01-02"), "case_cause": c.Cause,
		"window_days": fmt.Sprint(in.WindowDays), "contact": in.Contact, "address": in.Address,
		"issue_date": time.Now().In(shanghai).Format("2006-01-02")}
	for k, v := range findings {
		data[k] = v
	}
	doc, err := s.issue(r.Context(), c, "penalty_notice", data)
	if err != nil {
		hostFailed(w, r, err)
		return
	}
	if in.Hearing {
		hdata := map[string]any{}
		for _, k := range []string{"party_name", "case_cause", "facts", "violated", "basis", "penalty", "window_days", "contact", "issue_date"} {
			hdata[k] = data[k]
		}
		hdoc, err := s.issue(r.Context(), c, "hearing_notice", hdata)
		if err != nil {
			hostFailed(w, r, err)
			return
		}
		findings["hearing"] = &hearing{Right: true}
		_ = audit(r.Context(), s.host, "case.hearing_notice", fmt.Sprintf("case:%d", c.ID), map[string]any{"document": hdoc.DocumentId, "number": hdoc.Number})
	}
	fj, _ := json.Marshal(findings)
	if _, err := s.db.ExecContext(r.Context(), "UPDATE cases SET status = 'notified', window_days = ?, fine_fen = ?, findings = ? WHERE id = ?",
		in.WindowDays, in.FineYuan*100, string(fj), c.ID); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.notice", fmt.Sprintf("case:%d", c.ID), map[string]any{"document": doc.DocumentId, "number": doc.Number})
	if c, ok := s.loadCase(w, r, "enforcement.case.read"); ok {
		sdk.WriteJSON(w, http.StatusOK, c)
	}
}

// decide submits the draft decision to its approval (R-LEG-1: 法制审核
// before the decision, then the head of the agency) through the host's
// process engine; the 行政处罚决定书 is issued when it is approved (onTask).
// The party's window must have closed, or the party must have been heard and
// its statement reviewed (R-NOT-1, R-NOT-3).
func (s *service) decide(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Payment     string `json:"payment"`
		ReviewOrgan string `json:"review_organ"`
		Court       string `json:"court"`
		Review      string `json:"review"` // the 复核 of the party's statement, when there is one
		// LegalReview: the grounds of R-LEG-1 that apply (public_interest,
		// complex, statutory; heard is added when a hearing was held). None:
		// the decision goes straight to the head of the agency.
		LegalReview []string `json:"legal_review"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Payment == "" || in.ReviewOrgan == "" || in.Court == "" {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "payment, review_organ and court are required", nil)
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.write")
	if !ok {
		return
	}
	if c.Status != "notified" {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	if why := hearingPending(c); why != "" {
		fail(w, r, http.StatusConflict, "enforcement.hearing_pending", why, nil)
		return
	}
	grounds, err := legalReview(c, in.LegalReview)
	if err != nil {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", err.Error(), nil)
		return
	}
	statements := 0 // 陈述申辩 filed (a hearing request is answered by the hearing)
	for _, st := range c.Statements {
		if st.Kind == "statement" {
			statements++
		}
	}
	h := hearingOf(c)
	var parts []string
	if h.RecordedAt != 0 {
		parts = append(parts, "当事人要求举行听证，本局于"+h.Date+"依法举行了听证。"+h.Summary)
	}
	switch {
	case statements > 0 && strings.TrimSpace(in.Review) == "":
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "the party filed a statement: the review (复核) of it is required (R-NOT-3)", nil)
		return
	case statements > 0:
		parts = append(parts, "当事人在规定期限内提出了陈述、申辩意见。经复核，"+in.Review)
	case h.RecordedAt != 0:
	case c.StatementDue == nil || time.Now().Before(*c.StatementDue):
		fail(w, r, http.StatusConflict, "enforcement.state", "the party's statement window is still open", nil)
		return
	default:
		parts = append(parts, "当事人在规定期限内未提出陈述、申辩意见。")
	}
	defence := strings.Join(parts, "")
	c.findings["decision"] = map[string]any{"defence": defence, "payment": in.Payment, "review_organ": in.ReviewOrgan, "court": in.Court}
	fj, _ := json.Marshal(c.findings)
	reasons := make([]string, len(grounds))
	for i, g := range grounds {
		reasons[i] = legalReviewGrounds[g]
	}
	form, _ := json.Marshal(map[string]any{"case": c.Number, "party_name": c.PartyName, "penalty": c.findings["penalty"], "defence": defence,
		"legal_review": len(grounds) > 0, "legal_review_grounds": strings.Join(reasons, "；")})
	inst, err := sdk.HostFrom(r.Context()).Processes.StartProcess(r.Context(), &pluginv1.StartProcessRequest{
		ProcessKey: "enforcement.decision", BusinessKey: fmt.Sprint(c.ID), Variables: form,
		Title: "处罚决定审批：" + c.PartyName + " " + c.Number, Page: "/cases/{business_key}"})
	if err != nil {
		hostFailed(w, r, err)
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "UPDATE cases SET status = 'deciding', findings = ? WHERE id = ? AND status = 'notified'", string(fj), c.ID); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.decision_submitted", fmt.Sprintf("case:%d", c.ID), map[string]any{"instance": inst.InstanceId})
	sdk.WriteJSON(w, http.StatusAccepted, map[string]any{"instance_id": inst.InstanceId, "state": inst.State})
}

// onDecision learns the outcome of a decision approval: approved, the
// decision is issued (numbered, sealed, signed) and filed; otherwise the case
// goes back to the handler (notified). Idempotent: a decision already issued
// is not issued again.
func (s *service) onDecision(ctx context.Context, ev sdk.TaskEvent) error {
	id, err := strconv.ParseInt(ev.BusinessKey, 10, 64)
	if err != nil {
		return nil
	}
	c, err := s.readCase(ctx, "id = ?", id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	if c.Status != "deciding" {
		return nil
	}
	if ev.Transition != "approved" {
		_, err := s.db.ExecContext(ctx, "UPDATE cases SET status = 'notified' WHERE id = ? AND status = 'deciding'", c.ID)
		return err
	}
	for _, d := range c.Documents {
		if d.Type == "penalty_decision" {
			_, err := s.db.ExecContext(ctx, "UPDATE cases SET status = 'decided' WHERE id = ?", c.ID)
			return err
		}
	}
	decision, _ := c.findings["decision"].(map[string]any)
	data := map[string]any{"party_name": c.PartyName, "party_id": c.PartyID, "party_address": c.PartyAddress,
		"case_source": fmt.Sprintf("本局于%s对当事人%s一案立案调查。", c.CreatedAt.Format("2006年1月2日"), c.Cause),
		"issue_date":  time.Now().In(shanghai).Format("2006-01-02")}
	for _, k := range []string{"defence", "payment", "review_organ", "court"} {
		data[k] = decision[k]
	}
	for _, k := range []string{"facts", "evidence", "violated", "basis", "penalty"} {
		data[k] = c.findings[k]
	}
	doc, err := s.issue(ctx, c, "penalty_decision", data)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE cases SET status = 'decided' WHERE id = ?", c.ID); err != nil {
		return err
	}
	if err := s.schedulePublication(ctx, c, time.Now()); err != nil {
		s.log.Warn("publication date not computed", "case", c.ID, "err", err)
	}
	return audit(ctx, s.host, "case.decide", fmt.Sprintf("case:%d", c.ID), map[string]any{"document": doc.DocumentId, "number": doc.Number, "instance": ev.InstanceID})
}

// deliverable are the documents delivered with a 送达回证, and their titles.
var deliverable = map[string]string{"penalty_notice": "行政处罚告知书", "penalty_decision": "行政处罚决定书", "demand_notice": "履行行政处罚决定催告书"}

// deliveryMethods are the methods of §2.4 with the date each counts from.
var deliveryMethods = map[string]string{
	"direct": "直接送达", "substitute": "留置送达（代收）", "post": "邮寄送达", "entrusted": "委托送达",
	"electronic": "电子送达", "refused": "留置送达", "public_notice": "公告送达",
}

// deliver records the delivery of the notice or the decision with the
// proof-of-service document (送达回证). The date is the one the method's rule
// gives (§2.4: the recipient's sign date, the postal receipt's date, …),
// entered by the server.
func (s *service) deliver(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Document string `json:"document"` // penalty_notice or penalty_decision
		Method   string `json:"method"`
		Date     string `json:"date"` // YYYY-MM-DD
		Place    string `json:"place"`
		Servers  string `json:"servers"`
	}
	if !decode(w, r, &in) {
		return
	}
	method, okMethod := deliveryMethods[in.Method]
	on, err := time.ParseInLocation("2006-01-02", in.Date, shanghai)
	if !okMethod || err != nil || on.After(time.Now()) || deliverable[in.Document] == "" || in.Servers == "" {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "document (penalty_notice|penalty_decision|demand_notice), method, date (not in the future) and servers are required", err)
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.write")
	if !ok {
		return
	}
	var served *caseDoc
	for i := range c.Documents {
		if c.Documents[i].Type == in.Document {
			served = &c.Documents[i]
		}
	}
	var dn demandNotice
	demanded := decodeFinding(c, "demand", &dn)
	if served == nil || (in.Document == "penalty_notice" && c.Status != "notified") || (in.Document == "penalty_decision" && c.Status != "decided") ||
		(in.Document == "demand_notice" && (c.Status != "delivered" || !demanded || dn.DeliveredOn != "")) {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	title := deliverable[in.Document]
	if _, err := s.issue(r.Context(), c, "service_receipt", map[string]any{"documents": title + " " + served.Number, "recipient": c.PartyName,
		"place": in.Place, "method": method, "servers": in.Servers, "received": "签收日期：" + on.Format("2006年1月2日"),
		"issue_date": time.Now().In(shanghai).Format("2006-01-02")}); err != nil {
		hostFailed(w, r, err)
		return
	}
	at := on.Add(9 * time.Hour)
	switch in.Document {
	case "penalty_notice":
		_, err = s.db.ExecContext(r.Context(), "UPDATE cases SET notice_received_at = ? WHERE id = ?", ms(at), c.ID)
	case "penalty_decision":
		_, err = s.db.ExecContext(r.Context(), "UPDATE cases SET status = 'delivered', delivered_at = ? WHERE id = ?", ms(at), c.ID)
	case "demand_notice": // the ten working days of R-EXE-3 run from here
		dn.DeliveredOn, dn.Method = in.Date, in.Method
		err = s.saveFinding(r.Context(), c, "demand", &dn)
	}
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.deliver", fmt.Sprintf("case:%d", c.ID), map[string]any{"document": in.Document, "method": in.Method, "date": in.Date})
	if c, ok := s.loadCase(w, r, "enforcement.case.read"); ok {
		sdk.WriteJSON(w, http.StatusOK, c)
	}
}

// closeCase closes a delivered case and archives its dossier: the host builds
// the package, signs it and runs the archive checks; a package that fails
// leaves the case open and the answer carries the report.
func (s *service) closeCase(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeArchive(w, r)
	if !ok {
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.approve")
	if !ok {
		return
	}
	if c.Status != "delivered" {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	res, report, ok := s.archive(w, r, subject(c.ID), in)
	if !ok {
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "UPDATE cases SET status = 'archived' WHERE id = ?", c.ID); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.archive", fmt.Sprintf("case:%d", c.ID), map[string]any{"archive_code": res.Dossier.ArchiveCode})
	archived(w, res, report)
}

// archiveForm is a closing request's body: the fonds (全宗号, Z031 unless
// given) and the retention period.
type archiveForm struct {
	Fonds     string `json:"fonds"`
	Retention string `json:"retention"`
}

func decodeArchive(w http.ResponseWriter, r *http.Request) (archiveForm, bool) {
	var in archiveForm
	if !decode(w, r, &in) {
		return in, false
	}
	if in.Fonds == "" {
		in.Fonds = "Z031"
	}
	return in, true
}

// archive asks the host to build, sign and check the archive package of
// subject's dossier. A package that fails a check is answered 422 with the
// report, and ok is false: the record stays open.
func (s *service) archive(w http.ResponseWriter, r *http.Request, subject string, in archiveForm) (*pluginv1.ArchiveResult, any, bool) {
	res, err := s.host.Dossiers.ArchiveDossier(r.Context(), &pluginv1.ArchiveDossierRequest{Subject: subject, Fonds: in.Fonds,
		Retention: in.Retention})
	if err != nil {
		hostFailed(w, r, err)
		return nil, nil, false
	}
	var report any
	_ = json.Unmarshal(res.Report, &report)
	if !res.Archived {
		sdk.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"code": "enforcement.archive", "message": messages["enforcement.archive"][0], "details": report})
		return nil, nil, false
	}
	return res, report, true
}

// archived answers a closing request whose dossier was archived.
func archived(w http.ResponseWriter, res *pluginv1.ArchiveResult, report any) {
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"archive_code": res.Dossier.ArchiveCode, "archive_file_id": res.Dossier.ArchiveFileId, "report": report})
}

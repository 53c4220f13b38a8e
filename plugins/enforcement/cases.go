package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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

// kase is a general-procedure case (C12).
type kase struct {
	ID               int64      `json:"id"`
	LeadID           int64      `json:"lead_id"`
	Number           string     `json:"number"`
	Cause            string     `json:"cause"`
	PartyName        string     `json:"party_name"`
	PartyID          string     `json:"party_id"`
	PartyAddress     string     `json:"party_address"`
	OrgCode          string     `json:"org_code"`
	OrgPath          string     `json:"-"`
	Status           string     `json:"status"` // investigating, suspended, terminated, notified, deciding, decided, delivered, archived
	WindowDays       int        `json:"window_days,omitempty"`
	NoticeReceivedAt *time.Time `json:"notice_received_at,omitempty"`
	StatementDue     *time.Time `json:"statement_due,omitempty"`
	FineFen          int64      `json:"fine_fen,omitempty"`
	DeliveredAt      *time.Time `json:"delivered_at,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	Clock            *clockView `json:"clock,omitempty"`
	// DueOn is the clock's last day (办案期限届满日), on the case's own page.
	DueOn      string    `json:"due_on,omitempty"`
	Documents  []caseDoc `json:"documents"`
	Statements []stmt    `json:"statements"`
	// Publication is the decision's publication (R-DL-1), once it is issued.
	Publication *publication `json:"publication,omitempty"`
	// Changes are the changes applied for and their approvals (casechanges.go),
	// on the case's own page.
	Changes  []change `json:"changes,omitempty"`
	track    track
	findings map[string]any
}

type caseDoc struct {
	Type       string `json:"type"`
	DocumentID string `json:"document_id"`
	FileID     string `json:"file_id"`
	Number     string `json:"number,omitempty"`
}

type stmt struct {
	Kind    string    `json:"kind"`
	Body    string    `json:"body"`
	FiledAt time.Time `json:"filed_at"`
}

const caseColumns = "id, lead_id, number, cause, party_name, party_id, party_address, org_code, org_path, status, track, window_days, notice_received_at, fine_fen, delivered_at, findings, created_at"

// readCase reads one case with its documents and statements.
func (s *service) readCase(ctx context.Context, where string, args ...any) (*kase, error) {
	c, err := scanCase(s.db.QueryRowContext(ctx, "SELECT "+caseColumns+" FROM cases WHERE "+where, args...))
	if err != nil {
		return nil, err
	}
	return c, s.children(ctx, c)
}

// scanCase reads a case row (without documents and statements).
func scanCase(row interface{ Scan(...any) error }) (*kase, error) {
	var c kase
	var tj string
	var findings sql.NullString
	var received, delivered, at int64
	err := row.Scan(&c.ID, &c.LeadID, &c.Number,
		&c.Cause, &c.PartyName, &c.PartyID, &c.PartyAddress, &c.OrgCode, &c.OrgPath, &c.Status, &tj, &c.WindowDays, &received,
		&c.FineFen, &delivered, &findings, &at)
	if err != nil {
		return nil, err
	}
	c.CreatedAt = fromMS(at)
	if received > 0 {
		t := fromMS(received)
		c.NoticeReceivedAt = &t
	}
	if delivered > 0 {
		t := fromMS(delivered)
		c.DeliveredAt = &t
	}
	_ = json.Unmarshal([]byte(findings.String), &c.findings)
	if err := json.Unmarshal([]byte(tj), &c.track); err != nil {
		return nil, err
	}
	c.Documents, c.Statements = []caseDoc{}, []stmt{}
	return &c, nil
}

// children reads a case's documents and statements.
func (s *service) children(ctx context.Context, c *kase) error {
	rows, err := s.db.QueryContext(ctx, "SELECT type, document_id, file_id, number FROM case_documents WHERE case_id = ? ORDER BY id", c.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var d caseDoc
		if err := rows.Scan(&d.Type, &d.DocumentID, &d.FileID, &d.Number); err != nil {
			rows.Close()
			return err
		}
		c.Documents = append(c.Documents, d)
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, "SELECT kind, body, filed_at FROM statements WHERE case_id = ? ORDER BY id", c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var st stmt
		var at int64
		if err := rows.Scan(&st.Kind, &st.Body, &at); err != nil {
			return err
		}
		st.FiledAt = fromMS(at)
		c.Statements = append(c.Statements, st)
	}
	return rows.Err()
}

// loadCase reads a case the caller may take action on (404 when out of
// scope), with its clock and the party's statement deadline.
func (s *service) loadCase(w http.ResponseWriter, r *http.Request, action string) (*kase, bool) {
	id, ok := pathID(w, r)
	if !ok {
		return nil, false
	}
	c, err := s.readCase(r.Context(), "id = ?", id)
	if errors.Is(err, sql.ErrNoRows) {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", err)
		return nil, false
	} else if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return nil, false
	}
	ok, err = allowed(r.Context(), action, c.OrgPath)
	if err != nil {
		fail(w, r, http.StatusServiceUnavailable, "enforcement.host", err.Error(), err)
		return nil, false
	}
	if !ok {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", nil)
		return nil, false
	}
	if err := s.decorate(r.Context(), c); err != nil {
		fail(w, r, http.StatusBadGateway, "enforcement.host", err.Error(), err)
		return nil, false
	}
	return c, true
}

// decorate evaluates the case clock and the statement deadline on the host.
func (s *service) decorate(ctx context.Context, c *kase) error {
	c.Publication = publicationOf(c)
	if c.Status != "archived" && c.Status != "terminated" {
		cv, err := evaluate(ctx, s.host, c.track)
		if reason, ok := unschedulable(err); ok {
			// E.g. next year's holiday schedule is not entered yet: say so
			// rather than fail the page.
			cv, err = clockView{Explanation: reason, Track: c.track}, nil
		}
		if err != nil {
			return err
		}
		c.Clock = &cv
		if !cv.Due.IsZero() {
			// The clock runs to the end of its last day (24:00): that day.
			c.DueOn = cv.Due.Add(-time.Nanosecond).In(shanghai).Format(time.DateOnly)
		}
	}
	if c.NoticeReceivedAt != nil {
		due, err := s.statementDue(ctx, *c.NoticeReceivedAt, c.WindowDays)
		if _, ok := unschedulable(err); ok {
			return nil // no deadline can be given; filings are accepted
		}
		if err != nil {
			return err
		}
		c.StatementDue = &due
	}
	return nil
}

// statementDue: "自收到本告知书之日起N个工作日内" (R-NOT-1), on the host's calendar.
func (s *service) statementDue(ctx context.Context, received time.Time, days int) (time.Time, error) {
	d, err := s.host.Clocks.ComputeDeadline(ctx, &pluginv1.ComputeDeadlineRequest{StartUnixMs: ms(received), Unit: "working_days",
		Amount: int32(days), StartRule: "next_day"})
	if err != nil {
		return time.Time{}, err
	}
	return fromMS(d.DueUnixMs), nil
}

func (s *service) getCase(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCase(w, r, "enforcement.case.read")
	if !ok {
		return
	}
	var err error
	if c.Changes, err = s.changesOf(r.Context(), c.ID, false); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, c)
}

// listCases lists the cases in the caller's data scope. One query: the list
// shows the cases themselves, not their documents.
func (s *service) listCases(w http.ResponseWriter, r *http.Request) {
	listScoped(s, w, r, caseColumns, "cases", "cases", scanCase, nil)
}

// listScoped answers {key: [...]}: the rows of table in the caller's data
// scope, newest first, at most 200, each scanned and then prepared (e.g.
// masked) for the list.
func listScoped[T any](s *service, w http.ResponseWriter, r *http.Request, columns, table, key string,
	scan func(interface{ Scan(...any) error }) (T, error), prepare func(T)) {
	where, args, ok := s.scope(w, r)
	if !ok {
		return
	}
	rows, err := s.db.QueryContext(r.Context(), "SELECT "+columns+" FROM "+table+" WHERE ("+where+") ORDER BY id DESC LIMIT 200", args...)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
			return
		}
		if prepare != nil {
			prepare(x)
		}
		out = append(out, x)
	}
	sdk.WriteJSON(w, http.StatusOK, map[string]any{key: out})
}

// bureau is the organisation that issues a case's documents: the district
// (or city) bureau at the head of the organisation path.
func bureau(orgPath string) string {
	parts := strings.Split(strings.Trim(orgPath, "/"), "/")
	if len(parts) >= 2 {
		return parts[1]
	}
	return parts[0]
}

func subject(caseID int64) string { return fmt.Sprintf("case-%d", caseID) }

// decodeFinding reads the case's finding key into v; false if there is none.
func decodeFinding(c *kase, key string, v any) bool {
	f, ok := c.findings[key]
	if !ok {
		return false
	}
	b, err := json.Marshal(f)
	return err == nil && json.Unmarshal(b, v) == nil
}

// saveFinding stores v as the case's finding key.
func (s *service) saveFinding(ctx context.Context, c *kase, key string, v any) error {
	if c.findings == nil {
		c.findings = map[string]any{}
	}
	c.findings[key] = v
	fj, _ := json.Marshal(c.findings)
	_, err := s.db.ExecContext(ctx, "UPDATE cases SET findings = ? WHERE id = ?", string(fj), c.ID)
	return err
}

// onTask learns the outcome of a filing approval. Approved: the case is
// created, the 90-day clock starts, the 立案审批表 is issued and the dossier
// opened. The host retries a callback that fails, so every step is
// idempotent: the case is keyed by its lead, and a missing number or document
// is completed on the next attempt.
func onTask(ctx context.Context, ev sdk.TaskEvent) error {
	if ev.InstanceID == "" || svc == nil {
		return nil
	}
	if ev.TaskType == "enforcement.decision" {
		return svc.onDecision(ctx, ev)
	}
	if ev.TaskType == "enforcement.case_change" {
		return svc.onChange(ctx, ev)
	}
	if ev.TaskType != "enforcement.filing" {
		return nil
	}
	leadID, err := strconv.ParseInt(ev.BusinessKey, 10, 64)
	if err != nil {
		return nil
	}
	s := svc
	l, err := scanLead(s.db.QueryRowContext(ctx, "SELECT "+leadColumns+" FROM leads WHERE id = ? AND instance_id = ?", leadID, ev.InstanceID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	if ev.Transition != "approved" {
		if l.Status == "filing" {
			_, err := s.db.ExecContext(ctx, "UPDATE leads SET status = 'not_filed' WHERE id = ? AND status = 'filing'", l.ID)
			return err
		}
		return nil
	}
	var form struct {
		Cause, Opinion, Outcome string
		MergeInto               int64 `json:"merge_into"`
	}
	_ = json.Unmarshal(ev.Form, &form)
	switch form.Outcome {
	case "not_file": // 不予立案: the lead ends here
		_, err := s.db.ExecContext(ctx, "UPDATE leads SET status = 'not_filed' WHERE id = ? AND status = 'filing'", l.ID)
		if err == nil {
			err = audit(ctx, s.host, "lead.not_filed", fmt.Sprintf("lead:%d", l.ID), map[string]any{"instance": ev.InstanceID})
		}
		return err
	case "merge": // 合并立案: the lead joins the open case
		target, err := s.readCase(ctx, "id = ?", form.MergeInto)
		if err != nil {
			return err
		}
		if target.Status != "investigating" || target.PartyID != l.PartyID {
			_, err := s.db.ExecContext(ctx, "UPDATE leads SET status = 'registered' WHERE id = ? AND status = 'filing'", l.ID)
			return err // the case moved on meanwhile: the lead is back with its handler
		}
		if _, err := s.db.ExecContext(ctx, "UPDATE leads SET status = 'merged', case_id = ? WHERE id = ? AND status = 'filing'", target.ID, l.ID); err != nil {
			return err
		}
		merged, _ := target.findings["merged_leads"].([]any)
		if err := s.saveFinding(ctx, target, "merged_leads", append(merged, l.ID)); err != nil {
			return err
		}
		return audit(ctx, s.host, "lead.merged", fmt.Sprintf("case:%d", target.ID), map[string]any{"lead": l.ID, "instance": ev.InstanceID})
	}
	filed := time.Now()
	if l.CaseID == 0 {
		tj, _ := json.Marshal(caseClock(filed))
		res, err := s.db.ExecContext(ctx, `INSERT INTO cases (lead_id, number, cause, party_name, party_id, party_address, org_code,
			org_path, status, track, created_at) VALUES (?, '', ?, ?, ?, ?, ?, ?, 'investigating', ?, ?)`,
			l.ID, form.Cause, l.PartyName, l.PartyID, l.PartyAddress, l.OrgCode, l.OrgPath, string(tj), ms(filed))
		if err != nil {
			return err
		}
		id, _ := res.LastInsertId()
		if _, err := s.db.ExecContext(ctx, "UPDATE leads SET status = 'filed', case_id = ? WHERE id = ?", id, l.ID); err != nil {
			return err
		}
		l.CaseID = id
	}
	c, err := s.readCase(ctx, "id = ?", l.CaseID)
	if err != nil {
		return err
	}
	if _, err := s.host.Dossiers.OpenDossier(ctx, &pluginv1.OpenDossierRequest{Subject: subject(c.ID), Kind: "penalty_general",
		Title: c.PartyName + c.Cause + "案", OrgCode: bureau(c.OrgPath)}); err != nil {
		return err
	}
	if c.Number == "" {
		doc, err := s.issue(ctx, c, "case_filing_approval", map[string]any{
			"case_source": l.Source, "party_name": c.PartyName, "party_id": c.PartyID, "party_address": c.PartyAddress,
			"case_cause": c.Cause, "summary": l.Summary, "handler_opinion": form.Opinion, "handlers": l.CreatedBy,
			"unit_opinion": "同意立案", "head_opinion": "同意立案", "issue_date": filed.In(shanghai).Format("2006-01-02")})
		if err != nil {
			return err
		}
		if _, err := s.db.ExecContext(ctx, "UPDATE cases SET number = ? WHERE id = ?", doc.Number, c.ID); err != nil {
			return err
		}
	}
	return audit(ctx, s.host, "case.file", fmt.Sprintf("case:%d", c.ID), map[string]any{"lead": l.ID, "instance": ev.InstanceID})
}

// issue has the host issue a document of the case, files it in the dossier
// and records it. A retry after a failure on the way gets the document
// already issued, not a second one under another 文号, and so does a form
// sent twice: the host issues under a request key — one per case for the
// documents a case has once, else the document's content (a second 送达回证
// records another service, on another day or by another method; a notice
// issued again differs at least in its date) — and filing the same document
// again in the dossier changes nothing.
func (s *service) issue(ctx context.Context, c *kase, typ string, data map[string]any) (*pluginv1.DocumentRef, error) {
	b, _ := json.Marshal(data) // a map's keys in order: the same content, the same bytes
	key := fmt.Sprintf("case:%d/%s", c.ID, typ)
	if !onePerCase[typ] {
		sum := sha256.Sum256(b)
		key += "/" + hex.EncodeToString(sum[:12])
	}
	doc, err := s.host.Documents.RenderDocument(ctx, &pluginv1.RenderDocumentRequest{DocumentType: typ, Data: b,
		Subject: subject(c.ID), OrgCode: bureau(c.OrgPath), RequestKey: key})
	if err != nil {
		return nil, err
	}
	meta, _ := json.Marshal(map[string]any{"date": time.Now().In(shanghai).Format("2006-01-02"), "number": doc.Number})
	if _, err := s.host.Dossiers.AppendDossier(ctx, &pluginv1.AppendDossierRequest{Subject: subject(c.ID), Kind: "document",
		DocType: typ, Title: doc.Title, FileId: doc.FileId, Meta: meta}); err != nil {
		return nil, err
	}
	var recorded int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM case_documents WHERE case_id = ? AND document_id = ?", c.ID, doc.DocumentId).Scan(&recorded); err != nil {
		return nil, err
	}
	if recorded == 0 {
		if _, err := s.db.ExecContext(ctx, "INSERT INTO case_documents (case_id, type, document_id, file_id, number, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			c.ID, typ, doc.DocumentId, doc.FileId, doc.Number, ms(time.Now())); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// onePerCase are the document types a general-procedure case has once.
var onePerCase = map[string]bool{"case_filing_approval": true, "penalty_decision": true}

// addEvidence files a piece of evidence the user uploaded to the host
// (POST /api/v1/files) in the case's dossier.
func (s *service) addEvidence(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title  string `json:"title"`
		FileID string `json:"file_id"`
		Date   string `json:"date"`
	}
	if !decode(w, r, &in) {
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.write")
	if !ok {
		return
	}
	if c.Status == "archived" {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	if in.Date == "" {
		in.Date = time.Now().In(shanghai).Format("2006-01-02")
	}
	meta, _ := json.Marshal(map[string]any{"date": in.Date})
	e, err := sdk.HostFrom(r.Context()).Dossiers.AppendDossier(r.Context(), &pluginv1.AppendDossierRequest{Subject: subject(c.ID),
		Kind: "evidence", Title: in.Title, FileId: in.FileID, Meta: meta})
	if err != nil {
		hostFailed(w, r, err)
		return
	}
	_ = audit(r.Context(), s.host, "case.evidence", fmt.Sprintf("case:%d", c.ID), map[string]any{"file": in.FileID, "seq": e.Seq})
	sdk.WriteJSON(w, http.StatusCreated, map[string]any{"seq": e.Seq, "hash": e.Hash})
}

package main

// The registration reviewers' side of the suspension filing (modules 63–66,
// 70): lists by stage and mode, pre-review, receipt of paper materials,
// review, archive and statistics — each within the reviewer's district.

import (
	"database/sql"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/plugins/registration/departments"
	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/filter"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

func (s *service) reviewRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /suspensions", s.listFilings)
	mux.HandleFunc("GET /suspensions/stats", s.stats)
	mux.HandleFunc("GET /suspensions/{id}", s.getFiling)
	mux.HandleFunc("POST /suspensions/{id}/prereview", s.prereview)
	mux.HandleFunc("POST /suspensions/{id}/receive", s.receive)
	mux.HandleFunc("POST /suspensions/{id}/approve", s.approve)
	mux.HandleFunc("POST /suspensions/{id}/return", s.returnForChanges)
	mux.HandleFunc("POST /suspensions/{id}/archive", s.archive)
	mux.HandleFunc("POST /suspensions/{id}/push", s.repush)
}

var scopeColumns = map[string]string{"resource.org_path": "f.org_path"}

// staffFiling loads an application in the caller's data scope (404
// otherwise, so that another district's applications do not exist for them).
func (s *service) staffFiling(w http.ResponseWriter, r *http.Request, action string) (*filing, bool) {
	f, err := s.oneFiling(r.Context(), "f.id = ?", r.PathValue("id"))
	if err == nil && !allowedOn(r, action, f.OrgPath) {
		err = sql.ErrNoRows
	}
	if err == nil {
		err = s.details(r.Context(), f)
	}
	if errors.Is(err, sql.ErrNoRows) {
		refuse(w, r, http.StatusNotFound, "registration.not_found", "没有该申请", "No such application")
		return nil, false
	} else if err != nil {
		internal(w, r, err)
		return nil, false
	}
	return f, true
}

func (s *service) getFiling(w http.ResponseWriter, r *http.Request) {
	f, ok := s.staffFiling(w, r, "registration.application.read")
	if !ok {
		return
	}
	if e, err := s.enterprise(r.Context(), f.USCC); err == nil {
		f.Materials = materialsOf(e, f)
	}
	sdk.WriteJSON(w, http.StatusOK, f)
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

// listFilings lists the applications in the caller's district, by state,
// mode and kind (module 63: 歇业（预审后窗口提交）, 歇业（全程电子化登记）).
func (s *service) listFilings(w http.ResponseWriter, r *http.Request) {
	where, args, ok := s.scope(w, r)
	if !ok {
		return
	}
	where = "(" + where + ")"
	q := r.URL.Query()
	for _, p := range []struct {
		param, column string
		valid         func(string) bool
	}{
		{"status", "f.status", func(v string) bool { return stateNames[v] != "" }},
		{"mode", "f.mode", func(v string) bool { return v == modeOnline || v == modeOffline }},
		{"kind", "f.kind", func(v string) bool { return v == "filing" || v == "extension" || v == "termination" }},
	} {
		v := q.Get(p.param)
		if v == "" {
			continue
		}
		if !p.valid(v) {
			(&problem{p.param, "查询条件“" + p.param + "”的取值不正确", "Unknown value for " + p.param}).refuse(w, r)
			return
		}
		where += " AND " + p.column + " = ?"
		args = append(args, v)
	}
	fs, err := s.filings(r.Context(), where, args...)
	if err != nil {
		internal(w, r, err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"suspensions": fs})
}

// stats counts applications by kind, mode and state in the caller's
// district (module 70).
func (s *service) stats(w http.ResponseWriter, r *http.Request) {
	where, args, ok := s.scope(w, r)
	if !ok {
		return
	}
	rows, err := s.db.QueryContext(r.Context(), "SELECT f.kind, f.mode, f.status, COUNT(*) FROM filings f WHERE "+where+" GROUP BY f.kind, f.mode, f.status", args...)
	if err != nil {
		internal(w, r, err)
		return
	}
	defer rows.Close()
	type row struct {
		Kind   string `json:"kind"`
		Mode   string `json:"mode"`
		Status string `json:"status"`
		Label  string `json:"label"`
		Count  int    `json:"count"`
	}
	out := []row{}
	total := 0
	for rows.Next() {
		var x row
		if err := rows.Scan(&x.Kind, &x.Mode, &x.Status, &x.Count); err != nil {
			internal(w, r, err)
			return
		}
		x.Label = stateNames[x.Status]
		total += x.Count
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Kind+a.Mode+a.Status < b.Kind+b.Mode+b.Status
	})
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"total": total, "rows": out})
}

// decision is a reviewer's input.
type decision struct {
	Decision  string            `json:"decision"` // prereview: pass or return
	Note      string            `json:"note"`
	Materials map[string]string `json:"materials"` // per-material comments (module 64)
	Signers   []string          `json:"signers"`   // the roles that must e-sign (online pass)
	Location  string            `json:"location"`  // paper archive location (offline archive)
	Fonds     string            `json:"fonds"`
}

func (s *service) readDecision(w http.ResponseWriter, r *http.Request) (*decision, bool) {
	var in decision
	if r.ContentLength != 0 && !decode(w, r, &in) {
		return nil, false
	}
	in.Note = strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > 1000 {
		(&problem{"note", "意见不能超过1000字", "The opinion is at most 1,000 characters"}).refuse(w, r)
		return nil, false
	}
	return &in, true
}

// staffDecision reads a reviewer's input and the application it is about.
func (s *service) staffDecision(w http.ResponseWriter, r *http.Request) (*decision, *filing, bool) {
	in, ok := s.readDecision(w, r)
	if !ok {
		return nil, nil, false
	}
	f, ok := s.staffFiling(w, r, "registration.application.review")
	return in, f, ok
}

// opinionStep appends the caller's opinion to the application.
func (s *service) opinionStep(r *http.Request, f *filing, o opinion) func(*sql.Tx) error {
	return func(tx *sql.Tx) error {
		o.By, o.At = sdk.CallerFrom(r.Context()).DisplayName, time.Now().UnixMilli()
		if o.By == "" {
			o.By = sdk.CallerFrom(r.Context()).Username
		}
		f.Opinions = append(f.Opinions, o)
		b, _ := json.Marshal(f.Opinions)
		_, err := tx.ExecContext(r.Context(), "UPDATE filings SET opinions = ? WHERE id = ?", string(b), f.ID)
		return err
	}
}

// checkComments checks per-material comments name real materials.
func checkComments(f *filing, m map[string]string) *problem {
	for k, v := range m {
		_, dept := departments.ByCode(k)
		if !materialKeys[k] && !dept {
			return &problem{"materials." + k, "没有名为“" + k + "”的材料", "There is no material " + k}
		}
		if utf8.RuneCountInString(v) > 500 {
			return &problem{"materials." + k, "单项材料意见不能超过500字", "A material comment is at most 500 characters"}
		}
	}
	return nil
}

// prereview is module 64: pass (online: naming the roles that must e-sign;
// offline: the materials become downloadable for the window) or return for
// changes with overall and per-material comments.
func (s *service) prereview(w http.ResponseWriter, r *http.Request) {
	in, f, ok := s.staffDecision(w, r)
	if !ok {
		return
	}
	if f.Status != statePrereview {
		wrongState(w, r, f, "该申请不在预审阶段", "The application is not in pre-review")
		return
	}
	if in.Decision == "return" {
		s.sendBack(w, r, f, in, "prereview")
		return
	}
	if in.Decision != "pass" {
		(&problem{"decision", "预审意见应为“预审通过”（pass）或“退回修改”（return）", "The decision is pass or return"}).refuse(w, r)
		return
	}
	next := stateMaterials
	if f.Mode == modeOnline {
		next = stateSignatures
		if len(in.Signers) == 0 {
			(&problem{"signers", "请选择需要电子签名的人员", "Choose who must e-sign"}).refuse(w, r)
			return
		}
		for _, role := range in.Signers {
			found := false
			for _, p := range f.Persons {
				found = found || p.Role == role
			}
			if !found {
				name := role
				if n, ok := roles[role]; ok {
					name = n[0]
				}
				(&problem{"signers", "申请中没有“" + name + "”的人员信息，请退回补充", "The application names no " + role + ": return it for the applicant to add"}).refuse(w, r)
				return
			}
		}
	}
	s.advance(w, r, f, http.StatusOK, "suspension.prereview.pass", map[string]any{"signers": in.Signers, "mode": f.Mode},
		func(tx *sql.Tx) error {
			for _, role := range in.Signers {
				if _, err := tx.ExecContext(r.Context(), "UPDATE filing_persons SET required = 1 WHERE filing_id = ? AND role = ?", f.ID, role); err != nil {
					return err
				}
			}
			return nil
		},
		s.opinionStep(r, f, opinion{Stage: "prereview", Decision: "pass", Note: in.Note}),
		func(tx *sql.Tx) error { return s.toStage(r.Context(), tx, f, next) })
}

// sendBack returns an application for changes (modules 55, 59, 64–65).
func (s *service) sendBack(w http.ResponseWriter, r *http.Request, f *filing, in *decision, stage string) {
	if in.Note == "" {
		(&problem{"note", "退回修改须说明理由", "Say what must change"}).refuse(w, r)
		return
	}
	if p := checkComments(f, in.Materials); p != nil {
		p.refuse(w, r)
		return
	}
	s.advance(w, r, f, http.StatusOK, "suspension."+stage+".return", map[string]any{"materials": len(in.Materials)},
		s.opinionStep(r, f, opinion{Stage: stage, Decision: "return", Note: in.Note, Materials: in.Materials}),
		func(tx *sql.Tx) error { return s.toStage(r.Context(), tx, f, stateReturned) })
}

// receive records the paper materials received at the window for an
// offline application that passed pre-review (module 58), sending it to
// review.
func (s *service) receive(w http.ResponseWriter, r *http.Request) {
	in, f, ok := s.staffDecision(w, r)
	if !ok {
		return
	}
	if f.Status != stateMaterials {
		wrongState(w, r, f, "只有预审通过、待窗口提交材料的线下申请可以登记收件", "Only an offline application waiting for its paper materials can be received")
		return
	}
	s.advance(w, r, f, http.StatusOK, "suspension.receive", nil,
		s.opinionStep(r, f, opinion{Stage: "window", Decision: "receive", Note: in.Note}),
		func(tx *sql.Tx) error { return s.toStage(r.Context(), tx, f, stateReview) })
}

func (s *service) returnForChanges(w http.ResponseWriter, r *http.Request) {
	in, f, ok := s.staffDecision(w, r)
	if !ok {
		return
	}
	if f.Status != stateReview {
		wrongState(w, r, f, "该申请不在审核阶段", "The application is not in review")
		return
	}
	s.sendBack(w, r, f, in, "review")
}

// approve is 核准 (module 65): the 歇业备案通知书 is issued and signed by the
// host (56), the entity becomes 歇业 — or its period moves — and the chosen
// departments are told (67).
func (s *service) approve(w http.ResponseWriter, r *http.Request) {
	in, f, ok := s.staffDecision(w, r)
	if !ok {
		return
	}
	if f.Status != stateReview {
		wrongState(w, r, f, "该申请不在审核阶段", "The application is not in review")
		return
	}
	e, err := s.enterprise(r.Context(), f.USCC)
	if err != nil {
		internal(w, r, err)
		return
	}
	var parent *filing
	switch f.Kind {
	case "filing":
		if e.Status != "存续" && e.Status != "在业" {
			refuse(w, r, http.StatusConflict, "registration.not_eligible", "企业登记状态已变化为“"+e.Status+"”，不能备案", "The entity's status changed to "+e.Status+": it cannot be filed")
			return
		}
	case "extension":
		if parent, err = s.oneFiling(r.Context(), "f.id = ?", f.ParentID); err != nil || e.Status != "歇业" || parent.Status != stateApproved {
			refuse(w, r, http.StatusConflict, "registration.state", "原歇业备案已不在有效期内，不能延长", "The suspension is no longer in force: it cannot be extended")
			return
		}
	}
	start := f.StartDate
	if parent != nil {
		start = parent.StartDate
	}
	data, _ := json.Marshal(map[string]any{"enterprise_name": e.Name, "uscc": e.USCC, "apply_date": time.UnixMilli(f.CreatedAt).In(shanghai).Format("2006-01-02"),
		"start_date": start, "end_date": f.EndDate, "service_address": f.ServiceAddress, "issue_date": today().Format("2006-01-02")})
	host := sdk.HostFrom(r.Context())
	doc, err := host.Documents.RenderDocument(r.Context(), &pluginv1.RenderDocumentRequest{DocumentType: "suspension_notice",
		Data: data, Subject: subject(f.ID), OrgCode: e.District, RequestKey: subject(f.ID) + "/suspension_notice"})
	if err != nil {
		hostFailed(w, r, err)
		return
	}
	f.DocumentID, f.Number = doc.DocumentId, doc.Number
	ctx := r.Context()
	if !s.inTx(w, r,
		func(tx *sql.Tx) error {
			if f.Kind == "filing" {
				_, err := tx.ExecContext(ctx, "UPDATE enterprises SET prior_status = status, status = '歇业' WHERE uscc = ?", e.USCC)
				return err
			}
			_, err := tx.ExecContext(ctx, "UPDATE filings SET end_date = ? WHERE id = ?", f.EndDate, f.ParentID)
			return err
		},
		func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "UPDATE filings SET document_id = ?, number = ?, note = ? WHERE id = ?", f.DocumentID, f.Number, in.Note, f.ID)
			return err
		},
		s.opinionStep(r, f, opinion{Stage: "review", Decision: "approve", Note: in.Note}),
		func(tx *sql.Tx) error { return s.toStage(ctx, tx, f, stateApproved) }) {
		return
	}
	if f.Kind == "filing" {
		s.registryChanged(r.Context(), e.USCC)
		s.statusChanged(r.Context(), e.USCC, e.Status, "歇业", "suspension.filed")
	}
	s.audit(r.Context(), "suspension.approved", f.ID, map[string]any{"kind": f.Kind, "number": f.Number})
	event := map[string]string{"filing": "suspension.filed", "extension": "suspension.extended"}[f.Kind]
	s.push(r.Context(), f, event)
	s.respond(w, r, http.StatusOK, f.ID)
}

func subject(id int64) string { return fmt.Sprintf("suspension-%d", id) }

// archive files an approved application (module 66): online applications
// into the electronic dossier — the generated materials with their
// signatures and the notice — which must pass the host's archive checks;
// offline ones as a paper archive at the location given.
func (s *service) archive(w http.ResponseWriter, r *http.Request) {
	in, f, ok := s.staffDecision(w, r)
	if !ok {
		return
	}
	if f.Status != stateApproved || f.Kind == "termination" || f.Archive != "" {
		wrongState(w, r, f, "只有已核准、尚未归档的备案可以归档", "Only an approved application not yet archived can be archived")
		return
	}
	var archive string
	if f.Mode == modeOffline {
		loc := strings.TrimSpace(in.Location)
		if loc == "" || utf8.RuneCountInString(loc) > 100 {
			(&problem{"location", "请填写纸质档案的存放位置（100字以内）", "Give where the paper file is kept (at most 100 characters)"}).refuse(w, r)
			return
		}
		archive = "纸质归档：" + loc
	} else {
		code, report, err := s.archiveOnline(r, f, in.Fonds)
		if err != nil {
			hostFailed(w, r, err)
			return
		}
		if code == "" {
			sdk.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"code": "registration.archive", "message": "电子档案未通过归档检查", "details": report})
			return
		}
		archive = "电子归档：" + code
	}
	if _, err := s.db.ExecContext(r.Context(), "UPDATE filings SET archive = ? WHERE id = ? AND archive = ''", archive, f.ID); err != nil {
		internal(w, r, err)
		return
	}
	s.audit(r.Context(), "suspension.archive", f.ID, map[string]any{"archive": archive})
	s.respond(w, r, http.StatusOK, f.ID)
}

// archiveOnline builds the electronic dossier: the materials and the
// signature record (who signed which digest, when), then the notice.
func (s *service) archiveOnline(r *http.Request, f *filing, fonds string) (string, any, error) {
	ctx, host := r.Context(), sdk.HostFrom(r.Context())
	if fonds == "" {
		fonds = "Z031"
	}
	e, err := s.enterprise(ctx, f.USCC)
	if err != nil {
		return "", nil, err
	}
	if _, err := host.Dossiers.OpenDossier(ctx, &pluginv1.OpenDossierRequest{Subject: subject(f.ID), Kind: "suspension_filing",
		Title: e.Name + map[string]string{"filing": "歇业备案", "extension": "延长歇业期限"}[f.Kind], OrgCode: f.District}); err != nil {
		return "", nil, err
	}
	// The notice first; the materials with their signature record are its
	// attachment, as plain text fit for long-term preservation.
	doc, err := host.Documents.GetDocument(ctx, &pluginv1.GetDocumentRequest{DocumentId: f.DocumentID})
	if err != nil {
		return "", nil, err
	}
	meta, _ := json.Marshal(map[string]any{"date": today().Format("2006-01-02"), "number": doc.Number})
	notice, err := host.Dossiers.AppendDossier(ctx, &pluginv1.AppendDossierRequest{Subject: subject(f.ID), Kind: "document",
		DocType: "suspension_notice", Title: doc.Title, FileId: doc.FileId, Meta: meta})
	if err != nil {
		return "", nil, err
	}
	record, err := signatureRecord(e, f)
	if err != nil {
		return "", nil, err
	}
	file, err := host.Files.PutFile(ctx, &pluginv1.PutFileRequest{Name: fmt.Sprintf("suspension-%d-materials.xml", f.ID), Purpose: "attachment", Content: record})
	if err != nil {
		return "", nil, err
	}
	meta, _ = json.Marshal(map[string]any{"date": time.UnixMilli(f.CreatedAt).In(shanghai).Format("2006-01-02")})
	if _, err := host.Dossiers.AppendDossier(ctx, &pluginv1.AppendDossierRequest{Subject: subject(f.ID), Kind: "attachment",
		Title: "申请材料及电子签名记录", FileId: file.FileId, ParentSeq: notice.Seq, Meta: meta}); err != nil {
		return "", nil, err
	}
	res, err := host.Dossiers.ArchiveDossier(ctx, &pluginv1.ArchiveDossierRequest{Subject: subject(f.ID), Fonds: fonds})
	if err != nil {
		return "", nil, err
	}
	var report any
	_ = json.Unmarshal(res.Report, &report)
	if !res.Archived {
		return "", report, nil
	}
	return res.Dossier.ArchiveCode, report, nil
}

// signatureRecord is the materials with who signed which digest and when,
// and the reviewers' opinions, as XML (a long-term preservation format).
func signatureRecord(e *enterprise, f *filing) ([]byte, error) {
	type line struct {
		Text string `xml:",chardata"`
	}
	type mat struct {
		Key   string `xml:"key,attr"`
		Title string `xml:"title,attr"`
		Lines []line `xml:"line"`
	}
	type sig struct {
		Role     string `xml:"role,attr"`
		Name     string `xml:"name,attr"`
		IDMasked string `xml:"id_number,attr"`
		SignedAt string `xml:"signed_at,attr"`
		Digest   string `xml:"digest,attr"`
	}
	type op struct {
		Stage    string `xml:"stage,attr"`
		Decision string `xml:"decision,attr"`
		By       string `xml:"by,attr"`
		At       string `xml:"at,attr"`
		Note     string `xml:",chardata"`
	}
	type rec struct {
		XMLName    xml.Name `xml:"suspension_application"`
		ID         int64    `xml:"id,attr"`
		USCC       string   `xml:"uscc,attr"`
		Digest     string   `xml:"digest,attr"`
		Materials  []mat    `xml:"materials>material"`
		Signatures []sig    `xml:"signatures>signature"`
		SealedAt   string   `xml:"signatures>seal,omitempty"`
		Opinions   []op     `xml:"opinions>opinion"`
	}
	stamp := func(ms int64) string { return time.UnixMilli(ms).In(shanghai).Format(time.RFC3339) }
	r := rec{ID: f.ID, USCC: f.USCC, Digest: f.Digest}
	for _, m := range materialsOf(e, f) {
		x := mat{Key: m.Key, Title: m.Title}
		for _, l := range m.Lines {
			x.Lines = append(x.Lines, line{l})
		}
		r.Materials = append(r.Materials, x)
	}
	for _, p := range f.Persons {
		if p.Required && p.SignedAt > 0 {
			r.Signatures = append(r.Signatures, sig{roles[p.Role][0], p.Name, p.IDMasked, stamp(p.SignedAt), p.signedFor})
		}
	}
	if f.SealedAt > 0 {
		r.SealedAt = stamp(f.SealedAt)
	}
	for _, o := range f.Opinions {
		r.Opinions = append(r.Opinions, op{o.Stage, o.Decision, o.By, stamp(o.At), o.Note})
	}
	b, err := xml.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}

// repush pushes an approved application again to the departments whose push
// failed or waited for a channel.
func (s *service) repush(w http.ResponseWriter, r *http.Request) {
	f, ok := s.staffFiling(w, r, "registration.application.review")
	if !ok {
		return
	}
	if f.Status != stateApproved {
		wrongState(w, r, f, "只有已核准的申请可以推送", "Only an approved application is pushed")
		return
	}
	event := map[string]string{"filing": "suspension.filed", "extension": "suspension.extended", "termination": "suspension.terminated"}[f.Kind]
	s.push(r.Context(), f, event)
	s.respond(w, r, http.StatusOK, f.ID)
}

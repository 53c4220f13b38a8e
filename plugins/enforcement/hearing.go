package main

// The hearing (听证, 行政处罚法 第六十三条–第六十五条; R-NOT-3, R-LEG-1, R-LEG-2):
// when the intended penalty carries the right to a hearing, the notice
// comes with the 行政处罚听证告知书; the party may ask for a hearing inside
// the same window as its statement; the agency's 法制机构 (legal reviewers)
// arranges it at least seven days ahead (第六十四条第二项) with a presiding
// officer who did not investigate the case (第六十四条第四项), holds it and
// files the 听证笔录 into the case's dossier. The decision waits for the
// hearing to end, and a heard case always goes to legal review (R-LEG-1 (二)).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// hearing is a case's hearing, kept in its findings.
type hearing struct {
	Right      bool   `json:"right"` // the notice announced the right to a hearing
	Date       string `json:"date,omitempty"`
	Place      string `json:"place,omitempty"`
	Presiding  string `json:"presiding,omitempty"` // 听证主持人
	Public     bool   `json:"public"`              // 公开举行
	ArrangedBy string `json:"arranged_by,omitempty"`
	Summary    string `json:"summary,omitempty"`
	RecordFile string `json:"record_file,omitempty"` // the 听证笔录
	RecordedAt int64  `json:"recorded_at,omitempty"`
}

// minNoticeDays: the party is told of the hearing's time and place seven
// days before it (行政处罚法 第六十四条第二项).
const minNoticeDays = 7

func hearingOf(c *kase) *hearing {
	var h hearing
	decodeFinding(c, "hearing", &h)
	return &h
}

// requested reports whether the party asked for a hearing (inside the
// window: the statement route refuses late requests).
func (c *kase) hearingRequested() bool {
	for _, s := range c.Statements {
		if s.Kind == "hearing" {
			return true
		}
	}
	return false
}

// hearingPending says why the decision must wait for the hearing, or "".
func hearingPending(c *kase) string {
	h := hearingOf(c)
	switch {
	case !c.hearingRequested():
		return ""
	case h.Date == "":
		return "当事人已申请听证，听证尚未安排"
	case h.RecordedAt == 0:
		return "听证尚未结束（听证笔录未归卷）"
	}
	return ""
}

// arrangeHearing is the 法制机构's arrangement of a requested hearing.
func (s *service) arrangeHearing(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Date      string `json:"date"`
		Place     string `json:"place"`
		Presiding string `json:"presiding"`
		Public    *bool  `json:"public"`
	}
	if !decode(w, r, &in) {
		return
	}
	in.Place, in.Presiding = strings.TrimSpace(in.Place), strings.TrimSpace(in.Presiding)
	on, err := time.ParseInLocation("2006-01-02", in.Date, shanghai)
	earliest := time.Now().In(shanghai).AddDate(0, 0, minNoticeDays)
	earliest = time.Date(earliest.Year(), earliest.Month(), earliest.Day(), 0, 0, 0, 0, shanghai)
	switch {
	case err != nil || in.Place == "" || in.Presiding == "" || utf8.RuneCountInString(in.Place) > 200 || utf8.RuneCountInString(in.Presiding) > 30:
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "date (YYYY-MM-DD), place (≤ 200) and presiding (≤ 30 characters) are required", nil)
		return
	case on.Before(earliest):
		fail(w, r, http.StatusUnprocessableEntity, "enforcement.hearing_notice", earliest.Format("2006-01-02"), nil)
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.legal_review")
	if !ok {
		return
	}
	h := hearingOf(c)
	switch {
	case c.Status != "notified" || !c.hearingRequested() || h.RecordedAt != 0:
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	case in.Presiding == s.investigator(r.Context(), c):
		fail(w, r, http.StatusUnprocessableEntity, "enforcement.presiding", "", nil)
		return
	}
	h.Date, h.Place, h.Presiding, h.Public = in.Date, in.Place, in.Presiding, in.Public == nil || *in.Public
	h.ArrangedBy = sdk.CallerFrom(r.Context()).Username
	// The 听证通知书 goes to the party with the time, place and presiding
	// officer (第六十四条第二项); issued first, so a refusal changes nothing.
	var requested time.Time
	for _, st := range c.Statements {
		if st.Kind == "hearing" {
			requested = st.FiledAt
		}
	}
	doc, err := s.issue(r.Context(), c, "hearing_arrangement", map[string]any{"party_name": c.PartyName, "case_cause": c.Cause,
		"request_date": requested.In(shanghai).Format("2006-01-02"), "hearing_date": h.Date, "place": h.Place, "presiding": h.Presiding,
		"public": map[bool]string{true: "公开", false: "不公开"}[h.Public], "issue_date": time.Now().In(shanghai).Format("2006-01-02")})
	if err != nil {
		hostFailed(w, r, err)
		return
	}
	if err := s.saveFinding(r.Context(), c, "hearing", h); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.hearing_arranged", fmt.Sprintf("case:%d", c.ID), map[string]any{"date": h.Date, "public": h.Public, "number": doc.Number})
	if c, ok := s.loadCase(w, r, "enforcement.case.read"); ok {
		sdk.WriteJSON(w, http.StatusOK, c)
	}
}

// investigator is who registered the case's lead: the presiding officer must
// be someone else.
func (s *service) investigator(ctx context.Context, c *kase) string {
	var by string
	_ = s.db.QueryRowContext(ctx, "SELECT created_by FROM leads WHERE id = ?", c.LeadID).Scan(&by)
	return by
}

// recordHearing files the 听证笔录 (an uploaded file) into the dossier once
// the hearing has been held; the hearing is then over.
func (s *service) recordHearing(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FileID  string `json:"file_id"`
		Summary string `json:"summary"`
	}
	if !decode(w, r, &in) {
		return
	}
	in.Summary = strings.TrimSpace(in.Summary)
	if in.FileID == "" || in.Summary == "" || utf8.RuneCountInString(in.Summary) > 2000 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "file_id (the uploaded 听证笔录) and summary (≤ 2000 characters) are required", nil)
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.legal_review")
	if !ok {
		return
	}
	h := hearingOf(c)
	held, _ := time.ParseInLocation("2006-01-02", h.Date, shanghai)
	if c.Status != "notified" || h.Date == "" || h.RecordedAt != 0 || time.Now().Before(held) {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	meta, _ := json.Marshal(map[string]any{"date": h.Date, "presiding": h.Presiding})
	if _, err := sdk.HostFrom(r.Context()).Dossiers.AppendDossier(r.Context(), &pluginv1.AppendDossierRequest{Subject: subject(c.ID),
		Kind: "evidence", Title: "听证笔录", FileId: in.FileID, Meta: meta}); err != nil {
		hostFailed(w, r, err)
		return
	}
	h.RecordFile, h.Summary, h.RecordedAt = in.FileID, in.Summary, time.Now().UnixMilli()
	if err := s.saveFinding(r.Context(), c, "hearing", h); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.hearing_recorded", fmt.Sprintf("case:%d", c.ID), map[string]any{"file": in.FileID})
	if c, ok := s.loadCase(w, r, "enforcement.case.read"); ok {
		sdk.WriteJSON(w, http.StatusOK, c)
	}
}

// Legal review grounds (R-LEG-1): the four categories of 行政处罚法 第五十八条.
var legalReviewGrounds = map[string]string{
	"public_interest": "涉及重大公共利益",
	"heard":           "直接关系当事人或者第三人重大权益，经过听证程序",
	"complex":         "案件情况疑难复杂、涉及多个法律关系",
	"statutory":       "法律、法规规定应当进行法制审核的其他情形",
}

// legalReview decides whether the decision goes to legal review and why: the
// grounds the handler gives, and always when a hearing was held.
func legalReview(c *kase, grounds []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	if hearingOf(c).RecordedAt != 0 {
		grounds = append(grounds, "heard")
	}

	heard := hearingOf(c).RecordedAt != 0
	for _, g := range grounds {
		if _, ok := legalReviewGrounds[g]; !ok {
			return nil, fmt.Errorf("legal_review: unknown ground %q (public_interest, heard, complex, statutory)", g)
		}
		if g == "heard" && !heard {
			return nil, fmt.Errorf("legal_review: no hearing was held in this case")
		}
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out, nil
}

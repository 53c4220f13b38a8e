package main

// Publication of penalty decisions (行政处罚信息公示, R-DL-1): "处罚决定签发完成第7个
// 工作日自动公示" — the date is computed on the host's holiday calendar when
// the decision is issued; the head of the agency may approve a deferral
// (暂缓公示) before that day and lift it later (the day stands, or is today
// if it has passed); the public list shows every decision whose day has
// come, a natural person's name masked.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/idcode"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// publicationWorkingDays: the 7th working day after the day of issue (R-DL-1).
const publicationWorkingDays = 7

// publication is a decision's publication, kept in the case's findings.
type publication struct {
	Date     string `json:"date"` // YYYY-MM-DD
	Deferred bool   `json:"deferred"`
	Reason   string `json:"reason,omitempty"`
	By       string `json:"by,omitempty"`
}

func publicationOf(c *kase) *publication {
	p := &publication{}
	if !decodeFinding(c, "publication", p) {
		return nil
	}
	return p
}

// published reports whether the decision is public on day (YYYY-MM-DD).
func (p *publication) published(day string) bool {
	return p != nil && !p.Deferred && p.Date != "" && p.Date <= day
}

// schedulePublication records the publication date of a decision issued at.
func (s *service) schedulePublication(ctx context.Context, c *kase, at time.Time) error {
	d, err := s.host.Clocks.ComputeDeadline(ctx, &pluginv1.ComputeDeadlineRequest{StartUnixMs: ms(at), Unit: "working_days",
		Amount: publicationWorkingDays, StartRule: "next_day"})
	if err != nil {
		return err
	}
	return s.saveFinding(ctx, c, "publication", &publication{Date: fromMS(d.DueUnixMs).Format("2006-01-02")})
}

func (s *service) publicationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /cases/{id}/publication/defer", s.publicationChange(true))
	mux.HandleFunc("POST /cases/{id}/publication/lift", s.publicationChange(false))
	mux.HandleFunc("GET /public/penalties", s.publicPenalties)
}

// publicationChange approves a deferral (before the day of publication) or
// lifts it.
func (s *service) publicationChange(defer_ bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Reason string `json:"reason"`
		}
		if !decode(w, r, &in) {
			return
		}
		in.Reason = strings.TrimSpace(in.Reason)
		if in.Reason == "" || utf8.RuneCountInString(in.Reason) > 500 {
			fail(w, r, http.StatusBadRequest, "enforcement.invalid", "reason (1–500 characters) is required", nil)
			return
		}
		c, ok := s.loadCase(w, r, "enforcement.case.decide")
		if !ok {
			return
		}
		p := publicationOf(c)
		today := time.Now().In(shanghai).Format("2006-01-02")
		switch {
		case p == nil:
			fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
			return
		case defer_ && (p.Deferred || p.published(today)):
			fail(w, r, http.StatusConflict, "enforcement.published", p.Date, nil)
			return
		case !defer_ && !p.Deferred:
			fail(w, r, http.StatusConflict, "enforcement.state", "not deferred", nil)
			return
		}
		p.Deferred, p.Reason, p.By = defer_, in.Reason, sdk.CallerFrom(r.Context()).Username
		if !defer_ && p.Date < today {
			p.Date = today
		}
		if err := s.saveFinding(r.Context(), c, "publication", p); err != nil {
			fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
			return
		}
		action := map[bool]string{true: "case.publication_deferred", false: "case.publication_lifted"}[defer_]
		_ = audit(r.Context(), s.host, action, fmt.Sprintf("case:%d", c.ID), map[string]any{"reason": in.Reason})
		if c, ok := s.loadCase(w, r, "enforcement.case.read"); ok {
			sdk.WriteJSON(w, http.StatusOK, c)
		}
	}
}

// publicPenalties is the public list (anyone, signed in or not): decisions
// whose day of publication has come and that are not deferred, newest first.
func (s *service) publicPenalties(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if utf8.RuneCountInString(q) > 50 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "q: at most 50 characters", nil)
		return
	}
	rows, err := s.db.QueryContext(r.Context(), "SELECT "+caseColumns+" FROM cases WHERE status IN ('decided', 'delivered', 'archived') ORDER BY id DESC LIMIT 500")
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	var cases []*kase
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			rows.Close()
			fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
			return
		}
		cases = append(cases, c)
	}
	rows.Close()
	today := time.Now().In(shanghai).Format("2006-01-02")
	out := []map[string]any{}
	for _, c := range cases {
		p := publicationOf(c)
		if !p.published(today) || (q != "" && !strings.Contains(c.PartyName, q) && !strings.Contains(c.Cause, q)) {
			continue
		}
		var number string
		_ = s.db.QueryRowContext(r.Context(), "SELECT number FROM case_documents WHERE case_id = ? AND type = 'penalty_decision'", c.ID).Scan(&number)
		party := c.PartyName
		if idcode.ValidUSCC(c.PartyID) != nil { // a natural person: the name masked
			party = maskName(party)
		}
		out = append(out, map[string]any{"number": number, "party": party, "cause": c.Cause, "penalty": c.findings["penalty"],
			"basis": c.findings["basis"], "published": p.Date, "organ": bureau(c.OrgPath)})
		if len(out) == 50 {
			break
		}
	}
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"penalties": out})
}

// maskName keeps a person's surname: 王小明 → 王**.
func maskName(name string) string {
	r := []rune(name)
	if len(r) <= 1 {
		return name
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

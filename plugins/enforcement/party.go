package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/sdk"
)

// myCase loads a case of the signed-in enterprise (its credit code is the
// party's); anything else is 404.
func (s *service) myCase(w http.ResponseWriter, r *http.Request) (*kase, bool) {
	id, ok := pathID(w, r)
	if !ok {
		return nil, false
	}
	uscc := sdk.CallerFrom(r.Context()).USCC
	c, err := s.readCase(r.Context(), "id = ? AND party_id = ?", id, uscc)
	if uscc == "" || errors.Is(err, sql.ErrNoRows) {
		fail(w, r, http.StatusNotFound, "enforcement.not_found", "", err)
		return nil, false
	} else if err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return nil, false
	}
	if err := s.decorate(r.Context(), c); err != nil {
		fail(w, r, http.StatusBadGateway, "enforcement.host", err.Error(), err)
		return nil, false
	}
	return c, true
}

// partyView is what the party sees of its case: no internal clock or findings.
func partyView(c *kase) map[string]any {
	v := map[string]any{"id": c.ID, "number": c.Number, "cause": c.Cause, "status": c.Status, "documents": c.Documents,
		"notice_received_at": c.NoticeReceivedAt, "statement_due": c.StatementDue, "statements": c.Statements,
		"fine_fen": c.FineFen}
	if c.Publication != nil {
		v["publication"] = c.Publication.Date
	}
	if due := paymentDue(c); !due.IsZero() {
		v["payment_due"] = due.Format("2006-01-02")
	}
	var p plan
	if decodeFinding(c, "payment_plan", &p) {
		v["payment_plan"] = p
	}
	if h := hearingOf(c); h.Right {
		// The party sees its hearing's time and place once arranged (第六十四条).
		v["hearing"] = map[string]any{"right": true, "requested": c.hearingRequested(), "date": h.Date, "place": h.Place,
			"presiding": h.Presiding, "public": h.Public, "held": h.RecordedAt != 0}
	}
	if amount, at := svc.paidOf(context.Background(), c.ID); amount > 0 {
		v["paid_fen"], v["paid_at"] = amount, at
	}
	return v
}

// myCases lists the enterprise's cases that have reached it (a notice issued).
func (s *service) myCases(w http.ResponseWriter, r *http.Request) {
	uscc := sdk.CallerFrom(r.Context()).USCC
	out := []map[string]any{}
	if uscc != "" {
		rows, err := s.db.QueryContext(r.Context(), "SELECT id FROM cases WHERE party_id = ? AND status <> 'investigating' ORDER BY id DESC", uscc)
		if err != nil {
			fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
			return
		}
		var ids []int64
		for rows.Next() {
			var id int64
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			c, err := s.readCase(r.Context(), "id = ?", id)
			if err == nil && s.decorate(r.Context(), c) == nil {
				out = append(out, partyView(c))
			}
		}
	}
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"cases": out})
}

// receipt: the party confirms online that it received the notice; the
// statement window runs from today (R-NOT-1, R-DEL-5).
func (s *service) receipt(w http.ResponseWriter, r *http.Request) {
	c, ok := s.myCase(w, r)
	if !ok {
		return
	}
	if c.Status != "notified" || c.NoticeReceivedAt != nil {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "UPDATE cases SET notice_received_at = ? WHERE id = ? AND notice_received_at = 0", ms(time.Now()), c.ID); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "party.receipt", fmt.Sprintf("case:%d", c.ID), nil)
	if c, ok := s.myCase(w, r); ok {
		sdk.WriteJSON(w, http.StatusOK, partyView(c))
	}
}

// statement files the party's statement and defence (陈述申辩) or hearing
// request online. Inside the window it is accepted; after, it is refused
// with the deadline named (R-NOT-1: "未行使陈述、申辩权，视为放弃此权利").
func (s *service) statement(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Kind string `json:"kind"` // statement or hearing
		Body string `json:"body"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Kind == "" {
		in.Kind = "statement"
	}
	in.Body = strings.TrimSpace(in.Body)
	if (in.Kind != "statement" && in.Kind != "hearing") || in.Body == "" || utf8.RuneCountInString(in.Body) > 5000 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "kind (statement|hearing) and body (1–5000 characters) are required", nil)
		return
	}
	c, ok := s.myCase(w, r)
	if !ok {
		return
	}
	if c.Status != "notified" || c.NoticeReceivedAt == nil {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	if in.Kind == "hearing" && !hearingOf(c).Right {
		fail(w, r, http.StatusUnprocessableEntity, "enforcement.no_hearing_right", "", nil)
		return
	}
	if in.Kind == "hearing" && c.hearingRequested() {
		fail(w, r, http.StatusConflict, "enforcement.state", "hearing requested", nil)
		return
	}
	now := time.Now()
	if c.StatementDue != nil && now.After(*c.StatementDue) {
		due := c.StatementDue.In(shanghai)
		msg := sdk.Message{
			ZH: fmt.Sprintf("陈述申辩期限已于%d年%d月%d日届满（自收到告知书之日起%d个工作日），本次提交未被受理", due.Year(), int(due.Month()), due.Day(), c.WindowDays),
			EN: fmt.Sprintf("The window closed at the end of %s (%d working days from receiving the notice); this filing was not accepted", due.Format("2 January 2006"), c.WindowDays),
		}
		_ = audit(r.Context(), s.host, "party.statement_refused", fmt.Sprintf("case:%d", c.ID), map[string]any{"deadline": due.Format(time.RFC3339)})
		sdk.WriteError(w, r, http.StatusUnprocessableEntity, "enforcement.window_closed", msg, map[string]any{"deadline": due})
		return
	}
	if _, err := s.db.ExecContext(r.Context(), "INSERT INTO statements (case_id, party, kind, body, filed_at) VALUES (?, ?, ?, ?, ?)",
		c.ID, sdk.CallerFrom(r.Context()).USCC, in.Kind, in.Body, ms(now)); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "party.statement", fmt.Sprintf("case:%d", c.ID), map[string]any{"kind": in.Kind})
	if c, ok := s.myCase(w, r); ok {
		sdk.WriteJSON(w, http.StatusCreated, partyView(c))
	}
}

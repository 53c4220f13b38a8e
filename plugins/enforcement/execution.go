package main

// Execution after the decision (C13): a payment plan — deferred payment
// (暂缓缴纳) or instalments (分期缴纳), 行政处罚法 第六十六条, R-EXE-5, R-PAY-9 —
// applied for by the party and approved by the head of the agency, which
// moves the payment due dates and so the late-payment surcharge (R-EXE-2);
// the demand notice (催告书, 行政强制法 第三十五条) once the party is late;
// and the application to the people's court for compulsory execution inside
// its window (R-EXE-3, rules.EnforcementWindow), every reason it may not be
// made yet named.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/plugins/enforcement/rules"
	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
	"github.com/shanghai-amr/portal/sdk/storage"
)

// migrateExecution numbers the payments of an instalment plan (expand-only:
// earlier orders are for the whole fine, instalment 0).
func migrateExecution(ctx context.Context, db *sql.DB, _ string) error {
	return storage.AddColumn(ctx, db, "payments", "instalment", "INT NOT NULL DEFAULT 0")
}

func (s *service) executionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /my/cases/{id}/payment-plan", s.applyPlan)
	mux.HandleFunc("POST /cases/{id}/payment-plan/decide", s.decidePlan)
	mux.HandleFunc("POST /cases/{id}/demand", s.demand)
	mux.HandleFunc("POST /cases/{id}/court-application", s.courtApplication)
}

// plan is a party's application to pay later (deferral) or in instalments,
// kept in the findings.
type plan struct {
	Type        string       `json:"type"` // deferral or instalments
	Until       string       `json:"until,omitempty"`
	Instalments []instalment `json:"instalments,omitempty"`
	Reason      string       `json:"reason"`
	Status      string       `json:"status"` // pending, approved, refused
	Note        string       `json:"note,omitempty"`
	By          string       `json:"by,omitempty"`
	Applied     int64        `json:"applied_at"`
	Decided     int64        `json:"decided_at,omitempty"`
	Original    string       `json:"original_due"`
}

// instalment is one payment of an instalment plan.
type instalment struct {
	AmountFen int64  `json:"amount_fen"`
	Due       string `json:"due"` // YYYY-MM-DD
}

func approvedPlan(c *kase) *plan {
	var p plan
	if decodeFinding(c, "payment_plan", &p) && p.Status == "approved" {
		return &p
	}
	return nil
}

func dayEnd(day string) time.Time {
	d, _ := time.ParseInLocation("2006-01-02", day, shanghai)
	return rules.EndOfDay(d)
}

// end is the last day of the plan: the deferral's, or the last instalment's.
func (p *plan) end() time.Time {
	if p.Type == "instalments" {
		return dayEnd(p.Instalments[len(p.Instalments)-1].Due)
	}
	return dayEnd(p.Until)
}

// demandNotice is the 催告书: issued, then delivered.
type demandNotice struct {
	Number      string `json:"number"`
	By          string `json:"by"`
	DeliveredOn string `json:"delivered_on,omitempty"`
	Method      string `json:"method,omitempty"`
}

// paymentDue is the day the fine must be paid by: 15 days from the
// decision's delivery (R-EXE-1), or the end of an approved plan.
func paymentDue(c *kase) time.Time {
	if p := approvedPlan(c); p != nil {
		return p.end()
	}
	if c.DeliveredAt == nil {
		return time.Time{}
	}
	return rules.PaymentDue(*c.DeliveredAt)
}

// nextPayment is what the party pays next: the whole fine by its due date,
// or under an instalment plan the first instalment not yet covered by what
// was paid (index from 1); ok is false when nothing is left to pay.
func nextPayment(c *kase, paidFen int64) (amount int64, due time.Time, index int, ok bool) {
	p := approvedPlan(c)
	if p == nil || p.Type != "instalments" {
		return c.FineFen, paymentDue(c), 0, paidFen < c.FineFen
	}
	var covered int64
	for i, in := range p.Instalments {
		covered += in.AmountFen
		if paidFen < covered {
			return in.AmountFen, dayEnd(in.Due), i + 1, true
		}
	}
	return 0, time.Time{}, 0, false
}

// applyPlan: the party, in genuine economic difficulty, asks in writing to
// pay later or in instalments (R-EXE-5), before paying.
func (s *service) applyPlan(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Type        string `json:"type"`
		Until       string `json:"until"`
		Reason      string `json:"reason"`
		Instalments []struct {
			AmountYuan int64  `json:"amount_yuan"`
			Due        string `json:"due"`
		} `json:"instalments"`
	}
	if !decode(w, r, &in) {
		return
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" || utf8.RuneCountInString(in.Reason) > 2000 || (in.Type != "deferral" && in.Type != "instalments") {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "type (deferral or instalments) and reason (the economic difficulty, 1–2000 characters) are required", nil)
		return
	}
	c, ok := s.myCase(w, r)
	if !ok {
		return
	}
	var prev plan
	if paid, _ := s.paidOf(r.Context(), c.ID); c.DeliveredAt == nil || c.FineFen <= 0 || paid > 0 ||
		(decodeFinding(c, "payment_plan", &prev) && prev.Status != "refused") {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	due := paymentDue(c)
	latest := due.AddDate(1, 0, 0)
	p := &plan{Type: in.Type, Reason: in.Reason, Status: "pending", Applied: time.Now().UnixMilli(), Original: due.Format("2006-01-02")}
	bad := func(msg string) { fail(w, r, http.StatusBadRequest, "enforcement.invalid", msg, nil) }
	window := fmt.Sprintf("after today and within a year of the payment due date %s", due.Format("2006-01-02"))
	if in.Type == "deferral" {
		until, err := time.ParseInLocation("2006-01-02", in.Until, shanghai)
		if err != nil || !until.After(due) || until.After(latest) {
			bad("until: after the payment due date and " + window)
			return
		}
		p.Until = in.Until
	} else {
		if len(in.Instalments) < 2 || len(in.Instalments) > 12 {
			bad("instalments: 2 to 12")
			return
		}
		var sum int64
		prevDue := time.Now().In(shanghai)
		for i, x := range in.Instalments {
			d, err := time.ParseInLocation("2006-01-02", x.Due, shanghai)
			if err != nil || x.AmountYuan <= 0 || !d.After(prevDue) || d.After(latest) {
				bad(fmt.Sprintf("instalments[%d]: a positive amount and a due date later than the one before, %s", i, window))
				return
			}
			sum += x.AmountYuan * 100
			prevDue = d
			p.Instalments = append(p.Instalments, instalment{AmountFen: x.AmountYuan * 100, Due: x.Due})
		}
		if sum != c.FineFen {
			bad(fmt.Sprintf("instalments: they add up to %d yuan, the fine is %d yuan", sum/100, c.FineFen/100))
			return
		}
	}
	if err := s.saveFinding(r.Context(), c, "payment_plan", p); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "party.payment_plan_applied", fmt.Sprintf("case:%d", c.ID), map[string]any{"type": p.Type})
	if c, ok := s.myCase(w, r); ok {
		sdk.WriteJSON(w, http.StatusCreated, partyView(c))
	}
}

// decidePlan: the head of the agency approves or refuses with a written
// opinion (R-EXE-5); approved, payment follows the plan and the surcharge
// counts from each due date.
func (s *service) decidePlan(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Approve bool   `json:"approve"`
		Note    string `json:"note"`
	}
	if !decode(w, r, &in) {
		return
	}
	if strings.TrimSpace(in.Note) == "" {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "note: the written opinion is required", nil)
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.decide")
	if !ok {
		return
	}
	var p plan
	if !decodeFinding(c, "payment_plan", &p) || p.Status != "pending" {
		fail(w, r, http.StatusConflict, "enforcement.state", "no payment plan applied for", nil)
		return
	}
	p.Status, p.Note, p.By, p.Decided = map[bool]string{true: "approved", false: "refused"}[in.Approve], in.Note, sdk.CallerFrom(r.Context()).Username, time.Now().UnixMilli()
	if err := s.saveFinding(r.Context(), c, "payment_plan", &p); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.payment_plan_"+p.Status, fmt.Sprintf("case:%d", c.ID), map[string]any{"type": p.Type})
	if c, ok := s.loadCase(w, r, "enforcement.case.read"); ok {
		sdk.WriteJSON(w, http.StatusOK, c)
	}
}

// demand issues the 催告书 (行政强制法 第三十五条) to a party that has not paid
// by the due date; it is then delivered like any document (POST
// /cases/{id}/delivery with document demand_notice), and the ten working days
// of R-EXE-3 run from that delivery.
func (s *service) demand(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCase(w, r, "enforcement.case.write")
	if !ok {
		return
	}
	now := time.Now()
	paid, _ := s.paidOf(r.Context(), c.ID)
	amount, due, _, owing := nextPayment(c, paid)
	var prev demandNotice
	switch {
	case c.Status != "delivered" || !owing || (decodeFinding(c, "demand", &prev) && prev.DeliveredOn == ""):
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	case !rules.Expired(due, now):
		fail(w, r, http.StatusConflict, "enforcement.not_overdue", due.Format("2006-01-02"), nil)
		return
	}
	yuan := func(fen int64) string {
		return fmt.Sprintf("人民币%s元", strconv.FormatFloat(float64(fen)/100, 'f', -1, 64))
	}
	var decision string
	for _, d := range c.Documents {
		if d.Type == "penalty_decision" {
			decision = d.Number
		}
	}
	doc, err := s.issue(r.Context(), c, "demand_notice", map[string]any{"party_name": c.PartyName, "decision_number": decision,
		"decision_date": c.DeliveredAt.In(shanghai).Format("2006-01-02"), "fine": yuan(amount), "due_date": due.In(shanghai).Format("2006-01-02"),
		"surcharge": yuan(rules.Surcharge(amount, due, now)), "issue_date": now.In(shanghai).Format("2006-01-02")})
	if err != nil {
		hostFailed(w, r, err)
		return
	}
	if err := s.saveFinding(r.Context(), c, "demand", &demandNotice{Number: doc.Number, By: sdk.CallerFrom(r.Context()).Username}); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.demand", fmt.Sprintf("case:%d", c.ID), map[string]any{"document": doc.DocumentId, "number": doc.Number})
	if c, ok := s.loadCase(w, r, "enforcement.case.read"); ok {
		sdk.WriteJSON(w, http.StatusOK, c)
	}
}

// courtApplication applies to the people's court for compulsory execution
// (R-EXE-3) when rules.EnforcementWindow says it is open; otherwise it says
// every reason why not, with the dates.
func (s *service) courtApplication(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Court string `json:"court"`
		// ReviewOrSuit: the party applied for administrative review or sued.
		ReviewOrSuit bool `json:"review_or_suit"`
	}
	if !decode(w, r, &in) {
		return
	}
	if strings.TrimSpace(in.Court) == "" {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "court is required", nil)
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.decide")
	if !ok {
		return
	}
	if c.Status != "delivered" || c.DeliveredAt == nil {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	paid, _ := s.paidOf(r.Context(), c.ID)
	_, _, _, owing := nextPayment(c, paid)
	facts := rules.EnforcementFacts{DecisionDelivered: *c.DeliveredAt, ReviewOrSuitFiled: in.ReviewOrSuit, Performed: !owing}
	var dn demandNotice
	if decodeFinding(c, "demand", &dn) {
		facts.DemandDelivered, _ = time.ParseInLocation("2006-01-02", dn.DeliveredOn, shanghai)
	}
	if p := approvedPlan(c); p != nil {
		facts.DeferralEnd = rules.StartOfDay(p.end())
	}
	cal := &hostCalendar{ctx: r.Context(), host: s.host}
	win, err := rules.EnforcementWindow(cal, facts, time.Now())
	if cal.err != nil {
		hostFailed(w, r, cal.err) // e.g. a year whose holidays are not published: no guessing
		return
	}
	if err != nil {
		fail(w, r, http.StatusConflict, "enforcement.invalid", err.Error(), nil)
		return
	}
	if !win.Open {
		lang := sdk.CallerFrom(r.Context()).Locale
		msgs := make([]string, len(win.Reasons))
		for i, e := range win.Reasons {
			msgs[i] = e.ZH
			if lang == "en" {
				msgs[i] = e.EN
			}
		}
		sdk.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"code": "enforcement.court_window", "message": strings.Join(msgs, "；"),
			"details": map[string]any{"earliest": win.Earliest, "latest": win.Latest, "reasons": win.Reasons}})
		return
	}
	app := map[string]any{"court": in.Court, "applied_at": time.Now().UnixMilli(), "latest": win.Latest, "by": sdk.CallerFrom(r.Context()).Username}
	if err := s.saveFinding(r.Context(), c, "court_application", app); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.court_application", fmt.Sprintf("case:%d", c.ID), map[string]any{"court": in.Court})
	sdk.WriteJSON(w, http.StatusOK, map[string]any{"court_application": app, "window": win})
}

// hostCalendar is rules.Calendar on the host's holiday calendar: a day is a
// working day when a one-working-day deadline starting that day falls on it.
// Days are cached for the process; a day the host cannot answer (its year's
// schedule is not published) is recorded as the error, and the caller must
// not use the result.
type hostCalendar struct {
	ctx  context.Context
	host *sdk.Host
	err  error
}

var workingDays sync.Map // "2006-01-02" → bool

func (h *hostCalendar) IsWorkingDay(d time.Time) bool {
	day := rules.StartOfDay(d)
	key := day.Format("2006-01-02")
	if v, ok := workingDays.Load(key); ok {
		return v.(bool)
	}
	if h.err != nil {
		return false
	}
	res, err := h.host.Clocks.ComputeDeadline(h.ctx, &pluginv1.ComputeDeadlineRequest{StartUnixMs: ms(day), Unit: "working_days", Amount: 1, StartRule: "same_day"})
	if err != nil {
		h.err = errors.Join(errors.New("the holiday calendar cannot answer for "+key), err)
		return false
	}
	ok := rules.StartOfDay(fromMS(res.DueUnixMs)).Equal(day)
	workingDays.Store(key, ok)
	return ok
}

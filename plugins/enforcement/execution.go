package main

// Execution after the decision (C13): deferred payment (暂缓缴纳, 行政处罚法
// 第六十六条, R-EXE-5) applied for by the party and approved by the head of
// the agency, which moves the payment due date and so the late-payment
// surcharge (R-EXE-2); the demand notice (催告书, 行政强制法 第三十五条) once
// the party is late; and the application to the people's court for
// compulsory execution inside its window (R-EXE-3, rules.EnforcementWindow),
// every reason it may not be made yet named.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/plugins/enforcement/rules"
	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

func (s *service) executionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /my/cases/{id}/deferral", s.applyDeferral)
	mux.HandleFunc("POST /cases/{id}/deferral/decide", s.decideDeferral)
	mux.HandleFunc("POST /cases/{id}/demand", s.demand)
	mux.HandleFunc("POST /cases/{id}/court-application", s.courtApplication)
}

// deferral is a party's application to pay later, kept in the findings.
type deferral struct {
	Until    string `json:"until"`
	Reason   string `json:"reason"`
	Status   string `json:"status"` // pending, approved, refused
	Note     string `json:"note,omitempty"`
	By       string `json:"by,omitempty"`
	Applied  int64  `json:"applied_at"`
	Decided  int64  `json:"decided_at,omitempty"`
	Original string `json:"original_due"`
}

// demandNotice is the 催告书 as delivered.
type demandNotice struct {
	DeliveredOn string `json:"delivered_on"`
	Method      string `json:"method"`
	By          string `json:"by"`
}

// paymentDue is the day the fine must be paid by: 15 days from the
// decision's delivery (R-EXE-1), or the end of an approved deferral.
func paymentDue(c *kase) time.Time {
	var d deferral
	if decodeFinding(c, "deferral", &d) && d.Status == "approved" {
		if until, err := time.ParseInLocation("2006-01-02", d.Until, shanghai); err == nil {
			return rules.EndOfDay(until)
		}
	}
	if c.DeliveredAt == nil {
		return time.Time{}
	}
	return rules.PaymentDue(*c.DeliveredAt)
}

// applyDeferral: the party, in genuine economic difficulty, asks in writing
// to pay later (R-EXE-5), before the fine is paid.
func (s *service) applyDeferral(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Until  string `json:"until"`
		Reason string `json:"reason"`
	}
	if !decode(w, r, &in) {
		return
	}
	in.Reason = strings.TrimSpace(in.Reason)
	until, err := time.ParseInLocation("2006-01-02", in.Until, shanghai)
	if err != nil || in.Reason == "" || utf8.RuneCountInString(in.Reason) > 2000 {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "until (YYYY-MM-DD) and reason (the economic difficulty, 1–2000 characters) are required", nil)
		return
	}
	c, ok := s.myCase(w, r)
	if !ok {
		return
	}
	var prev deferral
	if paid, _ := s.paidOf(r.Context(), c.ID); c.DeliveredAt == nil || c.FineFen <= 0 || paid > 0 ||
		(decodeFinding(c, "deferral", &prev) && prev.Status != "refused") {
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	}
	due := paymentDue(c)
	if !until.After(due) || until.After(due.AddDate(1, 0, 0)) {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", fmt.Sprintf("until: after the payment due date %s and within a year of it", due.Format("2006-01-02")), nil)
		return
	}
	d := &deferral{Until: in.Until, Reason: in.Reason, Status: "pending", Applied: time.Now().UnixMilli(), Original: due.Format("2006-01-02")}
	if err := s.saveFinding(r.Context(), c, "deferral", d); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "party.deferral_applied", fmt.Sprintf("case:%d", c.ID), map[string]any{"until": in.Until})
	if c, ok := s.myCase(w, r); ok {
		writeJSON(w, http.StatusCreated, partyView(c))
	}
}

// decideDeferral: the head of the agency approves or refuses (R-EXE-5);
// approved, the payment is due at its end and the surcharge counts from there.
func (s *service) decideDeferral(w http.ResponseWriter, r *http.Request) {
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
	var d deferral
	if !decodeFinding(c, "deferral", &d) || d.Status != "pending" {
		fail(w, r, http.StatusConflict, "enforcement.state", "no deferral applied for", nil)
		return
	}
	d.Status, d.Note, d.By, d.Decided = map[bool]string{true: "approved", false: "refused"}[in.Approve], in.Note, sdk.CallerFrom(r.Context()).Username, time.Now().UnixMilli()
	if err := s.saveFinding(r.Context(), c, "deferral", &d); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.deferral_"+d.Status, fmt.Sprintf("case:%d", c.ID), map[string]any{"until": d.Until})
	if c, ok := s.loadCase(w, r, "enforcement.case.read"); ok {
		writeJSON(w, http.StatusOK, c)
	}
}

// demand records the 催告书 delivered to a party that has not paid by the due
// date (行政强制法 第三十五条); the ten working days of R-EXE-3 run from it.
func (s *service) demand(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DeliveredOn string `json:"delivered_on"`
		Method      string `json:"method"`
	}
	if !decode(w, r, &in) {
		return
	}
	on, err := time.ParseInLocation("2006-01-02", in.DeliveredOn, shanghai)
	if _, known := deliveryMethods[in.Method]; err != nil || !known || on.After(time.Now()) {
		fail(w, r, http.StatusBadRequest, "enforcement.invalid", "delivered_on (YYYY-MM-DD, not in the future) and method (a delivery method of §2.4) are required", nil)
		return
	}
	c, ok := s.loadCase(w, r, "enforcement.case.write")
	if !ok {
		return
	}
	due := paymentDue(c)
	paid, _ := s.paidOf(r.Context(), c.ID)
	switch {
	case c.Status != "delivered" || paid > 0:
		fail(w, r, http.StatusConflict, "enforcement.state", c.Status, nil)
		return
	case !rules.Expired(due, on):
		fail(w, r, http.StatusConflict, "enforcement.not_overdue", due.Format("2006-01-02"), nil)
		return
	}
	if err := s.saveFinding(r.Context(), c, "demand", &demandNotice{DeliveredOn: in.DeliveredOn, Method: in.Method, By: sdk.CallerFrom(r.Context()).Username}); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.demand", fmt.Sprintf("case:%d", c.ID), map[string]any{"delivered_on": in.DeliveredOn, "method": in.Method})
	if c, ok := s.loadCase(w, r, "enforcement.case.read"); ok {
		writeJSON(w, http.StatusOK, c)
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
	facts := rules.EnforcementFacts{DecisionDelivered: *c.DeliveredAt, ReviewOrSuitFiled: in.ReviewOrSuit, Performed: paid > 0}
	var dn demandNotice
	if decodeFinding(c, "demand", &dn) {
		facts.DemandDelivered, _ = time.ParseInLocation("2006-01-02", dn.DeliveredOn, shanghai)
	}
	var d deferral
	if decodeFinding(c, "deferral", &d) && d.Status == "approved" {
		facts.DeferralEnd, _ = time.ParseInLocation("2006-01-02", d.Until, shanghai)
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
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"code": "enforcement.court_window", "message": strings.Join(msgs, "；"),
			"details": map[string]any{"earliest": win.Earliest, "latest": win.Latest, "reasons": win.Reasons}})
		return
	}
	app := map[string]any{"court": in.Court, "applied_at": time.Now().UnixMilli(), "latest": win.Latest, "by": sdk.CallerFrom(r.Context()).Username}
	if err := s.saveFinding(r.Context(), c, "court_application", app); err != nil {
		fail(w, r, http.StatusInternalServerError, "enforcement.internal", "", err)
		return
	}
	_ = audit(r.Context(), s.host, "case.court_application", fmt.Sprintf("case:%d", c.ID), map[string]any{"court": in.Court})
	writeJSON(w, http.StatusOK, map[string]any{"court_application": app, "window": win})
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

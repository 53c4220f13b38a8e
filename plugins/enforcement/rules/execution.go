package rules

import "time"

// Statutory periods of execution (R-EXE-1 … R-EXE-4).
const (
	// PaymentDays: "当事人应当自收到行政处罚决定书之日起十五日内…缴纳罚款"
	// (行政处罚法 第六十七条; the decision template says 十五日内).
	PaymentDays = 15
	// SurchargePercentPerDay:
	// "每日按罚款数额的百分之三加处罚款，加处罚款的数额不得超出罚款的数额"
	// (R-EXE-2; 行政处罚法 第七十二条).
	SurchargePercentPerDay = 3
	// DemandWorkingDays: "在收到催告书十个工作日后仍不履行" (R-EXE-3;
	// 行政强制法 第五十四条, 十日 being working days by 第六十九条).
	DemandWorkingDays = 10
	// ReviewDays: 行政复议 "六十日" from knowing of the decision (R-DL-9).
	ReviewDays = 60
	// SuitMonths: 行政诉讼 "六个月" from knowing of the decision (R-DL-9).
	SuitMonths = 6
	// ApplicationMonths: the court application "在期限届满之日起三个月内"
	// (R-EXE-3; 行政强制法 第五十三条).
	ApplicationMonths = 3
	// HandInWorkingDays: on-the-spot fines handed in
	// "自收缴罚款之日起二个工作日内" (on water, from landing), and paid into
	// the bank within two working days (R-EXE-4).
	HandInWorkingDays = 2
)

// PaymentDue is the end of the 15th day after the decision was delivered, the
// day of delivery not counted. It is not moved off a rest day; a bureau that
// applies 民法典 第二百零三条 to it uses RollForward(cal, PaymentDue(d)).
func PaymentDue(deliveredAt time.Time) time.Time {
	return AddNaturalDays(deliveredAt, PaymentDays)
}

// HandInDue is the end of the 2nd working day after fines were collected on
// the spot (or after landing, on water): the last day to hand them to the
// bureau; from the bureau's receipt, the same rule gives the last day to pay
// them into the designated bank (R-EXE-4).
func HandInDue(cal Calendar, collectedAt time.Time) time.Time {
	return AddWorkingDays(cal, collectedAt, HandInWorkingDays)
}

// DaysOverdue is the number of natural days from the day after due's day up
// to and including at's day; 0 when at is on or before due's day.
func DaysOverdue(due, at time.Time) int {
	return max(0, daysBetween(due, at))
}

// Surcharge is the 加处罚款 in fen on a fine of fineFen fen due at due and
// paid (or still unpaid) at paidOrNow: 3% of the fine for each day overdue
// (DaysOverdue), never more than the fine. The day after the due day is the
// first day overdue. Fractions of a fen are dropped (truncated toward zero),
// so the amount never exceeds what the law allows; the arithmetic is exact
// for any int64 fine. A fine of 10,000 yuan 20 days overdue gives 6,000 yuan;
// 34 days or more give the whole fine. Non-positive fines give 0.
//
// The surcharge is discretionary ("可以") and imposed by a 加处罚款决定书; this
// computes the amount, not whether it is imposed.
func Surcharge(fineFen int64, due time.Time, paidOrNow time.Time) int64 {
	days := int64(DaysOverdue(due, paidOrNow))
	if fineFen <= 0 || days == 0 {
		return 0
	}
	if days*SurchargePercentPerDay >= 100 {
		return fineFen
	}
	// fine·3·days/100 without overflow: fine = 100q + r.
	q, r := fineFen/100, fineFen%100
	rate := days * SurchargePercentPerDay
	return q*rate + r*rate/100
}

// EnforcementFacts are what decides whether the bureau may apply to the
// people's court for compulsory enforcement (R-EXE-3).
type EnforcementFacts struct {
	// DecisionDelivered is the delivery date of the 行政处罚决定书: the
	// 复议 (60 days) and 诉讼 (6 months) periods run from it.
	DecisionDelivered time.Time
	// ReviewOrSuitFiled: the party applied for 行政复议 or sued.
	ReviewOrSuitFiled bool
	// Performed: the party performed the decision (paid in full).
	Performed bool
	// DemandDelivered is the delivery date of the 催告书; zero if none yet.
	DemandDelivered time.Time
	// DeferralEnd is the end of an approved deferral (暂缓) or of the last
	// instalment period (分期); zero if none was approved (R-EXE-5).
	DeferralEnd time.Time
}

// EnforcementWindowResult is when a court application may be made.
type EnforcementWindowResult struct {
	// Earliest is 00:00 CST of the first day an application may be filed;
	// zero while it cannot be known (no 催告书 delivered yet, or the party
	// applied for review, sued or performed).
	Earliest time.Time
	// Latest is the end of the last day to apply; zero when no application
	// is possible (review, suit, performance).
	Latest time.Time
	// Open: the application may be made at the time asked about.
	Open bool
	// Reasons say why it may not (empty when Open), in the order checked.
	Reasons []*Error
}

// Reasons an application is not (yet) allowed. Returned reasons carry
// dates and match these under errors.Is.
var (
	ErrReviewOrSuit   = &Error{Code: "rules.enforcement.review_or_suit", ZH: "当事人已申请行政复议或者提起行政诉讼，不能申请强制执行", EN: "the party applied for review or sued: no court enforcement"}
	ErrPerformed      = &Error{Code: "rules.enforcement.performed", ZH: "当事人已履行处罚决定，无需强制执行", EN: "the party has performed the decision: nothing to enforce"}
	ErrNoDemand       = &Error{Code: "rules.enforcement.no_demand", ZH: "尚未送达催告书", EN: "no demand notice (催告书) has been delivered"}
	ErrPeriodRunning  = &Error{Code: "rules.enforcement.period_running", ZH: "申请行政复议或者提起行政诉讼的期限尚未届满", EN: "the periods for review and suit have not run out"}
	ErrDemandRunning  = &Error{Code: "rules.enforcement.demand_running", ZH: "催告书送达后十个工作日尚未届满", EN: "ten working days from the demand notice have not passed"}
	ErrDeferral       = &Error{Code: "rules.enforcement.deferral", ZH: "经批准的暂缓或者分期缴纳期限尚未结束", EN: "an approved deferral or instalment period has not ended"}
	ErrWindowExpired  = &Error{Code: "rules.enforcement.expired", ZH: "申请人民法院强制执行的期限已届满", EN: "the time to apply to the court has run out"}
	ErrWindowMissed   = &Error{Code: "rules.enforcement.missed", ZH: "催告书送达过晚，十个工作日届满时申请期限已过", EN: "the demand notice came too late: its ten working days end after the last day to apply"}
	ErrNoDecisionDate = &Error{Code: "rules.enforcement.no_decision_date", ZH: "缺少处罚决定书送达日期", EN: "the decision's delivery date is missing"}
)

// EnforcementWindow says when the bureau may apply to the people's court to
// enforce a decision delivered at f.DecisionDelivered, and whether it may at
// now (R-EXE-3):
// "当事人在法定期限内不申请行政复议或者提起行政诉讼，又不履行行政决定的，…可以自期限届满之日起三个月内…申请人民法院强制执行"
// (行政强制法 第五十三条), after "催告书送达十日后当事人仍未履行义务"
// (第五十四条); with an approved deferral or instalments
// "申请人民法院强制执行的期限，自暂缓或者分期缴纳罚款期限结束之日起计算" (行政处罚法 第七十二条).
//
// Earliest is the day after the latest of: the end of the 复议 (60 days) and
// 诉讼 (6 months) periods, each moved off a rest day (民法典 第二百零三条 — the
// party may still act on the next working day, so applying earlier would be
// premature); the 10th working day after the 催告书; the end of the deferral.
// Latest is 3 months after the later of the unmoved period end and the end of
// the deferral — the earlier reading, so the bureau is never told it has more
// time than it might. Where the deferral ends before the periods do, the
// 3 months still run from the periods' end: the deferral can lengthen the
// bureau's time, never shorten it (an interpretation; confirm with 法制).
func EnforcementWindow(cal Calendar, f EnforcementFacts, now time.Time) (EnforcementWindowResult, error) {
	var w EnforcementWindowResult
	if f.DecisionDelivered.IsZero() {
		return w, ErrNoDecisionDate
	}
	if f.ReviewOrSuitFiled {
		w.Reasons = append(w.Reasons, ErrReviewOrSuit)
	}
	if f.Performed {
		w.Reasons = append(w.Reasons, ErrPerformed)
	}
	if len(w.Reasons) > 0 {
		return w, nil
	}

	reviewEnd := AddNaturalDays(f.DecisionDelivered, ReviewDays)
	suitEnd := AddMonths(f.DecisionDelivered, SuitMonths)
	partyEnd := later(RollForward(cal, reviewEnd), RollForward(cal, suitEnd))
	base := later(reviewEnd, suitEnd)
	if !f.DeferralEnd.IsZero() {
		base = later(base, EndOfDay(f.DeferralEnd))
	}
	w.Latest = AddMonths(base, ApplicationMonths)

	dayAfter := func(t time.Time) time.Time { return StartOfDay(t).AddDate(0, 0, 1) }
	if now.Before(dayAfter(partyEnd)) {
		w.Reasons = append(w.Reasons, ErrPeriodRunning.with("至"+zhDate(partyEnd), "until the end of "+enDate(partyEnd)))
	}
	if !f.DeferralEnd.IsZero() && !Expired(f.DeferralEnd, now) {
		w.Reasons = append(w.Reasons, ErrDeferral.with("至"+zhDate(f.DeferralEnd), "until the end of "+enDate(f.DeferralEnd)))
	}
	if f.DemandDelivered.IsZero() {
		w.Reasons = append(w.Reasons, ErrNoDemand)
	} else {
		demandEnd := AddWorkingDays(cal, f.DemandDelivered, DemandWorkingDays)
		w.Earliest = later(dayAfter(partyEnd), dayAfter(demandEnd))
		if !f.DeferralEnd.IsZero() {
			w.Earliest = later(w.Earliest, dayAfter(f.DeferralEnd))
		}
		if now.Before(dayAfter(demandEnd)) {
			w.Reasons = append(w.Reasons, ErrDemandRunning.with("至"+zhDate(demandEnd), "until the end of "+enDate(demandEnd)))
		}
		if w.Earliest.After(w.Latest) {
			w.Reasons = append(w.Reasons, ErrWindowMissed.with("最后申请日为"+zhDate(w.Latest), "the last day to apply was "+enDate(w.Latest)))
		}
	}
	if Expired(w.Latest, now) {
		w.Reasons = append(w.Reasons, ErrWindowExpired.with("已于"+zhDate(w.Latest)+"届满", "it ended with "+enDate(w.Latest)))
	}
	w.Open = len(w.Reasons) == 0
	return w, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

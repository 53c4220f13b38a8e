package rules

import "time"

// Supervision (督办) periods (R-DL-6 … R-DL-8).
const (
	// ReportReminderDays: "每月报告日到期前五天，系统提示案件…调查进展需上报市局"
	// (R-DL-7), natural days.
	ReportReminderDays = 5
	// ReplyWorkingDays: "被督办单位需要在三个工作日内回复催办或督办意见" (R-DL-8).
	ReplyWorkingDays = 3
	// ProgressReminderMonths:
	// "案件立案后每过三个月有提示框跳出，提醒承办人员注意办案进度" (R-DL-6).
	ProgressReminderMonths = 3
)

// MonthlyReportDue is the end of the next monthly report day on or after
// now's day, the report day being reportDay of each month (a configured
// value; in a month without that day, its last day — 民法典 第二百零二条's
// rule for missing days). reportDay is clamped to 1…31.
func MonthlyReportDue(reportDay int, now time.Time) time.Time {
	reportDay = min(max(reportDay, 1), 31)
	today := StartOfDay(now)
	for m := 0; ; m++ {
		first := time.Date(today.Year(), today.Month()+time.Month(m), 1, 0, 0, 0, 0, CST)
		last := first.AddDate(0, 1, -1).Day()
		due := time.Date(first.Year(), first.Month(), min(reportDay, last), 0, 0, 0, 0, CST)
		if !due.Before(today) {
			return EndOfDay(due)
		}
	}
}

// ReportReminderDate is the day (00:00 CST) the reminder for a report due at
// reportDue appears: five days before the due day (R-DL-7).
func ReportReminderDate(reportDue time.Time) time.Time {
	return StartOfDay(reportDue).AddDate(0, 0, -ReportReminderDays)
}

// RemindReport reports whether the reminder for a report due at reportDue is
// showing at now: from its reminder day through the due day.
func RemindReport(now, reportDue time.Time) bool {
	return !now.Before(ReportReminderDate(reportDue)) && !Expired(reportDue, now)
}

// ReplyDue is the end of the 3rd working day after a 催办 or 督办 opinion
// reached the supervised unit (R-DL-8, module 1340).
func ReplyDue(cal Calendar, receivedAt time.Time) time.Time {
	return AddWorkingDays(cal, receivedAt, ReplyWorkingDays)
}

// Escalate reports whether an opinion not yet answered must be escalated at
// now: now is on a day after the reply due day. The unit is then warned, the
// overdue recorded and the supervising department told (R-SUP-5, module
// 1339). For a reply that did arrive, Escalate(repliedAt, replyDue) says
// whether it was late.
func Escalate(now, replyDue time.Time) bool {
	return Expired(replyDue, now)
}

// NextProgressReminder is the day (00:00 CST) of the next 3-monthly progress
// reminder of a supervised case filed at filedAt, on or after now's day:
// filing + 3, 6, 9 … months, each per 民法典 第二百零二条 (R-DL-6).
func NextProgressReminder(filedAt, now time.Time) time.Time {
	today := StartOfDay(now)
	for k := 1; ; k++ {
		d := StartOfDay(AddMonths(filedAt, k*ProgressReminderMonths))
		if !d.Before(today) {
			return d
		}
	}
}

// SupervisedStep is a step of a supervised case that needs the city
// bureau's (市局) consent before it may proceed.
type SupervisedStep string

// Gated steps.
const (
	// StepNonFiling: "不予立案 in a supervised case must be reported to and
	// agreed by 市局 before the 不予立案 flow may start" (R-SUP-2).
	StepNonFiling SupervisedStep = "non_filing"
	// StepAfterEndReport: after the 调查终结报告 the handling opinion is
	// reported to 市局; "only after consent the case proceeds" (R-SUP-3).
	StepAfterEndReport SupervisedStep = "after_end_report"
)

// ErrNeedsCityConsent: a gated step of a supervised case lacks 市局 consent.
var ErrNeedsCityConsent = &Error{Code: "rules.supervision.needs_consent", ZH: "督办案件须报市局同意后方可进行此步骤", EN: "a supervised case needs the city bureau's consent for this step"}

// CheckSupervisedStep returns ErrNeedsCityConsent (with the step named) when
// a supervised case takes a gated step without the city bureau's consent,
// nil otherwise; unsupervised cases are never gated.
func CheckSupervisedStep(step SupervisedStep, supervised, cityConsented bool) error {
	if !supervised || cityConsented {
		return nil
	}
	switch step {
	case StepNonFiling:
		return ErrNeedsCityConsent.with("不予立案", "non-filing")
	case StepAfterEndReport:
		return ErrNeedsCityConsent.with("调查终结报告后的处理意见", "the handling opinion after the investigation report")
	}
	return nil
}

// SupervisionEvent is a milestone of a supervised case that prompts the
// handler to report to the supervising department (R-SUP-1 … R-SUP-3).
type SupervisionEvent string

// Milestones.
const (
	EventFilingApproved    SupervisionEvent = "filing_approved"     // R-SUP-2
	EventBeforeNotice      SupervisionEvent = "before_notice"       // R-SUP-1, before 处罚告知
	EventBeforeDecision    SupervisionEvent = "before_decision"     // R-SUP-1
	EventEndReportDrafted  SupervisionEvent = "end_report_drafted"  // R-SUP-3
	EventOutcomeApproved   SupervisionEvent = "outcome_approved"    // R-SUP-3: 处罚决定书, 不予处罚决定书 or 移送书 approved
	EventNonFilingProposed SupervisionEvent = "non_filing_proposed" // R-SUP-2
)

// Prompt is a message shown to a user: a stable code (an i18n key) and the
// text in Chinese and English.
type Prompt struct {
	Code string
	ZH   string
	EN   string
}

// Message is the prompt in the caller's language (see Error.Message).
func (p Prompt) Message(locale string) string { return pick(locale, p.ZH, p.EN) }

// SupervisionPrompt is the prompt shown to the handler of a supervised case
// at a milestone; ok is false for other events.
func SupervisionPrompt(ev SupervisionEvent) (p Prompt, ok bool) {
	p, ok = prompts[ev]
	return p, ok
}

var prompts = map[SupervisionEvent]Prompt{
	EventFilingApproved:    {Code: "rules.supervision.report_filing", ZH: "本案为督办案件，已立案，请向市局报告", EN: "Supervised case filed: report to the city bureau"},
	EventBeforeNotice:      {Code: "rules.supervision.report_before_notice", ZH: "本案为督办案件，处罚告知前请向督办部门报告", EN: "Supervised case: report to the supervising department before the penalty notice"},
	EventBeforeDecision:    {Code: "rules.supervision.report_before_decision", ZH: "本案为督办案件，作出处罚决定前请向督办部门报告", EN: "Supervised case: report to the supervising department before the decision"},
	EventEndReportDrafted:  {Code: "rules.supervision.report_end_report", ZH: "本案为督办案件，请将调查终结报告的处理意见报市局，经同意后方可继续", EN: "Supervised case: report the handling opinion to the city bureau; continue only with its consent"},
	EventOutcomeApproved:   {Code: "rules.supervision.report_outcome", ZH: "本案为督办案件，请向市局报告处理结果", EN: "Supervised case: report the outcome to the city bureau"},
	EventNonFilingProposed: {Code: "rules.supervision.report_non_filing", ZH: "本案为督办案件，不予立案须报市局同意后方可发起", EN: "Supervised case: non-filing needs the city bureau's consent before it starts"},
}

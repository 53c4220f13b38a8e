package rules

import (
	"errors"
	"testing"
	"time"
)

func TestMonthlyReportDue(t *testing.T) {
	for _, tc := range []struct {
		name string
		day  int
		now  time.Time
		want string
	}{
		{"R-DL-7 report day 25, asked on the 25th: that day", 25, at("2026-09-25 10:00"), "2026-09-25"},
		{"R-DL-7 report day 25, asked on the 26th: next month", 25, at("2026-09-26 10:00"), "2026-10-25"},
		{"R-DL-7 report day 31 in February: its last day", 31, at("2026-02-10 10:00"), "2026-02-28"},
		{"R-DL-7 report day 31 across the year", 31, at("2026-12-31 23:00"), "2026-12-31"},
		{"R-DL-7 an unset report day is the 1st", 0, at("2026-12-02 09:00"), "2027-01-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same(t, "MonthlyReportDue", MonthlyReportDue(tc.day, tc.now), end(tc.want))
		})
	}
}

func TestReportReminder(t *testing.T) {
	due := end("2026-10-03")
	same(t, "R-DL-7 ReportReminderDate: 5 days before", ReportReminderDate(due), day("2026-09-28"))
	for _, tc := range []struct {
		name string
		now  time.Time
		want bool
	}{
		{"R-DL-7 six days before: no reminder", at("2026-09-27 23:59"), false},
		{"R-DL-7 five days before: reminder", at("2026-09-28 00:00"), true},
		{"R-DL-7 on the due day: reminder", at("2026-10-03 22:00"), true},
		{"R-DL-7 after the due day: overdue, not a reminder", at("2026-10-04 08:00"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RemindReport(tc.now, due); got != tc.want {
				t.Errorf("RemindReport = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReplyDueAndEscalate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		received time.Time
		want     string
	}{
		{"R-DL-8 催办 received 2026-09-29: 09-30, 10-08, 10-09", at("2026-09-29 15:00"), "2026-10-09"},
		{"R-DL-8 督办意见 received 2026-09-30: reply by the make-up Saturday 10-10", at("2026-09-30 09:00"), "2026-10-10"},
		{"R-DL-8 received on a Friday: Mon, Tue, Wed", day("2026-03-06"), "2026-03-11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same(t, "ReplyDue", ReplyDue(cal, tc.received), end(tc.want))
		})
	}
	due := ReplyDue(cal, day("2026-09-29"))
	for _, tc := range []struct {
		name string
		now  time.Time
		want bool
	}{
		{"R-SUP-5 unanswered on the due day: not yet", at("2026-10-09 23:59"), false},
		{"R-SUP-5 unanswered the next day: escalate", at("2026-10-10 00:00"), true},
		{"R-SUP-5 before the due day", at("2026-10-01 10:00"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Escalate(tc.now, due); got != tc.want {
				t.Errorf("Escalate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNextProgressReminder(t *testing.T) {
	filed := at("2026-01-31 10:00")
	for _, tc := range []struct {
		name string
		now  time.Time
		want string
	}{
		{"R-DL-6 first reminder 3 months after filing, on the month's last day", at("2026-02-01 09:00"), "2026-04-30"},
		{"R-DL-6 on the reminder day itself", at("2026-04-30 18:00"), "2026-04-30"},
		{"R-DL-6 then every 3 months", at("2026-05-01 09:00"), "2026-07-31"},
		{"R-DL-6 into the next year", at("2026-11-01 09:00"), "2027-01-31"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same(t, "NextProgressReminder", NextProgressReminder(filed, tc.now), day(tc.want))
		})
	}
}

func TestCheckSupervisedStep(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		step                  SupervisedStep
		supervised, consented bool
		msg                   string // "" for allowed
	}{
		{"R-SUP-2 不予立案 in a supervised case without 市局 consent", StepNonFiling, true, false,
			"督办案件须报市局同意后方可进行此步骤：不予立案 / a supervised case needs the city bureau's consent for this step: non-filing"},
		{"R-SUP-2 不予立案 with consent", StepNonFiling, true, true, ""},
		{"R-SUP-3 proceeding after the 调查终结报告 without consent", StepAfterEndReport, true, false,
			"督办案件须报市局同意后方可进行此步骤：调查终结报告后的处理意见 / a supervised case needs the city bureau's consent for this step: the handling opinion after the investigation report"},
		{"R-SUP-3 with consent", StepAfterEndReport, true, true, ""},
		{"R-SUP-2 an unsupervised case is not gated", StepNonFiling, false, false, ""},
		{"R-SUP-2 an unknown step is not gated", SupervisedStep("other"), true, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSupervisedStep(tc.step, tc.supervised, tc.consented)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrNeedsCityConsent) || err.Error() != tc.msg {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
		})
	}
}

func TestSupervisionPrompt(t *testing.T) {
	for _, ev := range []SupervisionEvent{EventFilingApproved, EventBeforeNotice, EventBeforeDecision, EventEndReportDrafted, EventOutcomeApproved, EventNonFilingProposed} {
		p, ok := SupervisionPrompt(ev)
		if !ok || p.Code == "" || p.Message("zh-CN") == "" || p.Message("en") == "" || p.Message("zh-CN") == p.Message("en") {
			t.Errorf("R-SUP-1..3 prompt %s = %+v, %v", ev, p, ok)
		}
	}
	if p, _ := SupervisionPrompt(EventBeforeNotice); p.Message("zh-CN") != "本案为督办案件，处罚告知前请向督办部门报告" {
		t.Errorf("R-SUP-1 prompt %q", p.ZH)
	}
	if _, ok := SupervisionPrompt("other"); ok {
		t.Error("prompt for an unknown event")
	}
}

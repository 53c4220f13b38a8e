package rules

import (
	"fmt"
	"time"
)

// Right is the right a party exercises within a window after a notice.
type Right int

// Rights. RightUnspecified gives neutral messages.
const (
	RightUnspecified Right = iota
	RightStatement         // 陈述、申辩 after the 行政处罚告知书
	RightHearing           // 听证 after the 行政处罚听证告知书
)

// Windows are the party's windows after a notice is received (R-NOT-1), in
// working days. Both are configuration: the seed (module 1157) gives three
// working days
// ("自收到本告知书之日起三个工作日内，未行使陈述、申辩权，视为放弃此权利")
// and the notice templates give five for a hearing request
// (行政处罚法 第六十四条: "当事人要求听证的，应当在行政机关告知后五日内提出",
// 五日 being working days by 第八十五条). The 30-natural-day 听证告知 limit of
// R-DL-1 is a separate monitoring clock, not the party's window.
type Windows struct {
	StatementWorkingDays int
	HearingWorkingDays   int
}

// DefaultWindows: 3 working days for a statement, 5 for a hearing request.
var DefaultWindows = Windows{StatementWorkingDays: 3, HearingWorkingDays: 5}

// WindowEnd is the end of a window of workingDays working days after the
// notice was received, the day of receipt not counted: the end of the last
// working day. Received 2026-09-29, 3 working days end 2026-10-09 23:59:59.999.
func WindowEnd(cal Calendar, receivedAt time.Time, workingDays int) time.Time {
	return AddWorkingDays(cal, receivedAt, workingDays)
}

// ErrBadWindow: the window is not configured (fewer than one working day) or
// the notice has no receipt date.
var ErrBadWindow = &Error{Code: "rules.window.invalid", ZH: "申请期限设置有误", EN: "the window is not set up correctly"}

// CheckFiling returns nil when filedAt falls on or before the last day of the
// window of workingDays working days after receivedAt, and a *LateError
// naming the deadline otherwise. Its messages are neutral; Windows'
// CheckStatement and CheckHearing name the right.
func CheckFiling(cal Calendar, receivedAt, filedAt time.Time, workingDays int) error {
	return checkFiling(cal, RightUnspecified, receivedAt, filedAt, workingDays)
}

// CheckStatement checks a 陈述、申辩 filed at filedAt.
func (w Windows) CheckStatement(cal Calendar, receivedAt, filedAt time.Time) error {
	return checkFiling(cal, RightStatement, receivedAt, filedAt, w.StatementWorkingDays)
}

// CheckHearing checks a hearing request filed at filedAt.
func (w Windows) CheckHearing(cal Calendar, receivedAt, filedAt time.Time) error {
	return checkFiling(cal, RightHearing, receivedAt, filedAt, w.HearingWorkingDays)
}

func checkFiling(cal Calendar, r Right, receivedAt, filedAt time.Time, workingDays int) error {
	switch {
	case workingDays < 1:
		return ErrBadWindow.with(fmt.Sprintf("期限应至少为1个工作日（当前为%d）", workingDays), fmt.Sprintf("at least 1 working day (got %d)", workingDays))
	case receivedAt.IsZero():
		return ErrBadWindow.with("告知书尚无收到日期", "the notice has no receipt date")
	}
	end := WindowEnd(cal, receivedAt, workingDays)
	if Expired(end, filedAt) {
		return &LateError{Right: r, Deadline: end, Filed: filedAt, WorkingDays: workingDays}
	}
	return nil
}

// LateError is a filing made after its window closed.
type LateError struct {
	Right       Right
	Deadline    time.Time // end of the window's last day
	Filed       time.Time
	WorkingDays int
}

// Code is the machine code of a late filing.
func (e *LateError) Code() string { return "rules.window.closed" }

// Message is the message in the caller's language (see Error.Message).
func (e *LateError) Message(locale string) string {
	what := map[Right][2]string{
		RightUnspecified: {"期限", "the window"},
		RightStatement:   {"陈述申辩期限", "the statement-and-defence window"},
		RightHearing:     {"听证申请期限", "the hearing-request window"},
	}[e.Right]
	unit := "working days"
	if e.WorkingDays == 1 {
		unit = "working day"
	}
	zh := fmt.Sprintf("%s已于%s届满（自收到告知书之日起%d个工作日）", what[0], zhDate(e.Deadline), e.WorkingDays)
	en := fmt.Sprintf("%s closed at the end of %s (%d %s from receipt)", what[1], enDate(e.Deadline), e.WorkingDays, unit)
	switch e.Right {
	case RightStatement:
		zh += "，视为放弃陈述、申辩权利"
		en += "; the right to make a statement is deemed waived"
	case RightHearing:
		zh += "，视为放弃听证权利"
		en += "; the right to a hearing is deemed waived"
	}
	return pick(locale, zh, en)
}

func (e *LateError) Error() string { return e.Message("zh-CN") + " / " + e.Message("en") }

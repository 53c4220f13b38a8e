package rules

import (
	"errors"
	"testing"
	"time"
)

func TestWindowEnd(t *testing.T) {
	for _, tc := range []struct {
		name     string
		received time.Time
		days     int
		want     string
	}{
		{"R-NOT-1 statement, 3 WD from 2026-09-29 across National Day", at("2026-09-29 16:20"), DefaultWindows.StatementWorkingDays, "2026-10-09"},
		{"R-NOT-1 hearing, 5 WD from 2026-09-29: 09-30, 10-08, 10-09, 10-10 (make-up), 10-12", at("2026-09-29 16:20"), DefaultWindows.HearingWorkingDays, "2026-10-12"},
		{"R-NOT-1 S5 3 WD from Mon 2025-06-09", day("2025-06-09"), 3, "2025-06-12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same(t, "WindowEnd", WindowEnd(cal, tc.received, tc.days), end(tc.want))
		})
	}
}

func TestCheckFiling(t *testing.T) {
	received := at("2026-09-29 09:00")
	for _, tc := range []struct {
		name   string
		check  func(filed time.Time) error
		filed  time.Time
		late   bool
		zh, en string // messages of the LateError
	}{
		{
			name:  "R-NOT-1 statement on the last day, late evening",
			check: func(f time.Time) error { return DefaultWindows.CheckStatement(cal, received, f) },
			filed: at("2026-10-09 23:59"),
		},
		{
			name:  "R-NOT-1 statement on the make-up Saturday 2026-10-10 is late",
			check: func(f time.Time) error { return DefaultWindows.CheckStatement(cal, received, f) },
			filed: at("2026-10-10 08:30"),
			late:  true,
			zh:    "陈述申辩期限已于2026年10月9日届满（自收到告知书之日起3个工作日），视为放弃陈述、申辩权利",
			en:    "the statement-and-defence window closed at the end of 9 October 2026 (3 working days from receipt); the right to make a statement is deemed waived",
		},
		{
			name:  "R-NOT-1 hearing request (5 WD) on 2026-10-12 is in time",
			check: func(f time.Time) error { return DefaultWindows.CheckHearing(cal, received, f) },
			filed: at("2026-10-12 17:00"),
		},
		{
			name:  "R-NOT-1 hearing request on 2026-10-13 is late",
			check: func(f time.Time) error { return DefaultWindows.CheckHearing(cal, received, f) },
			filed: at("2026-10-13 09:00"),
			late:  true,
			zh:    "听证申请期限已于2026年10月12日届满（自收到告知书之日起5个工作日），视为放弃听证权利",
			en:    "the hearing-request window closed at the end of 12 October 2026 (5 working days from receipt); the right to a hearing is deemed waived",
		},
		{
			name:  "R-NOT-1 generic CheckFiling names the deadline in both languages",
			check: func(f time.Time) error { return CheckFiling(cal, received, f, 3) },
			filed: at("2026-10-12 09:00"),
			late:  true,
			zh:    "期限已于2026年10月9日届满（自收到告知书之日起3个工作日）",
			en:    "the window closed at the end of 9 October 2026 (3 working days from receipt)",
		},
		{
			name:  "R-NOT-1 S5 hearing window configured to 3 WD: signed Mon 2025-06-09, request 2025-06-13 refused",
			check: func(f time.Time) error { return Windows{HearingWorkingDays: 3}.CheckHearing(cal, day("2025-06-09"), f) },
			filed: at("2025-06-13 10:00"),
			late:  true,
			zh:    "听证申请期限已于2025年6月12日届满（自收到告知书之日起3个工作日），视为放弃听证权利",
			en:    "the hearing-request window closed at the end of 12 June 2025 (3 working days from receipt); the right to a hearing is deemed waived",
		},
		{
			name:  "R-NOT-1 configured 1 WD: singular in English",
			check: func(f time.Time) error { return CheckFiling(cal, received, f, 1) },
			filed: at("2026-10-01 09:00"),
			late:  true,
			zh:    "期限已于2026年9月30日届满（自收到告知书之日起1个工作日）",
			en:    "the window closed at the end of 30 September 2026 (1 working day from receipt)",
		},
		{
			name:  "R-NOT-1 a filing before receipt is not late",
			check: func(f time.Time) error { return CheckFiling(cal, received, f, 3) },
			filed: at("2026-09-28 09:00"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check(tc.filed)
			if !tc.late {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			var le *LateError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want *LateError", err)
			}
			if !le.Filed.Equal(tc.filed) || le.Deadline.Hour() != 23 {
				t.Errorf("LateError = %+v", le)
			}
			if got := le.Message("zh-CN"); got != tc.zh {
				t.Errorf("zh = %q\nwant %q", got, tc.zh)
			}
			if got := le.Message("en"); got != tc.en {
				t.Errorf("en = %q\nwant %q", got, tc.en)
			}
			if got, want := le.Error(), tc.zh+" / "+tc.en; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
			if le.Code() != "rules.window.closed" {
				t.Errorf("code %q", le.Code())
			}
		})
	}
}

func TestCheckFilingInvalid(t *testing.T) {
	for _, tc := range []struct {
		name     string
		received time.Time
		days     int
		msg      string
	}{
		{"R-NOT-1 a window of 0 working days is a configuration error", day("2026-09-29"), 0, "申请期限设置有误：期限应至少为1个工作日（当前为0） / the window is not set up correctly: at least 1 working day (got 0)"},
		{"R-NOT-1 a notice without a receipt date", time.Time{}, 3, "申请期限设置有误：告知书尚无收到日期 / the window is not set up correctly: the notice has no receipt date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckFiling(cal, tc.received, day("2026-09-30"), tc.days)
			if !errors.Is(err, ErrBadWindow) || err.Error() != tc.msg {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
		})
	}
}

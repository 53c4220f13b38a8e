package rules

import (
	"fmt"
	"testing"
	"time"
)

// testCalendar holds the official schedules of 2025 and 2026 as published by
// the General Office of the State Council:
//   - 国务院办公厅关于2025年部分节假日安排的通知 (2024-11-12)
//   - 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04), the same days
//     as host/clock/calendars/2026.yaml.
//
// At run time the host's calendar is the authority; this table only makes the
// tests independent of it. Other years panic, so no test silently counts on
// a weekends-only guess.
type testCalendar struct{}

var (
	holidays = dates(
		// 2025
		"2025-01-01",                                           // 元旦
		"2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", // 春节 1月28日至2月4日
		"2025-02-01", "2025-02-02", "2025-02-03", "2025-02-04",
		"2025-04-04", "2025-04-05", "2025-04-06", // 清明节
		"2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04", "2025-05-05", // 劳动节
		"2025-05-31", "2025-06-01", "2025-06-02", // 端午节
		"2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04", // 国庆节、中秋节 10月1日至8日
		"2025-10-05", "2025-10-06", "2025-10-07", "2025-10-08",
		// 2026
		"2026-01-01", "2026-01-02", "2026-01-03", // 元旦
		"2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", // 春节 2月15日至23日
		"2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
		"2026-04-04", "2026-04-05", "2026-04-06", // 清明节
		"2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05", // 劳动节
		"2026-06-19", "2026-06-20", "2026-06-21", // 端午节
		"2026-09-25", "2026-09-26", "2026-09-27", // 中秋节
		"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", // 国庆节 10月1日至7日
		"2026-10-05", "2026-10-06", "2026-10-07",
	)
	makeUpWorkdays = dates(
		"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
		"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
	)
)

func dates(ds ...string) map[string]bool {
	m := map[string]bool{}
	for _, s := range ds {
		m[s] = true
	}
	return m
}

func (testCalendar) IsWorkingDay(t time.Time) bool {
	t = t.In(CST)
	if y := t.Year(); y != 2025 && y != 2026 {
		panic(fmt.Sprintf("test calendar: no schedule for %d (%s)", y, t.Format(time.DateOnly)))
	}
	k := t.Format(time.DateOnly)
	switch {
	case makeUpWorkdays[k]:
		return true
	case holidays[k]:
		return false
	}
	return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday
}

var cal testCalendar

// day is 00:00 CST of a "2006-01-02" date; end is its end; at parses
// "2006-01-02 15:04" in CST.
func day(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, CST)
	if err != nil {
		panic(err)
	}
	return t
}

func end(s string) time.Time { return EndOfDay(day(s)) }

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, CST)
	if err != nil {
		panic(err)
	}
	return t
}

func same(t *testing.T, name string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", name, got.Format("2006-01-02 15:04:05.000 MST"), want.Format("2006-01-02 15:04:05.000 MST"))
	}
}

func TestTestCalendarMatchesTheSchedule(t *testing.T) {
	for _, tc := range []struct {
		day  string
		want bool
	}{
		{"2026-10-10", true},  // Saturday, make-up working day
		{"2026-09-20", true},  // Sunday, make-up working day
		{"2026-02-14", true},  // Saturday, make-up working day
		{"2026-10-08", true},  // Thursday after the National Day holiday
		{"2026-10-07", false}, // National Day holiday
		{"2026-09-25", false}, // 中秋
		{"2026-02-23", false}, // last day of 春节
		{"2026-10-11", false}, // ordinary Sunday
		{"2025-09-28", true},
		{"2025-10-08", false},
	} {
		if got := cal.IsWorkingDay(day(tc.day)); got != tc.want {
			t.Errorf("%s working = %v, want %v", tc.day, got, tc.want)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	for _, tc := range []struct {
		name string
		from time.Time
		n    int
		want string
	}{
		{"R-NOT-1 3 WD from Tue 2026-09-29 span National Day (10-01..07): 09-30, 10-08, 10-09", day("2026-09-29"), 3, "2026-10-09"},
		{"R-NOT-1 3 WD from 2026-09-30 end on the make-up Saturday 2026-10-10", day("2026-09-30"), 3, "2026-10-10"},
		{"R-NOT-1 3 WD from 2026-10-08: 10-09, 10-10 (make-up), 10-12", day("2026-10-08"), 3, "2026-10-12"},
		{"convention: the time of day and the zone of from do not matter", time.Date(2026, 9, 28, 17, 0, 0, 0, time.UTC), 3, "2026-10-09"},
		{"convention: from a holiday, the next working day is the first", day("2026-10-03"), 1, "2026-10-08"},
		{"春节 3 WD from Fri 2026-02-13: 02-14 (make-up), 02-24, 02-25", day("2026-02-13"), 3, "2026-02-25"},
		{"元旦 across the year: 1 WD from 2025-12-31 is the make-up Sunday 2026-01-04", day("2025-12-31"), 1, "2026-01-04"},
		{"中秋 1 WD from Thu 2026-09-24 is Mon 09-28", day("2026-09-24"), 1, "2026-09-28"},
		{"make-up Sunday 2026-09-20 counts: 1 WD from Sat 09-19", day("2026-09-19"), 1, "2026-09-20"},
		{"R-DL-2 S4(a) 15 WD from 2025-04-28 (劳动节 05-01..05)", day("2025-04-28"), 15, "2025-05-22"},
		{"n = 0 is the end of from's day", at("2026-10-09 10:00"), 0, "2026-10-09"},
		{"n < 0 counts back: 3 WD before 2026-10-12", day("2026-10-12"), -3, "2026-10-08"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same(t, "AddWorkingDays", AddWorkingDays(cal, tc.from, tc.n), end(tc.want))
		})
	}
}

func TestDeadlineIsEndOfDayInCST(t *testing.T) {
	got := AddWorkingDays(cal, day("2026-09-29"), 3)
	if got.Location() != CST || got.Hour() != 23 || got.Minute() != 59 || got.Second() != 59 || got.Nanosecond() != 999_000_000 {
		t.Fatalf("deadline %v, want 2026-10-09 23:59:59.999 CST", got)
	}
}

type noWorkingDays struct{}

func (noWorkingDays) IsWorkingDay(time.Time) bool { return false }

func TestAddWorkingDaysRefusesABrokenCalendar(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a calendar without working days")
		}
	}()
	AddWorkingDays(noWorkingDays{}, day("2026-01-01"), 1)
}

func TestAddNaturalDays(t *testing.T) {
	for _, tc := range []struct {
		name string
		from string
		n    int
		want string
	}{
		{"R-DL-1 S4(b) 90 days from 2025-03-03 end on Sunday 2025-06-01, not moved off the holiday", "2025-03-03", 90, "2025-06-01"},
		{"R-DEL-7 30 days from 2025-07-01", "2025-07-01", 30, "2025-07-31"},
		{"across National Day: rest days count", "2026-09-29", 3, "2026-10-02"},
		{"n = 0", "2026-09-29", 0, "2026-09-29"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same(t, "AddNaturalDays", AddNaturalDays(day(tc.from), tc.n), end(tc.want))
		})
	}
}

func TestAddMonths(t *testing.T) {
	for _, tc := range []struct {
		name string
		from string
		n    int
		want string
	}{
		{"民法典 202: the corresponding day", "2025-12-20", 6, "2026-06-20"},
		{"民法典 202: no corresponding day gives the month's last", "2026-08-31", 6, "2027-02-28"},
		{"民法典 202: 31 Jan plus 1 month", "2026-01-31", 1, "2026-02-28"},
		{"across a year", "2026-11-30", 3, "2027-02-28"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same(t, "AddMonths", AddMonths(day(tc.from), tc.n), end(tc.want))
		})
	}
}

func TestRollForward(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"民法典 203: a deadline on a holiday moves to the next working day", "2026-10-03", "2026-10-08"},
		{"民法典 203: 端午 2025-06-01 moves to 06-03", "2025-06-01", "2025-06-03"},
		{"a working day stays", "2026-10-09", "2026-10-09"},
		{"a make-up Saturday is a working day", "2026-10-10", "2026-10-10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same(t, "RollForward", RollForward(cal, day(tc.in)), end(tc.want))
		})
	}
}

func TestExpiredJudgesByDay(t *testing.T) {
	deadline := end("2026-10-09")
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{at("2026-10-09 00:00"), false},
		{deadline.Add(900 * time.Microsecond), false}, // 23:59:59.9999, still the deadline's day
		{day("2026-10-10"), true},
		{time.Date(2026, 10, 9, 16, 30, 0, 0, time.UTC), true}, // 2026-10-10 00:30 CST
		{time.Date(2026, 10, 9, 15, 59, 0, 0, time.UTC), false},
	} {
		if got := Expired(deadline, tc.at); got != tc.want {
			t.Errorf("Expired(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestCalendarFunc(t *testing.T) {
	// Everything but Sundays works: from Sat 2026-10-03, 2 WD are Mon and Tue.
	notSunday := CalendarFunc(func(d time.Time) bool { return d.In(CST).Weekday() != time.Sunday })
	same(t, "CalendarFunc", AddWorkingDays(notSunday, day("2026-10-03"), 2), end("2026-10-06"))
}

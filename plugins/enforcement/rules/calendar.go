package rules

import (
	"fmt"
	"time"
)

// CST is China Standard Time, the zone every date in this package is in.
// China has observed no daylight saving since 1991, so a fixed zone is exact
// and needs no zoneinfo on the machine.
var CST = time.FixedZone("CST", 8*3600)

// Calendar says which days are working days: weekdays that are not public
// holidays, plus the make-up working days (调休上班) of the State Council's
// yearly schedule. The plugin backs it with the host's holiday calendar, the
// authority at run time. IsWorkingDay is asked about a day (any time on it,
// in CST), often many times per computation, so the adapter should answer
// from memory: the host's Clocks service has no per-day query, but
// ComputeDeadline(start = the day, "working_days", 1, "same_day") is due on
// that very day exactly when it is a working day, so the plugin can fetch a
// year's days once and keep them. An implementation that does not know a
// year must not guess: the host refuses such dates, and the adapter should
// refuse the request before calling into this package.
type Calendar interface {
	IsWorkingDay(d time.Time) bool
}

// CalendarFunc adapts a function to Calendar.
type CalendarFunc func(d time.Time) bool

// IsWorkingDay calls f(d).
func (f CalendarFunc) IsWorkingDay(d time.Time) bool { return f(d) }

// maxScan bounds every day-by-day search: a calendar with no working day in
// this many consecutive days is broken, and searching on would never end.
const maxScan = 366 * 20

// StartOfDay is 00:00 CST of t's day.
func StartOfDay(t time.Time) time.Time {
	t = t.In(CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, CST)
}

// EndOfDay is 23:59:59.999 CST of t's day: the instant a deadline on that day
// is given as.
func EndOfDay(t time.Time) time.Time {
	t = t.In(CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 23, 59, 59, 999_000_000, CST)
}

// Expired reports whether at falls on a day after deadline's day: an act on
// the deadline's day, at any time, is in time.
func Expired(deadline, at time.Time) bool {
	return !at.Before(StartOfDay(deadline).AddDate(0, 0, 1))
}

// AddNaturalDays is the end of the nth day after from's day ("自…之日起N日"),
// the day of from not counted: from 2025-03-03, 90 days ends at the end of
// 2025-06-01. Rest days count and the end is not moved off them (see
// RollForward). n may be zero (the end of from's day) or negative.
func AddNaturalDays(from time.Time, n int) time.Time {
	return EndOfDay(StartOfDay(from).AddDate(0, 0, n))
}

// AddWorkingDays is the end of the nth working day after from's day
// ("自…之日起N个工作日内"), the day of from not counted even when it is a
// working day (民法典 第二百零一条). Received on Tuesday 2026-09-29, three
// working days end at the end of Friday 2026-10-09: 09-30, then the National
// Day holiday 10-01..07, then 10-08 and 10-09. For n < 0 it is the end of the
// |n|th working day before from's day; n == 0 gives the end of from's day.
// It panics if the calendar has no working day in twenty years.
func AddWorkingDays(cal Calendar, from time.Time, n int) time.Time {
	d := StartOfDay(from)
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for scanned := 0; n > 0; scanned++ {
		if scanned > maxScan {
			panic(fmt.Sprintf("rules: the calendar has no working day for twenty years from %s", from.Format(time.DateOnly)))
		}
		d = d.AddDate(0, 0, step)
		if cal.IsWorkingDay(d) {
			n--
		}
	}
	return EndOfDay(d)
}

// AddMonths is the end of the day n months after from's day:
// "到期月的对应日为期间的最后一日；没有对应日的，月末日为期间的最后一日" (民法典 第二百零二条).
// 2026-08-31 plus 6 months ends at the end of 2027-02-28.
func AddMonths(from time.Time, n int) time.Time {
	d := StartOfDay(from)
	first := time.Date(d.Year(), d.Month()+time.Month(n), 1, 0, 0, 0, 0, CST)
	last := first.AddDate(0, 1, -1).Day()
	return EndOfDay(time.Date(first.Year(), first.Month(), min(d.Day(), last), 0, 0, 0, 0, CST))
}

// RollForward applies 民法典 第二百零三条 to a deadline:
// "期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日".
// If deadline's day is not a working day, the result is the end of the next
// working day; otherwise the end of deadline's day.
func RollForward(cal Calendar, deadline time.Time) time.Time {
	d := StartOfDay(deadline)
	if cal.IsWorkingDay(d) {
		return EndOfDay(d)
	}
	return AddWorkingDays(cal, d, 1)
}

// daysBetween is the number of calendar days from a's day to b's day
// (negative if b's day is earlier).
func daysBetween(a, b time.Time) int {
	return int(StartOfDay(b).Sub(StartOfDay(a)) / (24 * time.Hour))
}

// zhDate and enDate write a day as documents do: 2026年10月9日, 9 October 2026.
func zhDate(t time.Time) string {
	t = t.In(CST)
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

func enDate(t time.Time) string { return t.In(CST).Format("2 January 2006") }

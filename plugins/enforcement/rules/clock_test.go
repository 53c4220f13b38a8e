package rules

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// workingDaysIn counts the working days among the days [from, to): the
// brief's statement of how a pause moves a working-day clock, computed
// independently of Clock.
func workingDaysIn(from, to time.Time) int {
	n := 0
	for d := StartOfDay(from); d.Before(StartOfDay(to)); d = d.AddDate(0, 0, 1) {
		if cal.IsWorkingDay(d) {
			n++
		}
	}
	return n
}

func TestClockDue(t *testing.T) {
	ext := func(days int, approved string) Extension { return Extension{Days: days, ApprovedAt: at(approved)} }
	pause := func(from, to string) Pause { return Pause{From: day(from), To: day(to), Reason: "检测"} }
	with := func(c Clock, ps []Pause, es ...Extension) Clock { c.Pauses, c.Extensions = ps, es; return c }
	for _, tc := range []struct {
		name string
		c    Clock
		want string
	}{
		{"R-DL-2 S4(a) lead discovered 2025-04-28: 15 WD to 2025-05-22", LeadClock(at("2025-04-28 10:00")), "2025-05-22"},
		{"R-DL-2 S4(a) with the 15 WD extension: 2025-06-13 (端午 05-31..06-02)",
			with(LeadClock(day("2025-04-28")), nil, ext(LeadExtensionWorkingDays, "2025-05-20 10:00")), "2025-06-13"},
		{"R-DL-1 S4(b) case filed 2025-03-03: 90 days to 2025-06-01", CaseClock(day("2025-03-03")), "2025-06-01"},
		{"R-DL-3 S4(b) 检测 from 2025-03-10, resumed 2025-03-24 (14 days): 2025-06-15",
			with(CaseClock(day("2025-03-03")), []Pause{pause("2025-03-10", "2025-03-24")}), "2025-06-15"},
		{"R-DL-5 two pauses (10 + 3 days) and a 30-day extension: 90+30+13 days from 2026-01-05",
			with(CaseClock(day("2026-01-05")), []Pause{pause("2026-01-10", "2026-01-20"), pause("2026-02-01", "2026-02-04")}, ext(30, "2026-03-01 09:00")), "2026-05-18"},
		{"R-DL-5 two extensions and a pause on a natural clock",
			with(CaseClock(day("2026-01-05")), []Pause{pause("2026-02-01", "2026-02-11")}, ext(30, "2026-03-01 09:00"), ext(15, "2026-04-20 09:00")), "2026-05-30"},
		{"R-DL-2 lead from Mon 2026-09-21: 15 WD across 中秋 and National Day to 2026-10-19", LeadClock(day("2026-09-21")), "2026-10-19"},
		{"R-DL-3 working-day clock: a pause over National Day moves it by the 3 working days inside (09-29, 09-30, 10-08)",
			with(LeadClock(day("2026-09-21")), []Pause{pause("2026-09-29", "2026-10-09")}), "2026-10-22"},
		{"R-DL-3 a pause from the start day leaves out only the days that would have counted (03-02..03-04)",
			with(CaseClock(day("2026-03-01")), []Pause{pause("2026-03-01", "2026-03-05")}), "2026-06-02"},
		{"R-DL-3 a pause beginning on the due day moves it by its length",
			with(CaseClock(day("2026-01-05")), []Pause{pause("2026-04-05", "2026-04-08")}), "2026-04-08"},
		{"R-DL-3 a pause beginning after the due day does not move it",
			with(CaseClock(day("2026-01-05")), []Pause{pause("2026-04-10", "2026-04-20")}), "2026-04-05"},
		{"R-DL-3 an open pause after the due day does not unfix it",
			with(CaseClock(day("2026-01-05")), []Pause{{From: day("2026-04-10")}}), "2026-04-05"},
		{"R-DL-3 a same-day pause and resume excludes nothing",
			with(CaseClock(day("2026-01-05")), []Pause{{From: at("2026-02-02 09:00"), To: at("2026-02-02 17:00")}}), "2026-04-05"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.c.Due(cal)
			if !ok {
				t.Fatal("due not fixed")
			}
			same(t, "Due", got, end(tc.want))
			if err := tc.c.Validate(cal); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestClockPauseMovesWorkingClockByWorkingDaysInside(t *testing.T) {
	// R-DL-3 stated as the brief puts it: the due date moves by the working
	// days inside the pause, for pauses anywhere before the due day.
	base := LeadClock(day("2026-09-14"))
	due0, _ := base.Due(cal)
	for _, p := range [][2]string{
		{"2026-09-15", "2026-09-16"}, {"2026-09-18", "2026-09-21"}, {"2026-09-24", "2026-10-08"},
		{"2026-09-30", "2026-10-12"}, {"2026-10-01", "2026-10-02"}, {"2026-09-19", "2026-09-21"},
	} {
		c := base
		c.Pauses = []Pause{{From: day(p[0]), To: day(p[1])}}
		got, _ := c.Due(cal)
		want := AddWorkingDays(cal, due0, workingDaysIn(day(p[0]), day(p[1])))
		same(t, "R-DL-3 pause "+p[0]+"…"+p[1], got, want)
	}
}

func TestClockOpenPause(t *testing.T) {
	c := CaseClock(day("2026-01-05")) // due 2026-04-05 unpaused
	c.Pauses = []Pause{{From: at("2026-01-15 14:00"), Reason: "鉴定"}}

	if due, ok := c.Due(cal); ok || !due.IsZero() {
		t.Errorf("R-DL-4 open pause: Due = %v, %v; want unfixed", due, ok)
	}
	// Paused on 01-15..01-30, resuming 01-31: 16 days later than 04-05.
	same(t, "R-DL-4 ProjectedDue", c.ProjectedDue(cal, at("2026-01-30 10:00")), end("2026-04-21"))
	for _, tc := range []struct {
		now       time.Time
		state     State
		remaining int
	}{
		{at("2026-01-14 12:00"), StateRunning, 81}, // 01-06..01-14 used
		{at("2026-01-15 08:00"), StatePaused, 81},  // the pause's first day does not count
		{at("2026-03-30 08:00"), StatePaused, 81},  // frozen
	} {
		if got := c.Status(cal, tc.now); got != tc.state {
			t.Errorf("R-DL-4 Status(%s) = %s, want %s", tc.now, got, tc.state)
		}
		if got := c.Remaining(cal, tc.now); got != tc.remaining {
			t.Errorf("R-DL-4 Remaining(%s) = %d, want %d", tc.now, got, tc.remaining)
		}
	}

	c.Pauses[0].To = at("2026-01-31 09:00") // 恢复 approved
	due, ok := c.Due(cal)
	if !ok {
		t.Fatal("resumed clock unfixed")
	}
	same(t, "R-DL-4 Due after resume", due, end("2026-04-21"))
	same(t, "ProjectedDue of a fixed clock is Due", c.ProjectedDue(cal, day("2026-02-10")), due)
	if got := c.Status(cal, at("2026-01-31 10:00")); got != StateRunning {
		t.Errorf("Status after resume = %s", got)
	}
	if got := c.Remaining(cal, at("2026-01-31 10:00")); got != 80 {
		t.Errorf("Remaining on the resume day = %d, want 80", got)
	}
}

func TestClockStatusAndRemaining(t *testing.T) {
	lead := LeadClock(day("2026-09-21")) // due Mon 2026-10-19
	friday := LeadClock(day("2026-03-06"))
	for _, tc := range []struct {
		name      string
		c         Clock
		now       time.Time
		state     State
		remaining int
	}{
		{"R-DL-5 before the start the clock is running with its whole limit", lead, at("2026-09-20 10:00"), StateRunning, 15},
		{"R-DL-5 the start day is not used", lead, at("2026-09-21 18:00"), StateRunning, 15},
		{"R-DL-5 5 WD used by 2026-09-29 (09-22, 23, 24, 28, 29)", lead, at("2026-09-29 12:00"), StateRunning, 10},
		{"R-DL-5 holidays use nothing: 6 WD used by 2026-10-05 (09-30 the last)", lead, at("2026-10-05 12:00"), StateRunning, 9},
		{"R-DL-5 the due day itself: running, 0 left", lead, at("2026-10-19 23:59"), StateRunning, 0},
		{"R-DL-5 the day after: overdue by one working day", lead, at("2026-10-20 00:00"), StateOverdue, -1},
		{"R-DL-5 due Fri 2026-03-27, Saturday after: overdue though no working day has passed", friday, at("2026-03-28 09:00"), StateOverdue, 0},
		{"R-DL-5 a natural clock far past due", CaseClock(day("2026-01-05")), at("2026-04-15 09:00"), StateOverdue, -10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Status(cal, tc.now); got != tc.state {
				t.Errorf("Status = %s, want %s", got, tc.state)
			}
			if got := tc.c.Remaining(cal, tc.now); got != tc.remaining {
				t.Errorf("Remaining = %d, want %d", got, tc.remaining)
			}
		})
	}
	if due, _ := friday.Due(cal); !due.Equal(end("2026-03-27")) {
		t.Fatalf("fixture: due %v", due)
	}
}

func TestClockOverdueDuringALatePause(t *testing.T) {
	// R-DL-3: a pause that begins after expiry does not pause an overdue clock.
	c := CaseClock(day("2026-01-05"))
	c.Pauses = []Pause{{From: day("2026-04-10"), To: day("2026-04-20")}}
	if got := c.Status(cal, at("2026-04-15 10:00")); got != StateOverdue {
		t.Fatalf("Status = %s, want overdue", got)
	}
}

type panicCalendar struct{}

func (panicCalendar) IsWorkingDay(time.Time) bool { panic("a natural-day clock asked the calendar") }

func TestNaturalClockDoesNotNeedTheCalendar(t *testing.T) {
	c := CaseClock(day("2030-01-05")) // a year no calendar knows yet
	c.Pauses = []Pause{{From: day("2030-02-01"), To: day("2030-02-11")}}
	due, _ := c.Due(panicCalendar{})
	same(t, "R-DL-1 Due", due, end("2030-04-15"))
	if got := c.Status(panicCalendar{}, day("2030-03-01")); got != StateRunning {
		t.Errorf("Status = %s", got)
	}
}

func TestClockValidate(t *testing.T) {
	lead := LeadClock(day("2025-04-28")) // due 2025-05-22
	mod := func(c Clock, f func(*Clock)) Clock {
		c.Pauses = append([]Pause(nil), c.Pauses...)
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name string
		c    Clock
		msg  string // "" for valid
	}{
		{"R-DL-2 an extension approved on the due day is in time", mod(lead, func(c *Clock) {
			c.Extensions = []Extension{{Days: 15, ApprovedAt: at("2025-05-22 17:30")}}
		}), ""},
		{"R-DL-2 an extension approved after the period ended", mod(lead, func(c *Clock) {
			c.Extensions = []Extension{{Days: 15, ApprovedAt: at("2025-05-23 09:00")}}
		}), "期限设置有误：第1次延期于期限届满（2025年5月22日）后才批准 / invalid clock: extension 1 was approved after the period ended (22 May 2025)"},
		{"R-DL-2 the lead clock extends once only", mod(lead, func(c *Clock) {
			c.Extensions = []Extension{{Days: 15, ApprovedAt: day("2025-05-20")}, {Days: 15, ApprovedAt: day("2025-06-10")}}
		}), "期限设置有误：最多可延期1次 / invalid clock: at most 1 extension(s)"},
		{"R-DL-4 a second extension approved while the first period runs", mod(CaseClock(day("2026-01-05")), func(c *Clock) {
			c.Extensions = []Extension{{Days: 30, ApprovedAt: day("2026-04-01")}, {Days: 30, ApprovedAt: day("2026-05-05")}}
		}), ""},
		{"R-DL-4 a second extension approved after the first extended period", mod(CaseClock(day("2026-01-05")), func(c *Clock) {
			c.Extensions = []Extension{{Days: 30, ApprovedAt: day("2026-04-01")}, {Days: 30, ApprovedAt: day("2026-05-06")}}
		}), "extension 2 was approved after the period ended (5 May 2026)"},
		{"R-DL-4 an extension approved while paused past the original due day", mod(CaseClock(day("2026-01-05")), func(c *Clock) {
			c.Pauses = []Pause{{From: day("2026-03-01"), To: day("2026-04-20")}}
			c.Extensions = []Extension{{Days: 30, ApprovedAt: day("2026-04-10")}}
		}), ""},
		{"R-DL-4 an extension of 0 days", mod(lead, func(c *Clock) { c.Extensions = []Extension{{ApprovedAt: day("2025-05-20")}} }),
			"extension 1 must be at least 1 day"},
		{"R-DL-4 an extension without approval time", mod(lead, func(c *Clock) { c.Extensions = []Extension{{Days: 15}} }),
			"第1次延期缺少批准时间"},
		{"R-DL-5 pauses in order, the last open", mod(lead, func(c *Clock) {
			c.Pauses = []Pause{{From: day("2025-05-06"), To: day("2025-05-08")}, {From: day("2025-05-08")}}
		}), ""},
		{"R-DL-4 a pause still open followed by another", mod(lead, func(c *Clock) {
			c.Pauses = []Pause{{From: day("2025-05-06")}, {From: day("2025-05-08"), To: day("2025-05-09")}}
		}), "第1次暂停尚未恢复，不能再次暂停"},
		{"R-DL-5 overlapping pauses", mod(lead, func(c *Clock) {
			c.Pauses = []Pause{{From: day("2025-05-06"), To: day("2025-05-12")}, {From: day("2025-05-08"), To: day("2025-05-14")}}
		}), "pause 2 overlaps or precedes the one before it"},
		{"R-DL-4 a pause resumed before it began", mod(lead, func(c *Clock) {
			c.Pauses = []Pause{{From: day("2025-05-06"), To: day("2025-05-05")}}
		}), "第1次暂停的恢复时间早于暂停时间"},
		{"R-DL-4 a pause before the clock starts", mod(lead, func(c *Clock) {
			c.Pauses = []Pause{{From: day("2025-04-20"), To: day("2025-05-05")}}
		}), "pause 1 begins before the clock starts"},
		{"R-DL-4 a pause without a start", mod(lead, func(c *Clock) { c.Pauses = []Pause{{To: day("2025-05-05")}} }),
			"第1次暂停缺少开始时间"},
		{"R-DL-1 a clock without a start", Clock{Unit: NaturalDays, Limit: 90}, "缺少起算时间"},
		{"R-DL-1 a clock without a unit", Clock{Start: day("2026-01-05"), Limit: 90}, "the unit must be natural or working days"},
		{"R-DL-1 a clock with no limit", Clock{Start: day("2026-01-05"), Unit: WorkingDays}, "期限应至少为1日"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate(cal)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrClock) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Validate = %v, want %q", err, tc.msg)
			}
		})
	}
}

func TestClockTotal(t *testing.T) {
	c := LeadClock(day("2026-01-05"))
	c.Extensions = []Extension{{Days: 15}}
	if c.Total() != 30 || c.Unit != WorkingDays || c.MaxExtensions != 1 {
		t.Fatalf("lead clock %+v total %d", c, c.Total())
	}
}

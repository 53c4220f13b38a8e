package rules

import (
	"fmt"
	"time"
)

// Default limits of the case clocks (R-DL-1, R-DL-2). They are configuration
// (modules 1251, 1330): a Clock takes its limit as a value.
const (
	// LeadWorkingDays: "自发现线索或者收到材料之日起十五个工作日内予以核查".
	LeadWorkingDays = 15
	// LeadExtensionWorkingDays:
	// "经市场监督管理部门负责人批准，可以延长十五个工作日" — once.
	LeadExtensionWorkingDays = 15
	// CaseNaturalDays: "案件办理时限：90个自然日，可延期，可暂停恢复".
	CaseNaturalDays = 90
)

// Unit is what a clock counts.
type Unit string

// Units.
const (
	NaturalDays Unit = "natural_days"
	WorkingDays Unit = "working_days"
)

// Pause is a span during which a clock does not run: an approved 暂停
// (R-DL-4) or time excluded by law —
// "检测、检验、检疫、鉴定以及权利人辨认或者鉴别等所需时间，不计入规定期限"
// (R-DL-3). It covers the days [From, To):
// from the day it began up to, not including, the day the clock resumed. A
// zero To means the clock is still paused.
type Pause struct {
	From   time.Time
	To     time.Time
	Reason string
}

// Extension adds Days, in the clock's unit, to its limit (延期, 继续延长;
// R-DL-2, R-DL-4). It must be approved before the period it extends runs out.
type Extension struct {
	Days       int
	ApprovedAt time.Time
	Reason     string
}

// State of a clock at a moment.
type State string

// States.
const (
	StateRunning State = "running"
	StatePaused  State = "paused"
	StateOverdue State = "overdue"
)

// Clock is a case or lead clock (R-DL-1 … R-DL-5). It counts Limit days of
// its Unit plus its extensions, starting the day after Start (民法典
// 第二百零一条), leaving out every day inside a pause; the due time is the
// end of the day the count is reached. So a pause moves the due date by the days
// it covers that would have counted — natural days on a natural-day clock,
// the working days among them on a working-day clock — and a pause that
// begins after the due day does not move it. Any number of pauses and
// extensions may be combined (R-DL-5).
//
// Examples (acceptance scenario S4, 2025 calendar): a lead discovered on
// 2025-04-28 is due 2025-05-22, or 2025-06-13 with a 15-working-day
// extension; a case filed on 2025-03-03 is due 2025-06-01, or 2025-06-15 with
// a 检测 pause from 2025-03-10 resumed on 2025-03-24 (14 days).
//
// A Clock is a value: the plugin stores its fields and appends pauses and
// extensions as their approvals complete. Validate checks one before it is
// stored; the other methods do not fail on an invalid clock (overlapping
// pauses simply overlap).
type Clock struct {
	Start time.Time
	Unit  Unit
	Limit int
	// MaxExtensions limits the number of extensions; 0 means no limit.
	MaxExtensions int
	Pauses        []Pause
	Extensions    []Extension
}

// LeadClock is the 15-working-day lead-check clock, extendable once (R-DL-2).
func LeadClock(discoveredAt time.Time) Clock {
	return Clock{Start: discoveredAt, Unit: WorkingDays, Limit: LeadWorkingDays, MaxExtensions: 1}
}

// CaseClock is the 90-natural-day case clock, started on filing (R-DL-1).
func CaseClock(filedAt time.Time) Clock {
	return Clock{Start: filedAt, Unit: NaturalDays, Limit: CaseNaturalDays}
}

// Total is the limit plus all extensions, in the clock's unit.
func (c Clock) Total() int {
	n := c.Limit
	for _, e := range c.Extensions {
		n += e.Days
	}
	return n
}

// Due is the end of the clock's last day. ok is false (and due zero) while a
// pause that began on or before that day has not been resumed: the due date
// is not fixed until it is (see ProjectedDue).
func (c Clock) Due(cal Calendar) (due time.Time, ok bool) {
	return c.due(cal, time.Time{})
}

// ProjectedDue is Due, except that a pause still open is taken to end with
// now's day (the clock resuming the next day): the due date to show while a
// clock is paused.
func (c Clock) ProjectedDue(cal Calendar, now time.Time) time.Time {
	d, _ := c.due(cal, StartOfDay(now).AddDate(0, 0, 1))
	return d
}

// Remaining is the number of days of the clock's unit still to run after
// now's day: the total minus the counting days from the day after Start up
// to and including now's day, paused days not counting. It is frozen while
// the clock is paused and negative once more days have run than allowed.
// 0 means no counting day is left: the clock ends today, or has ended on an
// earlier day (Status tells which).
func (c Clock) Remaining(cal Calendar, now time.Time) int {
	used := 0
	today := StartOfDay(now)
	for d := StartOfDay(c.Start).AddDate(0, 0, 1); !d.After(today); d = d.AddDate(0, 0, 1) {
		if c.counts(cal, d, time.Time{}) {
			used++
		}
	}
	return c.Total() - used
}

// Status is the clock's state at now: overdue once now is on a day after the
// due day; paused while now's day is inside a pause; running otherwise (also
// before Start).
func (c Clock) Status(cal Calendar, now time.Time) State {
	if due, ok := c.Due(cal); ok && Expired(due, now) {
		return StateOverdue
	}
	if _, paused := c.pausedOn(StartOfDay(now), time.Time{}); paused {
		return StatePaused
	}
	return StateRunning
}

// ErrClock: a clock or its change is invalid.
var ErrClock = &Error{Code: "rules.clock.invalid", ZH: "期限设置有误", EN: "invalid clock"}

// Validate checks a clock before it is stored: a start, a unit, a limit of at
// least one day; pauses in order, not overlapping, not before the start, each
// ending after it began, only the last still open; extensions of at least one
// day, no more than MaxExtensions, each approved while the period it extends
// was still running (R-DL-4).
func (c Clock) Validate(cal Calendar) error {
	switch {
	case c.Start.IsZero():
		return ErrClock.with("缺少起算时间", "no start")
	case c.Unit != NaturalDays && c.Unit != WorkingDays:
		return ErrClock.with("计算单位应为自然日或工作日", "the unit must be natural or working days")
	case c.Limit < 1:
		return ErrClock.with("期限应至少为1日", "the limit must be at least 1 day")
	}
	for i, p := range c.Pauses {
		switch {
		case p.From.IsZero():
			return ErrClock.with(fmt.Sprintf("第%d次暂停缺少开始时间", i+1), fmt.Sprintf("pause %d has no start", i+1))
		case StartOfDay(p.From).Before(StartOfDay(c.Start)):
			return ErrClock.with(fmt.Sprintf("第%d次暂停早于期限起算", i+1), fmt.Sprintf("pause %d begins before the clock starts", i+1))
		case p.To.IsZero() && i != len(c.Pauses)-1:
			return ErrClock.with(fmt.Sprintf("第%d次暂停尚未恢复，不能再次暂停", i+1), fmt.Sprintf("pause %d is still open; only the last pause may be", i+1))
		case !p.To.IsZero() && p.To.Before(p.From):
			return ErrClock.with(fmt.Sprintf("第%d次暂停的恢复时间早于暂停时间", i+1), fmt.Sprintf("pause %d ends before it begins", i+1))
		case i > 0 && p.From.Before(c.Pauses[i-1].To):
			return ErrClock.with(fmt.Sprintf("第%d次暂停与上一次暂停重叠或顺序颠倒", i+1), fmt.Sprintf("pause %d overlaps or precedes the one before it", i+1))
		}
	}
	if c.MaxExtensions > 0 && len(c.Extensions) > c.MaxExtensions {
		return ErrClock.with(fmt.Sprintf("最多可延期%d次", c.MaxExtensions), fmt.Sprintf("at most %d extension(s)", c.MaxExtensions))
	}
	for i, e := range c.Extensions {
		if e.Days < 1 {
			return ErrClock.with(fmt.Sprintf("第%d次延期应至少为1日", i+1), fmt.Sprintf("extension %d must be at least 1 day", i+1))
		}
		if e.ApprovedAt.IsZero() {
			return ErrClock.with(fmt.Sprintf("第%d次延期缺少批准时间", i+1), fmt.Sprintf("extension %d has no approval time", i+1))
		}
		before := c
		before.Extensions = c.Extensions[:i]
		if before.Status(cal, e.ApprovedAt) == StateOverdue {
			due, _ := before.Due(cal)
			return ErrClock.with(fmt.Sprintf("第%d次延期于期限届满（%s）后才批准", i+1, zhDate(due)), fmt.Sprintf("extension %d was approved after the period ended (%s)", i+1, enDate(due)))
		}
	}
	return nil
}

// due counts the clock to its end. Open pauses end at openUntil (a day
// start) when it is set; otherwise meeting one leaves the due date unfixed.
func (c Clock) due(cal Calendar, openUntil time.Time) (time.Time, bool) {
	left := c.Total()
	d := StartOfDay(c.Start)
	for scanned := 0; left > 0; scanned++ {
		if scanned > maxScan {
			panic(fmt.Sprintf("rules: a clock from %s does not end in twenty years", d.Format(time.DateOnly)))
		}
		d = d.AddDate(0, 0, 1)
		if open, paused := c.pausedOn(d, openUntil); paused && open {
			return time.Time{}, false
		}
		if c.counts(cal, d, openUntil) {
			left--
		}
	}
	return EndOfDay(d), true
}

// counts reports whether day d (a day start after Start's day) uses up one
// day of the clock.
func (c Clock) counts(cal Calendar, d, openUntil time.Time) bool {
	if _, paused := c.pausedOn(d, openUntil); paused {
		return false
	}
	return c.Unit != WorkingDays || cal.IsWorkingDay(d)
}

// pausedOn reports whether day d lies in a pause, and whether that pause is
// open (not resumed, and openUntil not set).
func (c Clock) pausedOn(d, openUntil time.Time) (open, paused bool) {
	for _, p := range c.Pauses {
		if d.Before(StartOfDay(p.From)) {
			continue
		}
		switch {
		case !p.To.IsZero():
			if d.Before(StartOfDay(p.To)) {
				return false, true
			}
		case openUntil.IsZero():
			return true, true
		case d.Before(openUntil):
			return false, true
		}
	}
	return false, false
}

// Package clock computes statutory deadlines: natural-day, working-day and
// hour limits on the calendar of weekends, public holidays and make-up
// working days (调休) published each year by the State Council. Every
// computed deadline keeps its inputs and the steps that produced it, so it can
// be explained to a party or a reviewer.
//
// Rules implemented (start rules are explicit, never implied):
//   - next_day: counting starts on the day after the triggering event (the
//     general rule for periods in days, 民法典 第二百零一条); same_day starts on it.
//   - natural days: if the last day is a rest day, the period ends on the next
//     working day (民法典 第二百零三条).
//   - working days: only working days count; the deadline is the end of the
//     last one.
//   - hours: counted from the event itself.
//
// Deadlines end at 24:00 of their last day in Asia/Shanghai.
package clock

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed calendars/*.yaml
var shipped embed.FS

// Shanghai is the time zone deadlines are computed in.
var Shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600) // no zoneinfo on the machine: China has no DST
	}
	return l
}()

// Year is one year's official schedule.
type Year struct {
	Year     int      `yaml:"year" json:"year"`
	Holidays []string `yaml:"holidays" json:"holidays"`
	Workdays []string `yaml:"workdays" json:"workdays"`
}

// Calendar knows which days are working days.
type Calendar struct {
	years    map[int]bool
	holidays map[string]bool
	workdays map[string]bool
}

// ErrNoSchedule means a day falls in a year whose schedule is not loaded: a
// working-day count across it would be a guess, so it is refused.
var ErrNoSchedule = errors.New("clock: no holiday schedule loaded for that year")

// New returns a calendar with the shipped schedules (2026 on).
func New() (*Calendar, error) {
	c := &Calendar{years: map[int]bool{}, holidays: map[string]bool{}, workdays: map[string]bool{}}
	files, _ := fs.Glob(shipped, "calendars/*.yaml")
	for _, f := range files {
		b, _ := shipped.ReadFile(f)
		var y Year
		if err := yaml.Unmarshal(b, &y); err != nil {
			return nil, fmt.Errorf("clock: %s: %w", f, err)
		}
		if err := c.Load(y); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Load adds (or replaces) one year's schedule after checking every date is a
// real date of that year and no day is both a holiday and a working day.
func (c *Calendar) Load(y Year) error {
	seen := map[string]string{}
	for kind, days := range map[string][]string{"holiday": y.Holidays, "workday": y.Workdays} {
		for _, d := range days {
			t, err := time.Parse(time.DateOnly, d)
			if err != nil || t.Year() != y.Year {
				return fmt.Errorf("clock: %d: %q is not a date of that year", y.Year, d)
			}
			if other, dup := seen[d]; dup && other != kind {
				return fmt.Errorf("clock: %d: %s is both a holiday and a working day", y.Year, d)
			}
			seen[d] = kind
		}
	}
	for d := range c.holidays {
		if d[:4] == fmt.Sprint(y.Year) {
			delete(c.holidays, d)
		}
	}
	for d := range c.workdays {
		if d[:4] == fmt.Sprint(y.Year) {
			delete(c.workdays, d)
		}
	}
	for _, d := range y.Holidays {
		c.holidays[d] = true
	}
	for _, d := range y.Workdays {
		c.workdays[d] = true
	}
	c.years[y.Year] = true
	return nil
}

// IsWorkday reports whether day (any time on it, in Shanghai) is a working day.
func (c *Calendar) IsWorkday(day time.Time) (bool, error) {
	d := day.In(Shanghai)
	if !c.years[d.Year()] {
		return false, fmt.Errorf("%w: %d", ErrNoSchedule, d.Year())
	}
	key := d.Format(time.DateOnly)
	switch {
	case c.workdays[key]:
		return true, nil
	case c.holidays[key]:
		return false, nil
	}
	return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday, nil
}

// Unit of a limit.
type Unit string

// Units.
const (
	NaturalDays Unit = "natural_days"
	WorkingDays Unit = "working_days"
	Hours       Unit = "hours"
)

// StartRule says on which day counting starts.
type StartRule string

// Start rules.
const (
	NextDay StartRule = "next_day"
	SameDay StartRule = "same_day"
)

// Limit is a statutory period.
type Limit struct {
	Unit   Unit      `json:"unit"`
	Amount int       `json:"amount"`
	Start  StartRule `json:"start_rule"`
}

// Deadline is a computed deadline with what it was computed from.
type Deadline struct {
	Event time.Time `json:"event"`
	Limit Limit     `json:"limit"`
	Due   time.Time `json:"due"`
	// Steps explain the computation in order, in Chinese and English.
	Steps []string `json:"steps"`
}

// Compute returns the deadline of limit for an event at event.
func (c *Calendar) Compute(event time.Time, l Limit) (*Deadline, error) {
	if l.Amount <= 0 || l.Amount > 3650 {
		return nil, fmt.Errorf("clock: amount %d out of range 1–3650", l.Amount)
	}
	ev := event.In(Shanghai)
	d := &Deadline{Event: ev, Limit: l}
	step := func(format string, a ...any) { d.Steps = append(d.Steps, fmt.Sprintf(format, a...)) }
	step("事件时间 event: %s", ev.Format("2006-01-02 15:04"))
	if l.Unit == Hours {
		d.Due = ev.Add(time.Duration(l.Amount) * time.Hour)
		step("按小时计算 counted in hours from the event: +%d h = %s", l.Amount, d.Due.Format("2006-01-02 15:04"))
		return d, nil
	}
	day := time.Date(ev.Year(), ev.Month(), ev.Day(), 0, 0, 0, 0, Shanghai)
	switch l.Start {
	case NextDay, "":
		day = day.AddDate(0, 0, 1)
		step("自次日起算 counting starts the next day: %s", day.Format(time.DateOnly))
	case SameDay:
		step("自当日起算 counting starts the same day: %s", day.Format(time.DateOnly))
	default:
		return nil, fmt.Errorf("clock: unknown start rule %q", l.Start)
	}
	switch l.Unit {
	case NaturalDays:
		last := day.AddDate(0, 0, l.Amount-1)
		step("%d 个自然日，期间最后一日 %d natural days, last day %s", l.Amount, l.Amount, last.Format(time.DateOnly))
		for {
			ok, err := c.IsWorkday(last)
			if err != nil {
				return nil, err
			}
			if ok {
				break
			}
			next := last.AddDate(0, 0, 1)
			step("%s 为休息日，顺延至 %s is a rest day, extended to %s", last.Format(time.DateOnly), next.Format(time.DateOnly), next.Format(time.DateOnly))
			last = next
		}
		d.Due = last.AddDate(0, 0, 1).Add(-time.Second)
	case WorkingDays:
		counted := 0
		for counted < l.Amount {
			ok, err := c.IsWorkday(day)
			if err != nil {
				return nil, err
			}
			if ok {
				counted++
				if counted == l.Amount {
					break
				}
			}
			day = day.AddDate(0, 0, 1)
		}
		step("%d 个工作日（除周末、法定节假日，含调休上班日），最后一个工作日 %d working days, the last is %s", l.Amount, l.Amount, day.Format(time.DateOnly))
		d.Due = day.AddDate(0, 0, 1).Add(-time.Second)
	default:
		return nil, fmt.Errorf("clock: unknown unit %q", l.Unit)
	}
	step("期限届满 due: %s 24:00", d.Due.Format(time.DateOnly))
	return d, nil
}

// Colour of a running clock, for inbox highlights.
type Colour string

// Colours.
const (
	Green  Colour = "green"
	Yellow Colour = "yellow"
	Orange Colour = "orange"
	Red    Colour = "red" // overdue
)

// Thresholds are the fractions of the period elapsed at which a clock turns
// yellow and orange; past the deadline it is red.
type Thresholds struct{ Yellow, Orange float64 }

// DefaultThresholds turn yellow at half the period and orange at 80%.
var DefaultThresholds = Thresholds{Yellow: 0.5, Orange: 0.8}

// Status is the colour of a deadline at now.
func Status(d *Deadline, now time.Time, th Thresholds) Colour {
	total := d.Due.Sub(d.Event)
	elapsed := now.Sub(d.Event)
	switch {
	case now.After(d.Due):
		return Red
	case total > 0 && float64(elapsed) >= th.Orange*float64(total):
		return Orange
	case total > 0 && float64(elapsed) >= th.Yellow*float64(total):
		return Yellow
	}
	return Green
}

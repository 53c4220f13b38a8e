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
//
// A Track is a running clock that keeps its pauses and extensions; Evaluate
// recomputes its deadline (Compute is Evaluate of a track with neither):
//   - extensions add their amount, in the limit's unit, to the limit. Each must
//     be approved before the period it extends has run out.
//   - pauses do not count. In day units a pause from day A resumed on day B
//     leaves out days A+1 … B: the day it began counts, counting resumes the
//     day after the resume. Natural-day tracks leave out every such day,
//     working-day tracks the working days among them. In hours the time paused
//     is added. A pause that begins after the count has reached its last day
//     does not move the deadline.
//   - an open pause (not yet resumed) leaves the deadline unfixed: it is given
//     as if the clock resumed now, and Deadline.Paused is set.
//   - the rest-day rule for natural days applies to the last day reached.
//   - colours (TrackStatus) measure the share of the period elapsed, time
//     paused not counting; a paused track keeps the colour it had when it
//     stopped, and an overdue one is red.
//
// Pauses must be in order and must not overlap; only the last may be open.
// A Calendar is safe for concurrent use: administrators may load schedules
// (Load, ParseYear) while deadlines are computed.
package clock

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"
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

// Calendar knows which days are working days. It is safe for concurrent use.
type Calendar struct {
	mu       sync.RWMutex
	years    map[int]Year
	holidays map[string]bool
	workdays map[string]bool
}

// ErrNoSchedule means a day falls in a year whose schedule is not loaded: a
// working-day count across it would be a guess, so it is refused.
var ErrNoSchedule = errors.New("clock: no holiday schedule loaded for that year")

// New returns a calendar with the shipped schedules (2026 on).
func New() (*Calendar, error) {
	c := &Calendar{}
	files, _ := fs.Glob(shipped, "calendars/*.yaml")
	for _, f := range files {
		b, _ := shipped.ReadFile(f)
		y, err := ParseYear(b)
		if err != nil {
			return nil, fmt.Errorf("%w (%s)", err, f)
		}
		if err := c.Load(y); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// IsWorkday reports whether day (any time on it, in Shanghai) is a working day.
func (c *Calendar) IsWorkday(day time.Time) (bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.isWorkday(day)
}

// isWorkday is IsWorkday for callers that hold c.mu.
func (c *Calendar) isWorkday(day time.Time) (bool, error) {
	d := day.In(Shanghai)
	if _, ok := c.years[d.Year()]; !ok {
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
	Event      time.Time   `json:"event"`
	Limit      Limit       `json:"limit"`
	Pauses     []Pause     `json:"pauses,omitempty"`
	Extensions []Extension `json:"extensions,omitempty"`
	// Paused is set while the last pause is open: Due is then where the
	// deadline would be if the clock resumed at the time of evaluation.
	Paused bool      `json:"paused,omitempty"`
	Due    time.Time `json:"due"`
	// Steps explain the computation in order, in Chinese and English.
	Steps []string `json:"steps"`
}

// Compute returns the deadline of limit for an event at event: Evaluate of a
// track with no pauses or extensions.
func (c *Calendar) Compute(event time.Time, l Limit) (*Deadline, error) {
	return c.Evaluate(Track{Event: event, Limit: l}, event)
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
type Thresholds struct {
	Yellow float64 `json:"yellow"`
	Orange float64 `json:"orange"`
}

// DefaultThresholds turn yellow at half the period and orange at 80%.
var DefaultThresholds = Thresholds{Yellow: 0.5, Orange: 0.8}

// Status is the colour of d at now, d having been evaluated at now: red past
// the due time, otherwise by the share of the period elapsed. Time spent in
// pauses does not count on either side; an open pause lasts until now, so a
// paused clock does not advance. (TrackStatus gives a paused track exactly the
// colour it had when it stopped.)
func Status(d *Deadline, now time.Time, th Thresholds) Colour {
	if now.After(d.Due) {
		return Red
	}
	total := d.Due.Sub(d.Event) - pausedBetween(d.Pauses, d.Event, d.Due, now)
	elapsed := now.Sub(d.Event) - pausedBetween(d.Pauses, d.Event, now, now)
	switch {
	case total > 0 && float64(elapsed) >= th.Orange*float64(total):
		return Orange
	case total > 0 && float64(elapsed) >= th.Yellow*float64(total):
		return Yellow
	}
	return Green
}

// pausedBetween is the time between from and to spent in pauses, an open
// pause lasting until now.
func pausedBetween(pauses []Pause, from, to, now time.Time) time.Duration {
	var sum time.Duration
	for _, p := range pauses {
		start, end := p.From, now
		if p.To != nil {
			end = *p.To
		}
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if end.After(start) {
			sum += end.Sub(start)
		}
	}
	return sum
}

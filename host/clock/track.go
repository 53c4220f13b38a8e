package clock

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Track is a running statutory clock: the event, the limit, pauses and
// extensions. It keeps every input, so its deadline can be recomputed and
// explained at any time (Calendar.Evaluate).
type Track struct {
	Event      time.Time   `json:"event"`
	Limit      Limit       `json:"limit"`
	Pauses     []Pause     `json:"pauses,omitempty"`
	Extensions []Extension `json:"extensions,omitempty"`
	Thresholds *Thresholds `json:"thresholds,omitempty"` // nil = DefaultThresholds
}

// Pause stops a clock from From until To; To nil means it is still paused.
type Pause struct {
	From   time.Time  `json:"from"`
	To     *time.Time `json:"to,omitempty"`
	Reason string     `json:"reason,omitempty"`
}

// Extension is an approved extension of the limit, Amount in the limit's unit.
type Extension struct {
	Amount   int       `json:"amount"`
	Approved time.Time `json:"approved"`
	Reason   string    `json:"reason,omitempty"`
	Ref      string    `json:"ref,omitempty"`
}

// maxAmount bounds a limit, with its extensions, and each extension.
const maxAmount = 3650

// open returns the pause that has not been resumed, or nil.
func (t *Track) open() *Pause {
	if n := len(t.Pauses); n > 0 && t.Pauses[n-1].To == nil {
		return &t.Pauses[n-1]
	}
	return nil
}

// Pause stops the clock at at. It fails if the clock is already paused, or if
// at is before the event or before the clock was last resumed.
func (t *Track) Pause(at time.Time, reason string) error {
	if p := t.open(); p != nil {
		return fmt.Errorf("clock: already paused since %s", stamp(p.From))
	}
	if at.Before(t.Event) {
		return fmt.Errorf("clock: pause at %s is before the event at %s", stamp(at), stamp(t.Event))
	}
	if n := len(t.Pauses); n > 0 && at.Before(*t.Pauses[n-1].To) {
		return fmt.Errorf("clock: pause at %s is before the last resume at %s", stamp(at), stamp(*t.Pauses[n-1].To))
	}
	t.Pauses = append(t.Pauses, Pause{From: at, Reason: reason})
	return nil
}

// Resume restarts a paused clock at at. It fails if the clock is not paused
// or at is before the pause began.
func (t *Track) Resume(at time.Time) error {
	p := t.open()
	if p == nil {
		return errors.New("clock: not paused")
	}
	if at.Before(p.From) {
		return fmt.Errorf("clock: resume at %s is before the pause began at %s", stamp(at), stamp(p.From))
	}
	p.To = &at
	return nil
}

// Extend records an approved extension; it may be granted while the clock is
// paused. It fails if the amount is outside 1–3650 or takes the limit past
// 3650, or if it was approved before the event or before the previous
// extension. Whether it came in time, before the period it extends ran out,
// needs the calendar: Evaluate refuses one that came too late, so evaluate a
// track before storing it.
func (t *Track) Extend(e Extension) error {
	n := *t
	n.Extensions = append(slices.Clip(t.Extensions), e)
	if err := n.checkExtensions(); err != nil {
		return err
	}
	t.Extensions = n.Extensions
	return nil
}

// Evaluate returns the deadline of t with the steps that explain it (rules in
// the package comment). now matters only while t is paused: the deadline is
// then given as if the clock resumed at now. Tracks that break the rules of
// Pause, Resume or Extend are refused, as is an extension approved after the
// period it extends had run out.
func (c *Calendar) Evaluate(t Track, now time.Time) (*Deadline, error) {
	if err := t.check(now); err != nil {
		return nil, err
	}
	c.mu.RLock() // one schedule for the whole computation
	defer c.mu.RUnlock()
	for i, e := range t.Extensions {
		before := t
		before.Extensions = t.Extensions[:i]
		d, err := c.evaluate(before, now)
		if err != nil {
			return nil, err
		}
		if e.Approved.After(d.Due) {
			return nil, fmt.Errorf("clock: extension %d approved %s, after the period it extends ran out (%s)", i+1, stamp(e.Approved), stamp(d.Due))
		}
	}
	return c.evaluate(t, now)
}

// TrackStatus is the colour of t at now with its thresholds: red when overdue,
// otherwise by the share of the period elapsed, time paused not counting. A
// paused track keeps the colour it had when it stopped, as it stood then (red
// if it stopped after running out).
func (c *Calendar) TrackStatus(t Track, now time.Time) (Colour, error) {
	th := DefaultThresholds
	if t.Thresholds != nil {
		th = *t.Thresholds
	}
	if th.Yellow < 0 || th.Yellow > th.Orange || th.Orange > 1 {
		return "", fmt.Errorf("clock: thresholds yellow %g, orange %g: want 0 ≤ yellow ≤ orange ≤ 1", th.Yellow, th.Orange)
	}
	if p := t.open(); p != nil && now.After(p.From) {
		now = p.From
		i := 0
		for i < len(t.Extensions) && !t.Extensions[i].Approved.After(now) {
			i++
		}
		t.Extensions = t.Extensions[:i]
	}
	d, err := c.Evaluate(t, now)
	if err != nil {
		return "", err
	}
	return Status(d, now, th), nil
}

// check validates t before it is evaluated at now.
func (t Track) check(now time.Time) error {
	if t.Event.IsZero() {
		return errors.New("clock: no event time")
	}
	switch t.Limit.Unit {
	case NaturalDays, WorkingDays, Hours:
	default:
		return fmt.Errorf("clock: unknown unit %q", t.Limit.Unit)
	}
	switch t.Limit.Start {
	case NextDay, SameDay, "":
	default:
		return fmt.Errorf("clock: unknown start rule %q", t.Limit.Start)
	}
	if t.Limit.Amount < 1 || t.Limit.Amount > maxAmount {
		return fmt.Errorf("clock: amount %d out of range 1–3650", t.Limit.Amount)
	}
	if err := t.checkExtensions(); err != nil {
		return err
	}
	for i, p := range t.Pauses {
		if p.From.Before(t.Event) {
			return fmt.Errorf("clock: pause %d begins %s, before the event at %s", i+1, stamp(p.From), stamp(t.Event))
		}
		if i > 0 {
			prev := t.Pauses[i-1]
			if prev.To == nil {
				return fmt.Errorf("clock: pause %d begins while pause %d is still open: only the last pause may be open", i+1, i)
			}
			if p.From.Before(*prev.To) {
				return fmt.Errorf("clock: pause %d begins %s, before pause %d ended at %s: pauses must be in order and must not overlap", i+1, stamp(p.From), i, stamp(*prev.To))
			}
		}
		if p.To != nil && p.To.Before(p.From) {
			return fmt.Errorf("clock: pause %d ends %s, before it began at %s", i+1, stamp(*p.To), stamp(p.From))
		}
		if p.To == nil && now.Before(p.From) {
			return fmt.Errorf("clock: evaluated at %s, before the open pause %d began at %s", stamp(now), i+1, stamp(p.From))
		}
	}
	return nil
}

// checkExtensions validates t's extensions (see Extend).
func (t Track) checkExtensions() error {
	total := t.Limit.Amount
	for i, e := range t.Extensions {
		if e.Amount < 1 || e.Amount > maxAmount {
			return fmt.Errorf("clock: extension %d: amount %d out of range 1–3650", i+1, e.Amount)
		}
		if total += e.Amount; total > maxAmount {
			return fmt.Errorf("clock: extension %d: the limit with its extensions, %d, is over 3650", i+1, total)
		}
		if e.Approved.Before(t.Event) {
			return fmt.Errorf("clock: extension %d approved %s, before the event at %s", i+1, stamp(e.Approved), stamp(t.Event))
		}
		if i > 0 && e.Approved.Before(t.Extensions[i-1].Approved) {
			return fmt.Errorf("clock: extension %d approved %s, before extension %d: extensions must be in order of approval", i+1, stamp(e.Approved), i)
		}
	}
	return nil
}

// evaluate computes the deadline of a checked track; c.mu is held.
func (c *Calendar) evaluate(t Track, now time.Time) (*Deadline, error) {
	d := &Deadline{Event: t.Event.In(Shanghai), Limit: t.Limit, Pauses: slices.Clone(t.Pauses), Extensions: slices.Clone(t.Extensions)}
	d.Paused = t.open() != nil
	d.step("事件时间 event: %s", stamp(d.Event))
	zh, en := unitNames(t.Limit.Unit)
	amount := t.Limit.Amount
	for _, e := range t.Extensions {
		amount += e.Amount
		d.step("经批准延长 %d %s，共 %d %s，%s 批准 extended by %d %s to %d %s, approved %s%s",
			e.Amount, zh, amount, zh, stamp(e.Approved), e.Amount, en, amount, en, stamp(e.Approved), notes("文号 ref", e.Ref, "理由 reason", e.Reason))
	}
	if t.Limit.Unit == Hours {
		hoursDue(d, amount, now)
		d.step("期限届满 due: %s", stamp(d.Due))
		return d, nil
	}
	if err := c.daysDue(d, amount, now); err != nil {
		return nil, err
	}
	d.step("期限届满 due: %s 24:00", d.Due.Format(time.DateOnly))
	return d, nil
}

// hoursDue counts amount hours from the event, adding the time of each pause
// that began before the deadline reached so far.
func hoursDue(d *Deadline, amount int, now time.Time) {
	d.Due = d.Event.Add(time.Duration(amount) * time.Hour)
	d.step("按小时计算 counted in hours from the event: +%d h = %s", amount, stamp(d.Due))
	for _, p := range d.Pauses {
		from, to := p.From, resumed(p, now)
		why := notes("原因 reason", p.Reason)
		if !from.Before(d.Due) {
			d.step("暂停 %s 至 %s：期限已于 %s 届满，不影响期限 paused %s to %s: the period had run out at %s, the deadline does not move%s",
				stamp(from), stamp(to), stamp(d.Due), stamp(from), stamp(to), stamp(d.Due), why)
			continue
		}
		d.Due = d.Due.Add(to.Sub(from))
		hzh, hen := hoursMinutes(to.Sub(from))
		d.step("暂停 %s 至 %s，%s不计入，期限顺延至 %s paused %s to %s, %s not counted, due moves to %s%s",
			stamp(from), stamp(to), hzh, stamp(d.Due), stamp(from), stamp(to), hen, stamp(d.Due), why)
		if p.To == nil {
			d.stillPaused(p, now)
		}
	}
}

// daysDue counts amount natural or working days, leaving out the days of each
// pause, and applies the rest-day rule to natural days.
func (c *Calendar) daysDue(d *Deadline, amount int, now time.Time) error {
	day := dateOf(d.Event)
	switch d.Limit.Start {
	case NextDay, "":
		day = day.AddDate(0, 0, 1)
		d.step("自次日起算 counting starts the next day: %s", day.Format(time.DateOnly))
	case SameDay:
		d.step("自当日起算 counting starts the same day: %s", day.Format(time.DateOnly))
	}
	// Each pause leaves out the days from the one after it began through the
	// one it ended on: [first, last], empty if last is before first.
	first, last := make([]time.Time, len(d.Pauses)), make([]time.Time, len(d.Pauses))
	for i, p := range d.Pauses {
		first[i], last[i] = dateOf(p.From).AddDate(0, 0, 1), dateOf(resumed(p, now))
	}
	excluded := func(day time.Time) bool {
		for i := range first {
			if !day.Before(first[i]) && !day.After(last[i]) {
				return true
			}
		}
		return false
	}
	working := d.Limit.Unit == WorkingDays
	for counted := 0; ; day = day.AddDate(0, 0, 1) {
		if excluded(day) {
			continue
		}
		if working {
			ok, err := c.isWorkday(day)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		if counted++; counted == amount {
			break
		}
	}
	for i, p := range d.Pauses {
		a, b := dateOf(p.From).Format(time.DateOnly), last[i].Format(time.DateOnly)
		why := notes("原因 reason", p.Reason)
		switch {
		case first[i].After(day):
			d.step("暂停 %s 至 %s：此前已计至最后一日 %s，不影响期限 paused %s to %s: the count had already reached its last day %s, the deadline does not move%s",
				a, b, day.Format(time.DateOnly), a, b, day.Format(time.DateOnly), why)
			continue
		case first[i].After(last[i]) && p.To == nil:
			d.step("暂停 %s 至今，尚无不计入日 paused %s until now: no day left out yet%s", a, a, why)
		case first[i].After(last[i]):
			d.step("暂停 %s 至 %s，当日恢复，无不计入日 paused %s to %s, resumed the same day: no day left out%s", a, b, a, b, why)
		default:
			f := first[i].Format(time.DateOnly)
			zhN, enN := "", ""
			if working {
				n := 0
				for x := first[i]; !x.After(last[i]); x = x.AddDate(0, 0, 1) {
					if ok, err := c.isWorkday(x); err != nil {
						return err
					} else if ok {
						n++
					}
				}
				zhN, enN = fmt.Sprintf("（其中 %d 个工作日）", n), fmt.Sprintf(" (%d working days)", n)
			}
			d.step("暂停 %s 至 %s，%s 至 %s 不计入%s paused %s to %s, %s to %s not counted%s%s", a, b, f, b, zhN, a, b, f, b, enN, why)
		}
		if p.To == nil {
			d.stillPaused(p, now)
		}
	}
	zhX, enX := "", ""
	if len(d.Pauses) > 0 {
		zhX, enX = "及暂停日", " and paused days"
	}
	if working {
		d.step("%d 个工作日（除周末、法定节假日%s，含调休上班日），最后一个工作日 %d working days (without weekends, public holidays%s; with make-up working days), the last is %s",
			amount, zhX, amount, enX, day.Format(time.DateOnly))
	} else {
		if zhX != "" {
			zhX, enX = "（不计暂停日）", " not counting paused days"
		}
		d.step("%d 个自然日%s，期间最后一日 %d natural days%s, last day %s", amount, zhX, amount, enX, day.Format(time.DateOnly))
		for {
			ok, err := c.isWorkday(day)
			if err != nil {
				return err
			}
			if ok {
				break
			}
			next := day.AddDate(0, 0, 1)
			d.step("%s 为休息日，顺延至 %s is a rest day, extended to %s", day.Format(time.DateOnly), next.Format(time.DateOnly), next.Format(time.DateOnly))
			day = next
		}
	}
	d.Due = day.AddDate(0, 0, 1).Add(-time.Second)
	return nil
}

// step appends one line of explanation.
func (d *Deadline) step(format string, a ...any) {
	d.Steps = append(d.Steps, fmt.Sprintf(format, a...))
}

// stillPaused explains that p is open and the deadline was computed as if it
// ended at now.
func (d *Deadline) stillPaused(p Pause, now time.Time) {
	d.step("自 %s 起仍在暂停中，按于 %s 恢复计算，恢复前期限未定 still paused since %s: computed as if resumed at %s, the deadline is not fixed until the clock resumes",
		stamp(p.From), stamp(now), stamp(p.From), stamp(now))
}

// resumed is when p ended, or now if it is still open.
func resumed(p Pause, now time.Time) time.Time {
	if p.To != nil {
		return *p.To
	}
	return now
}

// dateOf is the start of t's day in Shanghai.
func dateOf(t time.Time) time.Time {
	t = t.In(Shanghai)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Shanghai)
}

// stamp formats t to the minute in Shanghai.
func stamp(t time.Time) string { return t.In(Shanghai).Format("2006-01-02 15:04") }

// unitNames names u in Chinese and English, for "%d %s".
func unitNames(u Unit) (zh, en string) {
	switch u {
	case WorkingDays:
		return "个工作日", "working days"
	case Hours:
		return "小时", "hours"
	}
	return "个自然日", "natural days"
}

// hoursMinutes writes a duration as hours and minutes in Chinese and English.
func hoursMinutes(d time.Duration) (zh, en string) {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	zh, en = fmt.Sprintf("%d 小时", h), fmt.Sprintf("%d h", h)
	if m > 0 {
		zh, en = zh+fmt.Sprintf(" %d 分", m), en+fmt.Sprintf(" %d min", m)
	}
	return zh, en
}

// notes writes the non-empty values of label, value pairs as "；label: value".
func notes(pairs ...string) string {
	s := ""
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			s += "；" + pairs[i] + ": " + pairs[i+1]
		}
	}
	return s
}

package clock

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// ptr returns a pointer to the time at s, for Pause.To.
func ptr(s string) *time.Time {
	t := at(s)
	return &t
}

// The 2026 Spring Festival: 15–23 Feb are holidays, Saturdays 14 and 28 Feb
// are make-up working days (calendars/2026.yaml).
func TestWorkingDaysAcrossSpringFestival(t *testing.T) {
	c, _ := New()
	for _, tt := range []struct {
		name  string
		event string
		limit Limit
		due   string
	}{
		// Thu 12, Fri 13, Sat 14 (make-up), 15–23 off, Tue 24 … Fri 27, Sat 28 (make-up), Mon 2, Tue 3 Mar.
		{"10 working days", "2026-02-11 10:00", Limit{WorkingDays, 10, NextDay}, "2026-03-03"},
		// 3–6 Feb (4), 9–14 Feb (10, Sat 14 a make-up day), 24–28 Feb (15, Sat 28 a make-up day).
		{"15 working days end on a make-up Saturday", "2026-02-02 09:00", Limit{WorkingDays, 15, NextDay}, "2026-02-28"},
		{"a make-up Saturday counts the same day", "2026-02-14 10:00", Limit{WorkingDays, 1, SameDay}, "2026-02-14"},
		{"the next working day after a make-up Saturday", "2026-02-14 10:00", Limit{WorkingDays, 1, NextDay}, "2026-02-24"},
		// Last day 17 Feb is 春节: extended to Tue 24 Feb.
		{"natural days ending in 春节", "2026-02-10 10:00", Limit{NaturalDays, 7, NextDay}, "2026-02-24"},
		// Last day Sat 28 Feb is a make-up working day: not extended.
		{"natural days ending on a make-up Saturday", "2026-02-18 10:00", Limit{NaturalDays, 10, NextDay}, "2026-02-28"},
	} {
		d, err := c.Compute(at(tt.event), tt.limit)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := d.Due.Format(time.DateTime); got != tt.due+" 23:59:59" {
			t.Errorf("%s: due %s, want %s 23:59:59\n%s", tt.name, got, tt.due, strings.Join(d.Steps, "\n"))
		}
	}
}

func TestTrackDeadlines(t *testing.T) {
	c, _ := New()
	// Without pauses, 20 working days from Mon 2 Mar 2026 end on Mon 30 Mar.
	event, twenty := at("2026-03-02 09:00"), Limit{WorkingDays, 20, NextDay}
	for _, tt := range []struct {
		name   string
		track  Track
		now    string
		due    string // "2006-01-02" ends 23:59:59; "2006-01-02 15:04" is exact
		paused bool
		steps  []string // substrings of the explanation
	}{
		{name: "no pauses", track: Track{Event: event, Limit: twenty}, due: "2026-03-30"},
		{
			// 11–20 Mar leave out 8 working days, 26 Mar–2 Apr 6 more; 6 Apr is 清明:
			// 3–10 Mar (6), 23–25 Mar (9), 3 Apr (10), 7–10 Apr (14), 13–17 Apr (19), 20 Apr (20).
			name: "working days, two pauses",
			track: Track{Event: event, Limit: twenty, Pauses: []Pause{
				{From: at("2026-03-10 14:00"), To: ptr("2026-03-20 10:00"), Reason: "补正材料"},
				{From: at("2026-03-25 16:00"), To: ptr("2026-04-02 09:30"), Reason: "现场核查"},
			}},
			due: "2026-04-20",
			steps: []string{
				"暂停 2026-03-10 至 2026-03-20，2026-03-11 至 2026-03-20 不计入（其中 8 个工作日） paused 2026-03-10 to 2026-03-20, 2026-03-11 to 2026-03-20 not counted (8 working days)；原因 reason: 补正材料",
				"暂停 2026-03-25 至 2026-04-02，2026-03-26 至 2026-04-02 不计入（其中 6 个工作日）",
				"20 个工作日（除周末、法定节假日及暂停日，含调休上班日），最后一个工作日 20 working days (without weekends, public holidays and paused days; with make-up working days), the last is 2026-04-20",
			},
		},
		{
			name:  "a pause resumed the same day leaves out nothing",
			track: Track{Event: event, Limit: twenty, Pauses: []Pause{{From: at("2026-03-10 09:00"), To: ptr("2026-03-10 17:00")}}},
			due:   "2026-03-30",
			steps: []string{"resumed the same day: no day left out"},
		},
		{
			// 5 working days end Mon 9 Mar; a pause that day comes too late to move it.
			name:  "a pause on the last day",
			track: Track{Event: event, Limit: Limit{WorkingDays, 5, NextDay}, Pauses: []Pause{{From: at("2026-03-09 10:00"), To: ptr("2026-03-12 10:00")}}},
			due:   "2026-03-09",
			steps: []string{"the count had already reached its last day 2026-03-09, the deadline does not move"},
		},
		{
			// 30 natural days from 3 Mar end 1 Apr; 11–14 Mar left out: 5 Apr, a
			// Sunday in 清明 (4–6 Apr), so the period ends Tue 7 Apr.
			name:  "natural days, a pause, then the rest-day rule",
			track: Track{Event: event, Limit: Limit{NaturalDays, 30, NextDay}, Pauses: []Pause{{From: at("2026-03-10 14:00"), To: ptr("2026-03-14 10:00")}}},
			due:   "2026-04-07",
			steps: []string{
				"暂停 2026-03-10 至 2026-03-14，2026-03-11 至 2026-03-14 不计入 paused 2026-03-10 to 2026-03-14, 2026-03-11 to 2026-03-14 not counted",
				"30 个自然日（不计暂停日），期间最后一日 30 natural days not counting paused days, last day 2026-04-05",
				"2026-04-05 为休息日，顺延至 2026-04-06",
				"2026-04-06 为休息日，顺延至 2026-04-07",
			},
		},
		{
			// The 15-working-day lead check ends Sat 28 Feb; +15 working days: 2–6, 9–13, 16–20 Mar.
			name: "an extension",
			track: Track{Event: at("2026-02-02 09:00"), Limit: Limit{WorkingDays, 15, NextDay},
				Extensions: []Extension{{Amount: 15, Approved: at("2026-02-26 10:00"), Reason: "需现场核查", Ref: "沪延〔2026〕3号"}}},
			due:   "2026-03-20",
			steps: []string{"经批准延长 15 个工作日，共 30 个工作日，2026-02-26 10:00 批准 extended by 15 working days to 30 working days, approved 2026-02-26 10:00；文号 ref: 沪延〔2026〕3号；理由 reason: 需现场核查"},
		},
		{
			// As above, then 11–20 Mar (8 working days) paused: 23–27, 30, 31 Mar, 1 Apr.
			name: "an extension and a pause",
			track: Track{Event: at("2026-02-02 09:00"), Limit: Limit{WorkingDays, 15, NextDay},
				Extensions: []Extension{{Amount: 15, Approved: at("2026-02-26 10:00")}},
				Pauses:     []Pause{{From: at("2026-03-10 14:00"), To: ptr("2026-03-20 10:00")}}},
			due: "2026-04-01",
		},
		{
			// Paused since 10 Mar, evaluated on 16 Mar: 11–16 Mar (4 working days) left
			// out so far, so 30 Mar + 4 working days = Fri 3 Apr.
			name:   "an open pause",
			track:  Track{Event: event, Limit: twenty, Pauses: []Pause{{From: at("2026-03-10 14:00")}}},
			now:    "2026-03-16 11:00",
			due:    "2026-04-03",
			paused: true,
			steps: []string{
				"2026-03-11 至 2026-03-16 不计入（其中 4 个工作日）",
				"自 2026-03-10 14:00 起仍在暂停中，按于 2026-03-16 11:00 恢复计算，恢复前期限未定 still paused since 2026-03-10 14:00: computed as if resumed at 2026-03-16 11:00",
			},
		},
		{
			name:   "an open pause begun today",
			track:  Track{Event: event, Limit: twenty, Pauses: []Pause{{From: at("2026-03-10 14:00")}}},
			now:    "2026-03-10 18:00",
			due:    "2026-03-30",
			paused: true,
			steps:  []string{"paused 2026-03-10 until now: no day left out yet", "still paused since 2026-03-10 14:00"},
		},
		{
			// 48 h from 26 Nov 09:00 is 28 Nov 09:00, +6 h 30 min paused; the second
			// pause begins after that.
			name: "hours with pauses",
			track: Track{Event: at("2026-11-26 09:00"), Limit: Limit{Hours, 48, NextDay}, Pauses: []Pause{
				{From: at("2026-11-26 12:00"), To: ptr("2026-11-26 18:30")},
				{From: at("2026-11-28 20:00"), To: ptr("2026-11-29 08:00")},
			}},
			due: "2026-11-28 15:30",
			steps: []string{
				"暂停 2026-11-26 12:00 至 2026-11-26 18:30，6 小时 30 分不计入，期限顺延至 2026-11-28 15:30 paused 2026-11-26 12:00 to 2026-11-26 18:30, 6 h 30 min not counted, due moves to 2026-11-28 15:30",
				"the period had run out at 2026-11-28 15:30, the deadline does not move",
				"期限届满 due: 2026-11-28 15:30",
			},
		},
		{
			name:   "hours, paused now",
			track:  Track{Event: at("2026-11-26 09:00"), Limit: Limit{Hours, 48, NextDay}, Pauses: []Pause{{From: at("2026-11-27 09:00")}}},
			now:    "2026-11-27 21:00",
			due:    "2026-11-28 21:00",
			paused: true,
			steps:  []string{"12 h not counted", "still paused"},
		},
	} {
		now := tt.track.Event
		if tt.now != "" {
			now = at(tt.now)
		}
		d, err := c.Evaluate(tt.track, now)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		explained := strings.Join(d.Steps, "\n")
		want := tt.due + " 23:59:59"
		if len(tt.due) > len(time.DateOnly) {
			want = tt.due + ":00"
		}
		if got := d.Due.Format(time.DateTime); got != want {
			t.Errorf("%s: due %s, want %s\n%s", tt.name, got, want, explained)
		}
		if d.Paused != tt.paused {
			t.Errorf("%s: paused %v", tt.name, d.Paused)
		}
		for _, s := range tt.steps {
			if !strings.Contains(explained, s) {
				t.Errorf("%s: no step %q in\n%s", tt.name, s, explained)
			}
		}
	}
}

func TestTrackMethods(t *testing.T) {
	tr := Track{Event: at("2026-03-02 09:00"), Limit: Limit{WorkingDays, 20, NextDay}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tr.Pause(at("2026-03-10 14:00"), "补正材料"))
	must(tr.Resume(at("2026-03-20 10:00")))
	must(tr.Pause(at("2026-03-25 16:00"), "现场核查"))
	must(tr.Extend(Extension{Amount: 5, Approved: at("2026-03-26 10:00")})) // while paused
	must(tr.Resume(at("2026-04-02 09:30")))
	if len(tr.Pauses) != 2 || tr.Pauses[1].To == nil || !tr.Pauses[1].To.Equal(at("2026-04-02 09:30")) || tr.Pauses[0].Reason != "补正材料" {
		t.Fatalf("pauses %+v", tr.Pauses)
	}
	c, _ := New()
	// 20 Apr (see TestTrackDeadlines) + 5 working days.
	if d, err := c.Evaluate(tr, at("2026-04-03 09:00")); err != nil || d.Due.Format(time.DateOnly) != "2026-04-27" {
		t.Fatalf("%v %v", d, err)
	}

	for _, tt := range []struct {
		name string
		do   func(*Track) error
	}{
		{"resume without a pause", func(t *Track) error { return t.Resume(at("2026-04-03 09:00")) }},
		{"pause twice", func(t *Track) error {
			_ = t.Pause(at("2026-04-03 09:00"), "")
			return t.Pause(at("2026-04-04 09:00"), "")
		}},
		{"pause before the last resume", func(t *Track) error { return t.Pause(at("2026-04-01 09:00"), "") }},
		{"pause before the event", func(t *Track) error {
			t.Pauses = nil
			return t.Pause(at("2026-03-01 09:00"), "")
		}},
		{"resume before the pause", func(t *Track) error {
			_ = t.Pause(at("2026-04-03 09:00"), "")
			return t.Resume(at("2026-04-03 08:59"))
		}},
		{"extension of 0", func(t *Track) error { return t.Extend(Extension{Amount: 0, Approved: at("2026-04-03 09:00")}) }},
		{"extension of 3651", func(t *Track) error { return t.Extend(Extension{Amount: 3651, Approved: at("2026-04-03 09:00")}) }},
		{"extensions past 3650", func(t *Track) error { return t.Extend(Extension{Amount: 3630, Approved: at("2026-04-03 09:00")}) }},
		{"extension before the event", func(t *Track) error { return t.Extend(Extension{Amount: 1, Approved: at("2026-03-01 09:00")}) }},
		{"extension before the previous one", func(t *Track) error { return t.Extend(Extension{Amount: 1, Approved: at("2026-03-26 09:00")}) }},
	} {
		cp := tr
		cp.Pauses = append([]Pause(nil), tr.Pauses...)
		cp.Extensions = append([]Extension(nil), tr.Extensions...)
		err := tt.do(&cp)
		if err == nil || !strings.HasPrefix(err.Error(), "clock: ") {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if len(tr.Extensions) != 1 {
		t.Errorf("a refused extension was kept: %+v", tr.Extensions)
	}
}

func TestEvaluateRefuses(t *testing.T) {
	c, _ := New()
	event, limit := at("2026-03-02 09:00"), Limit{WorkingDays, 5, NextDay} // due Mon 9 Mar
	now := at("2026-04-01 09:00")
	for _, tt := range []struct {
		name  string
		track Track
		want  string
	}{
		{"overlapping pauses", Track{Event: event, Limit: limit, Pauses: []Pause{
			{From: at("2026-03-03 09:00"), To: ptr("2026-03-06 09:00")}, {From: at("2026-03-05 09:00"), To: ptr("2026-03-07 09:00")}}},
			"pauses must be in order and must not overlap"},
		{"unsorted pauses", Track{Event: event, Limit: limit, Pauses: []Pause{
			{From: at("2026-03-20 09:00"), To: ptr("2026-03-25 09:00")}, {From: at("2026-03-03 09:00"), To: ptr("2026-03-04 09:00")}}},
			"pauses must be in order and must not overlap"},
		{"an open pause before another", Track{Event: event, Limit: limit, Pauses: []Pause{
			{From: at("2026-03-03 09:00")}, {From: at("2026-03-05 09:00"), To: ptr("2026-03-06 09:00")}}},
			"only the last pause may be open"},
		{"a pause ending before it began", Track{Event: event, Limit: limit, Pauses: []Pause{{From: at("2026-03-05 09:00"), To: ptr("2026-03-04 09:00")}}},
			"before it began"},
		{"a pause before the event", Track{Event: event, Limit: limit, Pauses: []Pause{{From: at("2026-03-01 09:00"), To: ptr("2026-03-04 09:00")}}},
			"before the event"},
		{"evaluated before the open pause", Track{Event: event, Limit: limit, Pauses: []Pause{{From: at("2026-04-02 09:00")}}},
			"before the open pause 1 began"},
		{"an extension after the period ran out", Track{Event: event, Limit: limit, Extensions: []Extension{{Amount: 5, Approved: at("2026-03-10 09:00")}}},
			"after the period it extends ran out"},
		{"an extension amount of 0", Track{Event: event, Limit: limit, Extensions: []Extension{{Amount: 0, Approved: at("2026-03-03 09:00")}}},
			"out of range"},
		{"an amount of 0", Track{Event: event, Limit: Limit{WorkingDays, 0, NextDay}}, "out of range"},
		{"an unknown unit", Track{Event: event, Limit: Limit{"fortnights", 1, NextDay}}, "unknown unit"},
		{"no event", Track{Limit: limit}, "no event time"},
	} {
		_, err := c.Evaluate(tt.track, now)
		if err == nil || !strings.HasPrefix(err.Error(), "clock: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	// Only 2026 is loaded: 20 working days from 20 Dec 2026 run into 2027.
	late := Track{Event: at("2026-12-20 09:00"), Limit: Limit{WorkingDays, 20, NextDay}}
	if _, err := c.Evaluate(late, late.Event); !errors.Is(err, ErrNoSchedule) {
		t.Errorf("a year without a schedule: %v", err)
	}
	late.Limit.Unit = NaturalDays // ends 9 Jan 2027: the rest-day rule needs 2027 too
	if _, err := c.Evaluate(late, late.Event); !errors.Is(err, ErrNoSchedule) {
		t.Errorf("a year without a schedule: %v", err)
	}
}

func TestTrackStatus(t *testing.T) {
	c, _ := New()
	// 10 natural days from Mon 2 Nov 09:00: due Thu 12 Nov 24:00, 255 hours.
	ten := Track{Event: at("2026-11-02 09:00"), Limit: Limit{NaturalDays, 10, NextDay}}
	with := func(pauses []Pause, ext []Extension, th *Thresholds) Track {
		t := ten
		t.Pauses, t.Extensions, t.Thresholds = pauses, ext, th
		return t
	}
	// Paused 4 Nov 09:00 to 9 Nov 09:00 (120 h; 5–9 Nov left out): due 17 Nov 24:00.
	closed := []Pause{{From: at("2026-11-04 09:00"), To: ptr("2026-11-09 09:00")}}
	for _, tt := range []struct {
		name  string
		track Track
		now   string
		want  Colour
	}{
		{"running", ten, "2026-11-03 09:00", Green},
		{"half the period", ten, "2026-11-08 09:00", Yellow},
		{"80% of the period", ten, "2026-11-11 09:00", Orange},
		{"overdue", ten, "2026-11-13 09:00", Red},
		// 192 h since the event, 120 h of them paused: 72 of 255 h.
		{"after a pause", with(closed, nil, nil), "2026-11-10 09:00", Green},
		{"after a pause, 168 of 255 h", with(closed, nil, nil), "2026-11-14 09:00", Yellow},
		{"after a pause, 216 of 255 h", with(closed, nil, nil), "2026-11-16 09:00", Orange},
		{"after a pause, overdue", with(closed, nil, nil), "2026-11-18 09:00", Red},
		// Stopped at 48 of 255 h: green long after the unpaused due date.
		{"paused early", with([]Pause{{From: at("2026-11-04 09:00")}}, nil, nil), "2026-12-20 09:00", Green},
		{"paused at 168 h", with([]Pause{{From: at("2026-11-09 09:00")}}, nil, nil), "2026-11-30 09:00", Yellow},
		{"paused at 168 h, extended during the pause", with([]Pause{{From: at("2026-11-09 09:00")}},
			[]Extension{{Amount: 10, Approved: at("2026-11-20 09:00")}}, nil), "2026-11-30 09:00", Yellow},
		{"paused after running out", with([]Pause{{From: at("2026-11-13 09:00")}}, nil, nil), "2026-11-20 09:00", Red},
		{"own thresholds, 24 of 255 h", with(nil, nil, &Thresholds{Yellow: 0.1, Orange: 0.2}), "2026-11-03 09:00", Green},
		{"own thresholds, 48 of 255 h", with(nil, nil, &Thresholds{Yellow: 0.1, Orange: 0.2}), "2026-11-04 09:00", Yellow},
		{"own thresholds, 72 of 255 h", with(nil, nil, &Thresholds{Yellow: 0.1, Orange: 0.2}), "2026-11-05 09:00", Orange},
	} {
		got, err := c.TrackStatus(tt.track, at(tt.now))
		if err != nil || got != tt.want {
			t.Errorf("%s: %s %v, want %s", tt.name, got, err, tt.want)
		}
	}
	if _, err := c.TrackStatus(with(nil, nil, &Thresholds{Yellow: 0.9, Orange: 0.5}), at("2026-11-03 09:00")); err == nil {
		t.Error("yellow after orange accepted")
	}
	// The extension granted during the pause still moves the deadline: resumed
	// 30 Nov, 7 days counted (3–9 Nov), 13 more from 1 Dec end Sun 13 Dec: Mon 14 Dec.
	d, err := c.Evaluate(with([]Pause{{From: at("2026-11-09 09:00")}}, []Extension{{Amount: 10, Approved: at("2026-11-20 09:00")}}, nil), at("2026-11-30 09:00"))
	if err != nil || d.Due.Format(time.DateOnly) != "2026-12-14" {
		t.Errorf("%v %v", d, err)
	}
}

// A Deadline's JSON holds the whole track: decoded as a Track it evaluates to
// the same deadline.
func TestDeadlineJSONKeepsItsInputs(t *testing.T) {
	c, _ := New()
	tr := Track{Event: at("2026-02-02 09:00"), Limit: Limit{WorkingDays, 15, NextDay},
		Extensions: []Extension{{Amount: 15, Approved: at("2026-02-26 10:00"), Ref: "沪延〔2026〕3号"}},
		Pauses:     []Pause{{From: at("2026-03-10 14:00"), To: ptr("2026-03-20 10:00"), Reason: "补正材料"}, {From: at("2026-03-25 09:00")}}}
	now := at("2026-03-27 09:00")
	d, err := c.Evaluate(tr, now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(d)
	for _, key := range []string{`"pauses"`, `"extensions"`, `"paused":true`, `"reason":"补正材料"`, `"ref":"沪延〔2026〕3号"`, `"steps"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("no %s in %s", key, b)
		}
	}
	var back Track
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	again, err := c.Evaluate(back, now)
	if err != nil || !again.Due.Equal(d.Due) || strings.Join(again.Steps, "\n") != strings.Join(d.Steps, "\n") {
		t.Errorf("%v %v, want %v", again, err, d)
	}
}

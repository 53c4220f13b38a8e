package clock

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWorkdaysFollowTheStateCouncilSchedule(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for day, want := range map[string]bool{
		"2026-01-01": false, // 元旦
		"2026-01-04": true,  // Sunday, make-up working day
		"2026-02-14": true,  // Saturday, make-up working day
		"2026-02-16": false, // 春节
		"2026-02-24": true,  // first working day after 春节
		"2026-03-07": false, // an ordinary Saturday
		"2026-10-10": true,  // Saturday, make-up working day
		"2026-11-26": true,  // an ordinary Thursday
	} {
		got, err := c.IsWorkday(at(day + " 12:00"))
		if err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", day, got, err, want)
		}
	}
	if _, err := c.IsWorkday(at("2030-05-01 12:00")); !errors.Is(err, ErrNoSchedule) {
		t.Errorf("a year without a schedule: %v", err)
	}
}

func TestDeadlines(t *testing.T) {
	c, _ := New()
	for _, tt := range []struct {
		name  string
		event string
		limit Limit
		due   string
	}{
		// 5 working days from an event on Friday 13 Feb: 14 Feb (Sat, make-up) counts,
		// 15–23 Feb are 春节, then 24, 25, 26, 27 Feb.
		{"working days across 春节", "2026-02-13 16:00", Limit{WorkingDays, 5, NextDay}, "2026-02-27"},
		// 7 natural days from 25 Sep end on 2 Oct, inside 国庆: extended to 8 Oct.
		{"natural days ending in 国庆", "2026-09-25 10:00", Limit{NaturalDays, 7, NextDay}, "2026-10-08"},
		{"natural days, same day", "2026-11-26 09:00", Limit{NaturalDays, 1, SameDay}, "2026-11-26"},
		// 3 working days from Thursday 26 Nov: Fri 27, Mon 30 Nov, Tue 1 Dec.
		{"working days over a weekend", "2026-11-26 09:00", Limit{WorkingDays, 3, NextDay}, "2026-12-01"},
	} {
		d, err := c.Compute(at(tt.event), tt.limit)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := d.Due.Format(time.DateOnly); got != tt.due || d.Due.Format("15:04:05") != "23:59:59" {
			t.Errorf("%s: due %s, want %s 23:59:59\n%s", tt.name, d.Due, tt.due, strings.Join(d.Steps, "\n"))
		}
		if len(d.Steps) < 3 {
			t.Errorf("%s: no explanation: %v", tt.name, d.Steps)
		}
	}
	d, _ := c.Compute(at("2026-11-26 09:00"), Limit{Hours, 48, NextDay})
	if !d.Due.Equal(at("2026-11-28 09:00")) {
		t.Errorf("hours: %s", d.Due)
	}
}

func TestStatusColours(t *testing.T) {
	c, _ := New()
	d, _ := c.Compute(at("2026-11-02 09:00"), Limit{NaturalDays, 10, NextDay}) // due 12 Nov 24:00
	for now, want := range map[string]Colour{
		"2026-11-03 09:00": Green, "2026-11-08 09:00": Yellow, "2026-11-11 09:00": Orange, "2026-11-13 09:00": Red,
	} {
		if got := Status(d, at(now), DefaultThresholds); got != want {
			t.Errorf("%s: %s, want %s", now, got, want)
		}
	}
}

func TestBadSchedulesAreRefused(t *testing.T) {
	c, _ := New()
	for _, y := range []Year{
		{Year: 2027, Holidays: []string{"2027-02-30"}},
		{Year: 2027, Holidays: []string{"2026-01-01"}},
		{Year: 2027, Holidays: []string{"2027-05-01"}, Workdays: []string{"2027-05-01"}},
	} {
		if err := c.Load(y); err == nil {
			t.Errorf("accepted %+v", y)
		}
	}
}

package clock

import (
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestParseYear(t *testing.T) {
	shipped2026, err := shipped.ReadFile("calendars/2026.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y, err := ParseYear(shipped2026)
	if err != nil || y.Year != 2026 || len(y.Holidays) != 33 || len(y.Workdays) != 6 {
		t.Fatalf("shipped 2026: %+v %v", y, err)
	}
	// Not an official schedule: only the shape matters here.
	j, err := ParseYear([]byte(`{"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-01-02"]}`))
	if want := (Year{Year: 2027, Holidays: []string{"2027-01-01"}, Workdays: []string{"2027-01-02"}}); err != nil || !reflect.DeepEqual(j, want) {
		t.Errorf("JSON: %+v %v", j, err)
	}
	for _, tt := range []struct{ name, in, want string }{
		{"empty", "", "empty schedule"},
		{"not YAML", "year: [", "clock: schedule"},
		{"a misspelt key", "year: 2027\nholiday:\n  - 2027-01-01\n", "not found"},
		{"no year", "holidays:\n  - 2027-01-01\n", "year 0 out of range"},
		{"not a date", "year: 2027\nholidays:\n  - 2027-02-30\n", "not a date of that year"},
		{"another year's date", `{"year": 2027, "holidays": ["2026-01-01"]}`, "not a date of that year"},
		{"both", "year: 2027\nholidays: [2027-01-02]\nworkdays: [2027-01-02]\n", "both a holiday and a working day"},
		{"a weekday made a working day", "year: 2027\nworkdays: [2027-01-04]\n", "only a Saturday or Sunday"},
	} {
		_, err := ParseYear([]byte(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), "clock: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestYearsAndReplacingASchedule(t *testing.T) {
	c, _ := New()
	// Not an official schedule: only the mechanics matter here.
	if err := c.Load(Year{Year: 2027, Holidays: []string{"2027-01-04", "2027-01-01", "2027-01-01"}}); err != nil {
		t.Fatal(err)
	}
	ys := c.Years()
	if len(ys) != 2 || ys[0].Year != 2026 || ys[1].Year != 2027 || !reflect.DeepEqual(ys[1].Holidays, []string{"2027-01-01", "2027-01-04"}) {
		t.Fatalf("years %+v", ys)
	}
	ys[1].Holidays[0] = "changed"
	if c.Years()[1].Holidays[0] != "2027-01-01" {
		t.Error("Years returned the calendar's own slices")
	}
	if err := c.Load(Year{Year: 2027, Holidays: []string{"2027-01-05"}}); err != nil {
		t.Fatal(err)
	}
	for day, want := range map[string]bool{"2027-01-04": true, "2027-01-05": false, "2026-02-16": false} {
		if got, err := c.IsWorkday(at(day + " 12:00")); err != nil || got != want {
			t.Errorf("%s after replacing 2027: %v %v, want %v", day, got, err, want)
		}
	}
	if err := c.Load(Year{Year: 2028, Holidays: []string{"2027-01-01"}}); err == nil || len(c.Years()) != 2 {
		t.Errorf("a bad schedule: %v, years %+v", err, c.Years())
	}
}

// Administrators load schedules while requests compute (run with -race).
func TestLoadWhileComputing(t *testing.T) {
	c, _ := New()
	tr := Track{Event: at("2026-03-02 09:00"), Limit: Limit{WorkingDays, 20, NextDay}, Pauses: []Pause{{From: at("2026-03-10 14:00")}}}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 50 {
				if i == 0 {
					_ = c.Load(Year{Year: 2027, Holidays: []string{"2027-01-01"}})
					_ = c.Years()
					continue
				}
				if d, err := c.Evaluate(tr, at("2026-03-16 11:00")); err != nil || d.Due.Format("2006-01-02") != "2026-04-03" {
					t.Errorf("%v %v", d, err)
				}
			}
		})
	}
	wg.Wait()
}

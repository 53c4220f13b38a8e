package clock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ParseYear reads one year's schedule in the YAML of calendars/*.yaml or the
// same fields in JSON, and checks it as Load does. Unknown fields are refused,
// so a misspelt key cannot silently drop a list.
func ParseYear(b []byte) (Year, error) {
	var y Year
	dec := yaml.NewDecoder(bytes.NewReader(b)) // JSON is YAML too
	dec.KnownFields(true)
	if err := dec.Decode(&y); errors.Is(err, io.EOF) {
		return Year{}, errors.New("clock: empty schedule")
	} else if err != nil {
		return Year{}, fmt.Errorf("clock: schedule: %w", err)
	}
	if err := y.check(); err != nil {
		return Year{}, err
	}
	return y, nil
}

// check reports the first problem with y: a year out of range, a day that is
// not a date of that year, a day that is both a holiday and a working day, or
// a make-up working day that is not a Saturday or Sunday.
func (y Year) check() error {
	if y.Year < 1 || y.Year > 9999 {
		return fmt.Errorf("clock: year %d out of range (is the year missing?)", y.Year)
	}
	holiday := map[string]bool{}
	for _, d := range y.Holidays {
		if _, err := y.date(d); err != nil {
			return err
		}
		holiday[d] = true
	}
	for _, d := range y.Workdays {
		t, err := y.date(d)
		if err != nil {
			return err
		}
		if holiday[d] {
			return fmt.Errorf("clock: %d: %s is both a holiday and a working day", y.Year, d)
		}
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return fmt.Errorf("clock: %d: working day %s is a %s: only a Saturday or Sunday can be made a working day", y.Year, d, wd)
		}
	}
	return nil
}

// date parses d as a date of year y.
func (y Year) date(d string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil || t.Year() != y.Year {
		return time.Time{}, fmt.Errorf("clock: %d: %q is not a date of that year", y.Year, d)
	}
	return t, nil
}

// Load adds (or replaces) one year's schedule after checking it (see
// ParseYear). Deadlines being computed meanwhile see the old schedule or the
// new one, never a mix.
func (c *Calendar) Load(y Year) error {
	if err := y.check(); err != nil {
		return err
	}
	y = Year{Year: y.Year, Holidays: sortedSet(y.Holidays), Workdays: sortedSet(y.Workdays)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.years == nil {
		c.years, c.holidays, c.workdays = map[int]Year{}, map[string]bool{}, map[string]bool{}
	}
	prefix := fmt.Sprintf("%04d-", y.Year)
	for _, m := range []map[string]bool{c.holidays, c.workdays} {
		for d := range m {
			if strings.HasPrefix(d, prefix) {
				delete(m, d)
			}
		}
	}
	for _, d := range y.Holidays {
		c.holidays[d] = true
	}
	for _, d := range y.Workdays {
		c.workdays[d] = true
	}
	c.years[y.Year] = y
	return nil
}

// Years returns the loaded schedules, sorted by year, each with its dates
// sorted.
func (c *Calendar) Years() []Year {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Year, 0, len(c.years))
	for _, y := range c.years {
		out = append(out, Year{Year: y.Year, Holidays: slices.Clone(y.Holidays), Workdays: slices.Clone(y.Workdays)})
	}
	slices.SortFunc(out, func(a, b Year) int { return a.Year - b.Year })
	return out
}

// sortedSet returns the distinct strings of s, sorted, in a new slice.
func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

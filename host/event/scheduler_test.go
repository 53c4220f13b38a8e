package event

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/jobrun"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

func TestParseScheduleAndNext(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct{ expr, from, want string }{
		{"* * * * *", "2026-03-02 08:00", "2026-03-02 08:01"},
		{"0 8 * * 1-5", "2026-03-06 08:00", "2026-03-09 08:00"}, // Friday 08:00 → Monday
		{"0 8 * * mon-fri", "2026-03-07 10:00", "2026-03-09 08:00"},
		{"*/15 9-17 * * *", "2026-03-02 17:50", "2026-03-03 09:00"},
		{"30 2 1 * *", "2026-01-31 00:00", "2026-02-01 02:30"},
		{"@daily", "2026-12-31 23:59", "2027-01-01 00:00"},
		{"@hourly", "2026-03-02 08:00", "2026-03-02 09:00"},
		{"@weekly", "2026-03-02 08:00", "2026-03-08 00:00"},
		{"0 0 29 feb *", "2026-01-01 00:00", "2028-02-29 00:00"},
		{"0 12 13 * fri", "2026-03-02 00:00", "2026-03-06 12:00"}, // day 13 OR Friday
		{"0 0 * * 7", "2026-03-02 00:00", "2026-03-08 00:00"},     // 7 is Sunday
		{"5,10 0 * jan,jul *", "2026-01-31 23:00", "2026-07-01 00:05"},
	} {
		s, err := ParseSchedule(c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if got := s.Next(at(c.from)); !got.Equal(at(c.want)) {
			t.Errorf("%q after %s = %s, want %s", c.expr, c.from, got.Format("2006-01-02 15:04 Mon"), c.want)
		}
	}
	for _, bad := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "a * * * *", "5-1 * * * *", "@sometimes"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if s, _ := ParseSchedule("0 0 30 2 *"); !s.Next(at("2026-01-01 00:00")).IsZero() {
		t.Error("30 February has a next time")
	}
}

type jobDeliverer struct {
	mu   sync.Mutex
	runs []Event
}

func (d *jobDeliverer) Deliver(_ context.Context, sub string, ev Event) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.runs = append(d.runs, ev)
	return nil
}

// Two replicas (schedulers on one database) run each slot of a job once.
func TestTwoSchedulersRunASlotOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		other, err := store.Open(ctx, st.DSN)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		slot := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		clock := slot.Add(1500 * time.Millisecond)
		var mu sync.Mutex
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		jobs := func() []Job {
			return []Job{{Plugin: "notice", Name: "notice.digest", Schedule: "0 8 * * *"}, {Plugin: "broken", Name: "b", Schedule: "0 8 * * *"}, {Plugin: "x", Name: "bad", Schedule: "nonsense"}}
		}
		d := &jobDeliverer{}
		var scheds []*Scheduler
		for i, c := range []*ent.Client{st.Client, other.Client} {
			scheds = append(scheds, NewScheduler(SchedulerOptions{Client: c, Jobs: jobs, Deliverer: &routeFail{d, "broken"},
				Runner: []string{"replica-a", "replica-b"}[i], Location: time.UTC, Now: now}))
		}
		var wg sync.WaitGroup
		for range 3 { // several ticks of both replicas at once
			for _, s := range scheds {
				wg.Add(1)
				go func() { defer wg.Done(); s.Tick(ctx) }()
			}
			wg.Wait()
		}
		for _, s := range scheds {
			s.running.Wait()
		}
		runs, err := st.Client.JobRun.Query().Order(ent.Asc(jobrun.FieldJob)).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 {
			t.Fatalf("%d job runs, want 2: %+v", len(runs), runs)
		}
		if r := runs[0]; r.Job != "broken/b" || r.Status != jobrun.StatusFailed || r.Error == "" || r.FinishedAt == nil {
			t.Fatalf("failing job run = %+v", r)
		}
		if r := runs[1]; r.Job != "notice/notice.digest" || !r.Slot.Equal(slot) || r.Status != jobrun.StatusSucceeded || r.Runner == "" {
			t.Fatalf("job run = %+v", r)
		}
		var notice []Event
		for _, ev := range d.runs {
			if ev.Source == "notice" {
				notice = append(notice, ev)
			}
		}
		if len(notice) != 1 {
			t.Fatalf("notice job delivered %d times, want 1", len(notice))
		}
		ev := notice[0]
		var data JobData
		if err := json.Unmarshal(ev.Data, &data); err != nil || ev.Type != JobEventType || data.Name != "notice.digest" || !data.Slot.Equal(slot) ||
			ev.ID != JobEventID(Job{Plugin: "notice", Name: "notice.digest"}, slot) {
			t.Fatalf("job event = %+v (%s)", ev, ev.Data)
		}

		// The next slot, a day later, runs again; slots missed by more than
		// the grace period are not caught up.
		mu.Lock()
		clock = slot.Add(24*time.Hour + 2*time.Second)
		mu.Unlock()
		for _, s := range scheds {
			s.Tick(ctx)
			s.running.Wait()
		}
		if n, _ := st.Client.JobRun.Query().Where(jobrun.Job("notice/notice.digest")).Count(ctx); n != 2 {
			t.Fatalf("%d runs after the second day, want 2", n)
		}
	})
}

// routeFail makes one plugin's jobs fail.
type routeFail struct {
	d      *jobDeliverer
	broken string
}

func (r *routeFail) Deliver(ctx context.Context, sub string, ev Event) error {
	ev.Source = sub // remember the target for the test
	if sub == r.broken {
		r.d.mu.Lock()
		r.d.runs = append(r.d.runs, ev)
		r.d.mu.Unlock()
		return ErrUnavailable
	}
	return r.d.Deliver(ctx, sub, ev)
}

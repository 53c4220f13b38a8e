package event

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/jobrun"
)

// Job is a scheduled job a plugin declares (manifest jobs).
type Job struct {
	Plugin   string
	Name     string
	Schedule string // cron expression or descriptor
}

// Key is the job's name in job_runs: <plugin>/<name>.
func (j Job) Key() string { return j.Plugin + "/" + j.Name }

// JobData is the payload of a portal.job event.
type JobData struct {
	Name string    `json:"name"`
	Slot time.Time `json:"slot"`
}

// SchedulerOptions configures a Scheduler. Zero values take the defaults given.
type SchedulerOptions struct {
	// Client is the host database. Required.
	Client *ent.Client
	// Jobs lists the jobs of the plugins this replica runs. Required.
	Jobs func() []Job
	// Deliverer runs a job by delivering its portal.job event. Required.
	Deliverer Deliverer
	Log       *slog.Logger
	// Runner names this replica in job_runs. Default <hostname>:<pid>.
	Runner string
	// Location is the time zone schedules are read in. Default time.Local.
	Location *time.Location
	// Grace is how late a slot may still be claimed (a replica that was busy
	// or starting). Older slots that nobody ran are skipped, not caught up.
	// Default 1 min.
	Grace time.Duration
	// Tick is how often schedules are checked. Default 1 s.
	Tick time.Duration
	// Timeout bounds one run. Default 5 min.
	Timeout time.Duration
	// Retention is how long job_runs rows are kept (pruned hourly). Default 30 days.
	Retention time.Duration
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// Scheduler runs plugins' scheduled jobs once per slot across all replicas:
// each replica tries to insert job_runs(job, slot) and only the one that
// succeeds delivers the job, then records succeeded or failed. A job is not
// retried within its slot; its next slot runs as scheduled.
type Scheduler struct {
	o   SchedulerOptions
	log *slog.Logger

	mu      sync.Mutex
	parsed  map[string]*Schedule // by expression
	bad     map[string]bool      // expressions already reported
	cursors map[string]time.Time // job key → last slot considered
	running sync.WaitGroup
}

// NewScheduler returns a scheduler; Run it.
func NewScheduler(o SchedulerOptions) *Scheduler {
	if o.Client == nil || o.Jobs == nil || o.Deliverer == nil {
		panic("event.NewScheduler: Client, Jobs and Deliverer are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Runner == "" {
		h, _ := os.Hostname()
		o.Runner = fmt.Sprintf("%s:%d", h, os.Getpid())
	}
	if len(o.Runner) > 128 {
		o.Runner = o.Runner[:128]
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Grace <= 0 {
		o.Grace = time.Minute
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	return &Scheduler{o: o, log: o.Log.With("component", "jobs"), parsed: map[string]*Schedule{},
		bad: map[string]bool{}, cursors: map[string]time.Time{}}
}

// Run checks the schedules every tick until ctx ends, then waits for runs in
// progress.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.Tick)
	defer t.Stop()
	nextPrune := time.Now().Add(time.Minute)
	for {
		s.Tick(ctx)
		if time.Now().After(nextPrune) {
			nextPrune = time.Now().Add(time.Hour)
			if _, err := s.o.Client.JobRun.Delete().Where(jobrun.StartedAtLT(now().Add(-s.o.Retention))).Exec(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("job runs prune", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			s.running.Wait()
			return nil
		case <-t.C:
		}
	}
}

// Tick claims and starts every slot that is due now (exported for tests).
func (s *Scheduler) Tick(ctx context.Context) {
	now := s.o.Now().In(s.o.Location)
	floor := now.Add(-s.o.Grace)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.o.Jobs() {
		sched := s.schedule(j)
		if sched == nil {
			continue
		}
		key := j.Key()
		cur, ok := s.cursors[key]
		if !ok || cur.Before(floor) {
			cur = floor
		}
		for next := sched.Next(cur); !next.IsZero() && !next.After(now); next = sched.Next(next) {
			cur = next
			s.claimAndRun(ctx, j, next)
		}
		s.cursors[key] = cur
	}
}

func (s *Scheduler) schedule(j Job) *Schedule {
	if sc, ok := s.parsed[j.Schedule]; ok {
		return sc
	}
	sc, err := ParseSchedule(j.Schedule)
	if err != nil {
		if !s.bad[j.Schedule] {
			s.bad[j.Schedule] = true
			s.log.Error("job schedule does not parse; job not run", "job", j.Key(), "err", err)
		}
		return nil
	}
	s.parsed[j.Schedule] = sc
	return sc
}

// claimAndRun inserts the run's row; the replica whose insert succeeds runs it.
func (s *Scheduler) claimAndRun(ctx context.Context, j Job, slot time.Time) {
	slot = slot.UTC()
	run, err := s.o.Client.JobRun.Create().SetJob(j.Key()).SetSlot(slot).SetRunner(s.o.Runner).
		SetStartedAt(now()).Save(ctx)
	if ent.IsConstraintError(err) {
		return // another replica has it
	}
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("job claim", "job", j.Key(), "slot", slot, "err", err)
		}
		return
	}
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		s.run(context.WithoutCancel(ctx), j, slot, run)
	}()
}

func (s *Scheduler) run(ctx context.Context, j Job, slot time.Time, run *ent.JobRun) {
	data, _ := json.Marshal(JobData{Name: j.Name, Slot: slot})
	ev := Event{ID: JobEventID(j, slot), Type: JobEventType, Source: SourceHost, Time: slot, Data: data}
	rctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	err := s.o.Deliverer.Deliver(rctx, j.Plugin, ev)
	cancel()
	u := s.o.Client.JobRun.UpdateOne(run).SetFinishedAt(now())
	if err != nil {
		u.SetStatus(jobrun.StatusFailed).SetError(clip(err.Error()))
		s.log.Error("job failed", "job", j.Key(), "slot", slot, "err", err)
	} else {
		u.SetStatus(jobrun.StatusSucceeded)
		s.log.Info("job ran", "job", j.Key(), "slot", slot)
	}
	if err := u.Exec(ctx); err != nil {
		s.log.Error("job record", "job", j.Key(), "slot", slot, "err", err)
	}
}

// JobEventID is the event id of a job's run at slot: the same on every
// replica, so a plugin can de-duplicate runs by event id as for any event.
func JobEventID(j Job, slot time.Time) string {
	sum := sha256.Sum256([]byte(j.Key() + "@" + slot.UTC().Format(time.RFC3339)))
	var b [16]byte
	copy(b[:], sum[:16])
	b[6] = b[6]&0x0f | 0x80 // version 8: custom
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

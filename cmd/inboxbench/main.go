// Command inboxbench measures the workbench inbox at scale: it fills a fresh
// MySQL database with -tasks tasks (most of them done, spread over many
// users), gives -heavy users -open open tasks each, and then runs the 待办
// query (the engine's List: first page, soonest deadline first, with the
// total) for those users from -clients concurrent clients for -duration,
// reporting p50/p95/p99.
//
//	go run ./cmd/inboxbench -mysql 'root@tcp(127.0.0.1:3306)/' -tasks 1000000 -clients 64
//
// The database (inboxbench_<random>) is dropped at the end unless -keep.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/workflow"
)

func main() {
	dsn := flag.String("mysql", "root@tcp(127.0.0.1:3306)/", "MySQL server")
	total := flag.Int("tasks", 1_000_000, "tasks in the table")
	heavy := flag.Int("heavy", 64, "users with -open open tasks each")
	open := flag.Int("open", 500, "open tasks per heavy user")
	users := flag.Int("users", 5000, "users the other tasks are spread over")
	clients := flag.Int("clients", 64, "concurrent clients")
	duration := flag.Duration("duration", 20*time.Second, "load time")
	keep := flag.Bool("keep", false, "keep the database")
	think := flag.Duration("think", 0, "pause of each client between queries (0: a closed loop, as fast as it can)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the load phase to this file")
	conns := flag.Int("conns", 0, "database connections (0: the store's default)")
	reuse := flag.String("reuse", "", "measure on this database, kept from an earlier -keep run, instead of filling a new one")
	flag.Parse()
	maxConns, profile, thinkTime = *conns, *cpuProfile, *think
	if err := run(*dsn, *reuse, *total, *heavy, *open, *users, *clients, *duration, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "inboxbench:", err)
		os.Exit(1)
	}
}

var (
	maxConns  int
	profile   string
	thinkTime time.Duration
)

func run(dsn, reuse string, total, heavy, open, users, clients int, duration time.Duration, keep bool) error {
	ctx := context.Background()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return err
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	cfg.DBName = "inboxbench_" + hex.EncodeToString(b[:])
	if reuse != "" {
		cfg.DBName, keep = reuse, true
	}
	cfg.ParseTime = true
	d, err := store.ParseDSN("mysql://" + cfg.FormatDSN())
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, d)
	if err != nil {
		return err
	}
	defer st.Close()
	if maxConns > 0 {
		st.DB.SetMaxOpenConns(maxConns)
		st.DB.SetMaxIdleConns(maxConns)
	}
	if !keep {
		defer st.DB.Exec("DROP DATABASE " + store.QuoteIdent(cfg.DBName))
	}
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	if reuse == "" {
		if err := fillAndAnalyze(ctx, st.DB, cfg.DBName, total, heavy, open, users); err != nil {
			return err
		}
	}
	return measure(ctx, st, heavy, clients, duration)
}

func fillAndAnalyze(ctx context.Context, db *sql.DB, name string, total, heavy, open, users int) error {
	fmt.Printf("database %s; filling %d tasks (%d users × %d open, the rest over %d users, mostly done)…\n", name, total, heavy, open, users)
	start := time.Now()
	if err := fill(ctx, db, total, heavy, open, users); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "ANALYZE TABLE tasks, task_candidates"); err != nil {
		return err
	}
	fmt.Printf("filled in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// measure runs the 待办 query for the heavy users from concurrent clients.
func measure(ctx context.Context, st *store.Store, heavy, clients int, duration time.Duration) error {
	eng := workflow.New(workflow.Options{Client: st.Client, LockRows: true, Log: slog.New(slog.DiscardHandler)})
	// warm up: each heavy user once
	for u := 1; u <= heavy; u++ {
		if _, err := eng.List(ctx, u, workflow.ListQuery{Box: workflow.BoxTodo}); err != nil {
			return err
		}
	}
	page, _ := eng.List(ctx, 1, workflow.ListQuery{Box: workflow.BoxTodo})
	fmt.Printf("user 1: total %d open, first page %d items\n", page.Total, len(page.Items.([]workflow.Item)))

	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var mu sync.Mutex
	var lat []time.Duration
	var failures int
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var mine []time.Duration
			fails := 0
			for i := 0; time.Now().Before(deadline); i++ {
				u := 1 + (c+i*clients)%heavy
				t0 := time.Now()
				if _, err := eng.List(ctx, u, workflow.ListQuery{Box: workflow.BoxTodo}); err != nil {
					fails++
					continue
				}
				mine = append(mine, time.Since(t0))
				if thinkTime > 0 {
					time.Sleep(thinkTime)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			failures += fails
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[int(p*float64(len(lat)-1))].Round(10 * time.Microsecond)
	}
	fmt.Printf("machine: %d CPUs, %s/%s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("inbox (待办, page 1 of 20, by deadline, with total): %d queries in %s from %d clients (think %s), %d failed\n",
		len(lat), duration, clients, thinkTime, failures)
	fmt.Printf("  throughput %.0f/s  p50 %s  p95 %s  p99 %s  max %s\n", float64(len(lat))/duration.Seconds(), q(0.50), q(0.95), q(0.99), q(1))
	return nil
}

// fill inserts the tasks with multi-row INSERTs. Users 1…heavy get open tasks
// with deadlines over the next 60 days; the others get a mix of done (85%),
// cancelled (10%) and open (5%) tasks.
func fill(ctx context.Context, db *sql.DB, total, heavy, open, users int) error {
	const batch = 2000
	cols := "(plugin, kind, type, title, business_key, link, assignee_id, initiator_id, org_path, status, outcome, reason, created_at, due_at, yellow_at, orange_at, completed_at, completed_by, warned, round, seq, urge_count)"
	now := time.Now().UTC()
	var rows []string
	var args []any
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		_, err := db.ExecContext(ctx, "INSERT INTO tasks "+cols+" VALUES "+strings.Join(rows, ","), args...)
		rows, args = rows[:0], args[:0]
		return err
	}
	plugins := []string{"enforcement", "registration", "supervision", "publicservice"}
	for i := 0; i < total; i++ {
		var assignee int
		status, outcome := "done", "approved"
		if i < heavy*open {
			assignee, status, outcome = 1+i%heavy, "open", ""
		} else {
			assignee = heavy + 1 + rnd(users)
			switch r := rnd(100); {
			case r < 10:
				status, outcome = "cancelled", "not_needed"
			case r < 15:
				status, outcome = "open", ""
			}
		}
		created := now.Add(-time.Duration(rnd(90*24)) * time.Hour)
		due := now.Add(time.Duration(rnd(60*24)-24*5) * time.Hour)
		span := due.Sub(created)
		var completed, by any
		if status == "done" {
			completed, by = created.Add(time.Duration(rnd(72))*time.Hour), assignee
		}
		p := plugins[i%len(plugins)]
		rows = append(rows, "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,1,0,0)")
		args = append(args, p, "approval", p+".approval", fmt.Sprintf("第 %d 号审批事项", i), fmt.Sprintf("BK%08d", i),
			"/plugins/"+p+"/cases/"+fmt.Sprint(i), assignee, 1+rnd(users), "/310000/310115", status, outcome,
			`{"code":"role","zh":"角色 handler","en":"role handler"}`, created, due, created.Add(span/2), created.Add(span*8/10), completed, by)
		if len(rows) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
		if i > 0 && i%200000 == 0 {
			fmt.Printf("  %d…\n", i)
		}
	}
	return flush()
}

func rnd(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

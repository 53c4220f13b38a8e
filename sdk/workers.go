package sdk

import (
	"sync/atomic"
	"time"
)

// workers runs the direct channel's concurrent requests on goroutines that
// are kept for a while after their request, rather than on a new goroutine
// each. A new goroutine's stack starts at 2 KiB and is copied to a new one
// each time it doubles; a handler that calls a database driver takes it to
// 16 KiB or more, so under load a plugin spent about a tenth of its CPU
// growing stacks (docs/benchmarks.md). A kept goroutine keeps its stack.
type workers struct {
	jobs chan func() // unbuffered: a send succeeds only when a worker waits
	idle atomic.Int32
	// keep is how long a worker waits for another request; maxIdle bounds
	// the workers waiting, so a burst leaves no more than that behind.
	keep    time.Duration
	maxIdle int32
}

const (
	workerKeep    = 10 * time.Second
	maxIdleWorker = 256
)

func newWorkers() *workers {
	return &workers{jobs: make(chan func()), keep: workerKeep, maxIdle: maxIdleWorker}
}

// run runs f on a waiting worker, or on a new one when none waits; it does
// not wait for f.
func (w *workers) run(f func()) {
	select {
	case w.jobs <- f:
	default:
		go w.work(f)
	}
}

// work runs f, then whatever it is handed, until it has waited w.keep for
// nothing or enough others wait.
func (w *workers) work(f func()) {
	var t *time.Timer
	for {
		f()
		if w.idle.Add(1) > w.maxIdle {
			w.idle.Add(-1)
			return
		}
		if t == nil {
			t = time.NewTimer(w.keep)
		} else {
			t.Reset(w.keep)
		}
		select {
		case f = <-w.jobs:
			w.idle.Add(-1)
		case <-t.C:
			w.idle.Add(-1)
			return
		}
	}
}

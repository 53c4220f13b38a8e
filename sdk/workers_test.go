package sdk

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("still not %s after 2 s", what)
}

func TestWorkersRunConcurrently(t *testing.T) {
	w := newWorkers()
	const n = 100
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	release := make(chan struct{})
	for range n {
		w.run(func() {
			defer done.Done()
			started.Done()
			<-release // every one waits for all the others to have started
		})
	}
	started.Wait()
	close(release)
	done.Wait()
}

func TestWorkersReuseAWaitingWorker(t *testing.T) {
	w := newWorkers()
	before := runtime.NumGoroutine()
	for i := range 50 {
		ran := make(chan struct{})
		w.run(func() { close(ran) })
		<-ran
		waitFor(t, "waiting", func() bool { return w.idle.Load() == 1 })
		if g := runtime.NumGoroutine(); g > before+1 {
			t.Fatalf("after %d requests one after another: %d goroutines, want at most %d", i+1, g, before+1)
		}
	}
}

func TestWorkersLeaveWhenIdle(t *testing.T) {
	w := newWorkers()
	w.keep = 20 * time.Millisecond
	before := runtime.NumGoroutine()
	ran := make(chan struct{})
	w.run(func() { close(ran) })
	<-ran
	waitFor(t, "gone", func() bool { return w.idle.Load() == 0 && runtime.NumGoroutine() <= before })
}

func TestWorkersKeepAtMostMaxIdle(t *testing.T) {
	w := newWorkers()
	w.maxIdle = 3
	before := runtime.NumGoroutine()
	var done sync.WaitGroup
	release := make(chan struct{})
	for range 10 {
		done.Add(1)
		w.run(func() { defer done.Done(); <-release })
	}
	close(release)
	done.Wait()
	waitFor(t, "down to 3 waiting", func() bool { return runtime.NumGoroutine() <= before+3 })
	if n := w.idle.Load(); n != 3 {
		t.Fatalf("%d workers waiting, want 3", n)
	}
}

// A waiting worker holds on to nothing of its last request: a body kept
// alive by each of 256 waiting workers for 10 s could add up to a lot.
func TestWorkersHoldNoRequestWhileWaiting(t *testing.T) {
	w := newWorkers()
	collected := make(chan struct{})
	func() {
		body := new([1 << 20]byte)
		runtime.SetFinalizer(body, func(*[1 << 20]byte) { close(collected) })
		ran := make(chan struct{})
		w.run(func() { body[0] = 1; close(ran) })
		<-ran
	}()
	waitFor(t, "waiting", func() bool { return w.idle.Load() == 1 })
	for range 50 {
		runtime.GC()
		select {
		case <-collected:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("a waiting worker keeps its last request alive")
}

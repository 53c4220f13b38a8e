package main

// The registry's name index in the plugin: package search over the
// enterprises table.
//
// Life of the index:
//  1. start: an empty index; a background build reads the table in keyset
//     pages and swaps the built generation in (search.Index.Rebuild). start()
//     waits for it at most indexWaitAtStart, so the demo registry is ready
//     before the first request and a large table does not hold the start.
//  2. Until the first build is in, name queries answer 503 with Retry-After
//     (registration.index_building); a query that is only a credit code is
//     answered from the table, and GET /enterprises/{code} always reads the
//     table.
//  3. After a record changes, registryChanged re-reads its row and updates
//     the index; a change made while a build runs is replayed onto the new
//     generation, so none is lost.
//  4. If the row cannot be read, the index is rebuilt from the table in the
//     background; a failed build is retried with backoff.
//  5. After each build the index is written to a snapshot in the plugin's
//     scratch folder. A restart loads it and answers at once — at 3,000,000
//     entities that is seconds instead of a minute or more — while a build
//     from the table runs behind it and swaps in: until then, search results
//     may show what the snapshot held (a record's own page always reads the
//     table).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
	"github.com/shanghai-amr/portal/plugins/registration/search"
	"github.com/shanghai-amr/portal/sdk"
)

const (
	// indexWaitAtStart bounds how long start() waits for the first build.
	indexWaitAtStart = 500 * time.Millisecond
	// indexPage is the rows read per query while building.
	indexPage = 5000
	// indexRetryMax caps the backoff between failed builds.
	indexRetryMax = time.Minute
	// changeTimeout bounds registryChanged's read of one row; it runs after
	// the caller's change is committed, so it does not end with the request.
	changeTimeout = 5 * time.Second
)

// registryIndex is the search index of the enterprises table.
type registryIndex struct {
	db  *sql.DB
	log *slog.Logger
	ix  *search.Index

	ready atomic.Bool   // the first build is in
	built chan struct{} // closed when ready becomes true

	change sync.Mutex // one row's read and its index write at a time, in order

	mu       sync.Mutex
	building bool // a build goroutine runs
	again    bool // build once more when it ends
	loops    sync.WaitGroup

	snapshot string // where the index is saved after each build; "" for nowhere
}

// newRegistryIndex returns an index that is not built yet (build).
func newRegistryIndex(db *sql.DB, log *slog.Logger) *registryIndex {
	return &registryIndex{db: db, log: log, ix: search.New(search.Options{}), built: make(chan struct{})}
}

// startRegistryIndex loads the snapshot at snapshot, if there is one, starts
// building the index from the table, and waits for a usable index at most
// indexWaitAtStart.
func startRegistryIndex(db *sql.DB, log *slog.Logger, snapshot string) *registryIndex {
	r := newRegistryIndex(db, log)
	r.snapshot = snapshot
	if ix, err := loadSnapshot(snapshot); err == nil {
		r.ix = ix
		r.ready.Store(true)
		close(r.built)
		log.Info("registry index loaded from its snapshot; rebuilding from the table behind it", "docs", ix.Stats().Docs)
	} else if !errors.Is(err, os.ErrNotExist) {
		log.Warn("registry index snapshot not usable; building from the table", "err", err)
	}
	r.build()
	select {
	case <-r.built:
	case <-time.After(indexWaitAtStart):
		log.Info("registry index still building after start; name queries answer 503 until it is in")
	}
	return r
}

// build (re)builds the index from the table in the background; if a build
// is running, another follows it.
func (r *registryIndex) build() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.building {
		r.again = true
		return
	}
	r.building = true
	r.loops.Add(1)
	go func() {
		defer r.loops.Done()
		r.buildLoop()
	}()
}

// wait waits until no build runs (its snapshot written).
func (r *registryIndex) wait() { r.loops.Wait() }

func (r *registryIndex) buildLoop() {
	backoff := time.Second
	for {
		err := r.rebuild(context.Background())
		if err == nil && r.ready.CompareAndSwap(false, true) {
			close(r.built)
		}
		if err == nil {
			r.saveSnapshot()
		}
		if err != nil {
			r.log.Error("registry index build failed; retrying", "err", err, "retry_in", backoff)
		}
		r.mu.Lock()
		if err == nil && !r.again {
			r.building = false
			r.mu.Unlock()
			return
		}
		r.again = false
		r.mu.Unlock()
		if err != nil {
			time.Sleep(backoff)
			backoff = min(2*backoff, indexRetryMax)
		}
	}
}

// rebuild reads the whole table and swaps a new generation in.
func (r *registryIndex) rebuild(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	start := time.Now()
	rows, bad := 0, 0
	err := r.ix.Rebuild(ctx, func(yield func(*registry.Entity) bool) {
		after := ""
		for {
			page, b, err := readEntities(ctx, r.db, after, indexPage)
			if err != nil {
				cancel(err) // Rebuild sees the context ended and keeps the current generation
				return
			}
			rows, bad = rows+len(page), bad+b
			for _, e := range page {
				if !yield(e) {
					return
				}
			}
			if len(page) < indexPage {
				return
			}
			after = page[len(page)-1].Code
		}
	})
	if err != nil {
		if c := context.Cause(ctx); c != nil {
			err = c
		}
		return fmt.Errorf("registration: index build: %w", err)
	}
	st := r.ix.Stats()
	r.log.Info("registry index built", "rows", rows, "indexed", st.Docs, "unreadable_data", bad,
		"took_ms", time.Since(start).Milliseconds(), "index_bytes", st.Bytes)
	return nil
}

func loadSnapshot(path string) (*search.Index, error) {
	if path == "" {
		return nil, os.ErrNotExist
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return search.Load(f, search.Options{})
}

// saveSnapshot writes the index next to its snapshot and renames it over
// the old one, so a crash never leaves half a snapshot.
func (r *registryIndex) saveSnapshot() {
	if r.snapshot == "" {
		return
	}
	start := time.Now()
	// A temporary file of its own: during an upgrade two versions share the
	// scratch folder.
	f, err := os.CreateTemp(filepath.Dir(r.snapshot), filepath.Base(r.snapshot)+".*")
	if err != nil {
		r.log.Warn("registry index snapshot not written", "err", err)
		return
	}
	_, err = r.ix.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), r.snapshot)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		r.log.Warn("registry index snapshot not written", "err", err)
		return
	}
	r.log.Info("registry index snapshot written", "took_ms", time.Since(start).Milliseconds())
}

// registryChanged re-reads the entity with the code from the enterprises
// table and updates the index: call it after every change to a record
// (a status change, a change registration). The index is current for the
// next query when it returns. A row that is gone leaves the index.
func (s *service) registryChanged(ctx context.Context, uscc string) {
	if err := s.index.refresh(ctx, uscc); err != nil {
		s.log.Warn("registry index not updated; rebuilding it from the table", "uscc", uscc, "err", err)
		s.index.build()
	}
}

func (r *registryIndex) refresh(ctx context.Context, uscc string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), changeTimeout)
	defer cancel()
	r.change.Lock()
	defer r.change.Unlock()
	row, err := readEntity(ctx, r.db, uscc)
	if errors.Is(err, sql.ErrNoRows) {
		r.ix.Delete(uscc)
		return nil
	} else if err != nil {
		return err
	}
	e, derr := row.entity(false)
	if derr != nil {
		r.log.Warn("registry record has unreadable data; indexed from its columns", "uscc", uscc, "err", derr)
	}
	if err := r.ix.Upsert(e); err != nil {
		// Not indexable (no district, no name): nothing a rebuild would change.
		r.ix.Delete(uscc)
		r.log.Warn("registry record cannot be indexed", "uscc", uscc, "err", err)
	}
	return nil
}

// searchCaller is what a portal caller may see of the registry: staff see
// their jurisdiction unmasked — all of the city at city level, their own
// district at district or station level (the district is the second code of
// OrgPath, /310000/310115/…) — and anyone else through the public mask and
// with the same jurisdiction rule, which gives them nothing on a staff route.
func searchCaller(c sdk.Caller) search.Caller {
	sc := search.Caller{Audience: search.Public}
	if c.Audience == "staff" {
		sc.Audience = search.Staff
	}
	if c.Jurisdiction == "city" {
		sc.Scope = search.CityScope()
		return sc
	}
	parts := strings.Split(strings.Trim(c.OrgPath, "/"), "/")
	if len(parts) >= 2 {
		if d, err := registry.ParseDistrict(parts[1]); err == nil && parts[1] == d.String() {
			sc.Scope = search.DistrictScope(d)
		}
	}
	return sc
}

// publicCaller is the public lookup's caller: the whole city, masked.
func publicCaller() search.Caller {
	return search.Caller{Audience: search.Public, Scope: search.CityScope()}
}

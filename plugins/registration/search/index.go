// Package search is the embedded name-search index of the market-entity
// registry: exact code lookup, and Chinese name search that finds any
// two-character fragment, folds full-/half-width characters and brackets,
// down-weights organisation forms (有限公司 …), covers former names (曾用名)
// and pinyin initials (hrxx → 恒瑞信息), with filters (district, status,
// type, establishment date, capital), results limited to the caller's
// jurisdiction (Scope) and masked for the audience (View).
//
// The index lives in memory. Documents are compact records in one byte
// arena; posting lists are sorted []uint32 ordinals in one array. It is
// updated incrementally (Upsert, Delete: visible to the next query) and
// rebuilt without downtime (Rebuild, Compact: a new generation is built in
// the background while queries run on the current one, writes made
// meanwhile are replayed onto it, and it is swapped in atomically).
//
// Incremental updates use tombstones and per-term delta lists: an update
// tombstones the old ordinal and appends the document under a new ordinal,
// whose terms go to small delta lists that are read after the base lists
// (ordinals only grow, so no merge is needed). When tombstones pass
// Options.CompactRatio of the documents, a background compaction builds a
// fresh generation without them and with the delta folded into the base.
//
// WriteTo and ReadFrom (or Load) save and restore a generation as a
// snapshot file, so a restart does not re-index.
package search

import (
	"context"
	"errors"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
)

// Options tune the index; the zero value takes the defaults.
type Options struct {
	// MaxScan bounds the candidates a name query examines (default 20,000).
	// A query whose candidates exceed it — a fragment found in a large part
	// of the registry, such as 科技 or 有限公司 — examines a share of every
	// district's candidates in proportion to its size, returns the best
	// of those and reports Result.Truncated.
	MaxScan int
	// CompactRatio is the share of tombstoned documents that starts a
	// background compaction (default 0.2; negative: never).
	CompactRatio float64
}

func (o Options) withDefaults() Options {
	if o.MaxScan <= 0 {
		o.MaxScan = 20_000
	}
	if o.CompactRatio == 0 {
		o.CompactRatio = 0.2
	}
	return o
}

// Index is the search index. It is safe for concurrent use.
type Index struct {
	opts Options
	cur  atomic.Pointer[segment]

	wmu        sync.Mutex // serialises writers and the swap of generations
	rebuilding bool
	pending    []op // writes made while a rebuild runs, replayed onto it
	kb         keyBuf

	rbmu sync.Mutex // one rebuild at a time
	gen  atomic.Uint64
}

type op struct {
	del  bool
	code [18]byte
	doc  *docIn
}

// ErrNotIndexable is returned for an entity the index cannot hold: a code
// that is not 18 characters, a district outside Shanghai, an empty name.
var ErrNotIndexable = errors.New("search: entity cannot be indexed")

// New returns an empty index.
func New(opts Options) *Index {
	ix := &Index{opts: opts.withDefaults()}
	s, _ := assemble(context.Background(), newTables(), nil)
	ix.install(s)
	return ix
}

// Build indexes entities in bulk, using every CPU. Entities that cannot be
// indexed are skipped; the count of them is returned with the index.
// The index keeps no reference to the entities.
func Build(ents []*registry.Entity, opts Options) (*Index, int, error) {
	ix := &Index{opts: opts.withDefaults()}
	s, bad, err := buildSegment(context.Background(), ents)
	if err != nil {
		return nil, 0, err
	}
	ix.install(s)
	return ix, bad, nil
}

func buildSegment(ctx context.Context, ents []*registry.Entity) (*segment, int, error) {
	start := time.Now()
	tab := newTables()
	stages, bad, err := stageEntities(ctx, ents, tab)
	if err != nil {
		return nil, 0, err
	}
	s, err := assemble(ctx, tab, stages)
	if err != nil {
		return nil, 0, err
	}
	s.buildTook = time.Since(start)
	return s, bad, nil
}

func (ix *Index) install(s *segment) {
	s.gen = ix.gen.Add(1)
	ix.cur.Store(s)
}

// Upsert adds or replaces the entity with e's code; the next query sees
// it. The index copies what it needs and keeps no reference to e.
func (ix *Index) Upsert(e *registry.Entity) error {
	d, err := docFromEntity(e)
	if err != nil {
		return errors.Join(ErrNotIndexable, err)
	}
	ix.apply(op{code: d.code, doc: d})
	return nil
}

// Delete removes the entity with the code; false if it is not indexed.
func (ix *Index) Delete(code string) bool {
	c, ok := normCode(code)
	if !ok {
		return false
	}
	return ix.apply(op{del: true, code: c})
}

func (ix *Index) apply(o op) bool {
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	s := ix.cur.Load()
	s.mu.Lock()
	found := s.applyOp(o, &ix.kb)
	ratio := float64(s.nDeleted) / float64(max(1, s.n()))
	s.mu.Unlock()
	if ix.rebuilding {
		ix.pending = append(ix.pending, o)
	} else if ix.opts.CompactRatio > 0 && ratio > ix.opts.CompactRatio && s.nDeleted >= 64 && ix.rbmu.TryLock() {
		go func() {
			defer ix.rbmu.Unlock()
			_ = ix.compactLocked(context.Background())
		}()
	}
	return found
}

func (s *segment) applyOp(o op, kb *keyBuf) bool {
	if o.del {
		return s.remove(o.code)
	}
	s.add(o.doc, kb)
	return true
}

// Rebuild builds a new generation from src — the registry's records, the
// source of truth — while queries keep running on the current one, then
// swaps it in. Writes made during the rebuild are replayed onto the new
// generation before the swap, so none is lost. src is read once.
func (ix *Index) Rebuild(ctx context.Context, src iter.Seq[*registry.Entity]) error {
	ix.rbmu.Lock()
	defer ix.rbmu.Unlock()
	ix.beginRebuild()
	var ents []*registry.Entity
	for e := range src {
		ents = append(ents, e)
		if len(ents)&0xFFFF == 0 && ctx.Err() != nil {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		ix.abortRebuild()
		return err
	}
	s, _, err := buildSegment(ctx, ents)
	ents = nil
	if err != nil {
		ix.abortRebuild()
		return err
	}
	ix.finishRebuild(s)
	return nil
}

// Compact rebuilds the index from its own live documents — without
// tombstones, with the delta lists folded into the base and the documents
// in district order again — while queries keep running, and swaps it in.
func (ix *Index) Compact(ctx context.Context) error {
	ix.rbmu.Lock()
	defer ix.rbmu.Unlock()
	return ix.compactLocked(ctx)
}

func (ix *Index) compactLocked(ctx context.Context) error {
	start := time.Now()
	st, tab := ix.beginRebuild()
	s, err := assemble(ctx, tab, []*stage{st})
	if err != nil {
		ix.abortRebuild()
		return err
	}
	s.buildTook = time.Since(start)
	ix.finishRebuild(s)
	return nil
}

// beginRebuild starts logging writes and captures the current generation.
func (ix *Index) beginRebuild() (*stage, *tables) {
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	ix.rebuilding, ix.pending = true, nil
	s := ix.cur.Load()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.snapshotStage(), s.tab.clone()
}

func (ix *Index) abortRebuild() {
	ix.wmu.Lock()
	ix.rebuilding, ix.pending = false, nil
	ix.wmu.Unlock()
}

func (ix *Index) finishRebuild(s *segment) {
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	for _, o := range ix.pending {
		s.applyOp(o, &ix.kb)
	}
	ix.rebuilding, ix.pending = false, nil
	ix.install(s)
}

// Stats describe the current generation.
type Stats struct {
	Generation    uint64        `json:"generation"`
	Docs          int           `json:"docs"`        // live documents
	Tombstones    int           `json:"tombstones"`  // deleted or replaced, awaiting compaction
	Incremental   int           `json:"incremental"` // documents added since the generation was built
	Terms         int           `json:"terms"`
	Postings      int           `json:"postings"`
	DeltaPostings int           `json:"delta_postings"`
	RecordBytes   int           `json:"record_bytes"`
	Bytes         int64         `json:"bytes"` // estimated memory of the structures
	Built         time.Time     `json:"built"`
	BuildTook     time.Duration `json:"build_took"`
}

// Stats returns statistics of the current generation.
func (ix *Index) Stats() Stats {
	s := ix.cur.Load()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Stats{
		Generation: s.gen, Docs: s.n() - s.nDeleted, Tombstones: s.nDeleted, Incremental: s.n() - s.baseN,
		Terms: len(s.dict), Postings: len(s.post), DeltaPostings: s.deltaPostings, RecordBytes: len(s.recs),
		Bytes: s.bytes(), Built: s.built, BuildTook: s.buildTook,
	}
}

// Len is the number of live documents.
func (ix *Index) Len() int {
	s := ix.cur.Load()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n() - s.nDeleted
}

package search

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
)

// Terms. A posting list holds the sorted ordinals of the documents that
// contain the term:
//   - every pair of adjacent characters (bigram) of the normalised name and
//     former names, so any query of two or more characters is answered by
//     intersecting its bigrams' lists (and verifying the candidates);
//   - every character of the core (unigram), for one-character queries;
//   - the first 2, 3 and 4 pinyin initials of the core, for initials queries
//     (hrxx → 恒瑞信息); longer initials queries are verified.
//
// A term key takes 56 bits (the kind in bits 54–55), so a key and its
// payload sort together as key<<8 | payload.
const (
	termBigram  uint64 = 1 << 54
	termUnigram uint64 = 2 << 54
	termInitial uint64 = 3 << 54
	maxInitKey         = 4
)

func bigramKey(a, b rune) uint64 { return termBigram | uint64(a)<<21 | uint64(b) }
func unigramKey(r rune) uint64   { return termUnigram | uint64(r) }
func initialKey(p []byte) uint64 {
	k := termInitial | uint64(len(p))<<32
	for i, c := range p {
		k |= uint64(c) << (24 - 8*i)
	}
	return k
}

// Every posting carries a payload byte: the rune position of the term's
// first occurrence in the current name (for initials: 0), or noPos when the
// term occurs only in a former name. With the per-document geometry (name
// length, core, region mark) a query scores most candidates from the
// postings alone and reads a document's record only for its hits, for
// former-name matches and when the positions do not line up.
const noPos = 255

// geom is the shape of a document's current name, in runes.
type geom struct {
	n, lo, hi uint8 // name length; the core is [lo, hi)
	mark      uint8 // start of a region mark such as (上海) inside the core, or noPos
	init      uint8 // length of the core's pinyin initials
}

const markRunes = 4 // (上海)

var regionMarkBytes = [][]byte{[]byte("(上海)"), []byte("(中国)")}

func geomOf(full []byte, coreLo, coreHi int, initLen int) geom {
	g := geom{mark: noPos, init: uint8(min(initLen, 255))}
	n := 0
	for i := 0; i < len(full); {
		if i == coreLo {
			g.lo = uint8(min(n, 255))
		}
		if i == coreHi {
			g.hi = uint8(min(n, 255))
		}
		_, size := utf8.DecodeRune(full[i:])
		i += size
		n++
	}
	g.n = uint8(min(n, 255))
	if coreHi >= len(full) {
		g.hi = g.n
	}
	if coreLo >= len(full) {
		g.lo = g.n
	}
	for _, m := range regionMarkBytes {
		if i := bytes.Index(full[coreLo:coreHi], m); i >= 0 {
			g.mark = uint8(min(utf8.RuneCount(full[:coreLo+i]), noPos))
			break
		}
	}
	return g
}

// plist is a posting list: ordinals and their payloads.
type plist struct {
	ords []uint32
	pos  []uint8
}

// segment is one generation of the index. Documents are numbered by
// ordinal. The bulk-built base (ordinals < baseN) is ordered by district,
// then by status (in business, 歇业, 吊销, the rest), so a district-scoped or
// status-filtered query reads only its buckets' slices of every posting
// list; documents added later (ordinals ≥ baseN) are appended in arrival
// order and their postings kept in small per-term delta lists. Ordinals
// only grow, so every list stays sorted. An update is a delete (tombstone)
// plus an add; compaction builds a fresh segment without tombstones.
type segment struct {
	mu sync.RWMutex

	tab    *tables
	recs   []byte   // record arena
	recOff []uint32 // record start by ordinal
	codes  []byte   // 18 bytes by ordinal
	dist   []uint8  // district index
	status []uint8
	kind   []uint8
	est    []int32
	cap    []int64
	geom   []geom

	deleted  []uint64 // tombstones, a bit per ordinal
	nDeleted int
	byCode   map[[18]byte]uint32

	baseN              int
	bucketLo, bucketHi [buckets]uint32 // base ordinals of (district, status rank)

	dict    map[uint64]uint32 // term → id
	postOff []uint32          // id → start in post; len(terms)+1
	post    []uint32
	pay     []uint8 // payload of post[i]

	delta         map[uint64]plist
	deltaPostings int

	gen       uint64
	built     time.Time
	buildTook time.Duration
}

const (
	ranks   = 4
	buckets = 16 * ranks
)

func (s *segment) n() int { return len(s.recOff) }

func (s *segment) record(ord int) []byte {
	end := len(s.recs)
	if ord+1 < len(s.recOff) {
		end = int(s.recOff[ord+1])
	}
	return s.recs[s.recOff[ord]:end]
}

func (s *segment) isDeleted(ord int) bool { return s.deleted[ord>>6]&(1<<(ord&63)) != 0 }

func (s *segment) tombstone(ord int) {
	if !s.isDeleted(ord) {
		s.deleted[ord>>6] |= 1 << (ord & 63)
		s.nDeleted++
	}
}

func (s *segment) base(key uint64) plist {
	id, ok := s.dict[key]
	if !ok {
		return plist{}
	}
	lo, hi := s.postOff[id], s.postOff[id+1]
	return plist{ords: s.post[lo:hi], pos: s.pay[lo:hi]}
}

// keyPos is a term of a document with its payload.
type keyPos struct {
	key uint64
	pos uint8
}

// keyBuf is scratch space for term extraction.
type keyBuf struct {
	text   []byte
	runes  []rune
	packed []uint64 // key<<8 | pos
	keys   []keyPos
}

func (kb *keyBuf) addName(t *tables, n *nameRef, current bool) {
	kb.text = t.full(kb.text[:0], n)
	kb.runes = kb.runes[:0]
	at := func(i int) uint64 {
		if !current || i >= noPos {
			return noPos
		}
		return uint64(i)
	}
	for i, r := range string(kb.text) {
		if i >= n.coreLo && i < n.coreHi && r != '(' && r != ')' {
			kb.packed = append(kb.packed, unigramKey(r)<<8|at(len(kb.runes)))
		}
		kb.runes = append(kb.runes, r)
	}
	for i := 0; i+1 < len(kb.runes); i++ {
		kb.packed = append(kb.packed, bigramKey(kb.runes[i], kb.runes[i+1])<<8|at(i))
	}
	for l := 2; l <= maxInitKey && l <= len(n.init); l++ {
		kb.packed = append(kb.packed, initialKey(n.init[:l])<<8|at(0))
	}
}

// docKeys returns the distinct terms of a document, each with its first
// position in the current name (valid until the next call).
func (s *segment) docKeys(ord int, kb *keyBuf) []keyPos {
	kb.packed = kb.packed[:0]
	r := decodeRecord(s.record(ord))
	kb.addName(s.tab, &r.name, true)
	rest := r.formers
	for range r.nFormers {
		var f nameRef
		f, rest = decodeName(rest)
		kb.addName(s.tab, &f, false)
	}
	slices.Sort(kb.packed)
	kb.keys = kb.keys[:0]
	for _, p := range kb.packed {
		k := p >> 8
		if n := len(kb.keys); n > 0 && kb.keys[n-1].key == k {
			continue // the lowest position comes first
		}
		kb.keys = append(kb.keys, keyPos{k, uint8(p)})
	}
	return kb.keys
}

// add appends a document (the caller holds the write lock); an existing
// document with the same code is tombstoned first.
func (s *segment) add(d *docIn, kb *keyBuf) {
	if old, ok := s.byCode[d.code]; ok {
		s.tombstone(int(old))
	}
	ord := s.n()
	s.recOff = append(s.recOff, uint32(len(s.recs)))
	s.recs = appendRecord(s.recs, d, &internCache{t: s.tab, locked: true})
	s.codes = append(s.codes, d.code[:]...)
	s.dist = append(s.dist, d.district)
	s.status = append(s.status, d.status)
	s.kind = append(s.kind, d.kind)
	s.est = append(s.est, d.est)
	s.cap = append(s.cap, d.capital)
	s.geom = append(s.geom, d.geom)
	if ord>>6 >= len(s.deleted) {
		s.deleted = append(s.deleted, 0)
	}
	s.byCode[d.code] = uint32(ord)
	if s.delta == nil {
		s.delta = make(map[uint64]plist)
	}
	for _, k := range s.docKeys(ord, kb) {
		l := s.delta[k.key]
		l.ords = append(l.ords, uint32(ord))
		l.pos = append(l.pos, k.pos)
		s.delta[k.key] = l
		s.deltaPostings++
	}
}

// remove tombstones the document with the code.
func (s *segment) remove(code [18]byte) bool {
	ord, ok := s.byCode[code]
	if !ok {
		return false
	}
	delete(s.byCode, code)
	s.tombstone(int(ord))
	return true
}

// statusRank orders documents inside a district: in business first.
func statusRank(st uint8) int {
	switch registry.Status(st) {
	case registry.StatusActive, registry.StatusOperating:
		return 0
	case registry.StatusSuspended:
		return 1
	case registry.StatusRevoked:
		return 2
	}
	return 3
}

// staged documents, before they are ordered: records, columns, and the
// tombstones to skip (compaction).
type stage struct {
	recs    []byte
	recOff  []uint32
	codes   []byte
	dist    []uint8
	status  []uint8
	kind    []uint8
	est     []int32
	cap     []int64
	geom    []geom
	deleted []uint64 // nil: none
}

func (st *stage) n() int { return len(st.recOff) }

func (st *stage) record(i int) []byte {
	end := len(st.recs)
	if i+1 < len(st.recOff) {
		end = int(st.recOff[i+1])
	}
	return st.recs[st.recOff[i]:end]
}

func (st *stage) skip(i int) bool {
	return st.deleted != nil && st.deleted[i>>6]&(1<<(i&63)) != 0
}

func (st *stage) append(d *docIn, c *internCache) {
	st.recOff = append(st.recOff, uint32(len(st.recs)))
	st.recs = appendRecord(st.recs, d, c)
	st.codes = append(st.codes, d.code[:]...)
	st.dist = append(st.dist, d.district)
	st.status = append(st.status, d.status)
	st.kind = append(st.kind, d.kind)
	st.est = append(st.est, d.est)
	st.cap = append(st.cap, d.capital)
	st.geom = append(st.geom, d.geom)
}

func workers() int { return max(1, runtime.GOMAXPROCS(0)) }

// parallel runs fn over [0, n) split into contiguous parts, one per worker.
func parallel(n int, fn func(w, lo, hi int)) {
	nw := workers()
	var wg sync.WaitGroup
	for w := range nw {
		lo, hi := n*w/nw, n*(w+1)/nw
		wg.Add(1)
		go func() { defer wg.Done(); fn(w, lo, hi) }()
	}
	wg.Wait()
}

// stageEntities encodes entities in parallel, one stage per worker, in
// input order. Entities that cannot be indexed are skipped and counted.
func stageEntities(ctx context.Context, ents []*registry.Entity, tab *tables) ([]*stage, int, error) {
	nw := workers()
	stages := make([]*stage, nw)
	bad := make([]int, nw)
	parallel(len(ents), func(w, lo, hi int) {
		st := &stage{}
		c := &internCache{t: tab, pre: map[string]uint16{}, suf: map[string]uint16{}}
		for i := lo; i < hi; i++ {
			if i&0xFFF == 0 && ctx.Err() != nil {
				return
			}
			d, err := docFromEntity(ents[i])
			if err != nil {
				bad[w]++
				continue
			}
			st.append(d, c)
		}
		stages[w] = st
	})
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	nbad := 0
	for _, b := range bad {
		nbad += b
	}
	return stages, nbad, nil
}

// assemble orders the staged documents (by district, then status rank,
// then input order), drops tombstoned ones and resolves duplicate codes
// (the later one wins), and builds the postings.
func assemble(ctx context.Context, tab *tables, stages []*stage) (*segment, error) {
	start := time.Now()
	var count [buckets]int
	total, recBytes := 0, 0
	for _, st := range stages {
		for i := range st.n() {
			if st.skip(i) {
				continue
			}
			count[int(st.dist[i])*ranks+statusRank(st.status[i])]++
			total++
			recBytes += len(st.record(i))
		}
	}
	s := &segment{
		tab:     tab,
		recs:    make([]byte, recBytes),
		recOff:  make([]uint32, total),
		codes:   make([]byte, 18*total),
		dist:    make([]uint8, total),
		status:  make([]uint8, total),
		kind:    make([]uint8, total),
		est:     make([]int32, total),
		cap:     make([]int64, total),
		geom:    make([]geom, total),
		deleted: make([]uint64, (total+63)/64),
		byCode:  make(map[[18]byte]uint32, total),
		baseN:   total,
	}
	var next [buckets]int
	acc := 0
	for b := range buckets {
		next[b] = acc
		acc += count[b]
	}
	for b := range buckets {
		s.bucketLo[b], s.bucketHi[b] = uint32(next[b]), uint32(next[b]+count[b])
	}
	// Ordinals and record lengths first, then offsets, then copies.
	type place struct{ st, i int32 }
	from := make([]place, total)
	for si, st := range stages {
		for i := range st.n() {
			if st.skip(i) {
				continue
			}
			b := int(st.dist[i])*ranks + statusRank(st.status[i])
			from[next[b]] = place{int32(si), int32(i)}
			next[b]++
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	off := 0
	for ord, p := range from {
		st := stages[p.st]
		i := int(p.i)
		r := st.record(i)
		s.recOff[ord] = uint32(off)
		off += copy(s.recs[off:], r)
		copy(s.codes[18*ord:], st.codes[18*i:18*i+18])
		s.dist[ord], s.status[ord], s.kind[ord] = st.dist[i], st.status[i], st.kind[i]
		s.est[ord], s.cap[ord], s.geom[ord] = st.est[i], st.cap[i], st.geom[i]
	}
	// Codes: a later duplicate replaces an earlier one (input order is
	// stage order, then position).
	for ord, p := range from {
		var c [18]byte
		copy(c[:], s.codes[18*ord:])
		if prev, ok := s.byCode[c]; ok {
			q := from[prev]
			if q.st > p.st || q.st == p.st && q.i > p.i {
				s.tombstone(ord)
				continue
			}
			s.tombstone(int(prev))
		}
		s.byCode[c] = uint32(ord)
	}
	from = nil
	if err := s.buildPostings(ctx); err != nil {
		return nil, err
	}
	s.built = time.Now()
	s.buildTook = time.Since(start)
	return s, nil
}

// buildPostings fills dict/postOff/post for the base documents: workers
// count terms over contiguous ordinal ranges, the counts become offsets,
// and the workers fill their own part of every list, so lists come out
// sorted without a sort.
func (s *segment) buildPostings(ctx context.Context) error {
	nw := workers()
	n := s.n()
	counts := make([]map[uint64]uint32, nw)
	parallel(n, func(w, lo, hi int) {
		m := make(map[uint64]uint32, 1<<15)
		kb := &keyBuf{}
		for ord := lo; ord < hi; ord++ {
			if ord&0xFFF == 0 && ctx.Err() != nil {
				return
			}
			if s.isDeleted(ord) {
				continue
			}
			for _, k := range s.docKeys(ord, kb) {
				m[k.key]++
			}
		}
		counts[w] = m
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	keys := make([]uint64, 0, len(counts[0])*2)
	seen := make(map[uint64]uint32, len(counts[0])*2)
	for _, m := range counts {
		for k, c := range m {
			if _, ok := seen[k]; !ok {
				keys = append(keys, k)
			}
			seen[k] += c
		}
	}
	slices.Sort(keys)
	s.dict = make(map[uint64]uint32, len(keys))
	s.postOff = make([]uint32, len(keys)+1)
	total := uint64(0)
	for id, k := range keys {
		s.dict[k] = uint32(id)
		s.postOff[id] = uint32(total)
		total += uint64(seen[k])
	}
	if total >= 1<<32 {
		panic("search: more than 2^32 postings")
	}
	s.postOff[len(keys)] = uint32(total)
	seen = nil
	cursors := make([][]uint32, nw)
	for w := range nw {
		cur := make([]uint32, len(keys))
		for id, k := range keys {
			if w == 0 {
				cur[id] = s.postOff[id]
			} else {
				cur[id] = cursors[w-1][id] + counts[w-1][k]
			}
		}
		cursors[w] = cur
	}
	counts = nil
	s.post = make([]uint32, total)
	s.pay = make([]uint8, total)
	parallel(n, func(w, lo, hi int) {
		kb := &keyBuf{}
		cur := cursors[w]
		for ord := lo; ord < hi; ord++ {
			if ord&0xFFF == 0 && ctx.Err() != nil {
				return
			}
			if s.isDeleted(ord) {
				continue
			}
			for _, k := range s.docKeys(ord, kb) {
				id := s.dict[k.key]
				s.post[cur[id]] = uint32(ord)
				s.pay[cur[id]] = k.pos
				cur[id]++
			}
		}
	})
	return ctx.Err()
}

// snapshotStage captures the live documents of s for compaction (the
// caller holds s.mu for reading). Records and columns are append-only, so
// the captured slices stay valid while writers keep appending.
func (s *segment) snapshotStage() *stage {
	return &stage{
		recs: s.recs[:len(s.recs):len(s.recs)], recOff: s.recOff[:len(s.recOff):len(s.recOff)],
		codes: s.codes, dist: s.dist, status: s.status, kind: s.kind, est: s.est, cap: s.cap, geom: s.geom,
		deleted: slices.Clone(s.deleted),
	}
}

// sizes reports the memory held by the segment's structures, estimated
// from lengths and capacities (maps at ~40 bytes an entry).
func (s *segment) bytes() int64 {
	b := int64(cap(s.recs)) + 4*int64(cap(s.recOff)) + int64(cap(s.codes)) +
		int64(cap(s.dist)+cap(s.status)+cap(s.kind)) + 4*int64(cap(s.est)) + 8*int64(cap(s.cap)) +
		5*int64(cap(s.geom)) + 8*int64(cap(s.deleted)) + 40*int64(len(s.byCode)) + 28*int64(len(s.dict)) +
		4*int64(cap(s.postOff)) + 5*int64(cap(s.post)) + 64*int64(len(s.delta))
	for _, l := range s.delta {
		b += 4*int64(cap(l.ords)) + int64(cap(l.pos))
	}
	for _, t := range s.tab.prefix {
		b += int64(len(t)) + 40
	}
	for _, t := range s.tab.suffix {
		b += int64(len(t)) + 40
	}
	return b
}

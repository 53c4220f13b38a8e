package search

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
)

// Query is a name search with filters. Every filter is optional; an empty
// Text lists the entities that pass the filters.
type Query struct {
	// Text is a name fragment (two characters or more find any part of a
	// name; one character finds trade names and industry words), a full
	// name, pinyin initials of the trade name (hrxx), or a code.
	Text            string
	Districts       []registry.District // within the caller's scope
	Statuses        []registry.Status
	Kinds           []registry.Kind
	EstablishedFrom time.Time // inclusive, by day; zero: open
	EstablishedTo   time.Time // inclusive, by day; zero: open
	CapitalMin      int64     // fen, inclusive; 0: open
	CapitalMax      int64     // fen, inclusive; 0: open
	Limit           int       // hits to return: default DefaultLimit, at most MaxLimit
	Offset          int       // best hits to skip, for paging: 0 to MaxOffset
}

// Hit is one result: the entity as the caller may see it, its score and
// what matched (code, name, former_name, initials, or "" for a filter-only
// listing).
type Hit struct {
	View
	Score   int    `json:"score"`
	Matched string `json:"matched,omitempty"`
}

// Result of a search.
type Result struct {
	Hits []Hit `json:"hits"`
	// Total counts the matches. It is exact unless Truncated: then the
	// query's candidates exceeded Options.MaxScan, a share of each
	// district's candidates was examined, the hits are the best of those,
	// and Total is extrapolated from them (an estimate, "约 N 条").
	Total      int    `json:"total"`
	Truncated  bool   `json:"truncated"`
	Examined   int    `json:"examined"`
	Generation uint64 `json:"generation"`
}

// ErrQuery reports an unusable query.
var ErrQuery = errors.New("search: bad query")

// Bounds of a query.
const (
	// DefaultLimit is the number of hits when Query.Limit is 0.
	DefaultLimit = 20
	// MaxLimit caps Query.Limit.
	MaxLimit = 100
	// MaxOffset caps Query.Offset: paging reaches the best MaxOffset +
	// MaxLimit hits of a query, which keeps the ranking heap small. A
	// caller wanting more narrows the query with filters.
	MaxOffset = 1000
	// MaxQueryRunes caps the length of Query.Text after normalisation.
	MaxQueryRunes = 60
)

// Scores. A match that touches the core (trade name or industry) beats one
// in the region (上海, 浦东新区 …), which beats one only in the
// organisation form (有限公司 …): a query such as 有限公司 does not rank
// names by their form. Bonuses: the match starts the trade name, starts
// the name, is the whole name; coverage (the query is a larger part of a
// shorter name); in business. Former names count half.
const (
	scoreCore      = 1000
	scoreRegion    = 400
	scoreForm      = 100
	bonusCoreStart = 200
	bonusPrefix    = 100
	bonusExact     = 2000
	bonusCoverage  = 300
	bonusLive      = 30
	scoreInitials  = 600
	scoreCode      = 10000
)

var matchNames = [...]string{"", "code", "name", "former_name", "initials"}

const (
	matchNone uint8 = iota
	matchCode
	matchName
	matchFormer
	matchInitials
)

type filter struct {
	dmask            uint32
	smask            uint32
	kmask            uint64
	estLo, estHi     int32
	hasLo, hasHi     bool
	capLo, capHi     int64
	hasCapLo, hasCap bool
}

func makeFilter(c Caller, q Query) (filter, error) {
	f := filter{dmask: c.Scope.mask}
	if len(q.Districts) > 0 {
		var m uint32
		for _, d := range q.Districts {
			i := d.Index()
			if i < 0 {
				return f, fmt.Errorf("%w: %d is not a Shanghai district", ErrQuery, d)
			}
			m |= 1 << i
		}
		f.dmask &= m
	}
	for _, st := range q.Statuses {
		f.smask |= 1 << (st & 31)
	}
	for _, k := range q.Kinds {
		f.kmask |= 1 << (k & 63)
	}
	if !q.EstablishedFrom.IsZero() {
		f.estLo, f.hasLo = dayOf(q.EstablishedFrom), true
	}
	if !q.EstablishedTo.IsZero() {
		f.estHi, f.hasHi = dayOf(q.EstablishedTo), true
	}
	if f.hasLo && f.hasHi && f.estLo > f.estHi {
		return f, fmt.Errorf("%w: established from is after established to", ErrQuery)
	}
	if q.CapitalMin < 0 || q.CapitalMax < 0 || q.CapitalMax > 0 && q.CapitalMin > q.CapitalMax {
		return f, fmt.Errorf("%w: capital range", ErrQuery)
	}
	f.capLo, f.hasCapLo = q.CapitalMin, q.CapitalMin > 0
	f.capHi, f.hasCap = q.CapitalMax, q.CapitalMax > 0
	return f, nil
}

func (f *filter) pass(s *segment, ord uint32, district bool) bool {
	if district && f.dmask&(1<<s.dist[ord]) == 0 {
		return false
	}
	if f.smask != 0 && f.smask&(1<<s.status[ord]) == 0 {
		return false
	}
	if f.kmask != 0 && f.kmask&(1<<s.kind[ord]) == 0 {
		return false
	}
	if f.hasLo && s.est[ord] < f.estLo || f.hasHi && s.est[ord] > f.estHi {
		return false
	}
	if f.hasCapLo && s.cap[ord] < f.capLo || f.hasCap && s.cap[ord] > f.capHi {
		return false
	}
	return true
}

type cand struct {
	score int32
	ord   uint32
	how   uint8
}

// worse orders candidates: lower score, then later ordinal.
func worse(a, b cand) bool { return a.score < b.score || a.score == b.score && a.ord > b.ord }

// topK keeps the k best candidates in a min-heap.
type topK struct {
	k int
	h []cand
}

func (t *topK) push(c cand) {
	if len(t.h) < t.k {
		t.h = append(t.h, c)
		for i := len(t.h) - 1; i > 0; {
			p := (i - 1) / 2
			if !worse(t.h[i], t.h[p]) {
				break
			}
			t.h[i], t.h[p] = t.h[p], t.h[i]
			i = p
		}
		return
	}
	if t.k == 0 || !worse(t.h[0], c) {
		return
	}
	t.h[0] = c
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(t.h) && worse(t.h[l], t.h[m]) {
			m = l
		}
		if r < len(t.h) && worse(t.h[r], t.h[m]) {
			m = r
		}
		if m == i {
			break
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

// span is a range of ordinals: one (district, status rank) bucket of the
// base, or the incremental documents (which need the district check).
type span struct {
	lo, hi uint32
	delta  bool
}

// lref is a posting list restricted to a span, with the offset of its
// term in the query (the rune position of a bigram).
type lref struct {
	plist
	off int
}

type searcher struct {
	s         *segment
	f         filter
	maxScan   int
	q         []byte // normalised query
	qn        int    // its length in runes
	top       topK
	text      []byte
	lists     []lref
	pos       []int
	spans     []span
	found     []uint32 // documents the text search found (sorted), skipped by the initials search
	verify    bool     // positions are not proof: read every candidate's record
	total     int
	estimate  int // matches expected among candidates not examined
	examined  int
	truncated bool
}

var searchers = sync.Pool{New: func() any { return &searcher{} }}

func lowerBound(l []uint32, x uint32) int {
	lo, hi := 0, len(l)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// gallop finds the first position ≥ from holding a value ≥ x.
func gallop(l []uint32, from int, x uint32) int {
	if from >= len(l) || l[from] >= x {
		return from
	}
	step := 1
	lo := from
	hi := from + 1
	for hi < len(l) && l[hi] < x {
		lo = hi
		step <<= 1
		hi = from + step
	}
	if hi > len(l) {
		hi = len(l)
	}
	return lo + 1 + lowerBound(l[lo+1:hi], x)
}

// setSpans picks the buckets the caller's scope and the filters allow.
func (sr *searcher) setSpans() {
	sr.spans = sr.spans[:0]
	s := sr.s
	var rankOK [ranks]bool
	for st := range 32 {
		if sr.f.smask == 0 || sr.f.smask&(1<<st) != 0 {
			rankOK[statusRank(uint8(st))] = true
		}
	}
	for b := range buckets {
		if sr.f.dmask&(1<<(b/ranks)) != 0 && rankOK[b%ranks] && s.bucketHi[b] > s.bucketLo[b] {
			sr.spans = append(sr.spans, span{lo: s.bucketLo[b], hi: s.bucketHi[b]})
		}
	}
	if s.n() > s.baseN {
		sr.spans = append(sr.spans, span{lo: uint32(s.baseN), hi: uint32(s.n()), delta: true})
	}
}

// listsFor collects the posting lists of the terms in a span, shortest
// first; nil when one is empty.
func (sr *searcher) listsFor(keys []keyPos, sp span) []lref {
	sr.lists = sr.lists[:0]
	for _, k := range keys {
		var l plist
		if sp.delta {
			l = sr.s.delta[k.key]
		} else {
			b := sr.s.base(k.key)
			i := lowerBound(b.ords, sp.lo)
			j := i + lowerBound(b.ords[i:], sp.hi)
			l = plist{ords: b.ords[i:j], pos: b.pos[i:j]}
		}
		if len(l.ords) == 0 {
			return nil
		}
		sr.lists = append(sr.lists, lref{plist: l, off: int(k.pos)})
	}
	slices.SortFunc(sr.lists, func(a, b lref) int { return len(a.ords) - len(b.ords) })
	return sr.lists
}

// run visits the candidates of the terms in every span, within budget:
// those in all lists that pass the filters. visit gets the rune position
// of the match in the current name when the payloads show it, else -1.
func (sr *searcher) run(keys []keyPos, visit func(ord uint32, p int)) {
	// Budget: in proportion to each span's shortest list when the total
	// exceeds MaxScan. Incremental documents are few and always examined.
	total := 0
	for _, sp := range sr.spans {
		if !sp.delta {
			if ls := sr.listsFor(keys, sp); ls != nil {
				total += len(ls[0].ords)
			}
		}
	}
	for _, sp := range sr.spans {
		ls := sr.listsFor(keys, sp)
		if ls == nil {
			continue
		}
		budget := -1
		if !sp.delta && total > sr.maxScan {
			budget = sr.maxScan*len(ls[0].ords)/total + 1
		}
		sr.intersect(ls, budget, sp.delta, visit)
	}
}

func (sr *searcher) intersect(ls []lref, budget int, district bool, visit func(uint32, int)) {
	driver, others := ls[0], ls[1:]
	sr.pos = sr.pos[:0]
	for range others {
		sr.pos = append(sr.pos, 0)
	}
	s := sr.s
	examined := 0
	t0 := sr.total
scan:
	for vi, ord := range driver.ords {
		if budget >= 0 && (examined >= budget || vi >= 8*budget) {
			sr.truncated = true
			sr.extrapolate(t0, vi, len(driver.ords))
			break
		}
		if s.isDeleted(int(ord)) {
			continue
		}
		pd := driver.pos[vi]
		p := int(pd) - driver.off
		known := pd != noPos && p >= 0 && !sr.verify
		for j := range others {
			l := &others[j]
			q := gallop(l.ords, sr.pos[j], ord)
			sr.pos[j] = q
			if q == len(l.ords) {
				break scan // no later candidate can be in every list
			}
			if l.ords[q] != ord {
				continue scan
			}
			if known && (l.pos[q] == noPos || int(l.pos[q])-l.off != p) {
				known = false // not lined up in the current name: read the record
			}
		}
		if !sr.f.pass(s, ord, district) {
			continue
		}
		examined++
		if !known {
			p = -1
		}
		visit(ord, p)
	}
	sr.examined += examined
}

// scoreAt scores a match of qn runes at rune p of a name shaped g.
func scoreAt(p, qn int, g geom) int {
	end := p + qn
	lo, hi, n := int(g.lo), int(g.hi), int(g.n)
	inMark := g.mark != noPos && p >= int(g.mark) && end <= int(g.mark)+markRunes
	sc := scoreForm
	switch {
	case p < hi && end > lo && !inMark:
		sc = scoreCore
	case end <= lo || p < hi:
		sc = scoreRegion
	}
	if p == lo {
		sc += bonusCoreStart
	}
	if p == 0 {
		sc += bonusPrefix
	}
	if qn == n {
		sc += bonusExact
	}
	if n > 0 {
		sc += bonusCoverage * qn / n
	}
	return sc
}

// scoreText scores the query against one name read from its record, 0 if
// it does not occur: the best of its occurrences.
func (sr *searcher) scoreText(n *nameRef) int {
	sr.text = sr.s.tab.full(sr.text[:0], n)
	t, q := sr.text, sr.q
	if !bytes.Contains(t, q) {
		return 0
	}
	g := geomOf(t, n.coreLo, n.coreHi, len(n.init))
	best, runes, last := 0, 0, 0
	for from := 0; from+len(q) <= len(t); {
		i := bytes.Index(t[from:], q)
		if i < 0 {
			break
		}
		p := from + i
		runes += utf8.RuneCount(t[last:p])
		last = p
		best = max(best, scoreAt(runes, sr.qn, g))
		_, size := utf8.DecodeRune(t[p:])
		from = p + size
	}
	return best
}

// extrapolate adds to the estimate the matches expected among the
// candidates of a span that were not visited.
func (sr *searcher) extrapolate(totalBefore, visited, candidates int) {
	if visited > 0 {
		sr.estimate += (sr.total - totalBefore) * (candidates - visited) / visited
	}
}

func (sr *searcher) live(ord uint32) int {
	if registry.Status(sr.s.status[ord]).InBusiness() {
		return bonusLive
	}
	return 0
}

func (sr *searcher) visitText(ord uint32, p int) {
	best, how := 0, matchName
	if p >= 0 {
		best = scoreAt(p, sr.qn, sr.s.geom[ord])
	} else {
		r := decodeRecord(sr.s.record(int(ord)))
		best = sr.scoreText(&r.name)
		rest := r.formers
		for range r.nFormers {
			var f nameRef
			f, rest = decodeName(rest)
			if sc := sr.scoreText(&f) / 2; sc > best {
				best, how = sc, matchFormer
			}
		}
		if best == 0 {
			return // the bigrams occur, but not together
		}
	}
	sr.total++
	sr.found = append(sr.found, ord)
	sr.top.push(cand{score: int32(best + sr.live(ord)), ord: ord, how: how})
}

func scoreInit(initLen, qlen int) int {
	sc := scoreInitials + bonusCoverage*qlen/max(1, initLen)
	if qlen == initLen {
		sc += bonusCoverage
	}
	return sc
}

func (sr *searcher) visitInitials(ord uint32, p int) {
	if _, ok := slices.BinarySearch(sr.found, ord); ok {
		return // found by the text search already
	}
	q := sr.q
	best := 0
	if p == 0 && len(q) <= maxInitKey { // the key is the whole query
		best = scoreInit(int(sr.s.geom[ord].init), len(q))
	} else {
		r := decodeRecord(sr.s.record(int(ord)))
		if bytes.HasPrefix(r.name.init, q) {
			best = scoreInit(len(r.name.init), len(q))
		}
		rest := r.formers
		for range r.nFormers {
			var f nameRef
			f, rest = decodeName(rest)
			if bytes.HasPrefix(f.init, q) {
				best = max(best, scoreInit(len(f.init), len(q))/2)
			}
		}
	}
	if best == 0 {
		return
	}
	sr.total++
	sr.top.push(cand{score: int32(best + sr.live(ord)), ord: ord, how: matchInitials})
}

func isInitials(q []byte) bool {
	for _, c := range q {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return len(q) >= 2
}

// scanAll lists the documents passing the filters (an empty query).
func (sr *searcher) scanAll() {
	s := sr.s
	total := 0
	for _, sp := range sr.spans {
		if !sp.delta {
			total += int(sp.hi - sp.lo)
		}
	}
	for _, sp := range sr.spans {
		budget := -1
		if !sp.delta && total > sr.maxScan {
			budget = sr.maxScan*int(sp.hi-sp.lo)/total + 1
		}
		examined := 0
		t0 := sr.total
		for ord := sp.lo; ord < sp.hi; ord++ {
			if budget >= 0 && (examined >= budget || int(ord-sp.lo) >= 8*budget) {
				sr.truncated = true
				sr.extrapolate(t0, int(ord-sp.lo), int(sp.hi-sp.lo))
				break
			}
			if s.isDeleted(int(ord)) || !sr.f.pass(s, ord, sp.delta) {
				continue
			}
			examined++
			sr.total++
			sr.top.push(cand{score: int32(sr.live(ord)), ord: ord})
		}
		sr.examined += examined
	}
}

// Search runs a query for a caller: only entities in the caller's scope
// are considered, and hits are masked for the caller's audience.
func (ix *Index) Search(c Caller, q Query) (*Result, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	if q.Offset < 0 || q.Offset > MaxOffset {
		return nil, fmt.Errorf("%w: offset %d is not between 0 and %d", ErrQuery, q.Offset, MaxOffset)
	}
	f, err := makeFilter(c, q)
	if err != nil {
		return nil, err
	}
	qn := appendNorm(nil, q.Text)
	if utf8.RuneCount(qn) > MaxQueryRunes {
		return nil, fmt.Errorf("%w: more than %d characters", ErrQuery, MaxQueryRunes)
	}
	s := ix.cur.Load()
	s.mu.RLock()
	defer s.mu.RUnlock()
	res := &Result{Generation: s.gen}
	if f.dmask == 0 {
		return res, nil
	}
	sr := searchers.Get().(*searcher)
	defer searchers.Put(sr)
	*sr = searcher{s: s, f: f, maxScan: ix.opts.MaxScan, q: qn, qn: utf8.RuneCount(qn),
		top:  topK{k: q.Offset + limit, h: sr.top.h[:0]},
		text: sr.text[:0], lists: sr.lists[:0], pos: sr.pos[:0], spans: sr.spans[:0], found: sr.found[:0]}
	sr.setSpans()

	done := false
	if code, ok := normCode(q.Text); ok {
		if ord, ok := s.byCode[code]; ok {
			done = true
			if f.pass(s, ord, true) {
				sr.total++
				sr.top.push(cand{score: scoreCode, ord: ord, how: matchCode})
			}
		}
	}
	switch {
	case done:
	case len(qn) == 0:
		sr.scanAll()
	default:
		var keys []keyPos
		var prev rune = -1
		i := 0
		for _, r := range string(qn) {
			if prev >= 0 {
				keys = append(keys, keyPos{bigramKey(prev, r), uint8(min(i-1, noPos-1))})
			}
			prev = r
			i++
		}
		if len(keys) == 0 {
			keys = append(keys, keyPos{unigramKey(prev), 0})
		}
		slices.SortFunc(keys, func(a, b keyPos) int {
			if a.key != b.key {
				return cmp.Compare(a.key, b.key)
			}
			return cmp.Compare(a.pos, b.pos)
		})
		n := len(keys)
		keys = slices.CompactFunc(keys, func(a, b keyPos) bool { return a.key == b.key })
		// A repeated bigram (哈哈哈) is one list: first positions cannot
		// prove the whole query occurs, so every candidate is verified.
		sr.verify = len(keys) < n
		sr.run(keys, sr.visitText)
		sr.verify = false
		if isInitials(qn) {
			sr.run([]keyPos{{initialKey(qn[:min(len(qn), maxInitKey)]), 0}}, sr.visitInitials)
		}
	}
	res.Total, res.Truncated, res.Examined = sr.total+sr.estimate, sr.truncated, sr.examined
	hs := sr.top.h
	slices.SortFunc(hs, func(a, b cand) int {
		if worse(a, b) {
			return 1
		}
		if worse(b, a) {
			return -1
		}
		return 0
	})
	hs = hs[min(q.Offset, len(hs)):]
	res.Hits = make([]Hit, len(hs))
	for i, h := range hs {
		res.Hits[i] = Hit{View: s.view(h.ord, c.Audience), Score: int(h.score), Matched: matchNames[h.how]}
	}
	return res, nil
}

// Lookup finds an entity by its code (full-width or lower-case input is
// folded); false when there is none in the caller's scope.
func (ix *Index) Lookup(c Caller, code string) (View, bool) {
	k, ok := normCode(code)
	if !ok {
		return View{}, false
	}
	s := ix.cur.Load()
	s.mu.RLock()
	defer s.mu.RUnlock()
	ord, ok := s.byCode[k]
	if !ok || c.Scope.mask&(1<<s.dist[ord]) == 0 {
		return View{}, false
	}
	return s.view(ord, c.Audience), true
}

func (s *segment) nameString(n *nameRef) string {
	if len(n.display) > 0 {
		return string(n.display)
	}
	return string(s.tab.full(nil, n))
}

// view renders a document for an audience (the caller holds s.mu).
func (s *segment) view(ord uint32, a Audience) View {
	r := decodeRecord(s.record(int(ord)))
	d := registry.Districts[s.dist[ord]]
	v := View{
		Code:         string(s.codes[18*ord : 18*ord+18]),
		Name:         s.nameString(&r.name),
		Status:       registry.Status(s.status[ord]),
		District:     d.String(),
		DistrictName: d.Name(),
		LegalRep:     string(r.rep),
	}
	if s.est[ord] != 0 {
		v.Established = dateOf(s.est[ord]).Format("2006-01-02")
	}
	if a != Staff {
		v.LegalRep = MaskPerson(v.LegalRep)
		return v
	}
	v.Kind = registry.Kind(s.kind[ord]).String()
	v.Capital = s.cap[ord]
	rest := r.formers
	for range r.nFormers {
		var f nameRef
		f, rest = decodeName(rest)
		v.FormerNames = append(v.FormerNames, s.nameString(&f))
	}
	return v
}

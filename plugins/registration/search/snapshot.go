package search

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"time"
)

// Snapshots: WriteTo writes the current generation — records, columns,
// posting lists with payloads, delta lists and tombstones — as flat
// little-endian arrays with a CRC-32 trailer; ReadFrom loads one and swaps
// it in like a rebuild, so a process restarts without re-indexing. The
// maps (term dictionary, codes) are rebuilt on load.

const snapshotMagic = "AMRIDX1\n"

// ErrSnapshot reports a damaged or foreign snapshot.
var ErrSnapshot = errors.New("search: bad snapshot")

type snapWriter struct {
	w   *bufio.Writer
	crc hash.Hash32
	n   int64
	err error
	buf []byte
}

func (w *snapWriter) write(b []byte) {
	if w.err != nil {
		return
	}
	w.crc.Write(b)
	m, err := w.w.Write(b)
	w.n += int64(m)
	w.err = err
}

func (w *snapWriter) u64(v uint64) { w.write(binary.LittleEndian.AppendUint64(w.buf[:0], v)) }

func (w *snapWriter) bytes(b []byte) {
	w.u64(uint64(len(b)))
	w.write(b)
}

// chunk writes the scratch buffer when it is nearly full (or when forced).
func (w *snapWriter) chunk(force bool) {
	if force || len(w.buf) >= 1<<16 {
		w.write(w.buf)
		w.buf = w.buf[:0]
	}
}

func (w *snapWriter) u32s(v []uint32) { writeFixed(w, v, binary.LittleEndian.AppendUint32) }
func (w *snapWriter) u64s(v []uint64) { writeFixed(w, v, binary.LittleEndian.AppendUint64) }

// writeFixed writes an array of fixed-size values, its length first.
func writeFixed[T any](w *snapWriter, v []T, put func([]byte, T) []byte) {
	w.u64(uint64(len(v)))
	w.buf = w.buf[:0]
	for _, x := range v {
		w.buf = put(w.buf, x)
		w.chunk(false)
	}
	w.chunk(true)
}

func (w *snapWriter) strings(v []string) {
	w.u64(uint64(len(v)))
	for _, s := range v {
		w.bytes([]byte(s))
	}
}

// WriteTo writes a snapshot of the current generation. Queries go on while
// it writes; writers wait.
func (ix *Index) WriteTo(out io.Writer) (int64, error) {
	s := ix.cur.Load()
	s.mu.RLock()
	defer s.mu.RUnlock()
	w := &snapWriter{w: bufio.NewWriterSize(out, 1<<20), crc: crc32.NewIEEE(), buf: make([]byte, 0, 1<<16+64)}
	w.write([]byte(snapshotMagic))
	w.strings(s.tab.prefix)
	w.strings(s.tab.suffix)
	w.bytes(s.recs)
	w.u32s(s.recOff)
	w.bytes(s.codes)
	w.bytes(s.dist)
	w.bytes(s.status)
	w.bytes(s.kind)
	est := make([]uint32, len(s.est))
	for i, v := range s.est {
		est[i] = uint32(v)
	}
	w.u32s(est)
	capital := make([]uint64, len(s.cap))
	for i, v := range s.cap {
		capital[i] = uint64(v)
	}
	w.u64s(capital)
	g := make([]byte, 0, 5*len(s.geom))
	for _, x := range s.geom {
		g = append(g, x.n, x.lo, x.hi, x.mark, x.init)
	}
	w.bytes(g)
	w.u64s(s.deleted)
	w.u64(uint64(s.baseN))
	w.u32s(s.bucketLo[:])
	w.u32s(s.bucketHi[:])
	keys := make([]uint64, len(s.dict))
	for k, id := range s.dict {
		keys[id] = k
	}
	w.u64s(keys)
	w.u32s(s.postOff)
	w.u32s(s.post)
	w.bytes(s.pay)
	w.u64(uint64(len(s.delta)))
	for k, l := range s.delta {
		w.u64(k)
		w.u32s(l.ords)
		w.bytes(l.pos)
	}
	sum := w.crc.Sum32()
	w.u64(uint64(sum))
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return w.n, w.err
}

type snapReader struct {
	r   *bufio.Reader
	crc hash.Hash32
	n   int64
	err error
	buf [8]byte
}

const maxSnapArray = 1 << 34

func (r *snapReader) read(b []byte) {
	if r.err != nil {
		return
	}
	m, err := io.ReadFull(r.r, b)
	r.n += int64(m)
	r.crc.Write(b[:m])
	r.err = err
}

func (r *snapReader) u64() uint64 {
	r.read(r.buf[:])
	return binary.LittleEndian.Uint64(r.buf[:])
}

func (r *snapReader) length(size int) int {
	n := r.u64()
	if r.err == nil && n*uint64(size) > maxSnapArray {
		r.err = fmt.Errorf("%w: array of %d", ErrSnapshot, n)
	}
	if r.err != nil {
		return 0
	}
	return int(n)
}

// Arrays are read a chunk at a time, so a damaged length fails at the end
// of the input instead of allocating it up front.
const readChunk = 1 << 16

func (r *snapReader) bytes() []byte {
	n := r.length(1)
	v := make([]byte, 0, min(n, readChunk))
	for len(v) < n && r.err == nil {
		k := min(n-len(v), readChunk)
		v = append(v, make([]byte, k)...)
		r.read(v[len(v)-k:])
	}
	return v
}

func (r *snapReader) u32s() []uint32 { return readFixed(r, 4, binary.LittleEndian.Uint32) }
func (r *snapReader) u64s() []uint64 { return readFixed(r, 8, binary.LittleEndian.Uint64) }

// readFixed reads an array of size-byte values written by writeFixed.
func readFixed[T any](r *snapReader, size int, get func([]byte) T) []T {
	n := r.length(size)
	v := make([]T, 0, min(n, readChunk))
	b := make([]byte, size*min(n, readChunk))
	for len(v) < n && r.err == nil {
		k := min(n-len(v), readChunk)
		r.read(b[:size*k])
		for j := range k {
			v = append(v, get(b[size*j:]))
		}
	}
	return v
}

func (r *snapReader) strings() []string {
	n := r.length(1)
	v := make([]string, 0, min(n, readChunk))
	for len(v) < n && r.err == nil {
		v = append(v, string(r.bytes()))
	}
	return v
}

// ReadFrom loads a snapshot written by WriteTo and swaps it in as a new
// generation; queries run on the current one meanwhile. Writes made while
// it loads are replayed onto it.
func (ix *Index) ReadFrom(in io.Reader) (int64, error) {
	ix.rbmu.Lock()
	defer ix.rbmu.Unlock()
	start := time.Now()
	ix.beginRebuild()
	s, n, err := readSegment(in)
	if err != nil {
		ix.abortRebuild()
		return n, err
	}
	s.built, s.buildTook = time.Now(), time.Since(start)
	ix.finishRebuild(s)
	return n, nil
}

// Load reads a snapshot into a new index.
func Load(in io.Reader, opts Options) (*Index, error) {
	ix := &Index{opts: opts.withDefaults()}
	s, _, err := readSegment(in)
	if err != nil {
		return nil, err
	}
	s.built = time.Now()
	ix.install(s)
	return ix, nil
}

func readSegment(in io.Reader) (*segment, int64, error) {
	r := &snapReader{r: bufio.NewReaderSize(in, 1<<20), crc: crc32.NewIEEE()}
	magic := make([]byte, len(snapshotMagic))
	r.read(magic)
	if r.err == nil && string(magic) != snapshotMagic {
		return nil, r.n, fmt.Errorf("%w: not an index snapshot", ErrSnapshot)
	}
	s := &segment{tab: newTables()}
	pre, suf := r.strings(), r.strings()
	s.recs = r.bytes()
	s.recOff = r.u32s()
	s.codes = r.bytes()
	s.dist, s.status, s.kind = r.bytes(), r.bytes(), r.bytes()
	est := r.u32s()
	capital := r.u64s()
	g := r.bytes()
	s.deleted = r.u64s()
	s.baseN = int(r.u64())
	lo, hi := r.u32s(), r.u32s()
	keys := r.u64s()
	s.postOff = r.u32s()
	s.post = r.u32s()
	s.pay = r.bytes()
	nd := r.length(1)
	s.delta = make(map[uint64]plist, min(nd, readChunk))
	for i := 0; i < nd && r.err == nil; i++ {
		k := r.u64()
		l := plist{ords: r.u32s(), pos: r.bytes()}
		s.delta[k] = l
		s.deltaPostings += len(l.ords)
	}
	want := uint64(r.crc.Sum32())
	got := r.u64()
	if r.err != nil {
		return nil, r.n, fmt.Errorf("%w: %v", ErrSnapshot, r.err)
	}
	n := len(s.recOff)
	if got != want || len(pre) == 0 || len(suf) == 0 || len(s.codes) != 18*n || len(s.dist) != n || len(s.status) != n ||
		len(s.kind) != n || len(est) != n || len(capital) != n || len(g) != 5*n || len(s.deleted) < (n+63)/64 ||
		len(lo) != buckets || len(hi) != buckets || len(s.postOff) != len(keys)+1 || len(s.pay) != len(s.post) || s.baseN > n {
		return nil, r.n, fmt.Errorf("%w: inconsistent or corrupt (crc %08x, want %08x)", ErrSnapshot, got, want)
	}
	for i, off := range s.recOff {
		if int(off) > len(s.recs) || i > 0 && off < s.recOff[i-1] {
			return nil, r.n, fmt.Errorf("%w: record offsets", ErrSnapshot)
		}
	}
	for _, ord := range s.post {
		if int(ord) >= n {
			return nil, r.n, fmt.Errorf("%w: posting out of range", ErrSnapshot)
		}
	}
	if len(s.postOff) > 0 && int(s.postOff[len(s.postOff)-1]) != len(s.post) {
		return nil, r.n, fmt.Errorf("%w: posting offsets", ErrSnapshot)
	}
	s.tab = &tables{prefix: pre, suffix: suf}
	s.tab = s.tab.clone()
	s.est = make([]int32, n)
	s.cap = make([]int64, n)
	s.geom = make([]geom, n)
	for i := range n {
		s.est[i], s.cap[i] = int32(est[i]), int64(capital[i])
		s.geom[i] = geom{n: g[5*i], lo: g[5*i+1], hi: g[5*i+2], mark: g[5*i+3], init: g[5*i+4]}
	}
	copy(s.bucketLo[:], lo)
	copy(s.bucketHi[:], hi)
	s.dict = make(map[uint64]uint32, len(keys))
	for id, k := range keys {
		s.dict[k] = uint32(id)
	}
	s.byCode = make(map[[18]byte]uint32, n)
	for ord := range n {
		if s.isDeleted(ord) {
			s.nDeleted++
			continue
		}
		var c [18]byte
		copy(c[:], s.codes[18*ord:])
		s.byCode[c] = uint32(ord)
	}
	return s, r.n, nil
}

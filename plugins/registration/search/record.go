package search

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
)

// A document is stored as a compact record in one byte arena (no pointers,
// nothing for the GC to scan). Names are stored normalised, split as
// region + core + form: the region (上海, 上海市浦东新区张江镇 …) and the form
// (有限公司 …) repeat across millions of names, so they are interned in
// tables and stored as 2-byte ids; only the core is stored inline.
//
//	record := nFormers u8 | name | repLen u8 | rep | former × nFormers
//	name   := prefixID u16 | suffixID u16 | coreLo u8 | coreHi u8 |
//	          midLen u8 | mid | initLen u8 | initials | dispLen u8 | display
//
// full text = prefix[prefixID] + mid + suffix[suffixID]; coreLo/coreHi are
// byte offsets of the core in the full text; initials are the pinyin
// initials of the core; display is the name as registered when it differs
// from the normalised text (full-width brackets, spaces, capitals).

const maxText = 255 // bytes of a normalised name, display name or legal rep

// nameIn is a name ready to encode.
type nameIn struct {
	norm           string
	display        string // "" when equal to norm
	coreLo, coreHi int
	init           string
}

// docIn is a document ready to encode: what the index keeps of an entity.
type docIn struct {
	code     [18]byte
	name     nameIn
	formers  []nameIn
	rep      string
	district uint8 // index in registry.Districts
	status   uint8
	kind     uint8
	est      int32 // days since 1970-01-01
	capital  int64
	geom     geom
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func makeName(raw string) nameIn {
	raw = strings.TrimSpace(raw)
	norm := truncate(Normalize(raw), maxText)
	lo, hi := splitName(norm)
	n := nameIn{norm: norm, coreLo: lo, coreHi: hi}
	if raw != norm {
		n.display = truncate(raw, maxText)
	}
	n.init = truncate(Initials(coreForInitials(norm[lo:hi])), maxText)
	return n
}

// normCode folds a code for lookup: full-width to half-width, upper case,
// spaces dropped. ok is false unless 18 characters remain.
func normCode(s string) (c [18]byte, ok bool) {
	n := 0
	for _, r := range s {
		r = foldRune(r)
		if r < 0 {
			continue
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		if r >= 0x80 || n == 18 {
			return c, false
		}
		c[n] = byte(r)
		n++
	}
	return c, n == 18
}

// Day numbers: days since 1970-01-01 of a date in China Standard Time.
func dayOf(t time.Time) int32 {
	if t.IsZero() {
		return 0
	}
	y, m, d := t.In(registry.CST).Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func dateOf(day int32) time.Time {
	y, m, d := time.Unix(int64(day)*86400, 0).UTC().Date()
	return registry.Date(y, m, d)
}

func docFromEntity(e *registry.Entity) (*docIn, error) {
	code, ok := normCode(e.Code)
	if !ok {
		return nil, fmt.Errorf("search: code %q is not 18 characters", e.Code)
	}
	di := e.District.Index()
	if di < 0 {
		return nil, fmt.Errorf("search: %s: district %d is not in Shanghai", e.Code, e.District)
	}
	d := &docIn{
		code:     code,
		name:     makeName(e.Name),
		rep:      truncate(e.LegalRep, maxText),
		district: uint8(di),
		status:   uint8(e.Status),
		kind:     uint8(e.Kind),
		est:      dayOf(e.Established),
		capital:  e.Capital,
	}
	if d.name.norm == "" {
		return nil, fmt.Errorf("search: %s: empty name", e.Code)
	}
	d.geom = geomOf([]byte(d.name.norm), d.name.coreLo, d.name.coreHi, len(d.name.init))
	for _, f := range e.FormerNames {
		if len(d.formers) == 255 {
			break
		}
		if n := makeName(f); n.norm != "" && n.norm != d.name.norm {
			d.formers = append(d.formers, n)
		}
	}
	return d, nil
}

// tables intern the region prefixes and form suffixes; id 0 is "".
type tables struct {
	mu       sync.Mutex // guards interning while a bulk build runs in parallel
	prefix   []string
	suffix   []string
	prefixID map[string]uint16
	suffixID map[string]uint16
}

const maxTable = 1<<16 - 1

func newTables() *tables {
	return &tables{prefix: []string{""}, suffix: []string{""},
		prefixID: map[string]uint16{"": 0}, suffixID: map[string]uint16{"": 0}}
}

func (t *tables) clone() *tables {
	c := &tables{prefix: slices.Clone(t.prefix), suffix: slices.Clone(t.suffix),
		prefixID: make(map[string]uint16, len(t.prefix)), suffixID: make(map[string]uint16, len(t.suffix))}
	for i, s := range c.prefix {
		c.prefixID[s] = uint16(i)
	}
	for i, s := range c.suffix {
		c.suffixID[s] = uint16(i)
	}
	return c
}

// intern returns the id of s, adding it; ok is false when the table is full.
func intern(list *[]string, ids map[string]uint16, s string) (uint16, bool) {
	if id, ok := ids[s]; ok {
		return id, true
	}
	if len(*list) >= maxTable {
		return 0, false
	}
	id := uint16(len(*list))
	*list = append(*list, s)
	ids[s] = id
	return id, true
}

// internCache is a per-worker cache in front of the shared tables.
type internCache struct {
	t      *tables
	locked bool // the caller holds the segment's write lock: no t.mu needed
	pre    map[string]uint16
	suf    map[string]uint16
}

func (c *internCache) ids(prefix, suffix string) (pid, sid uint16, pok, sok bool) {
	if id, ok := c.pre[prefix]; ok {
		pid, pok = id, true
	}
	if id, ok := c.suf[suffix]; ok {
		sid, sok = id, true
	}
	if pok && sok {
		return
	}
	if !c.locked {
		c.t.mu.Lock()
		defer c.t.mu.Unlock()
	}
	if !pok {
		if pid, pok = intern(&c.t.prefix, c.t.prefixID, prefix); pok && c.pre != nil {
			c.pre[prefix] = pid
		}
	}
	if !sok {
		if sid, sok = intern(&c.t.suffix, c.t.suffixID, suffix); sok && c.suf != nil {
			c.suf[suffix] = sid
		}
	}
	return
}

func appendName(dst []byte, n *nameIn, c *internCache) []byte {
	pre, mid, suf := n.norm[:n.coreLo], n.norm[n.coreLo:n.coreHi], n.norm[n.coreHi:]
	pid, sid, pok, sok := c.ids(pre, suf)
	if !pok { // table full: keep the text inline
		pid, mid = 0, pre+mid
	}
	if !sok {
		sid, mid = 0, mid+suf
	}
	dst = binary.LittleEndian.AppendUint16(dst, pid)
	dst = binary.LittleEndian.AppendUint16(dst, sid)
	dst = append(dst, byte(n.coreLo), byte(n.coreHi), byte(len(mid)))
	dst = append(dst, mid...)
	dst = append(dst, byte(len(n.init)))
	dst = append(dst, n.init...)
	dst = append(dst, byte(len(n.display)))
	return append(dst, n.display...)
}

func appendRecord(dst []byte, d *docIn, c *internCache) []byte {
	dst = append(dst, byte(len(d.formers)))
	dst = appendName(dst, &d.name, c)
	dst = append(dst, byte(len(d.rep)))
	dst = append(dst, d.rep...)
	for i := range d.formers {
		dst = appendName(dst, &d.formers[i], c)
	}
	return dst
}

// nameRef is a decoded name; its slices point into the arena.
type nameRef struct {
	pid, sid       uint16
	coreLo, coreHi int
	mid, init      []byte
	display        []byte
}

func decodeName(b []byte) (n nameRef, rest []byte) {
	n.pid = binary.LittleEndian.Uint16(b)
	n.sid = binary.LittleEndian.Uint16(b[2:])
	n.coreLo, n.coreHi = int(b[4]), int(b[5])
	l := int(b[6])
	n.mid, b = b[7:7+l], b[7+l:]
	l = int(b[0])
	n.init, b = b[1:1+l], b[1+l:]
	l = int(b[0])
	n.display, b = b[1:1+l], b[1+l:]
	return n, b
}

// full appends the normalised text of n.
func (t *tables) full(dst []byte, n *nameRef) []byte {
	dst = append(dst, t.prefix[n.pid]...)
	dst = append(dst, n.mid...)
	return append(dst, t.suffix[n.sid]...)
}

// recordRef is a decoded record header.
type recordRef struct {
	name     nameRef
	rep      []byte
	nFormers int
	formers  []byte // the encoded former names
}

func decodeRecord(b []byte) recordRef {
	var r recordRef
	r.nFormers = int(b[0])
	r.name, b = decodeName(b[1:])
	l := int(b[0])
	r.rep, r.formers = b[1:1+l], b[1+l:]
	return r
}

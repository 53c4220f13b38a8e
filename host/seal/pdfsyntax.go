package seal

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reads and writes as much PDF syntax (ISO 32000-1, 7.2–7.3) as
// signing and verification need: dictionaries and arrays are parsed into
// values that can be changed and written back; numbers, strings, booleans
// and null are kept exactly as written.

// pdfObject is a parsed direct object.
type pdfObject interface {
	writeTo(b *bytes.Buffer)
}

type (
	// pdfName is a name, decoded (#xx escapes resolved), without the solidus.
	pdfName string
	// pdfRef is an indirect reference "num gen R".
	pdfRef struct{ num, gen int }
	// pdfArray is an array.
	pdfArray []pdfObject
	// pdfAtom is a number, boolean, null, literal or hex string, as written.
	pdfAtom []byte
	// pdfDict is a dictionary with its keys in file order. offs holds the
	// file offset of each value as parsed (-1 for values set later).
	pdfDict struct {
		keys []pdfName
		vals []pdfObject
		offs []int
	}
)

// Limits that keep hostile input from exhausting the stack or the CPU.
const (
	maxNesting   = 64     // arrays and dictionaries within each other
	maxRevisions = 1000   // cross-reference sections followed through /Prev
	maxPageNodes = 100000 // page tree nodes visited
)

func (n pdfName) writeTo(b *bytes.Buffer) {
	b.WriteByte('/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < '!' || c > '~' || c == '#' || isDelim(c) {
			fmt.Fprintf(b, "#%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
}

func (r pdfRef) writeTo(b *bytes.Buffer) { fmt.Fprintf(b, "%d %d R", r.num, r.gen) }

func (a pdfAtom) writeTo(b *bytes.Buffer) { b.Write(a) }

func (a pdfArray) writeTo(b *bytes.Buffer) {
	b.WriteByte('[')
	for i, v := range a {
		if i > 0 {
			b.WriteByte(' ')
		}
		v.writeTo(b)
	}
	b.WriteByte(']')
}

func (d *pdfDict) writeTo(b *bytes.Buffer) {
	b.WriteString("<<")
	for i, k := range d.keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		k.writeTo(b)
		b.WriteByte(' ')
		d.vals[i].writeTo(b)
	}
	b.WriteString(">>")
}

func (d *pdfDict) index(k pdfName) int {
	for i, key := range d.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// get returns the value of k, or nil.
func (d *pdfDict) get(k pdfName) pdfObject {
	if i := d.index(k); i >= 0 {
		return d.vals[i]
	}
	return nil
}

// offset returns the file offset of k's value, or -1.
func (d *pdfDict) offset(k pdfName) int {
	if i := d.index(k); i >= 0 {
		return d.offs[i]
	}
	return -1
}

// set replaces k's value or appends k.
func (d *pdfDict) set(k pdfName, v pdfObject) {
	if i := d.index(k); i >= 0 {
		d.vals[i], d.offs[i] = v, -1
		return
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	d.offs = append(d.offs, -1)
}

// clone copies the dictionary itself; its values are shared.
func (d *pdfDict) clone() *pdfDict {
	return &pdfDict{keys: append([]pdfName(nil), d.keys...), vals: append([]pdfObject(nil), d.vals...), offs: append([]int(nil), d.offs...)}
}

// isName reports whether o is the name n.
func isName(o pdfObject, n pdfName) bool {
	v, ok := o.(pdfName)
	return ok && v == n
}

// integer returns the atom's value if it is an integer.
func (a pdfAtom) integer() (int64, bool) {
	if !isInteger(a) {
		return 0, false
	}
	v, err := strconv.ParseInt(string(a), 10, 64)
	return v, err == nil
}

func isWhite(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isUnsigned: one to ten digits.
func isUnsigned(t []byte) bool {
	if len(t) == 0 || len(t) > 10 {
		return false
	}
	for _, c := range t {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func isInteger(t []byte) bool {
	if len(t) > 0 && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	return isUnsigned(t)
}

func isReal(t []byte) bool {
	if len(t) > 0 && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	digits, dots := 0, 0
	for _, c := range t {
		switch {
		case isDigit(c):
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1 && len(t) <= 32
}

// unsigned parses a non-negative integer token no larger than max.
func unsigned(t []byte, max int64) (int64, bool) {
	if !isUnsigned(t) {
		return 0, false
	}
	v, err := strconv.ParseInt(string(t), 10, 64)
	return v, err == nil && v <= max
}

// lexer reads PDF tokens and objects from b starting at pos.
type lexer struct {
	b   []byte
	pos int
}

func (l *lexer) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: byte %d: %s", ErrMalformed, l.pos, fmt.Sprintf(format, args...))
}

// skip passes white space and comments.
func (l *lexer) skip() {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		switch {
		case isWhite(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

// regular reads a run of regular characters: a number or a keyword; empty
// at a delimiter or the end.
func (l *lexer) regular() []byte {
	start := l.pos
	for l.pos < len(l.b) && !isWhite(l.b[l.pos]) && !isDelim(l.b[l.pos]) {
		l.pos++
	}
	return l.b[start:l.pos]
}

// token skips white space and reads a regular token.
func (l *lexer) token() []byte {
	l.skip()
	return l.regular()
}

// object parses one direct object.
func (l *lexer) object(depth int) (pdfObject, error) {
	if depth > maxNesting {
		return nil, l.errorf("objects nested more than %d deep", maxNesting)
	}
	l.skip()
	if l.pos >= len(l.b) {
		return nil, l.errorf("unexpected end of file")
	}
	switch c := l.b[l.pos]; c {
	case '/':
		l.pos++
		return l.name(), nil
	case '(':
		return l.literal()
	case '<':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '<' {
			l.pos += 2
			return l.dict(depth)
		}
		return l.hex()
	case '[':
		l.pos++
		return l.array(depth)
	case ')', '>', ']', '{', '}':
		return nil, l.errorf("unexpected %q", c)
	}
	start := l.pos
	tok := l.regular()
	switch {
	case isUnsigned(tok):
		// Perhaps a reference: "num gen R".
		after := l.pos
		if gen := l.token(); isUnsigned(gen) {
			if r := l.token(); string(r) == "R" {
				num, ok1 := unsigned(tok, 1<<31-1)
				g, ok2 := unsigned(gen, 65535)
				if ok1 && ok2 {
					return pdfRef{int(num), int(g)}, nil
				}
			}
		}
		l.pos = after
		return pdfAtom(tok), nil
	case isReal(tok), string(tok) == "true", string(tok) == "false", string(tok) == "null":
		return pdfAtom(tok), nil
	}
	l.pos = start
	if len(tok) > 20 {
		tok = tok[:20]
	}
	return nil, l.errorf("unexpected %q", tok)
}

// name reads a name after its solidus.
func (l *lexer) name() pdfName {
	raw := l.regular()
	if bytes.IndexByte(raw, '#') < 0 {
		return pdfName(raw)
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw) {
			if v, err := strconv.ParseUint(string(raw[i+1:i+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 2
				continue
			}
		}
		out = append(out, raw[i])
	}
	return pdfName(out)
}

// literal reads a (string), balanced parentheses and escapes included.
func (l *lexer) literal() (pdfObject, error) {
	start, depth := l.pos, 0
	for ; l.pos < len(l.b); l.pos++ {
		switch l.b[l.pos] {
		case '\\':
			l.pos++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				l.pos++
				return pdfAtom(l.b[start:l.pos]), nil
			}
		}
	}
	l.pos = start
	return nil, l.errorf("unterminated string")
}

// hex reads a <hex string>.
func (l *lexer) hex() (pdfObject, error) {
	start := l.pos
	for l.pos++; l.pos < len(l.b); l.pos++ {
		c := l.b[l.pos]
		switch {
		case c == '>':
			l.pos++
			return pdfAtom(l.b[start:l.pos]), nil
		case isWhite(c) || isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
		default:
			l.pos = start
			return nil, l.errorf("bad character %q in a hex string", c)
		}
	}
	l.pos = start
	return nil, l.errorf("unterminated hex string")
}

func (l *lexer) array(depth int) (pdfObject, error) {
	var a pdfArray
	for {
		l.skip()
		if l.pos >= len(l.b) {
			return nil, l.errorf("unterminated array")
		}
		if l.b[l.pos] == ']' {
			l.pos++
			return a, nil
		}
		v, err := l.object(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}

func (l *lexer) dict(depth int) (pdfObject, error) {
	d := &pdfDict{}
	for {
		l.skip()
		if l.pos >= len(l.b) {
			return nil, l.errorf("unterminated dictionary")
		}
		if bytes.HasPrefix(l.b[l.pos:], []byte(">>")) {
			l.pos += 2
			return d, nil
		}
		if l.b[l.pos] != '/' {
			return nil, l.errorf("dictionary key is not a name")
		}
		l.pos++
		key := l.name()
		if d.index(key) >= 0 {
			// A repeated key makes the dictionary mean different things to
			// different readers: refuse it rather than pick one.
			return nil, l.errorf("key /%s repeated", key)
		}
		l.skip()
		off := l.pos
		v, err := l.object(depth + 1)
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, key)
		d.vals = append(d.vals, v)
		d.offs = append(d.offs, off)
	}
}

// readIndirect reads the indirect object "num gen obj … endobj" at off.
// stream says the object is a stream's dictionary; its data is not read.
func readIndirect(b []byte, off int64) (num, gen int, obj pdfObject, stream bool, err error) {
	if off < 0 || off >= int64(len(b)) {
		return 0, 0, nil, false, fmt.Errorf("%w: object offset %d outside the file", ErrMalformed, off)
	}
	l := &lexer{b: b, pos: int(off)}
	n, ok1 := unsigned(l.token(), 1<<31-1)
	g, ok2 := unsigned(l.token(), 65535)
	if kw := l.token(); !ok1 || !ok2 || string(kw) != "obj" {
		return 0, 0, nil, false, fmt.Errorf("%w: no object at byte %d", ErrMalformed, off)
	}
	if obj, err = l.object(0); err != nil {
		return 0, 0, nil, false, err
	}
	switch kw := l.token(); string(kw) {
	case "endobj":
	case "stream":
		stream = true
	default:
		return 0, 0, nil, false, l.errorf("object %d: no endobj", n)
	}
	return int(n), int(g), obj, stream, nil
}

// textString encodes s as a PDF text string: a literal string if it is
// printable ASCII, otherwise UTF-16BE with a byte order mark, in hex.
func textString(s string) pdfAtom {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			ascii = false
			break
		}
	}
	var b bytes.Buffer
	if ascii {
		b.WriteByte('(')
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '(' || c == ')' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		b.WriteByte(')')
		return b.Bytes()
	}
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteByte('>')
	return b.Bytes()
}

// stringBytes returns the bytes a literal or hex string atom stands for.
func stringBytes(a pdfAtom) ([]byte, bool) {
	if len(a) < 2 {
		return nil, false
	}
	switch {
	case a[0] == '<' && a[len(a)-1] == '>':
		return decodeHex(a[1 : len(a)-1]), true
	case a[0] == '(' && a[len(a)-1] == ')':
		return unescapeLiteral(a[1 : len(a)-1]), true
	}
	return nil, false
}

// decodeHex decodes hex digits, ignoring white space; an odd final digit is
// followed by 0, as the PDF specification says.
func decodeHex(h []byte) []byte {
	out := make([]byte, 0, len(h)/2)
	var hi byte
	half := false
	for _, c := range h {
		var v byte
		switch {
		case isDigit(c):
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			continue
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return out
}

func unescapeLiteral(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' { // an end of line in a string reads as \n
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			out = append(out, '\n')
			continue
		}
		if c != '\\' || i+1 == len(s) {
			out = append(out, c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case '\r': // line continuation
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case '\n':
		default:
			if e >= '0' && e <= '7' {
				v := int(e - '0')
				for k := 0; k < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; k++ {
					i++
					v = v*8 + int(s[i]-'0')
				}
				out = append(out, byte(v))
			} else {
				out = append(out, e)
			}
		}
	}
	return out
}

// decodeText reads a text string: UTF-16BE with a byte order mark, UTF-8
// with one (PDF 2.0), or else PDFDocEncoding, read as Latin-1 (they agree on
// printable ASCII, which is what a text string without a mark holds in
// practice).
func decodeText(o pdfObject) string {
	a, ok := o.(pdfAtom)
	if !ok {
		return ""
	}
	b, ok := stringBytes(a)
	if !ok {
		return ""
	}
	switch {
	case len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF:
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(u))
	case len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF && utf8.Valid(b[3:]):
		return string(b[3:])
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

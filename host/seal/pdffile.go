package seal

import (
	"bytes"
	"fmt"
)

// pdfFile is a PDF's object directory: the cross-reference tables of all its
// revisions, merged, and the newest trailer.
type pdfFile struct {
	b         []byte
	xref      map[int]xrefEntry
	trailer   *pdfDict
	startxref int64 // offset of the newest cross-reference section
}

type xrefEntry struct {
	off  int64
	gen  int
	free bool
}

// parsePDF reads the cross-reference from the last startxref back through
// /Prev. It refuses cross-reference streams and encrypted files
// (ErrUnsupportedPDF) and anything it cannot follow (ErrMalformed).
func parsePDF(b []byte) (*pdfFile, error) {
	if bytes.Index(b[:min(len(b), 1024)], []byte("%PDF-")) < 0 {
		return nil, fmt.Errorf("%w: not a PDF (no %%PDF- header)", ErrMalformed)
	}
	i := bytes.LastIndex(b, []byte("startxref"))
	if i < 0 {
		return nil, fmt.Errorf("%w: no startxref (the file is truncated?)", ErrMalformed)
	}
	l := &lexer{b: b, pos: i + len("startxref")}
	off, ok := unsigned(l.token(), int64(len(b)-1))
	if !ok {
		return nil, fmt.Errorf("%w: startxref does not give an offset inside the file", ErrMalformed)
	}
	f := &pdfFile{b: b, xref: map[int]xrefEntry{}, startxref: off}
	seen := map[int64]bool{}
	for {
		if seen[off] {
			return nil, fmt.Errorf("%w: the /Prev chain loops at byte %d", ErrMalformed, off)
		}
		if len(seen) == maxRevisions {
			return nil, fmt.Errorf("%w: more than %d revisions", ErrMalformed, maxRevisions)
		}
		seen[off] = true
		trailer, err := f.readSection(off)
		if err != nil {
			return nil, err
		}
		if f.trailer == nil {
			f.trailer = trailer
		}
		if trailer.get("Encrypt") != nil {
			return nil, fmt.Errorf("%w: the file is encrypted", ErrUnsupportedPDF)
		}
		prev := trailer.get("Prev")
		if prev == nil {
			break
		}
		a, _ := prev.(pdfAtom)
		p, ok := unsigned(a, int64(len(b)-1))
		if !ok {
			return nil, fmt.Errorf("%w: trailer /Prev is not an offset inside the file", ErrMalformed)
		}
		off = p
	}
	if _, ok := f.trailer.get("Root").(pdfRef); !ok {
		return nil, fmt.Errorf("%w: the trailer has no /Root reference", ErrMalformed)
	}
	return f, nil
}

// readSection reads the cross-reference table at off into f.xref (entries
// already known from a newer revision win) and returns its trailer.
func (f *pdfFile) readSection(off int64) (*pdfDict, error) {
	l := &lexer{b: f.b, pos: int(off)}
	if kw := l.token(); string(kw) != "xref" {
		if isUnsigned(kw) {
			return nil, fmt.Errorf("%w: the cross-reference at byte %d is a stream (a compressed cross-reference, PDF 1.5 and later); "+
				"only classic cross-reference tables are supported", ErrUnsupportedPDF, off)
		}
		return nil, fmt.Errorf("%w: no cross-reference table at byte %d (startxref or /Prev is wrong)", ErrMalformed, off)
	}
	for {
		at := l.pos
		tok := l.token()
		if string(tok) == "trailer" {
			break
		}
		start, ok1 := unsigned(tok, 1<<31-1)
		count, ok2 := unsigned(l.token(), 1<<31-1)
		if !ok1 || !ok2 || start+count > 1<<31-1 {
			return nil, fmt.Errorf("%w: bad cross-reference subsection at byte %d", ErrMalformed, at)
		}
		for n := start; n < start+count; n++ {
			o, ok1 := unsigned(l.token(), 1<<40)
			g, ok2 := unsigned(l.token(), 65535)
			kind := string(l.token())
			if !ok1 || !ok2 || kind != "n" && kind != "f" {
				return nil, fmt.Errorf("%w: bad cross-reference entry for object %d near byte %d", ErrMalformed, n, l.pos)
			}
			if _, known := f.xref[int(n)]; !known {
				f.xref[int(n)] = xrefEntry{off: o, gen: int(g), free: kind == "f"}
			}
		}
	}
	l.skip()
	if !bytes.HasPrefix(f.b[l.pos:], []byte("<<")) {
		return nil, fmt.Errorf("%w: the trailer at byte %d is not a dictionary", ErrMalformed, l.pos)
	}
	t, err := l.object(0)
	if err != nil {
		return nil, err
	}
	return t.(*pdfDict), nil
}

// size is the first free object number: /Size, or more if the table says so.
func (f *pdfFile) size() int {
	a, _ := f.trailer.get("Size").(pdfAtom)
	n, _ := unsigned(a, 1<<31-2)
	size := int(n)
	for num := range f.xref {
		if num >= size {
			size = num + 1
		}
	}
	return size
}

// object reads the object r refers to. Streams are refused: nothing here
// needs their data.
func (f *pdfFile) object(r pdfRef) (pdfObject, error) {
	e, ok := f.xref[r.num]
	if !ok || e.free || e.gen != r.gen {
		return nil, fmt.Errorf("%w: object %d %d is not in the cross-reference table", ErrMalformed, r.num, r.gen)
	}
	num, gen, obj, stream, err := readIndirect(f.b, e.off)
	if err != nil {
		return nil, err
	}
	if num != r.num || gen != r.gen {
		return nil, fmt.Errorf("%w: the cross-reference entry for object %d points at object %d", ErrMalformed, r.num, num)
	}
	if stream {
		return nil, fmt.Errorf("%w: object %d is a stream, not a dictionary or array", ErrMalformed, r.num)
	}
	return obj, nil
}

// resolve follows o if it is a reference.
func (f *pdfFile) resolve(o pdfObject) (pdfObject, error) {
	if r, ok := o.(pdfRef); ok {
		return f.object(r)
	}
	return o, nil
}

// dict resolves o to a dictionary; what names it for errors.
func (f *pdfFile) dict(o pdfObject, what string) (*pdfDict, error) {
	v, err := f.resolve(o)
	if err != nil {
		return nil, err
	}
	d, ok := v.(*pdfDict)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a dictionary", ErrMalformed, what)
	}
	return d, nil
}

// array resolves o to an array; nil (absent) is an empty array.
func (f *pdfFile) array(o pdfObject, what string) (pdfArray, error) {
	if o == nil {
		return nil, nil
	}
	v, err := f.resolve(o)
	if err != nil {
		return nil, err
	}
	a, ok := v.(pdfArray)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not an array", ErrMalformed, what)
	}
	return a, nil
}

// catalog returns the document catalog and its reference.
func (f *pdfFile) catalog() (pdfRef, *pdfDict, error) {
	ref := f.trailer.get("Root").(pdfRef)
	d, err := f.dict(ref, "the catalog (/Root)")
	if err != nil {
		return ref, nil, err
	}
	return ref, d, nil
}

// walkPages calls fn with each page in order, until fn returns false.
func (f *pdfFile) walkPages(fn func(n int, ref pdfRef, page *pdfDict) bool) error {
	_, cat, err := f.catalog()
	if err != nil {
		return err
	}
	root, ok := cat.get("Pages").(pdfRef)
	if !ok {
		return fmt.Errorf("%w: the catalog has no /Pages reference", ErrMalformed)
	}
	type frame struct {
		kids pdfArray
		next int
	}
	var stack []frame
	visited := map[pdfRef]bool{}
	page := 0
	node := root
	for {
		if visited[node] {
			return fmt.Errorf("%w: the page tree loops at object %d", ErrMalformed, node.num)
		}
		if len(visited) == maxPageNodes || len(stack) > maxNesting {
			return fmt.Errorf("%w: the page tree is too large or too deep", ErrMalformed)
		}
		visited[node] = true
		d, err := f.dict(node, fmt.Sprintf("page tree node %d", node.num))
		if err != nil {
			return err
		}
		typ := d.get("Type")
		if kids := d.get("Kids"); isName(typ, "Pages") || kids != nil && !isName(typ, "Page") {
			a, err := f.array(kids, fmt.Sprintf("/Kids of object %d", node.num))
			if err != nil {
				return err
			}
			stack = append(stack, frame{kids: a})
		} else {
			page++
			if !fn(page, node, d) {
				return nil
			}
		}
		// Next: the first unvisited kid up the stack.
		for {
			if len(stack) == 0 {
				return nil
			}
			top := &stack[len(stack)-1]
			if top.next < len(top.kids) {
				kid, ok := top.kids[top.next].(pdfRef)
				top.next++
				if !ok {
					return fmt.Errorf("%w: a page tree /Kids entry is not a reference", ErrMalformed)
				}
				node = kid
				break
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// firstPage returns the document's first page.
func (f *pdfFile) firstPage() (pdfRef, *pdfDict, error) {
	var ref pdfRef
	var page *pdfDict
	err := f.walkPages(func(_ int, r pdfRef, d *pdfDict) bool {
		ref, page = r, d
		return false
	})
	if err == nil && page == nil {
		err = fmt.Errorf("%w: the document has no pages", ErrMalformed)
	}
	return ref, page, err
}

// objSpan is where an indirect object lies in the file: [start, end).
type objSpan struct {
	num, gen   int
	start, end int64
}

// scanObjects finds the indirect objects by their "num gen obj" … "endobj"
// text, in file order, old revisions included. It reads no cross-reference
// and so works on damaged files; its only use is saying which object a byte
// belongs to, and a stream whose data happens to read "endobj" only makes
// that answer vaguer.
func scanObjects(b []byte) []objSpan {
	var out []objSpan
	for i := 0; i < len(b); {
		j := bytes.Index(b[i:], []byte("obj"))
		if j < 0 {
			break
		}
		k := i + j
		num, gen, start, ok := objHeader(b, k)
		if !ok || k+3 < len(b) && !isWhite(b[k+3]) && !isDelim(b[k+3]) {
			i = k + 3
			continue
		}
		end := int64(len(b))
		if e := bytes.Index(b[k+3:], []byte("endobj")); e >= 0 {
			end = int64(k + 3 + e + len("endobj"))
		}
		out = append(out, objSpan{num: num, gen: gen, start: int64(start), end: end})
		i = int(end)
	}
	return out
}

// objHeader checks that the "obj" at k is preceded by "num gen " and returns
// them and where num starts.
func objHeader(b []byte, k int) (num, gen, start int, ok bool) {
	p := k
	field := func() (int, bool) {
		ws := p
		for p > 0 && isWhite(b[p-1]) {
			p--
		}
		end := p
		for p > 0 && isDigit(b[p-1]) && end-p < 10 {
			p--
		}
		v, ok := unsigned(b[p:end], 1<<31-1)
		return int(v), ok && ws > end
	}
	g, ok1 := field()
	n, ok2 := field()
	if !ok1 || !ok2 || p > 0 && !isWhite(b[p-1]) && !isDelim(b[p-1]) {
		return 0, 0, 0, false
	}
	return n, g, p, true
}

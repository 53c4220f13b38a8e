package dossier

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registers JPEG with image.Decode
	_ "image/png"  // registers PNG with image.Decode
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Formats a package may contain (内容数据格式).
var allowedFormats = map[string]bool{"pdf": true, "ofd": true, "jpg": true, "png": true, "xml": true, "txt": true}

const formatList = "pdf, ofd, jpg, png, xml, txt"

// DefaultLongTermFormats are the formats fit for long-term preservation
// (长期可用性): PDF (without encryption or active content), OFD, JPEG, PNG and
// XML. Plain text is accepted by the format check but, as the bureau's list
// stands, is not a long-term format.
var DefaultLongTermFormats = []string{"pdf", "ofd", "jpg", "png", "xml"}

// normalizeFormat lower-cases a format name and spells JPEG jpg.
func normalizeFormat(f string) string {
	f = strings.ToLower(strings.TrimSpace(f))
	if f == "jpeg" {
		return "jpg"
	}
	return f
}

// extOf is the normalised extension of a file name, without the dot.
func extOf(name string) string {
	return normalizeFormat(strings.TrimPrefix(path.Ext(name), "."))
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// sniff tells a file's format from its content: pdf, png, jpg, ofd, zip,
// xml, txt, empty or unknown.
func sniff(b []byte) string {
	switch {
	case len(b) == 0:
		return "empty"
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "pdf"
	case bytes.HasPrefix(b, pngMagic):
		return "png"
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "jpg"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		if _, err := ofdRoot(b); err == nil {
			return "ofd"
		}
		return "zip"
	}
	if !utf8.Valid(b) {
		return "unknown"
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7F {
			return "unknown"
		}
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF")), " \t\r\n")
	if bytes.HasPrefix(t, []byte("<?xml")) || len(t) > 1 && t[0] == '<' && (t[1] == '!' || isNameStart(t[1])) {
		return "xml"
	}
	return "txt"
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

// compatible reports whether content sniffed as sniffed may carry the
// extension ext (XML is text, so .txt may hold XML).
func compatible(ext, sniffed string) bool {
	return ext == sniffed || ext == "txt" && sniffed == "xml"
}

// ofdRoot returns the OFD.xml entry point of an OFD (GB/T 33190) container.
func ofdRoot(b []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	for _, f := range zr.File {
		if f.Name != "OFD.xml" {
			continue
		}
		if f.UncompressedSize64 > maxOFDRoot {
			return nil, fmt.Errorf("OFD.xml is larger than %d bytes", maxOFDRoot)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return readLimited(rc, maxOFDRoot)
	}
	return nil, errors.New("no OFD.xml at the root")
}

const (
	maxOFDRoot       = 4 << 20
	maxObjectStreams = 64 << 20 // decompressed object streams inspected per PDF
	maxPixels        = 64 << 20 // images larger are checked by their header only
	maxXrefSections  = 64
)

// errTooLarge is readLimited's error for content over its limit.
var errTooLarge = errors.New("content over the size limit")

// readLimited reads at most limit bytes and fails with errTooLarge beyond.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// readProblem says why content of the sniffed format cannot be read, or "".
func readProblem(format string, b []byte) string {
	switch format {
	case "empty":
		return "is empty"
	case "pdf":
		return pdfProblem(b)
	case "png", "jpg":
		return imageProblem(b)
	case "xml":
		if err := wellFormed(b); err != nil {
			return "is not well-formed XML: " + err.Error()
		}
	case "ofd":
		root, err := ofdRoot(b)
		if err != nil {
			return "is not a readable OFD: " + err.Error()
		}
		if err := wellFormed(root); err != nil {
			return "has an OFD.xml that is not well-formed: " + err.Error()
		}
	case "txt":
		// sniff accepted it as UTF-8 text
	default:
		return "is not in a format that can be read (" + format + ")"
	}
	return ""
}

func imageProblem(b []byte) string {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "is not a readable image: " + err.Error()
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Sprintf("has no pixels (%d×%d)", cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return "" // the header reads; too large to decode here safely
	}
	if _, _, err := image.Decode(bytes.NewReader(b)); err != nil {
		return "is not a readable image: " + err.Error()
	}
	return ""
}

func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	elements := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if elements == 0 {
				return errors.New("no element")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if _, ok := tok.(xml.StartElement); ok {
			elements++
		}
	}
}

var (
	objHeader  = regexp.MustCompile(`^\s*(\d+)\s+(\d+)\s+obj\b`)
	prevEntry  = regexp.MustCompile(`/Prev\s+(\d+)`)
	rootEntry  = regexp.MustCompile(`/Root\s+\d+\s+\d+\s+R`)
	xrefStream = regexp.MustCompile(`/Type\s*/XRef\b`)
	startxref  = regexp.MustCompile(`startxref\s+(\d+)\s`)
)

// pdfProblem checks a PDF's file structure: the header, the %%EOF marker at
// the end, startxref pointing at a cross-reference section (a table whose
// in-use entries each point at their object, or a cross-reference stream),
// a trailer naming the document catalogue (/Root) and any earlier sections
// (/Prev) of incremental updates.
func pdfProblem(b []byte) string {
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		return "does not start with %PDF-"
	}
	tail := b[max(0, len(b)-1024):]
	if !bytes.Contains(tail, []byte("%%EOF")) {
		return "has no %%EOF marker at its end (truncated?)"
	}
	all := startxref.FindAllSubmatchIndex(b, -1)
	if len(all) == 0 {
		return "has no startxref"
	}
	m := all[len(all)-1]
	off, err := strconv.ParseInt(string(b[m[2]:m[3]]), 10, 64)
	if err != nil || off <= 0 || off >= int64(len(b)) {
		return "has a startxref that points outside the file"
	}
	seen := map[int64]bool{}
	for i := 0; ; i++ {
		if i == maxXrefSections {
			return fmt.Sprintf("has more than %d cross-reference sections", maxXrefSections)
		}
		if seen[off] {
			return fmt.Sprintf("has a loop of cross-reference sections at offset %d", off)
		}
		seen[off] = true
		prev, problem := xrefSection(b, off, i == 0)
		if problem != "" {
			return problem
		}
		if prev < 0 {
			return ""
		}
		off = prev
	}
}

// xrefSection checks the cross-reference section at off and returns the
// offset of the previous one (-1 for none).
func xrefSection(b []byte, off int64, newest bool) (int64, string) {
	s := b[off:]
	var dict []byte
	switch {
	case bytes.HasPrefix(s, []byte("xref")):
		end, problem := xrefTable(b, off+4)
		if problem != "" {
			return 0, problem
		}
		rest := bytes.TrimLeft(b[end:], " \t\r\n\f\x00")
		if !bytes.HasPrefix(rest, []byte("trailer")) {
			return 0, fmt.Sprintf("has no trailer after the cross-reference table at offset %d", off)
		}
		rest = bytes.TrimLeft(rest[len("trailer"):], " \t\r\n\f\x00")
		if !bytes.HasPrefix(rest, []byte("<<")) {
			return 0, fmt.Sprintf("has a trailer without a dictionary at offset %d", off)
		}
		dict = rest
		if i := bytes.Index(dict, []byte("startxref")); i >= 0 {
			dict = dict[:i]
		}
	case objHeader.Match(s[:min(len(s), 64)]):
		dict = s
		if i := bytes.Index(dict, []byte("stream")); i >= 0 {
			dict = dict[:i]
		}
		if !xrefStream.Match(dict) {
			return 0, fmt.Sprintf("has a startxref offset %d that points at an object which is not a cross-reference stream", off)
		}
	default:
		return 0, fmt.Sprintf("has a startxref offset %d that points at no cross-reference section", off)
	}
	if newest && !rootEntry.Match(dict) {
		return 0, "has a trailer without /Root (no document catalogue)"
	}
	if m := prevEntry.FindSubmatch(dict); m != nil {
		prev, err := strconv.ParseInt(string(m[1]), 10, 64)
		if err != nil || prev <= 0 || prev >= int64(len(b)) {
			return 0, "has a /Prev cross-reference offset outside the file"
		}
		return prev, ""
	}
	return -1, ""
}

// xrefTable walks the subsections of a classic cross-reference table that
// starts at pos (after the keyword) and returns where it ends. Every in-use
// entry must point at the header of its object.
func xrefTable(b []byte, pos int64) (int64, string) {
	p := &scanner{b: b, pos: int(pos)}
	for {
		p.space()
		if p.peek("trailer") || p.pos >= len(b) {
			return int64(p.pos), ""
		}
		first, ok1 := p.number()
		p.space()
		count, ok2 := p.number()
		if !ok1 || !ok2 || count < 0 || count > int64(len(b)/18+1) {
			return 0, fmt.Sprintf("has a malformed cross-reference subsection at offset %d", p.pos)
		}
		for i := int64(0); i < count; i++ {
			p.space()
			at, okA := p.number()
			p.space()
			gen, okG := p.number()
			p.space()
			if !okA || !okG || p.pos >= len(b) || (b[p.pos] != 'n' && b[p.pos] != 'f') {
				return 0, fmt.Sprintf("has a malformed cross-reference entry for object %d", first+i)
			}
			inUse := b[p.pos] == 'n'
			p.pos++
			if !inUse {
				continue
			}
			if at <= 0 || at >= int64(len(b)) {
				return 0, fmt.Sprintf("has object %d at offset %d, outside the file", first+i, at)
			}
			m := objHeader.FindSubmatch(b[at:min(int64(len(b)), at+64)])
			if m == nil || string(m[1]) != strconv.FormatInt(first+i, 10) || string(m[2]) != strconv.FormatInt(gen, 10) {
				return 0, fmt.Sprintf("has object %d not where its cross-reference entry says (offset %d)", first+i, at)
			}
		}
	}
}

// scanner reads PDF tokens.
type scanner struct {
	b   []byte
	pos int
}

func (p *scanner) space() {
	for p.pos < len(p.b) && strings.IndexByte(" \t\r\n\f\x00", p.b[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *scanner) peek(word string) bool { return bytes.HasPrefix(p.b[p.pos:], []byte(word)) }

func (p *scanner) number() (int64, bool) {
	start := p.pos
	for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' && p.pos-start < 18 {
		p.pos++
	}
	if p.pos == start {
		return 0, false
	}
	n, err := strconv.ParseInt(string(p.b[start:p.pos]), 10, 64)
	return n, err == nil
}

// pdfLongTermProblems lists what keeps a PDF from long-term preservation:
// encryption (/Encrypt), JavaScript (/JavaScript, /JS) and launch actions
// (/Launch), found as names in the file's objects, including objects packed
// in compressed object streams.
func pdfLongTermProblems(b []byte) []string {
	names := map[string]bool{}
	outside, streams := splitStreams(b)
	pdfNames(outside, names)
	var problems []string
	budget := int64(maxObjectStreams)
	for _, st := range streams {
		if !bytes.Contains(st.dict, []byte("/ObjStm")) || !bytes.Contains(st.dict, []byte("/FlateDecode")) {
			continue
		}
		zr, err := zlib.NewReader(bytes.NewReader(st.data))
		if err != nil {
			continue // unreadable object streams are not inspected
		}
		data, err := readLimited(zr, budget)
		_ = zr.Close()
		if errors.Is(err, errTooLarge) {
			problems = append(problems, fmt.Sprintf("has more than %d MiB of compressed objects, too much to inspect", maxObjectStreams>>20))
			break
		}
		budget -= int64(len(data))
		pdfNames(data, names)
	}
	if names["Encrypt"] {
		problems = append(problems, "is encrypted (/Encrypt)")
	}
	if names["JavaScript"] || names["JS"] {
		problems = append(problems, "contains JavaScript (/JS)")
	}
	if names["Launch"] {
		problems = append(problems, "contains a launch action (/Launch)")
	}
	return problems
}

type pdfStream struct{ dict, data []byte }

// splitStreams separates the object syntax of a PDF from its stream data.
func splitStreams(b []byte) ([]byte, []pdfStream) {
	var outside []byte
	var streams []pdfStream
	i := 0
	for i < len(b) {
		j := bytes.Index(b[i:], []byte("stream"))
		if j < 0 {
			outside = append(outside, b[i:]...)
			break
		}
		k := i + j
		next := k + len("stream")
		if k >= 3 && string(b[k-3:k]) == "end" {
			outside = append(outside, b[i:next]...)
			i = next
			continue
		}
		data := next
		if data < len(b) && b[data] == '\r' {
			data++
		}
		if data >= len(b) || b[data] != '\n' {
			if data == next { // "stream" not followed by an end of line: not the keyword
				outside = append(outside, b[i:next]...)
				i = next
				continue
			}
		} else {
			data++
		}
		dictStart := bytes.LastIndex(b[i:k], []byte("obj"))
		dict := b[i+max(dictStart, 0) : k]
		outside = append(outside, b[i:k]...)
		end := bytes.Index(b[data:], []byte("endstream"))
		if end < 0 {
			streams = append(streams, pdfStream{dict: dict, data: b[data:]})
			break
		}
		streams = append(streams, pdfStream{dict: dict, data: b[data : data+end]})
		i = data + end + len("endstream")
		outside = append(outside, "\nendstream"...)
	}
	return outside, streams
}

// pdfNames collects the names (/Name, with #xx escapes decoded) in PDF
// object syntax, skipping strings and comments.
func pdfNames(b []byte, into map[string]bool) {
	const delims = "()<>[]{}/%"
	isEnd := func(c byte) bool {
		return strings.IndexByte(" \t\r\n\f\x00", c) >= 0 || strings.IndexByte(delims, c) >= 0
	}
	for i := 0; i < len(b); {
		switch c := b[i]; c {
		case '%':
			for i < len(b) && b[i] != '\n' && b[i] != '\r' {
				i++
			}
		case '(':
			depth := 0
			for ; i < len(b); i++ {
				if b[i] == '\\' {
					i++
					continue
				}
				if b[i] == '(' {
					depth++
				} else if b[i] == ')' {
					depth--
					if depth == 0 {
						i++
						break
					}
				}
			}
		case '<':
			if i+1 < len(b) && b[i+1] == '<' {
				i += 2
				continue
			}
			for i < len(b) && b[i] != '>' {
				i++
			}
			i++
		case '/':
			i++
			var name []byte
			for i < len(b) && !isEnd(b[i]) {
				if b[i] == '#' && i+2 < len(b) {
					if v, err := strconv.ParseUint(string(b[i+1:i+3]), 16, 8); err == nil {
						name = append(name, byte(v))
						i += 3
						continue
					}
				}
				name = append(name, b[i])
				i++
			}
			into[string(name)] = true
		default:
			i++
		}
	}
}

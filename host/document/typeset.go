package document

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"

	"github.com/shanghai-amr/portal/host/fonts"
)

// Page geometry after GB/T 9704-2012 (millimetres): A4, type area 156 × 225.
const (
	marginTop    = 37.0
	marginLeft   = 28.0
	marginRight  = 26.0
	marginBottom = 35.0
	pageWidth    = 210.0
	pageHeight   = 297.0
	textWidth    = pageWidth - marginLeft - marginRight

	titlePt = 22.0 // 2号
	bodyPt  = 16.0 // 3号
	tablePt = 14.0 // 4号
	notePt  = 12.0 // 小4号
	linePt  = 28.0 // fixed line pitch of the body
	sealMM  = 42.0 // diameter of an organisation seal
)

const ptToMM = 25.4 / 72

// Layout is everything a document page needs besides its template.
type Layout struct {
	Template *Template
	Values   map[string]string
	Number   string // 文号, may be empty
	OrgName  string // issuing organisation (发文机关署名)
	Seal     []byte // PNG of the seal, stamped over the signature; nil for none
	IssuedAt time.Time
	Copy     *CopyMark // set for a watermarked copy
}

// CopyMark marks a downloaded copy.
type CopyMark struct {
	Code    string // copy code, printed and encoded in the QR link
	Lines   []string
	QR      []byte // PNG
	Caption string
}

// Render typesets a document to PDF.
func Render(l Layout) ([]byte, error) {
	r, err := newRenderer(l)
	if err != nil {
		return nil, err
	}
	t := l.Template
	for _, b := range t.Blocks {
		if b.Optional != "" && l.Values[b.Optional] == "" {
			continue
		}
		switch b.Kind {
		case "heading":
			r.heading(l.OrgName, t.Title)
		case "number":
			r.right(l.Number, bodyPt, 0)
			r.skip(0.5)
		case "line":
			r.paragraph(expand(b.Text, l.Values), indentOf(b, 0), bodyPt, "body")
		case "paragraph":
			r.paragraph(expand(b.Text, l.Values), indentOf(b, 2), bodyPt, "body")
		case "table":
			r.table(b.Rows, l.Values)
		case "signature":
			r.signature(l.OrgName, expand(b.Date, l.Values), l.Seal)
		case "note":
			r.paragraph(expand(b.Text, l.Values), indentOf(b, 0), notePt, "body")
		}
	}
	var buf bytes.Buffer
	if err := r.pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("document: render %s: %w", t.Type, err)
	}
	return buf.Bytes(), nil
}

func indentOf(b Block, def int) int {
	if b.Indent != nil {
		return *b.Indent
	}
	return def
}

type renderer struct {
	pdf    *fpdf.Fpdf
	widths map[string]map[rune]float64
	y      float64
}

func newRenderer(l Layout) (*renderer, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	for name, role := range map[string]fonts.Role{"body": fonts.Body, "title": fonts.Title} {
		b, err := fonts.Load(role)
		if err != nil {
			return nil, err
		}
		pdf.AddUTF8FontFromBytes(name, "", b)
	}
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("document: fonts: %w", err)
	}
	pdf.SetMargins(marginLeft, marginTop, marginRight)
	pdf.SetAutoPageBreak(false, marginBottom)
	pdf.SetTitle(l.Template.Title, true)
	pdf.SetSubject(l.Number, true)
	pdf.SetAuthor(l.OrgName, true)
	pdf.SetCreator("上海市市场监督管理局门户 host/document", true)
	pdf.SetCreationDate(l.IssuedAt.UTC())
	pdf.SetModificationDate(l.IssuedAt.UTC())
	pdf.SetCompression(true)
	r := &renderer{pdf: pdf, widths: map[string]map[rune]float64{}}
	if l.Seal != nil {
		pdf.RegisterImageOptionsReader("seal", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(l.Seal))
	}
	if l.Copy != nil && l.Copy.QR != nil {
		pdf.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(l.Copy.QR))
	}
	pdf.SetFooterFunc(func() {
		n := pdf.PageNo()
		pdf.SetFont("body", "", tablePt)
		label := fmt.Sprintf("— %d —", n)
		w := pdf.GetStringWidth(label)
		x := pageWidth - marginRight - w // odd pages: outside edge on the right
		if n%2 == 0 {
			x = marginLeft
		}
		pdf.Text(x, pageHeight-marginBottom+12, label)
		if l.Copy != nil {
			r.copyMark(l.Copy)
		}
	})
	r.newPage()
	return r, nil
}

func (r *renderer) newPage() {
	r.pdf.AddPage()
	r.y = marginTop
}

// ensure starts a new page when h millimetres do not fit.
func (r *renderer) ensure(h float64) {
	if r.y+h > pageHeight-marginBottom {
		r.newPage()
	}
}

func (r *renderer) skip(lines float64) { r.y += lines * linePt * ptToMM }

func (r *renderer) width(font string, size float64, s string) float64 {
	key := fmt.Sprintf("%s/%g", font, size)
	m := r.widths[key]
	if m == nil {
		m = map[rune]float64{}
		r.widths[key] = m
	}
	r.pdf.SetFont(font, "", size)
	w := 0.0
	for _, c := range s {
		cw, ok := m[c]
		if !ok {
			cw = r.pdf.GetStringWidth(string(c))
			m[c] = cw
		}
		w += cw
	}
	return w
}

func (r *renderer) heading(org, title string) {
	for _, s := range []string{org, title} {
		if s == "" {
			continue
		}
		for _, line := range r.wrap(s, "title", titlePt, textWidth, 0) {
			r.ensure(linePt * ptToMM * 1.2)
			w := r.width("title", titlePt, line)
			r.pdf.SetFont("title", "", titlePt)
			r.pdf.Text(marginLeft+(textWidth-w)/2, r.y+titlePt*ptToMM, line)
			r.y += linePt * ptToMM * 1.25
		}
	}
	r.skip(0.3)
}

// right prints one line flush right, inset by n characters.
func (r *renderer) right(s string, size float64, insetChars int) {
	if s == "" {
		return
	}
	r.ensure(linePt * ptToMM)
	w := r.width("body", size, s)
	r.pdf.SetFont("body", "", size)
	r.pdf.Text(pageWidth-marginRight-w-float64(insetChars)*size*ptToMM, r.y+size*ptToMM, s)
	r.y += linePt * ptToMM
}

// paragraph prints text wrapped to the type area, the first line of each
// paragraph indented by indent characters.
func (r *renderer) paragraph(text string, indent int, size float64, font string) {
	pitch := linePt * ptToMM * size / bodyPt
	for _, para := range strings.Split(text, "\n") {
		first := float64(indent) * size * ptToMM
		for i, line := range r.wrap(para, font, size, textWidth, first) {
			r.ensure(pitch)
			x := marginLeft
			if i == 0 {
				x += first
			}
			r.pdf.SetFont(font, "", size)
			r.pdf.Text(x, r.y+size*ptToMM, line)
			r.y += pitch
		}
	}
}

// table prints label/value rows with borders; values wrap, and a row never
// splits across pages.
func (r *renderer) table(rows []Row, values map[string]string) {
	const labelW, pad = 48.0, 2.0
	pitch := tablePt * ptToMM * 1.5
	valueW := textWidth - labelW
	for _, row := range rows {
		labels := r.wrap(row.Label, "body", tablePt, labelW-2*pad, 0)
		vals := r.wrap(expand(row.Value, values), "body", tablePt, valueW-2*pad, 0)
		n := max(len(labels), len(vals), row.MinLines, 1)
		h := float64(n)*pitch + pad
		r.ensure(h)
		r.pdf.SetLineWidth(0.3)
		r.pdf.Rect(marginLeft, r.y, labelW, h, "D")
		r.pdf.Rect(marginLeft+labelW, r.y, valueW, h, "D")
		r.pdf.SetFont("body", "", tablePt)
		for i, s := range labels {
			r.pdf.Text(marginLeft+pad, r.y+pad+float64(i)*pitch+tablePt*ptToMM, s)
		}
		for i, s := range vals {
			r.pdf.Text(marginLeft+labelW+pad, r.y+pad+float64(i)*pitch+tablePt*ptToMM, s)
		}
		r.y += h
	}
	r.skip(0.5)
}

// signature prints the issuing organisation and the date flush right, inset
// four characters, with the seal pressed over both (骑年盖月).
func (r *renderer) signature(org, date string, seal []byte) {
	need := 4 * linePt * ptToMM
	if seal != nil {
		need = max(need, sealMM+linePt*ptToMM)
	}
	r.ensure(need)
	r.skip(1.5)
	top := r.y
	r.right(org, bodyPt, 4)
	r.right(date, bodyPt, 4)
	if seal != nil {
		cw := max(r.width("body", bodyPt, org), r.width("body", bodyPt, date))
		cx := pageWidth - marginRight - 4*bodyPt*ptToMM - cw/2
		cy := top + linePt*ptToMM
		r.pdf.ImageOptions("seal", cx-sealMM/2, cy-sealMM/2, sealMM, sealMM, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
		r.y = max(r.y, cy+sealMM/2+2) // what follows starts below the seal
	}
}

// copyMark draws the watermark, the 副本 stamp and the verification QR code
// on the current page.
func (r *renderer) copyMark(c *CopyMark) {
	pdf := r.pdf
	pdf.SetAlpha(0.16, "Normal")
	pdf.SetTextColor(90, 90, 90)
	pdf.SetFont("body", "", 13)
	text := strings.Join(c.Lines, "  ")
	for row := 0; row < 6; row++ {
		for col := 0; col < 2; col++ {
			x, y := 20.0+float64(col)*95, 70.0+float64(row)*40
			pdf.TransformBegin()
			pdf.TransformRotate(30, x, y)
			pdf.Text(x, y, text)
			pdf.TransformEnd()
		}
	}
	pdf.SetAlpha(1, "Normal")
	pdf.SetTextColor(200, 0, 0)
	pdf.SetDrawColor(200, 0, 0)
	pdf.SetFont("title", "", 16)
	pdf.Rect(pageWidth-marginRight-22, 14, 22, 11, "D")
	pdf.Text(pageWidth-marginRight-19, 22, "副本")
	pdf.SetTextColor(0, 0, 0)
	pdf.SetDrawColor(0, 0, 0)
	if c.QR != nil {
		const size = 22.0
		x, y := pageWidth-marginRight-size, pageHeight-marginBottom+4
		pdf.ImageOptions("qr", x, y, size, size, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
		pdf.SetFont("body", "", 8)
		pdf.Text(marginLeft, pageHeight-10, c.Caption)
	}
}

// Chinese line-breaking (禁则): these never start a line …
const noStart = "，。、；：？！）》」』”’〕】…—%·,.;:?!)]}"

// … and these never end one.
const noEnd = "（《「『“‘〔【([{"

// wrap breaks text into lines no wider than width (the first line narrower by
// first). Runs of Latin letters and digits stay together; closing punctuation
// hangs into the margin rather than starting a line; opening punctuation moves
// to the next line.
func (r *renderer) wrap(text, font string, size, width, first float64) []string {
	var lines []string
	var cur []string
	curW, limit := 0.0, width-first
	flush := func() {
		lines = append(lines, strings.Join(cur, ""))
		cur, curW, limit = nil, 0, width
	}
	for _, tok := range tokens(text) {
		w := r.width(font, size, tok)
		if curW+w > limit && len(cur) > 0 {
			c, _ := utf8.DecodeRuneInString(tok)
			if strings.ContainsRune(noStart, c) {
				cur = append(cur, tok) // hanging punctuation
				curW += w
				continue
			}
			var carry []string
			if last, _ := utf8.DecodeRuneInString(cur[len(cur)-1]); strings.ContainsRune(noEnd, last) && len(cur) > 1 {
				carry = cur[len(cur)-1:]
				cur = cur[:len(cur)-1]
			}
			flush()
			for _, c := range carry {
				cur = append(cur, c)
				curW += r.width(font, size, c)
			}
			if strings.TrimSpace(tok) == "" {
				continue // no leading space on a new line
			}
		}
		cur = append(cur, tok)
		curW += w
	}
	if len(cur) > 0 || len(lines) == 0 {
		flush()
	}
	return lines
}

// tokens splits text into unbreakable pieces: one CJK character, or a run of
// Latin letters, digits and the punctuation inside numbers and codes.
func tokens(s string) []string {
	var out []string
	var word strings.Builder
	for _, c := range s {
		if c < 0x2E80 && (unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune("-./_@#&", c)) {
			word.WriteRune(c)
			continue
		}
		if word.Len() > 0 {
			out = append(out, word.String())
			word.Reset()
		}
		out = append(out, string(c))
	}
	if word.Len() > 0 {
		out = append(out, word.String())
	}
	return out
}

package dossier

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/go-pdf/fpdf"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/clock"
	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// testNotary signs with an SM2 key: the signature is the signing time (8
// bytes, Unix nanoseconds, big-endian) followed by the DER SM2 signature of
// SM3(data ‖ time).
type testNotary struct {
	key *sm2.PrivateKey
	now func() time.Time
}

func newTestNotary(t testing.TB, now func() time.Time) *testNotary {
	t.Helper()
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testNotary{key: k, now: now}
}

func notaryDigest(data []byte, at []byte) []byte {
	h := sm3.New()
	h.Write(data)
	h.Write(at)
	return h.Sum(nil)
}

func (n *testNotary) Sign(_ context.Context, data []byte) ([]byte, error) {
	at := make([]byte, 8)
	binary.BigEndian.PutUint64(at, uint64(n.now().UnixNano()))
	sig, err := sm2.SignASN1(rand.Reader, n.key, notaryDigest(data, at), nil)
	if err != nil {
		return nil, err
	}
	return append(at, sig...), nil
}

func (n *testNotary) Verify(data, sig []byte) (string, time.Time, error) {
	if len(sig) < 9 {
		return "", time.Time{}, errors.New("signature too short")
	}
	if !sm2.VerifyASN1(&n.key.PublicKey, notaryDigest(data, sig[:8]), sig[8:]) {
		return "", time.Time{}, errors.New("SM2 signature does not verify")
	}
	return "CN=测试电子印章", time.Unix(0, int64(binary.BigEndian.Uint64(sig[:8]))), nil
}

// eicar is the EICAR anti-virus test file.
const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// eicarScanner flags the EICAR test signature.
type eicarScanner struct{}

func (eicarScanner) Scan(_ context.Context, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if bytes.Contains(b, []byte(eicar)) {
		return errors.New("infected: EICAR-Test-Signature")
	}
	return nil
}

// memBlobs is a file store in memory.
type memBlobs struct {
	mu    sync.Mutex
	files map[int][]byte
	next  int
}

func (m *memBlobs) put(b []byte) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[int][]byte{}
	}
	m.next++
	m.files[m.next] = b
	return m.next
}

func (m *memBlobs) drop(id int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, id)
}

func (m *memBlobs) Bytes(_ context.Context, id int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[id]
	if !ok {
		return nil, fmt.Errorf("file %d not found", id)
	}
	return bytes.Clone(b), nil
}

// pdfOpts shape a hand-written PDF.
type pdfOpts struct {
	encrypt bool // an /Encrypt dictionary in the trailer
	js      bool // a JavaScript open action
}

// makePDF writes a one-page PDF with a correct cross-reference table.
func makePDF(text string, o pdfOpts) []byte {
	catalog := "<< /Type /Catalog /Pages 2 0 R"
	if o.js {
		catalog += " /OpenAction 6 0 R"
	}
	catalog += " >>"
	content := fmt.Sprintf("BT /F1 14 Tf 72 760 Td (%s) Tj ET", text)
	objs := []string{
		catalog,
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	if o.js {
		objs = append(objs, "<< /S /JavaScript /JS (app.alert\\(1\\)) >>")
	}
	encryptRef := ""
	if o.encrypt {
		objs = append(objs, "<< /Filter /Standard /V 1 /R 2 /O <00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff> /U <00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff> /P -44 >>")
		encryptRef = fmt.Sprintf(" /Encrypt %d 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]", len(objs))
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, encryptRef, xref)
	return b.Bytes()
}

// makeFPDF renders a page with go-pdf/fpdf (compressed streams).
func makeFPDF(t testing.TB, text string) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCreationDate(time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC))
	p.AddPage()
	p.SetFont("Helvetica", "", 14)
	p.Cell(120, 10, text)
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// makePNG draws a small picture.
func makePNG(t testing.TB, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for y := 0; y < 12; y++ {
		for x := 0; x < 16; x++ {
			img.Set(x, y, color.RGBA{R: uint8(x * 16), G: uint8(y * 20), B: seed, A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Kinds used by the tests.
var testKinds = map[string]Kind{
	"general_case": {Required: []string{"case_filing_approval", "penalty_decision"}, Retention: "定期30年"},
	"licence":      {Required: []string{"licence_decision"}, Retention: "定期10年"},
}

// fixture is a service on a fresh database.
type fixture struct {
	t      *testing.T
	st     *store.Store
	s      *Service
	blobs  *memBlobs
	notary *testNotary
	audit  *audit.Log
	now    time.Time
}

func newFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	st := storetest.Open(t, dialect)
	now := time.Date(2026, 3, 10, 10, 30, 0, 0, clock.Shanghai)
	clockFn := func() time.Time { return now }
	f := &fixture{t: t, st: st, blobs: &memBlobs{}, notary: newTestNotary(t, clockFn), now: now}
	f.audit = audit.New(st.Client, clockFn)
	f.s = New(Options{Client: st.Client, Audit: f.audit, Blobs: f.blobs, Notary: f.notary, Scanner: eicarScanner{},
		Kinds: testKinds, LockRows: dialect == "mysql", Now: clockFn})
	return f
}

// file stores content and returns an entry for it.
func (f *fixture) entry(kind, docType, title, format string, content []byte, meta map[string]any) Entry {
	id := f.blobs.put(content)
	sum := sm3.Sum(content)
	return Entry{Kind: kind, DocType: docType, Title: title, FileID: id, SM3: fmt.Sprintf("%x", sum[:]), Format: format,
		Meta: meta, CreatedBy: 7}
}

func (f *fixture) append(id int, e Entry) *Item {
	f.t.Helper()
	it, err := f.s.Append(context.Background(), id, e)
	if err != nil {
		f.t.Fatalf("append %q: %v", e.Title, err)
	}
	return it
}

// caseDossier opens a general case dossier with five entries: a filing
// approval, a photo, a decision with one attachment, the attachment, and a
// second version of the decision.
func (f *fixture) caseDossier(subject string) int {
	f.t.Helper()
	ctx := context.Background()
	d, err := f.s.Open(ctx, "enforcement", subject, "general_case", "沪市监浦罚〔2026〕12号 某某公司虚假广告案", "310115-D03", "/310000/310115/310115-D03")
	if err != nil {
		f.t.Fatal(err)
	}
	f.append(d.ID, f.entry(KindDocument, "case_filing_approval", "立案审批表", "pdf", makePDF("Case filing approval "+subject, pdfOpts{}),
		map[string]any{"date": "2026-02-01", "pages": 1, "author": "浦东新区市场监督管理局"}))
	f.append(d.ID, f.entry(KindEvidence, "", "现场检查照片", "png", makePNG(f.t, 1), map[string]any{"date": "2026-02-03"}))
	f.append(d.ID, f.entry(KindDocument, "penalty_decision", "行政处罚决定书", "pdf", makeFPDF(f.t, "Penalty decision v1 "+subject),
		map[string]any{"date": "2026-03-01", "pages": 1, "attachments": 1}))
	att := f.entry(KindAttachment, "service_receipt", "送达回证", "pdf", makePDF("Service receipt "+subject, pdfOpts{}), map[string]any{"date": "2026-03-02", "pages": 1})
	att.ParentSeq = 3
	f.append(d.ID, att)
	f.append(d.ID, f.entry(KindDocument, "penalty_decision", "行政处罚决定书", "pdf", makePDF("Penalty decision v2 "+subject, pdfOpts{}),
		map[string]any{"date": "2026-03-05", "pages": 1}))
	return d.ID
}

var testArchiveInfo = ArchiveInfo{Fonds: "S001", Year: 2026, Responsible: "上海市浦东新区市场监督管理局"}

// editable is an unpacked package that a test changes and packs again.
type editable struct {
	t       *testing.T
	entries []zipEntry
	meta    map[string]any
	chain   chainFile
	notary  *testNotary
	// keepSignature keeps the original signature.p7s; metaBytes, when set,
	// replaces metadata.json verbatim.
	keepSignature bool
	metaBytes     []byte
	noChain       bool
}

type zipEntry struct {
	name string
	data []byte
}

func openEditable(t *testing.T, data []byte, n *testNotary) *editable {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	e := &editable{t: t, notary: n}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		e.entries = append(e.entries, zipEntry{f.Name, b})
	}
	v, err := decodeJSON(e.get(metadataName))
	if err != nil {
		t.Fatal(err)
	}
	e.meta = v.(map[string]any)
	dec := json.NewDecoder(bytes.NewReader(e.get(chainName)))
	dec.UseNumber()
	if err := dec.Decode(&e.chain); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *editable) index(name string) int {
	for i := range e.entries {
		if e.entries[i].name == name {
			return i
		}
	}
	return -1
}

func (e *editable) get(name string) []byte {
	if i := e.index(name); i >= 0 {
		return e.entries[i].data
	}
	e.t.Fatalf("no entry %s", name)
	return nil
}

func (e *editable) set(name string, b []byte) {
	if i := e.index(name); i >= 0 {
		e.entries[i].data = b
		return
	}
	e.entries = append(e.entries, zipEntry{name, b})
}

func (e *editable) remove(name string) {
	i := e.index(name)
	if i < 0 {
		e.t.Fatalf("no entry %s", name)
	}
	e.entries = append(e.entries[:i], e.entries[i+1:]...)
}

func (e *editable) rename(from, to string) {
	e.entries[e.index(from)].name = to
}

// item returns the metadata item with the seq.
func (e *editable) item(seq int) map[string]any {
	for _, v := range e.meta["items"].([]any) {
		it := v.(map[string]any)
		if n, _ := asInt(it["seq"]); int(n) == seq {
			return it
		}
	}
	e.t.Fatalf("no item %d", seq)
	return nil
}

func (e *editable) fileOf(seq int) string { return e.item(seq)["file"].(string) }

// setContent replaces an item's file and updates its size and SM3 in the
// metadata and the chain consistently, so only checks on the content itself
// notice.
func (e *editable) setContent(seq int, b []byte) {
	it := e.item(seq)
	e.set(it["file"].(string), b)
	it["size"] = len(b)
	it["sm3"] = sm3Hex(b)
	e.chain.Entries[seq-1].SM3 = sm3Hex(b)
	e.rechain()
}

// rechain recomputes the chain's hashes and the heads.
func (e *editable) rechain() {
	prev := ""
	for i := range e.chain.Entries {
		en := &e.chain.Entries[i]
		en.Prev = prev
		h, err := en.ComputeHash(prev)
		if err != nil {
			e.t.Fatal(err)
		}
		en.Hash, prev = h, h
	}
	e.chain.Head = prev
	e.meta["head"] = prev
}

// pack writes the package, re-signing metadata.json unless told not to.
func (e *editable) pack() []byte {
	e.t.Helper()
	meta := e.metaBytes
	if meta == nil {
		var err error
		if meta, err = indentJSON(e.meta); err != nil {
			e.t.Fatal(err)
		}
	}
	if e.index(metadataName) >= 0 {
		e.set(metadataName, meta)
	}
	if e.index(chainName) >= 0 && !e.noChain {
		chain, err := indentJSON(e.chain)
		if err != nil {
			e.t.Fatal(err)
		}
		e.set(chainName, chain)
	}
	if !e.keepSignature && e.index(signatureName) >= 0 {
		sig, err := e.notary.Sign(context.Background(), meta)
		if err != nil {
			e.t.Fatal(err)
		}
		e.set(signatureName, sig)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, en := range e.entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: en.name, Method: zip.Deflate})
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := w.Write(en.data); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		e.t.Fatal(err)
	}
	return buf.Bytes()
}

func failedSet(r *Report) string { return strings.Join(r.Failed(), ",") }

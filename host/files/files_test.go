package files

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/spf13/afero"

	"github.com/shanghai-amr/portal/host/apierror"
	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/auditentry"
	"github.com/shanghai-amr/portal/host/store/ent/hook"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// The policy engine compiles once for the whole test binary.
var testPolicy = sync.OnceValues(func() (*policy.Engine, error) { return policy.New(context.Background()) })

type fixture struct {
	st    *store.Store
	fs    afero.Fs
	files *Store
}

func newFixture(t *testing.T, dialect string, o Options) *fixture {
	t.Helper()
	st := storetest.Open(t, dialect)
	pol, err := testPolicy()
	if err != nil {
		t.Fatal(err)
	}
	o.Client, o.Fs, o.Audit, o.Policy = st.Client, afero.NewMemMapFs(), audit.New(st.Client, nil), pol
	return &fixture{st: st, fs: o.Fs, files: New(o)}
}

func (f *fixture) put(t *testing.T, name string, body []byte, edit ...func(*PutRequest)) (*ent.File, error) {
	t.Helper()
	r := PutRequest{Owner: HostOwner, Name: name, Purpose: "evidence", CreatedBy: 1, OrgPath: "/310000/310115",
		Body: bytes.NewReader(body), DeclaredSize: int64(len(body)), Actor: "pd_li"}
	for _, e := range edit {
		e(&r)
	}
	return f.files.Put(context.Background(), r)
}

// blobs lists the files under blobs/ and fails the test if anything is left
// under tmp/.
func (f *fixture) blobs(t *testing.T) []string {
	t.Helper()
	var out []string
	_ = afero.Walk(f.fs, ".", func(p string, fi fs.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		if strings.HasPrefix(p, tmpDir+"/") {
			t.Errorf("temporary blob left behind: %s", p)
		}
		if strings.HasPrefix(p, blobDir+"/") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func (f *fixture) rows(t *testing.T) int {
	t.Helper()
	n, err := f.st.Client.File.Query().Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// lastAudit is the newest audit entry and its detail.
func (f *fixture) lastAudit(t *testing.T) (*ent.AuditEntry, map[string]any) {
	t.Helper()
	e, err := f.st.Client.AuditEntry.Query().Order(ent.Desc(auditentry.FieldSeq)).First(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
		t.Fatal(err)
	}
	return e, d
}

// wantCode checks err is the API error code (with status).
func wantCode(t *testing.T, err error, code string, status int) *apierror.Error {
	t.Helper()
	var e *apierror.Error
	if !errors.As(err, &e) || e.Code != code || e.Status != status {
		t.Fatalf("error = %v, want %s (%d)", err, code, status)
	}
	return e
}

// refused checks an upload was refused with code and left nothing behind,
// and that the refusal was audited with the reason.
func (f *fixture) refused(t *testing.T, err error, code string, status, rowsBefore, blobsBefore int) *apierror.Error {
	t.Helper()
	e := wantCode(t, err, code, status)
	if n := f.rows(t); n != rowsBefore {
		t.Errorf("%d rows, want %d", n, rowsBefore)
	}
	if b := f.blobs(t); len(b) != blobsBefore {
		t.Errorf("blobs %v, want %d", b, blobsBefore)
	}
	a, d := f.lastAudit(t)
	if a.Action != "file.upload" || a.Outcome != auditentry.OutcomeFailure || d["reason"] != code || a.Actor != "pd_li" {
		t.Errorf("audit %s %s %s %v", a.Action, a.Outcome, a.Actor, d)
	}
	return e
}

var (
	pdf  = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
	png  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	elf  = append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 120)...)
	html = []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>")
)

func zipOf(t *testing.T, names ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, n := range names {
		fw, err := w.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte("<x/>"))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSniffNamesTypesFromContent(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"pdf", pdf, "application/pdf"},
		{"png", png, "image/png"},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "image/jpeg"},
		{"text", []byte("案件线索：某超市销售过期食品。\n"), "text/plain"},
		{"xml", []byte(`<?xml version="1.0" encoding="UTF-8"?><root/>`), "text/xml"},
		{"elf", elf, "application/octet-stream"},
		{"html", html, "text/html"},
		{"docx", zipOf(t, "[Content_Types].xml", "_rels/.rels", "word/document.xml"), typeDOCX},
		{"xlsx", zipOf(t, "[Content_Types].xml", "xl/workbook.xml"), typeXLSX},
		{"pptx", zipOf(t, "[Content_Types].xml", "ppt/presentation.xml"), typePPTX},
		{"ofd", zipOf(t, "OFD.xml", "Doc_0/Document.xml"), typeOFD},
		{"zip", zipOf(t, "a.txt", "b/c.txt"), typeZip},
		{"broken zip", []byte("PK\x03\x04 not really"), typeZip},
	}
	s := New(Options{})
	for _, tt := range tests {
		head := tt.body[:min(len(tt.body), sniffLen)]
		got := sniff(head, bytes.NewReader(tt.body), int64(len(tt.body)))
		if got != tt.want {
			t.Errorf("%s: sniffed %q, want %q", tt.name, got, tt.want)
		}
		if allowed := s.allowed(got); allowed == (tt.name == "elf" || tt.name == "html") {
			t.Errorf("%s: allowed(%s) = %v", tt.name, got, allowed)
		}
	}
}

func TestSameContentTwiceIsTwoRowsOneBlob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{})
		a, err := f.put(t, "证据1.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.put(t, "evidence-copy.pdf", pdf, func(r *PutRequest) { r.DeclaredSize = -1; r.CreatedBy = 2 })
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == b.ID || a.Sm3 != b.Sm3 || a.Size != int64(len(pdf)) || a.ContentType != "application/pdf" || b.Name != "evidence-copy.pdf" {
			t.Fatalf("rows %+v, %+v", a, b)
		}
		if blobs := f.blobs(t); len(blobs) != 1 || blobs[0] != BlobPath(a.Sm3) || !strings.HasPrefix(blobs[0], "blobs/"+a.Sm3[:2]+"/"+a.Sm3[2:4]+"/") {
			t.Fatalf("blobs %v", blobs)
		}
		// GB/T 32905 test vector, to pin the digest: SM3("abc").
		c, err := f.put(t, "abc.txt", []byte("abc"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Sm3 != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" || c.ContentType != "text/plain" {
			t.Fatalf("abc: %s %s", c.Sm3, c.ContentType)
		}
		ctx := context.Background()
		for _, row := range []*ent.File{a, b} {
			got, err := f.files.Bytes(ctx, row.ID)
			if err != nil || !bytes.Equal(got, pdf) {
				t.Fatalf("Bytes(%d) = %q, %v", row.ID, got, err)
			}
			if err := f.files.Verify(ctx, row.ID); err != nil {
				t.Fatal(err)
			}
		}
		if used, err := f.files.Used(ctx, HostOwner); err != nil || used != 2*int64(len(pdf))+3 {
			t.Fatalf("Used = %d, %v", used, err)
		}
		// The second upload is audited as such; the content and name are not.
		e, d := f.lastAudit(t)
		if e.Resource == "" || e.Outcome != auditentry.OutcomeSuccess || d["sm3"] != c.Sm3 || d["type"] != "text/plain" ||
			d["purpose"] != "evidence" || d["size"] != float64(3) || strings.Contains(e.Detail, "abc.txt") {
			t.Fatalf("audit %+v %v", e, d)
		}
		second, err := f.st.Client.AuditEntry.Query().Where(auditentry.Resource("file:" + itoa(b.ID))).Only(ctx)
		if err != nil || !strings.Contains(second.Detail, `"deduplicated":true`) || second.Action != "file.upload" {
			t.Fatalf("audit of the second upload: %+v, %v", second, err)
		}
	})
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// endless yields bytes forever and counts them.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestOversizeIsRefusedWhileStreaming(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{MaxSize: 1000})
		body := &endless{}
		_, err := f.put(t, "big.txt", nil, func(r *PutRequest) { r.Body, r.DeclaredSize = body, -1 })
		e := f.refused(t, err, "files.too_large", 413, 0, 0)
		if e.Data["Limit"] != "1000 B" {
			t.Errorf("data %v", e.Data)
		}
		if body.n > 1001 {
			t.Errorf("read %d bytes of an endless body, want at most the limit + 1", body.n)
		}
		// Exactly at the limit is fine.
		if _, err := f.put(t, "ok.txt", bytes.Repeat([]byte("a"), 1000), func(r *PutRequest) { r.DeclaredSize = -1 }); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDeclaredOversizeIsRefusedUnread(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{MaxSize: 1000})
		body := &endless{}
		_, err := f.put(t, "big.pdf", nil, func(r *PutRequest) { r.Body, r.DeclaredSize = body, 1001 })
		f.refused(t, err, "files.too_large", 413, 0, 0)
		if body.n != 0 {
			t.Fatalf("read %d bytes", body.n)
		}
		// A body shorter or longer than declared is refused too.
		_, err = f.put(t, "short.pdf", pdf, func(r *PutRequest) { r.DeclaredSize = int64(len(pdf)) + 1 })
		f.refused(t, err, "files.incomplete", 400, 0, 0)
		_, err = f.put(t, "empty.pdf", nil)
		f.refused(t, err, "files.empty", 400, 0, 0)
		_, err = f.put(t, "cut.pdf", nil, func(r *PutRequest) {
			r.Body, r.DeclaredSize = iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(pdf))), -1
		})
		f.refused(t, err, "files.incomplete", 400, 0, 0)
	})
}

func TestDisallowedTypesAreRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{})
		for name, body := range map[string][]byte{"report.pdf": elf, "notice.pdf": html} {
			_, err := f.put(t, name, body)
			e := f.refused(t, err, "files.type_not_allowed", 415, 0, 0)
			if e.Data["Type"] != map[string]string{"report.pdf": "application/octet-stream", "notice.pdf": "text/html"}[name] {
				t.Errorf("%s: data %v", name, e.Data)
			}
		}
		// A narrower allow-list refuses what the default takes.
		g := newFixture(t, dialect, Options{Allowed: []string{"application/pdf", "application/vnd.openxmlformats-officedocument.*"}})
		if _, err := g.put(t, "a.png", png); err == nil {
			t.Fatal("png accepted by a PDF-only list")
		}
		if row, err := g.put(t, "a.docx", zipOf(t, "[Content_Types].xml", "word/document.xml")); err != nil || row.ContentType != typeDOCX {
			t.Fatalf("docx: %v, %v", row, err)
		}
	})
}

func TestEICARIsRefusedAndNothingIsLeft(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{})
		if _, err := f.put(t, "clean.txt", []byte("clean")); err != nil {
			t.Fatal(err)
		}
		_, err := f.put(t, "eicar.txt", eicar)
		e := f.refused(t, err, "files.infected", 422, 1, 1)
		if e.Data["Signature"] != EICARSignature {
			t.Errorf("data %v", e.Data)
		}
		// Inside a larger text, too.
		body := append(append(bytes.Repeat([]byte("x"), 100_000), eicar...), '\n')
		_, err = f.put(t, "eicar2.txt", body)
		f.refused(t, err, "files.infected", 422, 1, 1)
	})
}

type brokenScanner struct{}

func (brokenScanner) Scan(context.Context, io.Reader) error {
	return errors.New("clamd: connection refused")
}

func TestScannerFailureRefusesTheUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{Scanner: brokenScanner{}})
		_, err := f.put(t, "a.pdf", pdf)
		f.refused(t, err, "files.scan_failed", 503, 0, 0)
	})
}

func TestEICARScannerFindsTheSignatureAcrossReads(t *testing.T) {
	ctx := context.Background()
	for _, at := range []int{0, 1, 64<<10 - 10, 64<<10 - len(eicar) + 1, 200_000} {
		body := append(append(bytes.Repeat([]byte{0}, at), eicar...), 'z')
		for _, r := range []io.Reader{bytes.NewReader(body), iotest.HalfReader(bytes.NewReader(body))} {
			var hit *Infected
			if err := (EICARScanner{}).Scan(ctx, r); !errors.As(err, &hit) || hit.Signature != EICARSignature {
				t.Fatalf("at %d: %v", at, err)
			}
		}
	}
	if err := (EICARScanner{}).Scan(ctx, bytes.NewReader(eicar[:len(eicar)-1])); err != nil {
		t.Fatalf("a truncated signature: %v", err)
	}
}

func TestQuotaExceededStoresNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{Quotas: map[string]int64{HostOwner: 100, "enforcement": -1}})
		first := bytes.Repeat([]byte("a"), 60)
		if _, err := f.put(t, "a.txt", first); err != nil {
			t.Fatal(err)
		}
		_, err := f.put(t, "b.txt", bytes.Repeat([]byte("b"), 41))
		e := f.refused(t, err, "files.quota_exceeded", 413, 1, 1)
		if e.Data["Quota"] != "100 B" {
			t.Errorf("data %v", e.Data)
		}
		// The quota counts the owner's files, even when their content is shared.
		_, err = f.put(t, "a-again.txt", first)
		f.refused(t, err, "files.quota_exceeded", 413, 1, 1)
		// Up to the quota is fine; another owner has its own (here unlimited).
		if _, err := f.put(t, "c.txt", bytes.Repeat([]byte("c"), 40)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.put(t, "d.txt", bytes.Repeat([]byte("d"), 500), func(r *PutRequest) { r.Owner = "enforcement" }); err != nil {
			t.Fatal(err)
		}
		if f.files.Quota("registration") != DefaultQuota {
			t.Fatal("default quota")
		}
	})
}

func TestFailedInsertRemovesTheNewBlob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{})
		if _, err := f.put(t, "a.pdf", pdf); err != nil {
			t.Fatal(err)
		}
		f.st.Client.File.Use(func(next ent.Mutator) ent.Mutator {
			return hook.FileFunc(func(ctx context.Context, m *ent.FileMutation) (ent.Value, error) {
				return nil, errors.New("database gone")
			})
		})
		if _, err := f.put(t, "b.txt", []byte("new content")); err == nil {
			t.Fatal("stored without a row")
		}
		// The shared blob of a.pdf stays; the new one went with its row.
		_, err := f.put(t, "a2.pdf", pdf)
		if err == nil {
			t.Fatal("stored without a row")
		}
		if blobs := f.blobs(t); len(blobs) != 1 || f.rows(t) != 1 {
			t.Fatalf("blobs %v, %d rows", blobs, f.rows(t))
		}
		if err := f.files.Verify(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBadRequestsAreRefusedBeforeReading(t *testing.T) {
	f := newFixture(t, "sqlite", Options{})
	for _, edit := range []func(*PutRequest){
		func(r *PutRequest) { r.Owner = "" },
		func(r *PutRequest) { r.Purpose = "Evidence!" },
		func(r *PutRequest) { r.OrgPath = strings.Repeat("/x", 300) },
	} {
		_, err := f.put(t, "a.pdf", pdf, edit)
		f.refused(t, err, "request.invalid", 400, 0, 0)
	}
}

func TestVerifyFindsAChangedBlob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{})
		ctx := context.Background()
		row, err := f.put(t, "decision.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.files.Verify(ctx, row.ID); err != nil {
			t.Fatal(err)
		}
		changed := bytes.Clone(pdf)
		changed[10] ^= 1
		if err := afero.WriteFile(f.fs, BlobPath(row.Sm3), changed, 0o640); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.files.Verify(ctx, row.ID), "files.corrupt", 500)
		_, err = f.files.Bytes(ctx, row.ID)
		wantCode(t, err, "files.corrupt", 500)
		// Longer, same prefix.
		_ = afero.WriteFile(f.fs, BlobPath(row.Sm3), append(bytes.Clone(pdf), ' '), 0o640)
		wantCode(t, f.files.Verify(ctx, row.ID), "files.corrupt", 500)
		// Gone.
		_ = f.fs.Remove(BlobPath(row.Sm3))
		wantCode(t, f.files.Verify(ctx, row.ID), "files.corrupt", 500)
		_, _, err = f.files.Open(ctx, row.ID)
		wantCode(t, err, "files.corrupt", 500)
		// A new upload of the content repairs the blob the damaged one stood for.
		if _, err := f.put(t, "again.pdf", pdf); err != nil {
			t.Fatal(err)
		}
		if err := f.files.Verify(ctx, row.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.files.Stat(ctx, 999)
		wantCode(t, err, "files.not_found", 404)
	})
}

func TestCleanName(t *testing.T) {
	long := strings.Repeat("证", 100) + ".pdf" // 304 bytes
	tests := []struct{ in, want string }{
		{"行政处罚决定书（沪市监罚〔2026〕1号）.pdf", "行政处罚决定书（沪市监罚〔2026〕1号）.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\张三\Desktop\现场照片.jpg`, "现场照片.jpg"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"a\x00b\r\nc\x7f.txt", "abc.txt"},
		{"  spaced.txt  ", "spaced.txt"},
		{"bad\xffutf8.txt", "badutf8.txt"},
		{"", "file"},
		{"..", "file"},
		{"dir/", "file"},
		{long, strings.Repeat("证", 83) + ".pdf"},
	}
	for _, tt := range tests {
		got := CleanName(tt.in)
		if got != tt.want {
			t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if len(got) > 255 {
			t.Errorf("CleanName(%q): %d bytes", tt.in, len(got))
		}
	}
}

func TestContentDisposition(t *testing.T) {
	tests := []struct{ name, want string }{
		{"report.pdf", `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`},
		{"决定书 1.pdf", `attachment; filename="file.pdf"; filename*=UTF-8''%E5%86%B3%E5%AE%9A%E4%B9%A6%201.pdf`},
		{`a"b;c.txt`, `attachment; filename="file.txt"; filename*=UTF-8''a%22b%3Bc.txt`},
	}
	for _, tt := range tests {
		if got := ContentDisposition("attachment", tt.name); got != tt.want {
			t.Errorf("%q: %s", tt.name, got)
		}
	}
}

func TestConcurrentUploadsOfOneContentShareItsBlob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.put(t, "copy"+itoa(i)+".pdf", pdf); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n, blobs := f.rows(t), f.blobs(t); n != 8 || len(blobs) != 1 {
			t.Fatalf("%d rows, blobs %v", n, blobs)
		}
	})
}

func TestOnTheOSFileSystem(t *testing.T) {
	f := newFixture(t, "sqlite", Options{})
	dir := t.TempDir()
	f.fs = afero.NewBasePathFs(afero.NewOsFs(), dir)
	f.files.o.Fs = f.fs
	ctx := context.Background()
	docx := zipOf(t, "[Content_Types].xml", "word/document.xml")
	a, err := f.put(t, "a.docx", docx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.put(t, "b.docx", docx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.put(t, "eicar.txt", eicar); err == nil {
		t.Fatal("EICAR stored")
	}
	if blobs := f.blobs(t); len(blobs) != 1 || a.ContentType != typeDOCX {
		t.Fatalf("blobs %v, type %s", blobs, a.ContentType)
	}
	if err := f.files.Verify(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if fi, err := afero.NewOsFs().Stat(dir + "/" + BlobPath(a.Sm3)); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("blob on disk: %v, %v", fi, err)
	}
}

func TestPutTxFollowsTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, Options{})
		ctx := context.Background()
		putTx := func(name string, body []byte, commit bool) *ent.File {
			t.Helper()
			start := time.Now()
			tx, err := f.st.Client.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback() // after a commit: a no-op that must not release twice
			row, err := f.files.PutTx(ctx, tx, PutRequest{Owner: HostOwner, Name: name, Purpose: "document", CreatedBy: 1,
				OrgPath: "/310000", Body: bytes.NewReader(body), DeclaredSize: -1, Actor: "issuer"})
			if err != nil {
				t.Fatal(err)
			}
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("PutTx and its transaction took %v: something waited for a lock", d)
			}
			return row
		}
		a := putTx("a.pdf", pdf, true)
		if got, err := f.files.Bytes(ctx, a.ID); err != nil || !bytes.Equal(got, pdf) {
			t.Fatalf("committed file: %v", err)
		}
		e, _ := f.lastAudit(t)
		if e.Resource != "file:"+itoa(a.ID) || e.Outcome != auditentry.OutcomeSuccess || e.Actor != "issuer" {
			t.Fatalf("audit %+v", e)
		}
		// Rolled back: no row, and the new blob is gone.
		putTx("b.txt", []byte("rolled back"), false)
		if n, blobs := f.rows(t), f.blobs(t); n != 1 || len(blobs) != 1 {
			t.Fatalf("after rollback: %d rows, blobs %v", n, blobs)
		}
		e, d := f.lastAudit(t)
		if e.Outcome != auditentry.OutcomeFailure || d["reason"] != "rolled_back" {
			t.Fatalf("audit %+v", e)
		}
		// Rolled back, same content as a stored file: the blob stays.
		putTx("a-again.pdf", pdf, false)
		if n, blobs := f.rows(t), f.blobs(t); n != 1 || len(blobs) != 1 || f.files.Verify(ctx, a.ID) != nil {
			t.Fatalf("after rollback of shared content: %d rows, blobs %v", n, blobs)
		}
		if len(f.files.pending) != 0 {
			t.Fatalf("pending %v", f.files.pending)
		}
		// A refusal inside a transaction is audited when it ends.
		tx, err := f.st.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.files.PutTx(ctx, tx, PutRequest{Owner: HostOwner, Name: "x.html", Body: bytes.NewReader(html), DeclaredSize: -1, Actor: "issuer"})
		wantCode(t, err, "files.type_not_allowed", 415)
		_ = tx.Rollback()
		if _, d := f.lastAudit(t); d["reason"] != "files.type_not_allowed" {
			t.Fatalf("audit %v", d)
		}
	})
}

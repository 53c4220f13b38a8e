package seal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/spf13/afero"
)

// testPDF is a one-page document as fpdf writes it, uncompressed so that a
// test can find its text, with a page content stream of about 20 KB: several
// 4 KiB blocks lie wholly inside it.
func testPDF(t testing.TB) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCompression(false)
	p.SetMargins(10, 10, 10)
	p.SetAutoPageBreak(false, 0)
	p.AddPage()
	p.SetFont("Helvetica", "", 6)
	for i := range 120 {
		p.CellFormat(0, 2.2, fmt.Sprintf("Line %03d: Penalty decision 2026-%03d, fine of %d yuan, served on the party in person.", i, i, 1000+i), "", 1, "L", false, 0, "")
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var signedAt = epoch.Add(30 * 24 * time.Hour)

var info = SignInfo{Reason: "行政处罚决定书 沪市监浦罚〔2026〕12号", Location: "上海市浦东新区", Name: ""}

func signedPDF(t *testing.T, ks *Keystore) []byte {
	t.Helper()
	out, err := SignPDF(testPDF(t), signer(t, ks, pudong), signedAt, info)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// problem returns the report's problem with the code, or fails.
func problem(t *testing.T, r *PDFReport, code string) Problem {
	t.Helper()
	for _, p := range r.Problems {
		if p.Code == code {
			return p
		}
	}
	t.Fatalf("no %s problem in %+v", code, r.Problems)
	return Problem{}
}

func TestSignPDFVerifies(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	pdf := testPDF(t)
	signed, err := SignPDF(pdf, signer(t, ks, pudong), signedAt, info)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(signed, pdf) {
		t.Fatal("the original bytes were changed: a signature must be an incremental update")
	}
	update := string(signed[len(pdf):])
	for _, want := range []string{
		"/Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached",
		"/M (D:20260204090000+00'00')",
		"/Reason <FEFF", // UTF-16BE with its byte order mark
		"/FT /Sig", "/Rect [0 0 0 0] /F 132", "/T (Signature1)",
		"/SigFlags 3", "/Annots [", "/Prev ",
	} {
		if !strings.Contains(update, want) {
			t.Errorf("the update lacks %q", want)
		}
	}

	r, err := VerifyPDF(signed, ks.Roots())
	if err != nil || !r.Valid {
		t.Fatalf("VerifyPDF: %v, %+v", err, r.Problems)
	}
	if r.Signature.Subject != pudong.Name || !r.Signature.SigningTime.Equal(signedAt) || !r.Signature.ChainVerified {
		t.Errorf("signature %+v", r.Signature)
	}
	if r.Info != (SignInfo{Reason: info.Reason, Location: info.Location, Name: pudong.Name}) {
		t.Errorf("info %+v", r.Info)
	}
	if s := r.Summary(); !strings.HasPrefix(s, "valid: signed by "+pudong.Name) || !strings.Contains(s, "2026-02-04 09:00:00 UTC") {
		t.Errorf("summary %q", s)
	}

	popplerReads(t, signed)
}

// popplerReads checks, when poppler's tools are installed, that another
// reader still parses the signed file and extracts its text. (pdfsig cannot
// check the signature itself: its NSS back end knows no SM2.)
func popplerReads(t *testing.T, pdf []byte) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/pdfinfo"); err != nil {
		return
	}
	file := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdfinfo", file).CombinedOutput(); err != nil || bytes.Contains(out, []byte("Error")) {
		t.Errorf("pdfinfo: %v\n%s", err, out)
	}
	if out, err := exec.Command("pdftotext", file, "-").CombinedOutput(); err != nil || !bytes.Contains(out, []byte("Line 119: Penalty decision")) {
		t.Errorf("pdftotext: %v\n%.300s", err, out)
	}
}

func TestSignPDFTwiceKeepsBothFields(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	once := signedPDF(t, ks)
	officer := signer(t, ks, Subject{Kind: KindOfficer, Code: "zhangsan", Name: "张三"})
	twice, err := SignPDF(once, officer, signedAt.Add(time.Hour), SignInfo{Reason: "承办人"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := VerifyPDF(twice, ks.Roots())
	if err != nil || r.Signature.Subject != "张三" {
		t.Fatalf("the last signature: %v, %+v", err, r.Signature)
	}
	if !regexp.MustCompile(`/Fields \[\d+ 0 R \d+ 0 R\]`).Match(twice[len(once):]) || !bytes.Contains(twice[len(once):], []byte("/T (Signature2)")) {
		t.Error("the second signature's form does not list both fields")
	}
	popplerReads(t, twice)
	// The first signature now covers only a prefix of the file.
	if _, err := VerifyPDF(once, ks.Roots()); err != nil {
		t.Errorf("the first revision: %v", err)
	}
}

func TestVerifyPDFNamesTheChangedObject(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	signed := signedPDF(t, ks)
	at := bytes.Index(signed, []byte("Line 060"))
	content := regexp.MustCompile(`/Contents (\d+) 0 R`).FindSubmatch(signed)
	if at < 0 || content == nil {
		t.Fatal("test document: no line 60 or no page content reference")
	}
	contentObj, _ := strconv.Atoi(string(content[1]))
	signed[at+5] = '9' // "Line 060" becomes "Line 960"

	r, err := VerifyPDF(signed, ks.Roots())
	if r.Valid || !errors.Is(err, ErrTampered) {
		t.Fatalf("a changed page verified: %v", err)
	}
	p := problem(t, r, ProblemTampered)
	block := int64(at) / blockSize * blockSize
	want := fmt.Sprintf("bytes %d–%d changed (object %d, page 1 content)", block, block+blockSize-1, contentObj)
	if p.Message != want || p.Offset != block || p.Object != contentObj {
		t.Errorf("problem %+v, want %q", p, want)
	}
	if len(r.Problems) != 1 {
		t.Errorf("problems %+v, want only the change", r.Problems)
	}
	if r.Signature == nil || r.Signature.Subject != pudong.Name {
		t.Errorf("the report does not say who signed: %+v", r.Signature)
	}
}

func TestVerifyPDFNamesAChangeInTheSignaturesOwnUpdate(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	signed := signedPDF(t, ks)
	at := bytes.Index(signed, []byte("/Filter /Adobe.PPKLite"))
	signed[at+len("/Filter /Adobe.PPKL")] = 'l'
	r, _ := VerifyPDF(signed, ks.Roots())
	p := problem(t, r, ProblemTampered)
	if !strings.Contains(p.Message, "the signature's own update") || !strings.Contains(p.Message, "signature dictionary") {
		t.Errorf("problem %+v", p)
	}
}

func TestVerifyPDFReportsBytesAfterTheSignedRange(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	signed := signedPDF(t, ks)
	extra := append(append([]byte(nil), signed...), "99 0 obj\n(not signed)\nendobj\n"...)
	r, err := VerifyPDF(extra, ks.Roots())
	if r.Valid || !errors.Is(err, ErrRange) {
		t.Fatalf("appended bytes verified: %v", err)
	}
	p := problem(t, r, ProblemRange)
	if !strings.Contains(p.Message, "bytes after the signed range") || p.Offset != int64(len(signed)) || p.Object != 99 {
		t.Errorf("problem %+v", p)
	}
	if len(r.Problems) != 1 {
		t.Errorf("problems %+v: the signed part itself is intact", r.Problems)
	}

	// Cut short, the file no longer holds what the range names.
	r, _ = VerifyPDF(signed[:len(signed)-10], ks.Roots())
	if p := problem(t, r, ProblemRange); !strings.Contains(p.Message, "range does not cover the file") {
		t.Errorf("truncated: %+v", p)
	}
}

func TestVerifyPDFRefusesASignerFromAnotherCA(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	stranger := openKeystore(t, afero.NewMemMapFs())
	signed := signedPDF(t, stranger)
	r, err := VerifyPDF(signed, ks.Roots())
	if r.Valid || !errors.Is(err, ErrUntrusted) {
		t.Fatalf("a stranger's signature verified: %v", err)
	}
	problem(t, r, ProblemUntrusted)
	if r.Signature == nil || r.Signature.ChainVerified {
		t.Errorf("signature %+v", r.Signature)
	}
	// Without roots it verifies, saying the chain was not checked.
	r, err = VerifyPDF(signed, nil)
	if err != nil || !strings.Contains(r.Summary(), "certificate chain not checked") {
		t.Errorf("without roots: %v, %s", err, r.Summary())
	}
}

func TestVerifyPDFUnsigned(t *testing.T) {
	r, err := VerifyPDF(testPDF(t), nil)
	if r.Valid || !errors.Is(err, ErrUnsigned) || len(r.Problems) != 1 || r.Problems[0].Code != ProblemUnsigned {
		t.Errorf("unsigned: %v, %+v", err, r.Problems)
	}
}

func TestSignPDFRefusesWhatItCannotSign(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	s := signer(t, ks, pudong)
	pdf := testPDF(t)
	xrefStream := []byte("%PDF-1.5\n1 0 obj\n<</Type /XRef /Size 2 /Root 2 0 R /W [1 2 1] /Length 0>>\nstream\n\nendstream\nendobj\nstartxref\n9\n%%EOF\n")
	encrypted := bytes.Replace(pdf, []byte("trailer\n<<\n"), []byte("trailer\n<<\n/Encrypt 99 0 R\n"), 1)
	tests := []struct {
		name string
		pdf  []byte
		want error
	}{
		{"cross-reference stream", xrefStream, ErrUnsupportedPDF},
		{"encrypted", encrypted, ErrUnsupportedPDF},
		{"empty", nil, ErrMalformed},
		{"not a PDF", []byte("hello"), ErrMalformed},
		{"no startxref", pdf[:bytes.LastIndex(pdf, []byte("startxref"))], ErrMalformed},
		{"startxref past the end", append(pdf[:bytes.LastIndex(pdf, []byte("startxref"))], "startxref\n999999\n%%EOF\n"...), ErrMalformed},
		{"startxref not at a table", append(pdf[:bytes.LastIndex(pdf, []byte("startxref"))], "startxref\n20\n%%EOF\n"...), ErrMalformed},
		{"prev loop", bytes.Replace(pdf, []byte("/Root"), []byte(fmt.Sprintf("/Prev %d\n/Root", xrefOffset(t, pdf))), 1), ErrMalformed},
		{"garbled trailer", bytes.Replace(pdf, []byte("/Root 7 0 R"), []byte("/Root 7 0 R ]"), 1), ErrMalformed},
		{"root not in table", bytes.Replace(pdf, []byte("/Root 7 0 R"), []byte("/Root 70 0 R"), 1), ErrMalformed},
		{"deep nesting", bytes.Replace(pdf, []byte("/Root 7 0 R"), []byte("/Root 7 0 R /X "+strings.Repeat("[", 200)+strings.Repeat("]", 200)), 1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := SignPDF(tt.pdf, s, signedAt, info); !errors.Is(err, tt.want) {
				t.Errorf("SignPDF: %v, want %v", err, tt.want)
			}
			if r, err := VerifyPDF(tt.pdf, nil); err == nil || r.Valid {
				t.Errorf("VerifyPDF: %v", err)
			}
		})
	}
}

func xrefOffset(t *testing.T, pdf []byte) int {
	i := bytes.LastIndex(pdf, []byte("\nxref\n"))
	if i < 0 {
		t.Fatal("no xref")
	}
	return i + 1
}

// TestDamagedPDFsFailWithoutPanicking cuts and garbles a signed file in many
// places: every outcome must be a report or an error, never a panic.
func TestDamagedPDFsFailWithoutPanicking(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	s := signer(t, ks, pudong)
	signed := signedPDF(t, ks)
	for n := 0; n < len(signed); n += 379 {
		cut := signed[:n]
		if r, err := VerifyPDF(cut, ks.Roots()); err == nil || r.Valid {
			t.Fatalf("cut at %d: verified", n)
		}
		_, _ = SignPDF(cut, s, signedAt, info)
	}
	for n := 0; n < len(signed); n += 211 {
		garbled := append([]byte(nil), signed...)
		copy(garbled[n:], "<<[(/")
		if r, err := VerifyPDF(garbled, ks.Roots()); err == nil || r.Valid {
			t.Fatalf("garbled at %d: verified", n)
		}
		_, _ = SignPDF(garbled, s, signedAt, info)
	}
}

func FuzzVerifyPDF(f *testing.F) {
	ks := openKeystore(f, afero.NewMemMapFs())
	s := signer(f, ks, pudong)
	signed, err := SignPDF(testPDF(f), s, signedAt, info)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte("%PDF-1.4\nstartxref\n0\n"))
	f.Add([]byte("%PDF-1.4\n1 0 obj <</ByteRange [0 1 2 3] /Contents <00>>> endobj"))
	f.Add([]byte("%PDF-1.4\n1 0 obj <</ByteRange [0 10 20 3] /Contents (x) /PortalBlocks <zz>>> endobj\nxref\n0 1\ntrailer <<>>\nstartxref\n9"))
	f.Fuzz(func(t *testing.T, pdf []byte) {
		r, err := VerifyPDF(pdf, ks.Roots())
		if (err == nil) != r.Valid {
			t.Fatalf("error %v with Valid %v", err, r.Valid)
		}
	})
}

func FuzzSignPDF(f *testing.F) {
	ks := openKeystore(f, afero.NewMemMapFs())
	s := signer(f, ks, pudong)
	f.Add(testPDF(f))
	f.Add([]byte("%PDF-1.4\n1 0 obj <</Type /Pages /Kids [1 0 R]>> endobj\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer <</Root 1 0 R /Size 2>>\nstartxref\n60\n"))
	f.Fuzz(func(t *testing.T, pdf []byte) {
		out, err := SignPDF(pdf, s, signedAt, SignInfo{})
		if err != nil {
			return
		}
		// Whatever could be signed verifies.
		if r, err := VerifyPDF(out, ks.Roots()); err != nil {
			t.Fatalf("signed but does not verify: %v", r.Summary())
		}
	})
}

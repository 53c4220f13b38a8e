package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/spf13/afero"

	"github.com/shanghai-amr/portal/host/seal"
)

func TestDocVerify(t *testing.T) {
	dir := t.TempDir()
	keys := seal.Dir(dir)
	ks, err := seal.OpenKeystore(afero.NewOsFs(), keys, seal.KeystoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ks.Signer(context.Background(), seal.Subject{Kind: seal.KindOrg, Code: "310115", Name: "上海市浦东新区市场监督管理局"})
	if err != nil {
		t.Fatal(err)
	}
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCompression(false)
	p.AddPage()
	p.SetFont("Helvetica", "", 12)
	p.Cell(0, 10, "Penalty decision 2026-012")
	var doc bytes.Buffer
	if err := p.Output(&doc); err != nil {
		t.Fatal(err)
	}
	signed, err := seal.SignPDF(doc.Bytes(), s, time.Now(), seal.SignInfo{Reason: "行政处罚决定书"})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "decision.pdf")
	if err := os.WriteFile(file, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(keys, seal.CACertFile)

	code, out, errs := portalctl(t, "doc", "verify", "--ca", ca, file)
	if code != 0 {
		t.Fatalf("doc verify: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"valid", "上海市浦东新区市场监督管理局", "signed at", "行政处罚决定书", "chains to " + ca} {
		if !strings.Contains(out, want) {
			t.Errorf("doc verify output lacks %q:\n%s", want, out)
		}
	}

	// One changed byte: exit 1, the problem and its place on stdout, one line on stderr.
	i := bytes.Index(signed, []byte("2026-012"))
	signed[i+7] = '3'
	if err := os.WriteFile(file, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = portalctl(t, "doc", "verify", "--ca", ca, file)
	if code != 1 || !strings.Contains(out, "NOT VALID") || !strings.Contains(out, "pdf.tampered: bytes 0–") ||
		!strings.Contains(out, "page 1 content") ||
		!strings.HasPrefix(errs, "portalctl: doc: "+file+": signature not valid") || strings.Count(errs, "\n") != 1 {
		t.Errorf("changed document: exit %d\n%s%s", code, out, errs)
	}

	// No CA: the default path does not exist here.
	code, _, errs = portalctl(t, "doc", "verify", file)
	if code != 1 || !strings.Contains(errs, "pass --ca") {
		t.Errorf("without a CA: exit %d, %s", code, errs)
	}
	if code, _, _ := portalctl(t, "doc", "verify", "--ca", ca); code != 2 {
		t.Errorf("without a file: exit %d, want 2", code)
	}
}

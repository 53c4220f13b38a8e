package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"
	"github.com/spf13/afero"

	"github.com/shanghai-amr/portal/host/dossier"
	"github.com/shanghai-amr/portal/host/files"
	"github.com/shanghai-amr/portal/host/seal"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// memBlobs holds file contents by id.
type memBlobs map[int][]byte

func (m memBlobs) Bytes(_ context.Context, id int) ([]byte, error) { return m[id], nil }

func TestDossierCheck(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ks, err := seal.OpenKeystore(afero.NewOsFs(), seal.Dir(dir), seal.KeystoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, "sqlite")
	p := fpdf.New("P", "mm", "A4", "")
	p.AddPage()
	p.SetFont("Helvetica", "", 12)
	p.Cell(0, 10, "Business suspension notice")
	var pdf bytes.Buffer
	if err := p.Output(&pdf); err != nil {
		t.Fatal(err)
	}
	ds := dossier.New(dossier.Options{Client: st.Client, Blobs: memBlobs{1: pdf.Bytes()}, Kinds: dossier.DefaultKinds, Scanner: files.EICARScanner{},
		Notary: seal.Notary{Keys: ks, Subject: seal.ArchiveSubject}})
	d, err := ds.Open(ctx, "registration", "filing-1", "suspension_filing", "某某公司歇业备案", "310101", "/310000/310101")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Append(ctx, d.ID, dossier.Entry{Kind: dossier.KindDocument, DocType: "suspension_notice", Title: "歇业备案通知书",
		FileID: 1, Format: "pdf", Meta: map[string]any{"date": "2026-11-02"}}); err != nil {
		t.Fatal(err)
	}
	pkg, rep, err := ds.Archive(ctx, d.ID, dossier.ArchiveInfo{Fonds: "Z031", Retention: "定期10年"})
	if err != nil || !rep.Passed {
		t.Fatalf("archive: %v %+v", err, rep)
	}
	file := filepath.Join(dir, "package.zip")
	if err := os.WriteFile(file, pkg, 0o600); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(seal.Dir(dir), seal.CACertFile)
	code, out, errs := portalctl(t, "dossier", "check", "--ca", ca, file)
	if code != 0 || !strings.Contains(out, "all checks passed") || !strings.Contains(out, rep.ArchiveCode) {
		t.Fatalf("dossier check: exit %d\n%s%s", code, out, errs)
	}

	// Another CA: the package's signature is not trusted.
	other := t.TempDir()
	if _, err := seal.OpenKeystore(afero.NewOsFs(), other, seal.KeystoreOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out, errs = portalctl(t, "dossier", "check", "--ca", filepath.Join(other, seal.CACertFile), file)
	if code != 1 || !strings.Contains(out, "FAIL") || !strings.Contains(out, "signature") || !strings.Contains(errs, "failed") {
		t.Errorf("untrusted package: exit %d\n%s%s", code, out, errs)
	}
}

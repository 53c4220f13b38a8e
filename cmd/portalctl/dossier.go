package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/shanghai-amr/portal/host/dossier"
	"github.com/shanghai-amr/portal/host/files"
	"github.com/shanghai-amr/portal/host/seal"
)

// dossierCommands check electronic-dossier archive packages offline.
func dossierCommands() map[string]command {
	return map[string]command{
		"dossier check": {
			synopsis: "dossier check [--ca CA.pem] FILE",
			summary:  "run the archive checks on an archive package (ZIP) offline",
			doc: "Run every archive check (authenticity, integrity, usability, security: docs/documents.md) on the " +
				"archive package FILE and print each result with its reason. The package signature is verified against " +
				"the seal CA in CA.pem; the scope check uses the host's dossier kinds. Exit 0 when every check passes; 1 otherwise.",
			run: dossierCheck,
		},
	}
}

func dossierCheck(ctx context.Context, std streams, fs *flag.FlagSet, args []string) error {
	ca := fs.String("ca", filepath.Join(seal.Dir("var"), seal.CACertFile),
		"the trusted seal CA certificate(s), PEM: a host's <data-dir>/keys/seal/"+seal.CACertFile)
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	file := fs.Arg(0)
	pemBytes, err := os.ReadFile(*ca)
	if err != nil {
		return fmt.Errorf("dossier: CA certificate: %w (pass --ca)", err)
	}
	roots := smx509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		return fmt.Errorf("dossier: CA certificate: no certificate in %s", *ca)
	}
	zipData, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("dossier: %w", err)
	}
	rep := dossier.Check(ctx, zipData, dossier.CheckOptions{Notary: offlineNotary{roots}, Scanner: files.EICARScanner{},
		Kinds: dossier.DefaultKinds})
	w := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "file\t%s\n", file)
	if rep.ArchiveCode != "" {
		fmt.Fprintf(w, "档号\t%s\n", rep.ArchiveCode)
	}
	fmt.Fprintf(w, "items\t%d\n", rep.Items)
	for _, r := range rep.Results {
		mark := "pass"
		if !r.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s\t%s\t%s %s\t%s\n", mark, r.Group, r.Code, r.Name["zh-CN"], r.Reason)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if !rep.Passed {
		return fmt.Errorf("dossier: %s: %d check(s) failed: %v", file, len(rep.Failed()), rep.Failed())
	}
	fmt.Fprintln(std.out, "all checks passed")
	return nil
}

// offlineNotary verifies package signatures against the given roots; it
// cannot sign.
type offlineNotary struct{ roots *smx509.CertPool }

func (n offlineNotary) Sign(context.Context, []byte) ([]byte, error) {
	return nil, fmt.Errorf("dossier: offline checks do not sign")
}

func (n offlineNotary) Verify(data, sig []byte) (string, time.Time, error) {
	return seal.VerifyWith(data, sig, n.roots)
}

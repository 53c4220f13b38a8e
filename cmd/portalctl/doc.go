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

	"github.com/shanghai-amr/portal/host/seal"
)

// docCommands check signed official documents offline (docs/documents.md).
func docCommands() map[string]command {
	return map[string]command{
		"doc verify": {
			synopsis: "doc verify [--ca CA.pem] FILE",
			summary:  "verify a signed PDF document offline",
			doc: "Check the last signature of the PDF FILE: the signed range covers the whole file, nothing in it changed, " +
				"the SM2 signature verifies and the signer's certificate chains to the seal CA in CA.pem. Print the signer, " +
				"the signing time and, for a document that does not verify, each problem and where in the file it is. " +
				"Exit 0 when the signature is valid; 1 otherwise.",
			run: docVerify,
		},
	}
}

func docVerify(_ context.Context, std streams, fs *flag.FlagSet, args []string) error {
	ca := fs.String("ca", filepath.Join(seal.Dir("var"), seal.CACertFile),
		"the trusted seal CA certificate(s), PEM: a host's <data-dir>/keys/seal/"+seal.CACertFile)
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	file := fs.Arg(0)
	pemBytes, err := os.ReadFile(*ca)
	if err != nil {
		return fmt.Errorf("doc: CA certificate: %w (pass --ca)", err)
	}
	roots := smx509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		return fmt.Errorf("doc: CA certificate: no certificate in %s", *ca)
	}
	pdf, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("doc: %w", err)
	}
	report, verr := seal.VerifyPDF(pdf, roots)

	w := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "file\t%s\n", file)
	if report.Valid {
		fmt.Fprintf(w, "result\tvalid\n")
	} else {
		fmt.Fprintf(w, "result\tNOT VALID\n")
	}
	if s := report.Signature; s != nil {
		fmt.Fprintf(w, "signer\t%s\n", s.Subject)
		fmt.Fprintf(w, "certificate\t%s, issued by %s\n", s.Serial, s.Issuer)
		fmt.Fprintf(w, "signed at\t%s (as the signer states)\n", s.SigningTime.Local().Format(time.DateTime+" MST"))
		if s.ChainVerified {
			fmt.Fprintf(w, "trust\tchains to %s\n", *ca)
		}
	}
	signer := ""
	if report.Signature != nil {
		signer = report.Signature.Subject
	}
	for _, f := range []struct{ label, value string }{{"reason", report.Info.Reason}, {"location", report.Info.Location}, {"name", report.Info.Name}} {
		if f.value != "" && f.value != signer {
			fmt.Fprintf(w, "%s\t%s\n", f.label, f.value)
		}
	}
	for i, p := range report.Problems {
		label := ""
		if i == 0 {
			label = "problems"
		}
		fmt.Fprintf(w, "%s\t%s: %s\n", label, p.Code, p.Message)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if verr != nil {
		return fmt.Errorf("doc: %s: signature %s", file, report.Summary())
	}
	return nil
}

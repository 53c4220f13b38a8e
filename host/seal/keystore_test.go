package seal

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/spf13/afero"
)

// epoch is the tests' clock: keys are made then, documents signed later.
var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

var pudong = Subject{Kind: KindOrg, Code: "310115", Name: "上海市浦东新区市场监督管理局"}

func openKeystore(t testing.TB, fs afero.Fs) *Keystore {
	t.Helper()
	ks, err := OpenKeystore(fs, "/data/keys/seal", KeystoreOptions{Now: func() time.Time { return epoch }})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func signer(t testing.TB, ks *Keystore, sub Subject) Signer {
	t.Helper()
	s, err := ks.Signer(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeystoreCreatesTheCAAndSubjectKeysOnce(t *testing.T) {
	fs := afero.NewMemMapFs()
	ks := openKeystore(t, fs)
	s := signer(t, ks, pudong)
	cert := s.Certificate()
	if cert.Subject.CommonName != pudong.Name || cert.Issuer.CommonName != CACommonName {
		t.Errorf("certificate %q issued by %q", cert.Subject, cert.Issuer)
	}
	if cert.SignatureAlgorithm != smx509.SM2WithSM3 ||
		cert.KeyUsage != smx509.KeyUsageDigitalSignature|smx509.KeyUsageContentCommitment ||
		!cert.NotAfter.Equal(epoch.AddDate(5, 0, 0)) || cert.IsCA {
		t.Errorf("certificate: alg %v, usage %v, not after %v, CA %v", cert.SignatureAlgorithm, cert.KeyUsage, cert.NotAfter, cert.IsCA)
	}
	if _, err := cert.Verify(smx509.VerifyOptions{Roots: ks.Roots(), CurrentTime: epoch.Add(time.Hour),
		KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("the subject's certificate does not chain to the CA: %v", err)
	}
	for _, name := range []string{"ca.key", "ca.pem", "org/310115.key", "org/310115.pem"} {
		fi, err := fs.Stat(filepath.Join("/data/keys/seal", name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want mode 0600", name, err, fi.Mode())
		}
	}

	// Opened again, the store has the same CA and the same key.
	again := openKeystore(t, fs)
	if string(again.CACertPEM()) != string(ks.CACertPEM()) {
		t.Error("reopening the store made a new CA")
	}
	s2 := signer(t, again, pudong)
	if s2.Certificate().SerialNumber.Cmp(cert.SerialNumber) != 0 {
		t.Error("reopening the store issued a new certificate")
	}
}

func TestKeystoreReissuesTheCertificateWhenTheNameChanges(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	officer := Subject{Kind: KindOfficer, Code: "zhang.san", Name: "张三"}
	before := signer(t, ks, officer)
	officer.Name = "张三丰"
	after := signer(t, ks, officer)
	if after.Certificate().Subject.CommonName != "张三丰" {
		t.Errorf("common name %q after the rename", after.Certificate().Subject.CommonName)
	}
	if !after.Certificate().PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(before.Public()) {
		t.Error("a rename changed the key")
	}
}

func TestKeystoreHandsOutOneKeyUnderConcurrency(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	serials := make([]string, 8)
	var wg sync.WaitGroup
	for i := range serials {
		wg.Go(func() {
			s, err := ks.Signer(context.Background(), pudong)
			if err == nil {
				serials[i] = s.Certificate().SerialNumber.String()
			}
		})
	}
	wg.Wait()
	for _, s := range serials {
		if s == "" || s != serials[0] {
			t.Fatalf("concurrent Signer calls: serials %v", serials)
		}
	}
}

func TestKeystoreRefusesBadSubjects(t *testing.T) {
	ks := openKeystore(t, afero.NewMemMapFs())
	for _, sub := range []Subject{
		{Kind: "seal", Code: "310115", Name: "x"},
		{Kind: KindOrg, Code: "310115"}, // an organisation needs its name
		{Kind: KindOfficer, Code: ""},
		{Kind: KindOfficer, Code: "../ca"},
		{Kind: KindOfficer, Code: ".hidden"},
		{Kind: KindOfficer, Code: "a/b"},
	} {
		if _, err := ks.Signer(context.Background(), sub); !errors.Is(err, ErrSubject) {
			t.Errorf("%+v: %v, want ErrSubject", sub, err)
		}
	}
}

func TestKeystoreRefusesACertificateWithoutItsKey(t *testing.T) {
	fs := afero.NewMemMapFs()
	openKeystore(t, fs)
	if err := fs.Remove("/data/keys/seal/ca.key"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenKeystore(fs, "/data/keys/seal", KeystoreOptions{}); err == nil {
		t.Fatal("a CA certificate without its key was accepted (a new CA would break every earlier signature)")
	}
}

func TestSignerDoesNotPrintItsKey(t *testing.T) {
	s := signer(t, openKeystore(t, afero.NewMemMapFs()), pudong)
	d := s.(*softSigner).key.D.Text(16)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, s); strings.Contains(out, d[:8]) {
			t.Errorf("%s shows the private key: %s", format, out)
		}
	}
}

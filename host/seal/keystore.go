package seal

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/spf13/afero"
)

// Signer signs for one organisation seal or officer: the adapter point for a
// signing service or HSM. Its public key must be SM2 and match Certificate.
//
// The package signs as gmsm's smx509 does: through crypto.SignMessage with
// the whole message and sm2.DefaultSM2SignerOpts, so Sign (or SignMessage, if
// the signer has it) receives the message, not a digest, and computes
// SM3(Z_A ‖ M) with the default user ID itself, as *sm2.PrivateKey does. An
// adapter to a service that signs digests computes that digest with
// sm2.CalculateSM2Hash. Every signature is checked against the certificate
// before it is used, so a misbehaving adapter fails loudly.
type Signer interface {
	crypto.Signer
	// Certificate is the signer's X.509 certificate (SM2-with-SM3). It must
	// not be modified.
	Certificate() *smx509.Certificate
}

// The kinds of Subject.
const (
	KindOrg     = "org"     // an organisation's seal; Code is the organisation code
	KindOfficer = "officer" // an officer's personal key; Code is the username
)

// Subject names the holder of a key.
type Subject struct {
	// Kind is KindOrg or KindOfficer.
	Kind string
	// Code is the organisation code or the officer's username: 1–64
	// letters, digits, '.', '_' or '-', starting with a letter or digit
	// (it names the key's files).
	Code string
	// Name is the organisation's name (required for KindOrg), or the
	// officer's display name (optional; Code if empty). It becomes the
	// certificate's common name; a changed name gets a new certificate for
	// the same key.
	Name string
}

func (s Subject) validate() error {
	if s.Kind != KindOrg && s.Kind != KindOfficer {
		return fmt.Errorf("%w: kind %q (want %q or %q)", ErrSubject, s.Kind, KindOrg, KindOfficer)
	}
	if !validCode(s.Code) {
		return fmt.Errorf("%w: code %q: 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrSubject, s.Code)
	}
	if s.Kind == KindOrg && s.Name == "" {
		return fmt.Errorf("%w: organisation %s has no name", ErrSubject, s.Code)
	}
	return nil
}

func validCode(c string) bool {
	if len(c) == 0 || len(c) > 64 {
		return false
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		alnum := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
		if !alnum && (i == 0 || b != '.' && b != '_' && b != '-') {
			return false
		}
	}
	return true
}

// commonName is the certificate common name of the subject.
func (s Subject) commonName() string {
	if s.Name == "" {
		return s.Code
	}
	return s.Name
}

// Dir is the key store's directory under a host's data directory.
func Dir(dataDir string) string { return filepath.Join(dataDir, "keys", "seal") }

// CACertFile is the CA certificate's file name in the key store's directory:
// what `portalctl doc verify --ca` reads.
const CACertFile = "ca.pem"

const (
	caKeyFile = "ca.key"
	// CACommonName is the development CA's subject common name.
	CACommonName = "上海市市场监督管理局 电子印章开发根证书 (development)"
	caOrg        = "上海市市场监督管理局"
	caYears      = 10
	leafYears    = 5
	// clockSkew backdates NotBefore so that a certificate issued now
	// verifies on a machine whose clock is slightly behind.
	clockSkew = 5 * time.Minute
)

// KeystoreOptions configure a Keystore. Zero values take the defaults.
type KeystoreOptions struct {
	// Now is the clock for certificate validity; default time.Now.
	Now func() time.Time
	// Rand is the randomness for keys, serial numbers and signatures;
	// default crypto/rand.Reader.
	Rand io.Reader
}

// Keystore is the software key store: a development CA and one SM2 key and
// certificate per Subject, as PEM files (mode 0600) under one directory:
//
//	ca.key, ca.pem                     the CA (PKCS#8 key, certificate)
//	org/<code>.key, org/<code>.pem     an organisation seal
//	officer/<code>.key, officer/<code>.pem
//
// A key is never overwritten: it is created once, with O_EXCL. A certificate
// is re-issued for the same key when it is missing, expired, not issued by
// the store's CA, or names the subject differently.
//
// A Keystore is safe for concurrent use by one process.
type Keystore struct {
	fs   afero.Fs
	dir  string
	now  func() time.Time
	rand io.Reader

	// ca is fixed once OpenKeystore returns.
	caKey  *sm2.PrivateKey
	caCert *smx509.Certificate
	caPEM  []byte

	mu      sync.Mutex             // guards the files and signers
	signers map[string]*softSigner // by "kind/code"
}

// OpenKeystore opens the key store in dir on fsys, creating the directory and
// the development CA on first use.
func OpenKeystore(fsys afero.Fs, dir string, opts KeystoreOptions) (*Keystore, error) {
	ks := &Keystore{fs: fsys, dir: dir, now: opts.Now, rand: opts.Rand, signers: map[string]*softSigner{}}
	if ks.now == nil {
		ks.now = time.Now
	}
	if ks.rand == nil {
		ks.rand = rand.Reader
	}
	if err := fsys.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("seal: key store: %w", err)
	}
	if err := ks.loadCA(); err != nil {
		return nil, err
	}
	return ks, nil
}

// Roots returns a new pool holding the store's CA certificate, for
// VerifyDetached and VerifyPDF.
func (ks *Keystore) Roots() *smx509.CertPool {
	p := smx509.NewCertPool()
	p.AddCert(ks.caCert)
	return p
}

// CACertPEM returns the CA certificate, PEM-encoded.
func (ks *Keystore) CACertPEM() []byte { return append([]byte(nil), ks.caPEM...) }

// Signer returns the subject's signer, creating its key and certificate on
// first use.
func (ks *Keystore) Signer(ctx context.Context, sub Subject) (Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := sub.validate(); err != nil {
		return nil, err
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	now := ks.now()
	base := filepath.Join(sub.Kind, sub.Code)
	if s, ok := ks.signers[base]; ok && now.Before(s.cert.NotAfter) && s.cert.Subject.CommonName == sub.commonName() {
		return s, nil
	}
	if err := ks.fs.MkdirAll(filepath.Join(ks.dir, sub.Kind), 0o700); err != nil {
		return nil, fmt.Errorf("seal: key store: %w", err)
	}
	key, err := ks.loadOrCreateKey(base + ".key")
	if err != nil {
		return nil, err
	}
	cert, err := ks.readCert(base + ".pem")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if cert == nil || !ks.currentLeaf(cert, key, sub, now) {
		tmpl, err := ks.leafTemplate(sub, now)
		if err != nil {
			return nil, err
		}
		der, err := smx509.CreateCertificate(ks.rand, tmpl, ks.caCert, key.Public(), ks.caKey)
		if err != nil {
			return nil, fmt.Errorf("seal: issue certificate for %s %s: %w", sub.Kind, sub.Code, err)
		}
		if cert, err = smx509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("seal: issue certificate for %s %s: %w", sub.Kind, sub.Code, err)
		}
		if err := ks.replace(base+".pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
			return nil, err
		}
	}
	s := &softSigner{key: key, cert: cert}
	ks.signers[base] = s
	return s, nil
}

// currentLeaf reports whether cert can go on being used for key and sub.
func (ks *Keystore) currentLeaf(cert *smx509.Certificate, key *sm2.PrivateKey, sub Subject, now time.Time) bool {
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(key.Public()) &&
		cert.CheckSignatureFrom(ks.caCert) == nil &&
		now.Before(cert.NotAfter) &&
		cert.Subject.CommonName == sub.commonName() && cert.Subject.SerialNumber == sub.Code
}

func (ks *Keystore) leafTemplate(sub Subject, now time.Time) (*smx509.Certificate, error) {
	serial, err := ks.serial()
	if err != nil {
		return nil, err
	}
	name := pkix.Name{CommonName: sub.commonName(), SerialNumber: sub.Code}
	if sub.Kind == KindOrg {
		name.Organization = []string{sub.Name}
	}
	notAfter := now.AddDate(leafYears, 0, 0)
	if notAfter.After(ks.caCert.NotAfter) {
		notAfter = ks.caCert.NotAfter
	}
	return &smx509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              notAfter,
		KeyUsage:              smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment,
		BasicConstraintsValid: true,
		SignatureAlgorithm:    smx509.SM2WithSM3,
	}, nil
}

// loadCA reads the CA, or creates it when neither of its files exists. A
// certificate without its key is an error: a new CA would silently make
// every earlier signature untrusted.
func (ks *Keystore) loadCA() error {
	cert, err := ks.readCert(CACertFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	keyExists, err := afero.Exists(ks.fs, filepath.Join(ks.dir, caKeyFile))
	if err != nil {
		return fmt.Errorf("seal: key store: %w", err)
	}
	if cert != nil && !keyExists {
		return fmt.Errorf("seal: key store %s: %s without %s", ks.dir, CACertFile, caKeyFile)
	}
	key, err := ks.loadOrCreateKey(caKeyFile)
	if err != nil {
		return err
	}
	if cert == nil {
		now := ks.now()
		serial, err := ks.serial()
		if err != nil {
			return err
		}
		tmpl := &smx509.Certificate{
			SerialNumber:          serial,
			Subject:               pkix.Name{CommonName: CACommonName, Organization: []string{caOrg}},
			NotBefore:             now.Add(-clockSkew),
			NotAfter:              now.AddDate(caYears, 0, 0),
			KeyUsage:              smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
			MaxPathLenZero:        true,
			SignatureAlgorithm:    smx509.SM2WithSM3,
		}
		der, err := smx509.CreateCertificate(ks.rand, tmpl, tmpl, key.Public(), key)
		if err != nil {
			return fmt.Errorf("seal: create CA: %w", err)
		}
		if cert, err = smx509.ParseCertificate(der); err != nil {
			return fmt.Errorf("seal: create CA: %w", err)
		}
		if err := ks.replace(CACertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
			return err
		}
	}
	if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(key.Public()) || !cert.IsCA {
		return fmt.Errorf("%w: key store %s: %s is not a CA certificate for %s", ErrMalformed, ks.dir, CACertFile, caKeyFile)
	}
	ks.caKey, ks.caCert = key, cert
	ks.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	return nil
}

// serial returns a random certificate serial number: 127 bits with the top
// one set, so always positive and 16 bytes long in DER.
func (ks *Keystore) serial() (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(ks.rand, b); err != nil {
		return nil, fmt.Errorf("seal: serial number: %w", err)
	}
	b[0] = b[0]&0x7f | 0x40
	return new(big.Int).SetBytes(b), nil
}

// loadOrCreateKey reads the PKCS#8 SM2 key in name, or creates it.
func (ks *Keystore) loadOrCreateKey(name string) (*sm2.PrivateKey, error) {
	p := filepath.Join(ks.dir, name)
	b, err := afero.ReadFile(ks.fs, p)
	if errors.Is(err, os.ErrNotExist) {
		key, err := sm2.GenerateKey(ks.rand)
		if err != nil {
			return nil, fmt.Errorf("seal: generate key: %w", err)
		}
		der, err := smx509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("seal: encode key: %w", err)
		}
		if err := ks.create(name, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
			return nil, err
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seal: read key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: %s: not a PEM PRIVATE KEY", ErrMalformed, p)
	}
	k, err := smx509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		// The parser's message does not include key bytes.
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, p, err)
	}
	key, ok := k.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s: not an SM2 key", ErrMalformed, p)
	}
	return key, nil
}

// readCert reads a PEM certificate; the error wraps os.ErrNotExist when the
// file is missing.
func (ks *Keystore) readCert(name string) (*smx509.Certificate, error) {
	p := filepath.Join(ks.dir, name)
	b, err := afero.ReadFile(ks.fs, p)
	if err != nil {
		return nil, fmt.Errorf("seal: read certificate: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: %s: not a PEM CERTIFICATE", ErrMalformed, p)
	}
	cert, err := smx509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, p, err)
	}
	return cert, nil
}

// create writes a new file, mode 0600, refusing to replace one.
func (ks *Keystore) create(name string, data []byte) error {
	p := filepath.Join(ks.dir, name)
	f, err := ks.fs.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("seal: key store: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = ks.fs.Remove(p)
		return fmt.Errorf("seal: key store: write %s: %w", p, err)
	}
	return nil
}

// replace writes a file, mode 0600, through a temporary file and a rename so
// that a reader never sees half of it.
func (ks *Keystore) replace(name string, data []byte) error {
	p := filepath.Join(ks.dir, name)
	tmp := p + ".tmp"
	if err := afero.WriteFile(ks.fs, tmp, data, 0o600); err != nil {
		return fmt.Errorf("seal: key store: %w", err)
	}
	if err := ks.fs.Rename(tmp, p); err != nil {
		_ = ks.fs.Remove(tmp)
		return fmt.Errorf("seal: key store: %w", err)
	}
	return nil
}

// softSigner is a Signer over a key held in memory.
type softSigner struct {
	key  *sm2.PrivateKey
	cert *smx509.Certificate
}

func (s *softSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s *softSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.key.Sign(r, digest, opts)
}

// SignMessage makes softSigner a crypto.MessageSigner, as *sm2.PrivateKey is.
func (s *softSigner) SignMessage(r io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.key.SignMessage(r, msg, opts)
}

func (s *softSigner) Certificate() *smx509.Certificate { return s.cert }

// String names the signer without its key, so that a signer that finds its
// way into a log line or an error shows no key material.
func (s *softSigner) String() string { return "seal.Signer(" + certName(s.cert) + ")" }

// GoString is String for %#v.
func (s *softSigner) GoString() string { return s.String() }

package seal

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/emmansun/gmsm/pkcs7"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// Signature describes a verified (or partly verified) CMS signature.
type Signature struct {
	// Subject is the signer certificate's subject, readable: the common
	// name, and the organisation when it differs.
	Subject string `json:"subject"`
	// Serial is the certificate's serial number in lower-case hex.
	Serial string `json:"serial"`
	// Issuer is the certificate issuer's common name.
	Issuer string `json:"issuer"`
	// SigningTime is the signing-time attribute: what the signer claims,
	// not a time-stamp authority's word.
	SigningTime time.Time `json:"signing_time"`
	// Certificate is the signer's certificate, as carried in the signature.
	Certificate *smx509.Certificate `json:"-"`
	// ChainVerified says the certificate chains to the roots given to the
	// verifier, at the signing time. It is false when no roots were given.
	ChainVerified bool
}

// The CMS structures, as RFC 5652 and GB/T 35275 define them, for encoding.
type (
	cmsContentInfo struct {
		ContentType asn1.ObjectIdentifier
		// Content is [0] EXPLICIT: encoding, the RawValue carries the
		// tag; decoding, the struct tag strips it.
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	cmsEncapContent struct {
		ContentType asn1.ObjectIdentifier // no content: detached
	}
	cmsSignedData struct {
		Version          int
		DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
		EncapContent     cmsEncapContent
		Certificates     asn1.RawValue   // [0] IMPLICIT SET OF Certificate
		SignerInfos      []cmsSignerInfo `asn1:"set"`
	}
	cmsIssuerAndSerial struct {
		Issuer asn1.RawValue
		Serial *big.Int
	}
	cmsSignerInfo struct {
		Version            int
		IssuerAndSerial    cmsIssuerAndSerial
		DigestAlgorithm    pkix.AlgorithmIdentifier
		SignedAttrs        asn1.RawValue // [0] IMPLICIT SET OF Attribute
		SignatureAlgorithm pkix.AlgorithmIdentifier
		Signature          []byte
	}
	cmsAttribute struct {
		Type   asn1.ObjectIdentifier
		Values asn1.RawValue // SET OF, one value
	}
)

// SignDetached signs data with s and returns a DER ContentInfo holding a
// detached SignedData: SM3 digest, SM2 signature, the signed attributes
// content type, message digest and signing time (at), and s's certificate.
//
// The object identifiers are those of GB/T 35275, as gmsm's
// pkcs7.NewSMSignedData writes them, and the result verifies with gmsm's
// pkcs7. The structure is encoded here rather than by gmsm because gmsm
// stamps the signing time with the clock and offers no way to set it; the
// signing time must equal the time the caller records (a PDF's /M) and
// tests need it fixed.
func SignDetached(s Signer, data []byte, at time.Time) ([]byte, error) {
	cert, err := signerCert(s)
	if err != nil {
		return nil, err
	}
	if at.Before(cert.NotBefore) || at.After(cert.NotAfter) {
		return nil, fmt.Errorf("seal: sign: signing time %s is outside the certificate's validity (%s to %s)",
			at.UTC().Format(time.RFC3339), cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	digest := sm3.Sum(data)
	attrs, err := encodeSignedAttrs([]attrValue{
		{pkcs7.OIDAttributeContentType, pkcs7.SM2OIDData},
		{pkcs7.OIDAttributeMessageDigest, digest[:]},
		{pkcs7.OIDAttributeSigningTime, at.UTC().Truncate(time.Second)},
	})
	if err != nil {
		return nil, fmt.Errorf("seal: sign: %w", err)
	}
	// What is signed is the attributes' DER with the universal SET tag; the
	// SignerInfo holds the same content under the [0] IMPLICIT tag.
	toSign, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: attrs})
	if err != nil {
		return nil, fmt.Errorf("seal: sign: %w", err)
	}
	sig, err := crypto.SignMessage(s, rand.Reader, toSign, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, fmt.Errorf("seal: sign: %w", err)
	}
	if err := cert.CheckSignature(smx509.SM2WithSM3, toSign, sig); err != nil {
		return nil, fmt.Errorf("seal: sign: the signer's signature does not verify with its certificate: %w", err)
	}
	null := asn1.NullRawValue
	sd := cmsSignedData{
		Version:          1,
		DigestAlgorithms: []pkix.AlgorithmIdentifier{{Algorithm: pkcs7.OIDDigestAlgorithmSM3, Parameters: null}},
		EncapContent:     cmsEncapContent{ContentType: pkcs7.SM2OIDData},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: cert.Raw},
		SignerInfos: []cmsSignerInfo{{
			Version:            1,
			IssuerAndSerial:    cmsIssuerAndSerial{Issuer: asn1.RawValue{FullBytes: cert.RawIssuer}, Serial: cert.SerialNumber},
			DigestAlgorithm:    pkix.AlgorithmIdentifier{Algorithm: pkcs7.OIDDigestAlgorithmSM3, Parameters: null},
			SignedAttrs:        asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: attrs},
			SignatureAlgorithm: pkix.AlgorithmIdentifier{Algorithm: pkcs7.OIDDigestEncryptionAlgorithmSM2, Parameters: null},
			Signature:          sig,
		}},
	}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("seal: sign: %w", err)
	}
	out, err := asn1.Marshal(cmsContentInfo{
		ContentType: pkcs7.SM2OIDSignedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner},
	})
	if err != nil {
		return nil, fmt.Errorf("seal: sign: %w", err)
	}
	return out, nil
}

// signerCert checks that s is an SM2 signer whose certificate holds its
// public key.
func signerCert(s Signer) (*smx509.Certificate, error) {
	if s == nil {
		return nil, errors.New("seal: sign: no signer")
	}
	cert := s.Certificate()
	if cert == nil {
		return nil, errors.New("seal: sign: the signer has no certificate")
	}
	if !sm2.IsSM2PublicKey(s.Public()) {
		return nil, fmt.Errorf("seal: sign: the signer's key is %T, not SM2", s.Public())
	}
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(s.Public()) {
		return nil, errors.New("seal: sign: the signer's certificate is for another key")
	}
	return cert, nil
}

// attrValue is one signed attribute before encoding.
type attrValue struct {
	typ   asn1.ObjectIdentifier
	value any
}

// encodeSignedAttrs returns the DER content of the SET OF attributes: the
// encodings sorted, as DER requires of a SET OF.
func encodeSignedAttrs(attrs []attrValue) ([]byte, error) {
	enc := make([][]byte, 0, len(attrs))
	for _, a := range attrs {
		v, err := asn1.Marshal(a.value)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", a.typ, err)
		}
		b, err := asn1.Marshal(cmsAttribute{Type: a.typ, Values: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: v}})
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", a.typ, err)
		}
		enc = append(enc, b)
	}
	slices.SortFunc(enc, bytes.Compare)
	return bytes.Join(enc, nil), nil
}

// VerifyDetached verifies the detached CMS signature p7 over data: the
// message digest, the signature with the signer's certificate, and, when
// roots is not nil, the certificate chain to roots at the signing time.
//
// Errors wrap ErrMalformed (p7 cannot be read, or is not one signer's SM2
// SignedData with a signing time), ErrTampered (data does not match the
// digest), ErrBadSignature (the signature does not verify, or the signing
// time is outside the certificate's validity) or ErrUntrusted (no chain to
// roots); a tampered file from an untrusted signer reports both, joined.
// Whenever the signer's certificate could be found, the Signature is returned
// with the error, so that a caller can say who signed what failed.
func VerifyDetached(data, p7 []byte, roots *smx509.CertPool) (*Signature, error) {
	p, err := parseCMS(p7)
	if err != nil {
		return nil, err
	}
	if len(p.Signers) != 1 {
		return nil, fmt.Errorf("%w: signature: %d signers, want 1", ErrMalformed, len(p.Signers))
	}
	if len(p.Content) != 0 {
		return nil, fmt.Errorf("%w: signature: not detached (it carries %d bytes of content)", ErrMalformed, len(p.Content))
	}
	cert := p.GetOnlySigner()
	if cert == nil {
		return nil, fmt.Errorf("%w: signature: the signer's certificate is not included", ErrMalformed)
	}
	if !sm2.IsSM2PublicKey(cert.PublicKey) {
		return nil, fmt.Errorf("%w: signature: the signer's key is %T, not SM2", ErrMalformed, cert.PublicKey)
	}
	var at time.Time
	if err := p.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &at); err != nil {
		return nil, fmt.Errorf("%w: signature: no signing time", ErrMalformed)
	}
	sig := &Signature{
		Subject:     certName(cert),
		Serial:      cert.SerialNumber.Text(16),
		Issuer:      cert.Issuer.CommonName,
		SigningTime: at,
		Certificate: cert,
	}

	var errs []error
	p.Content = data
	var mismatch *pkcs7.MessageDigestMismatchError
	var badTime *pkcs7.InvalidSigningTimeError
	switch err := p.Verify(); {
	case err == nil:
	case errors.As(err, &mismatch):
		errs = append(errs, fmt.Errorf("%w: the message digest does not match", ErrTampered))
	case errors.As(err, &badTime):
		errs = append(errs, fmt.Errorf("%w: signed at %s, outside the certificate's validity (%s to %s)", ErrBadSignature,
			at.UTC().Format(time.RFC3339), cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339)))
	default:
		errs = append(errs, fmt.Errorf("%w: %v", ErrBadSignature, strings.TrimPrefix(err.Error(), "pkcs7: ")))
	}
	if roots != nil {
		if err := verifyChain(cert, p.Certificates, roots, at); err != nil {
			errs = append(errs, err)
		} else {
			sig.ChainVerified = true
		}
	}
	return sig, errors.Join(errs...)
}

// parseCMS parses a DER ContentInfo holding a SignedData. gmsm's parser is
// not written for hostile input; a panic in it is reported as malformed
// input rather than taking the caller down.
func parseCMS(p7 []byte) (p *pkcs7.PKCS7, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%w: signature: unreadable CMS", ErrMalformed)
		}
	}()
	if len(p7) == 0 {
		return nil, fmt.Errorf("%w: signature: empty", ErrMalformed)
	}
	var ci cmsContentInfo
	if rest, err := asn1.Unmarshal(p7, &ci); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: signature: not a DER ContentInfo", ErrMalformed)
	}
	if !ci.ContentType.Equal(pkcs7.SM2OIDSignedData) && !ci.ContentType.Equal(pkcs7.OIDSignedData) {
		return nil, fmt.Errorf("%w: signature: content type %s is not SignedData", ErrMalformed, ci.ContentType)
	}
	// gmsm ignores a SignedData it cannot decode and reports "no signers";
	// decoding it here first gives the real reason.
	var sd struct {
		Version          int
		DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
		EncapContent     asn1.RawValue
		Certificates     asn1.RawValue   `asn1:"optional,tag:0"`
		CRLs             asn1.RawValue   `asn1:"optional,tag:1"`
		SignerInfos      []asn1.RawValue `asn1:"set"`
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("%w: signature: SignedData: %v", ErrMalformed, err)
	}
	p, err = pkcs7.Parse(p7)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrMalformed, strings.TrimPrefix(err.Error(), "pkcs7: "))
	}
	return p, nil
}

// verifyChain checks that cert chains to roots at time at, through the other
// certificates of the signature, and may sign documents.
func verifyChain(cert *smx509.Certificate, certs []*smx509.Certificate, roots *smx509.CertPool, at time.Time) error {
	inter := smx509.NewCertPool()
	for _, c := range certs {
		if c != cert {
			inter.AddCert(c)
		}
	}
	_, err := cert.Verify(smx509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("%w: the certificate, issued by %q, does not chain to a trusted CA: %v", ErrUntrusted, cert.Issuer.CommonName, err)
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&(smx509.KeyUsageDigitalSignature|smx509.KeyUsageContentCommitment) == 0 {
		return fmt.Errorf("%w: the certificate is not for signing (key usage %#x)", ErrUntrusted, cert.KeyUsage)
	}
	return nil
}

// certName is a certificate subject for people: the common name, and the
// organisation when it says something more.
func certName(c *smx509.Certificate) string {
	if c == nil {
		return ""
	}
	name := c.Subject.CommonName
	for _, o := range c.Subject.Organization {
		if o != name {
			if name == "" {
				name = o
			} else {
				name += ", " + o
			}
		}
	}
	if name == "" {
		name = c.Subject.String()
	}
	return name
}
